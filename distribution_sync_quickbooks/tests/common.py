# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
import json

from odoo.tests import Form

from odoo.addons.distribution_sync.tests.common import DistributionSyncCase

from .fake_quickbooks import FakeQuickBooks


class QuickbooksCase(DistributionSyncCase):
    """A QuickBooks backend connected to a local fake QuickBooks (API and
    token endpoint), a customer, products, a tax mapped to a QuickBooks tax
    code, and helpers to post invoices and run the queued messages."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.share_own_cursors()
        cls.fake = FakeQuickBooks()
        cls.addClassCleanup(cls.fake.stop)
        cls.qb = cls.env["distribution.sync.backend"].create(
            {
                "name": "QuickBooks test",
                "backend_type": "quickbooks",
                "api_url": cls.fake.api_url,
                "quickbooks_token_url": cls.fake.token_url,
                "quickbooks_realm_id": cls.fake.realm_id,
                "quickbooks_client_id": cls.fake.client_id,
                "quickbooks_client_secret": cls.fake.client_secret,
                "quickbooks_refresh_token": cls.fake.refresh_token,
                "webhook_secret": cls.fake.verifier_token,
                "quickbooks_default_item_ref": cls.fake.find("Item", Name="Services")[
                    0
                ]["Id"],
                "quickbooks_income_account_ref": cls.fake.find(
                    "Account", Name="Sales of Product Income"
                )[0]["Id"],
                "quickbooks_expense_account_ref": cls.fake.find(
                    "Account", Name="Cost of Goods Sold"
                )[0]["Id"],
                "quickbooks_asset_account_ref": cls.fake.find(
                    "Account", Name="Inventory Asset"
                )[0]["Id"],
                "request_timeout": 5,
            }
        )
        cls.customer = cls.env["res.partner"].create(
            {"name": "Ada Lovelace Supplies", "email": "ada@example.com"}
        )
        cls.tax = cls.make_tax(8.0, name="QB test 8%")
        cls.env["distribution.sync.mapping"].create(
            {
                "backend_id": cls.qb.id,
                "mapping_type": "tax",
                "external_code": "TAX",
                "tax_id": cls.tax.id,
            }
        )

    def setUp(self):
        super().setUp()
        # A fake of its own per test: the database goes back to the class's
        # state after each test, QuickBooks must too (rotated tokens).
        self.fake = FakeQuickBooks()
        self.addCleanup(self.fake.stop)
        self.point_at(self.fake)

    def point_at(self, fake, backend=None):
        """Point ``backend`` (the QuickBooks test backend) at ``fake``; tokens
        a previous test's fake issued are forgotten."""
        self.env.cr.cache.pop("distribution_sync_quickbooks_tokens", None)
        (backend or self.qb).write(
            {
                "api_url": fake.api_url,
                "quickbooks_token_url": fake.token_url,
                "quickbooks_refresh_token": fake.refresh_token,
            }
        )
        # The refresh reads the backend in a cursor of its own.
        self.env.flush_all()

    def use_fake(self, **options):
        """Replace this test's fake by one made with ``options`` (e.g.
        ``tax_rates``)."""
        self.fake.stop()
        self.fake = FakeQuickBooks(**options)
        self.addCleanup(self.fake.stop)
        self.point_at(self.fake)
        return self.fake

    def make_invoice(
        self, lines=None, move_type="out_invoice", partner=None, post=True
    ):
        """A customer invoice (or credit note) of ``lines`` ``[(product,
        quantity, price, taxes)]``, posted by default."""
        form = Form(self.env["account.move"].with_context(default_move_type=move_type))
        form.partner_id = partner or self.customer
        for product, quantity, price, taxes in lines or [
            (self.product, 2, 10.0, self.tax)
        ]:
            with form.invoice_line_ids.new() as line:
                if product:
                    line.product_id = product
                else:
                    line.name = "Handling"
                line.quantity = quantity
                line.price_unit = price
                line.tax_ids.clear()
                for tax in taxes or ():
                    line.tax_ids.add(tax)
        move = form.save()
        if post:
            move.action_post()
        return move

    def qb_messages(self, record=None, topic=None, states=None):
        domain = [("backend_id", "=", self.qb.id)]
        if record:
            domain += [("res_model", "=", record._name), ("res_id", "=", record.id)]
        if topic:
            domain.append(("topic", "=", topic))
        if states:
            domain.append(("state", "in", states))
        return self.messages.search(domain, order="id")

    def run_qb_jobs(self, record=None, rounds=3):
        for _round in range(rounds):
            todo = self.qb_messages(record, states=("received", "queued"))
            if not todo:
                break
            for message in todo:
                self.process(message)
        return self.qb_messages(record)

    def qb_id(self, record):
        binding = self.bindings.search(
            [
                ("backend_id", "=", self.qb.id),
                ("res_model", "=", record._name),
                ("res_id", "=", record.id),
            ]
        )
        return binding.external_id

    def deliver(self, body, headers):
        """Store a webhook delivery as the route does; return its messages."""
        before = self.messages.search([]).ids
        status = self.qb._webhook_intake(body, headers)
        self.assertEqual(status[0], 200, status)
        return self.messages.search([("id", "not in", before)], order="id")

    def sync_invoice(self, lines=None, **options):
        """A posted invoice (or credit note) sent to QuickBooks; its message
        must end done."""
        move = self.make_invoice(lines, **options)
        messages = self.run_qb_jobs(move)
        self.assertEqual(
            messages.mapped("state"), ["done"], messages.mapped("last_error")
        )
        return move

    def qb_exceptions(self, record=None, category=None, backend=None):
        domain = [("backend_id", "=", (backend or self.qb).id), ("state", "=", "open")]
        if record:
            domain += [("res_model", "=", record._name), ("res_id", "=", record.id)]
        if category:
            domain.append(("category", "=", category))
        return self.exceptions.search(domain)

    def pay_in_quickbooks(self, applications, total=None, **extra):
        """A QuickBooks ``Payment`` entered by the accountant, applying
        ``[(move, amount)]`` (amounts as text); returns its Id."""
        customer = self.fake.get("Invoice", self.qb_id(applications[0][0]))[
            "CustomerRef"
        ]
        lines = [
            {
                "Amount": amount,
                "LinkedTxn": [
                    {
                        "TxnId": self.qb_id(move),
                        "TxnType": "CreditMemo"
                        if move.move_type == "out_refund"
                        else "Invoice",
                    }
                ],
            }
            for move, amount in applications
        ]
        if total is None:
            total = str(sum(float(amount) for _move, amount in applications))
        payment = self.fake.add(
            "Payment",
            dict(
                {"CustomerRef": {"value": customer["value"]}, "TotalAmt": total},
                Line=lines,
                **extra,
            ),
        )
        return payment["Id"]

    def notify(self, entities, shape="cloudevents", process=True):
        """QuickBooks' webhook for ``[(entity, id, operation)]``, stored and
        (by default) processed; returns the new messages."""
        body, headers = getattr(self.fake, shape)(entities)
        messages = self.deliver(body, headers)
        if process:
            for message in messages.filtered(
                lambda m: m.state in ("received", "queued")
            ):
                self.process(message)
        return messages

    def set_owner(self, entity, owner, backend=None):
        rule = (backend or self.qb).ownership_ids.filtered(
            lambda r: r.entity == entity and not r.field_name
        )
        self.assertEqual(len(rule), 1)
        rule.owner = owner

    def payments_of(self, move):
        return move._get_reconciled_payments()

    @staticmethod
    def payload_of(message):
        return json.loads(message.payload)

# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
import json
import os

from odoo import Command
from odoo.tests import TransactionCase, new_test_user, tagged

from odoo.addons.base.tests.common import DISABLED_MAIL_CONTEXT

from ..core.crypto import generate_key
from ..core.signature import hmac_sha256_hex
from ..models.distribution_sync_secret import CONFIG_KEY, ENV_KEY

SECRET = "s3cret-for-tests"


def ensure_secret_key():
    """Tests need a key to store secrets; a real server sets it in its config."""
    from odoo.tools import config

    if not (config.get(CONFIG_KEY) or os.environ.get(ENV_KEY)):
        os.environ[ENV_KEY] = generate_key()


def order_payload(external_id="SO-1", **overrides):
    """A canonical order body of the reference (``generic``) channel."""
    payload = {
        "external_id": external_id,
        "name": f"#{external_id}",
        "updated_at": "2026-01-10T10:00:00Z",
        "currency": "USD",
        "financial_status": "paid",
        "customer": {
            "external_id": "C-1",
            "email": "jane@example.com",
            "name": "Jane Buyer",
        },
        "billing_address": {
            "name": "Jane Buyer",
            "street": "1 Main Street",
            "city": "Springfield",
            "zip": "12345",
            "country_code": "US",
        },
        "lines": [
            {
                "external_id": "L1",
                "sku": "DS-TEST-1",
                "quantity": 2,
                "price_unit": "10.00",
            }
        ],
        "total": "20.00",
    }
    payload.update(overrides)
    return payload


def sign(body, secret=SECRET):
    return "sha256=" + hmac_sha256_hex(secret, body)


@tagged("post_install", "-at_install")
class DistributionSyncCase(TransactionCase):
    """A company-wide reference backend, a product and helpers.

    Post-install: flows cross modules (sale, stock, account with its chart of
    accounts, which a fresh database only gets at the end of the install).
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        ensure_secret_key()
        cls.env = cls.env(context=dict(cls.env.context, **DISABLED_MAIL_CONTEXT))
        cls.company = cls.env.company
        cls.backend = cls.env["distribution.sync.backend"].create(
            {
                "name": "Test shop",
                "backend_type": "generic",
                "webhook_secret": SECRET,
            }
        )
        cls.usd = cls.env.ref("base.USD")
        cls.product = cls.env["product.product"].create(
            {
                "name": "Test widget",
                "default_code": "DS-TEST-1",
                "type": "consu",
                "list_price": 10.0,
                "taxes_id": [(5, 0, 0)],
            }
        )
        cls.sync_user = new_test_user(
            cls.env,
            login="sync_user",
            groups="base.group_user,distribution_sync.group_distribution_sync_user",
        )
        cls.messages = cls.env["distribution.sync.message"]
        cls.exceptions = cls.env["distribution.sync.exception"]
        cls.bindings = cls.env["distribution.sync.binding"]

    def validate_in_full(self, picking):
        """Validate ``picking`` with every quantity done, no backorder."""
        picking.action_assign()
        for move in picking.move_ids:
            move.quantity = move.product_uom_qty
        picking.move_ids.picked = True
        picking.with_context(skip_backorder=True).button_validate()
        self.assertEqual(picking.state, "done")
        return picking

    def bound_order(
        self, customer, backend=None, confirm=True, prefix="BOUND", **remote
    ):
        """An order of 20.00 (two test widgets, no tax) bound to the backend
        (``self.backend`` by default) as ``<prefix>-<order id>``, with what the
        channel reported (``remote_amount``, ``remote_state`` …)."""
        order = self.env["sale.order"].create(
            {
                "partner_id": customer.id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": self.product.id,
                            "product_uom_qty": 2,
                            "price_unit": 10.0,
                            "tax_id": [Command.clear()],
                        }
                    )
                ],
            }
        )
        if confirm:
            order.action_confirm()
        self.bindings._bind(
            backend or self.backend,
            order,
            f"{prefix}-{order.id}",
            external_name=f"#{prefix}-{order.id}",
            **remote,
        )
        return order

    @classmethod
    def share_own_cursors(cls):
        """Cursors the code opens for itself (``registry.cursor()``: token
        refreshes, request slots) share the test's transaction, as in
        ``HttpCase``: what they commit is rolled back with the test."""
        if cls.registry.test_cr is None:
            cls.registry.enter_test_mode(cls.cr)
            cls.addClassCleanup(cls.registry.leave_test_mode)

    @classmethod
    def make_tax(cls, rate, included=False, name=None):
        """A percentage sale tax of the test company, price-included or not."""
        return cls.env["account.tax"].create(
            {
                "name": name or f"Test sale {rate}%{' incl.' if included else ''}",
                "amount": rate,
                "amount_type": "percent",
                "type_tax_use": "sale",
                "company_id": cls.company.id,
                "price_include_override": "tax_included"
                if included
                else "tax_excluded",
            }
        )

    def intake(self, topic, payload, event_id=None, backend=None):
        """Store an inbound message as the webhook route would."""
        backend = backend or self.backend
        body = payload if isinstance(payload, str) else json.dumps(payload)
        message, _is_new = self.messages._intake(
            backend,
            "inbound",
            topic,
            f"event:{event_id or topic + ':' + str(hash(body))}",
            body,
            external_id=isinstance(payload, dict) and payload.get("external_id"),
            work_key=isinstance(payload, dict)
            and payload.get("external_id")
            and f"{topic.split('/')[0]}:{payload['external_id']}",
        )
        return message

    def process(self, message):
        """Run the job body synchronously, as the queue job runner would."""
        message._process_now()
        return message

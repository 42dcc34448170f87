# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
import json
import logging
from functools import partial
from pathlib import Path

from odoo import Command, fields, models
from odoo.exceptions import UserError

from ..core import mappers
from .distribution_sync_backend import TOPIC_INVOICE

_logger = logging.getLogger(__name__)

SAMPLES_DIR = Path(__file__).resolve().parent.parent / "demo" / "samples"
# The QuickBooks id each sample invoice stands for, and how many sample
# products it bills. QuickBooks never issues ids of this form: connected to a
# real company later, the backend mistakes nothing there for a sample.
SAMPLE_INVOICES = (("SAMPLE-1001", 1), ("SAMPLE-1002", 2), ("SAMPLE-1003", 3))
# The sample payment (``demo/samples/payment.json``) pays the first of them.
SAMPLE_PAYMENT_FILE = "payment.json"
SAMPLE_PARTNER_EMAIL = "birds.sample@example.com"
SAMPLE_PRODUCT_CODE = "DS-QBO-SAMPLE"


class DistributionSyncBackend(models.Model):
    """The demo's sample invoices and payment: apart from the channel's code,
    which never depends on them."""

    _inherit = "distribution.sync.backend"  # pylint: disable=consider-merging-classes-inherited

    def action_quickbooks_load_samples(self):
        """Three posted sample customer invoices marked sent to QuickBooks,
        the first paid by a sample QuickBooks payment.

        Posting them takes the normal outbound path (one ``invoice/create``
        message each); nothing is sent: each message ends done as a
        successful export ends, bound to a sample QuickBooks id, its job
        cancelled. The bundled payment is then applied by the importer, as a
        done inbound ``payment/create`` message.

        Sandbox QuickBooks backends only (made-up customer and invoices),
        with a company id and Odoo owning the invoices, alone of their kind in
        their company (another one would send the invoices). A second call
        adds nothing.
        """
        self.check_access("write")
        self.ensure_one()
        if self.backend_type != "quickbooks" or self.environment != "sandbox":
            raise UserError(
                self.env._(
                    "Sample invoices can only be loaded into a QuickBooks sandbox "
                    "backend; %s is not one.",
                    self.name,
                )
            )
        # The samples are the backend's: whoever may configure it loads them,
        # with or without rights on invoices and payments.
        backend = self.sudo().with_company(self.company_id)
        moves = backend._quickbooks_sample_invoices()
        backend._quickbooks_sample_payment(moves[0])
        return self.action_open_messages()

    def _quickbooks_demo_samples(self):
        """Demo data: the samples, once the company can invoice (a chart of
        accounts installed at the end of the install is not there yet). Run
        on module updates too: a refusal (the backend was changed since) is
        logged, it never stops the update."""
        journals = self.env["account.journal"].sudo()
        for backend in self:
            if not journals.search_count(
                [("company_id", "=", backend.company_id.id), ("type", "=", "sale")],
                limit=1,
            ):
                continue
            try:
                with self.env.cr.savepoint():
                    backend.action_quickbooks_load_samples()
            except UserError as exc:
                _logger.warning("QuickBooks samples not loaded: %s", exc)
        return True

    # --------------------------------------------------------------- invoices
    def _quickbooks_sample_invoices(self):
        """The sample invoice of each of ``SAMPLE_INVOICES`` (made, posted and
        marked sent when missing), in that order."""
        bindings = self.env["distribution.sync.binding"]
        found = {
            external_id: bindings._find_record(self, "account.move", external_id)
            for external_id, _quantity in SAMPLE_INVOICES
        }
        missing = [
            (external_id, quantity)
            for external_id, quantity in SAMPLE_INVOICES
            if not found[external_id]
        ]
        if missing:
            self._quickbooks_samples_check()
            partner = self._quickbooks_sample_partner()
            product = self._quickbooks_sample_product()
            moves = self.env["account.move"]
            new = {}
            for external_id, quantity in missing:
                new[external_id] = moves.create(
                    self._prepare_quickbooks_sample_invoice(partner, product, quantity)
                )
            moves.concat(*new.values()).action_post()
            self._quickbooks_finish_sample_exports(new)
            found.update(new)
        return self.env["account.move"].concat(
            *(found[external_id] for external_id, _quantity in SAMPLE_INVOICES)
        )

    def _quickbooks_samples_check(self):
        """Refuse what would leave a sample invoice without its message and
        binding, or send it for real."""
        if not self.quickbooks_realm_id:
            raise UserError(
                self.env._(
                    "%s has no QuickBooks company id: its invoices are not queued.",
                    self.name,
                )
            )
        if not self._ownership_matrix().may_push("invoice"):
            raise UserError(
                self.env._(
                    "QuickBooks owns the invoices on %s: Odoo's are not sent there.",
                    self.name,
                )
            )
        # Every backend of the company hears of a posted invoice.
        others = self.search(
            [
                ("backend_type", "=", "quickbooks"),
                ("company_id", "=", self.company_id.id),
                ("quickbooks_realm_id", "!=", False),
                ("id", "!=", self.id),
            ]
        )
        if others:
            raise UserError(
                self.env._(
                    "Posting sample invoices in %(company)s would send them with "
                    "%(others)s too: load the samples into a QuickBooks backend "
                    "that is alone in its company.",
                    company=self.company_id.name,
                    others=", ".join(others.mapped("name")),
                )
            )

    def _prepare_quickbooks_sample_partner(self):
        # Intuit's sandbox customer the bundled payment comes from.
        return {
            "name": "Amy's Bird Sanctuary (QuickBooks sample)",
            "is_company": True,
            "email": SAMPLE_PARTNER_EMAIL,
            "street": "4581 Finch St.",
            "city": "Bayshore",
            "zip": "94326",
            "state_id": self.env.ref("base.state_us_5").id,
            "country_id": self.env.ref("base.us").id,
        }

    def _quickbooks_sample_partner(self):
        partners = self.env["res.partner"]
        return partners.search(
            [("email", "=", SAMPLE_PARTNER_EMAIL)], limit=1
        ) or partners.create(self._prepare_quickbooks_sample_partner())

    def _prepare_quickbooks_sample_product(self):
        # An item of Intuit's sandbox company, at its price there.
        return {
            "name": "Rock Fountain (QuickBooks sample)",
            "default_code": SAMPLE_PRODUCT_CODE,
            "type": "consu",
            "list_price": 275.0,
            "sale_ok": False,
            "purchase_ok": False,
        }

    def _quickbooks_sample_product(self):
        products = self.env["product.product"]
        return products.search(
            [("default_code", "=", SAMPLE_PRODUCT_CODE)], limit=1
        ) or products.create(self._prepare_quickbooks_sample_product())

    def _prepare_quickbooks_sample_invoice(self, partner, product, quantity):
        """A customer invoice of ``quantity`` ``product`` with the company's
        sale tax (the demo maps it to a QuickBooks tax code)."""
        return {
            "move_type": "out_invoice",
            "company_id": self.company_id.id,
            "partner_id": partner.id,
            "invoice_date": fields.Date.context_today(self),
            "ref": self.env._("QuickBooks sample"),
            "invoice_line_ids": [
                Command.create(
                    {
                        "product_id": product.id,
                        "quantity": quantity,
                        "price_unit": product.lst_price,
                        "tax_ids": [
                            Command.set(self.company_id.account_sale_tax_id.ids)
                        ],
                    }
                )
            ],
        }

    def _quickbooks_finish_sample_exports(self, moves_by_id):
        """End the open ``invoice/create`` message of each sample invoice
        (``{QuickBooks id: move}``) as its export would end, with nothing
        sent, and cancel its job. An invoice left unbound undoes it all (a
        second call would make it again)."""
        messages = self.env["distribution.sync.message"]
        for external_id, move in moves_by_id.items():
            todo = messages.search(
                [
                    ("backend_id", "=", self.id),
                    ("direction", "=", "outbound"),
                    ("topic", "=", TOPIC_INVOICE),
                    ("res_model", "=", move._name),
                    ("res_id", "=", move.id),
                    ("state", "in", ("received", "queued")),
                ]
            )
            for message in todo:
                # The core's own ending of a worked message (savepoint,
                # result, exceptions of the same work resolved).
                message._run(partial(self._quickbooks_sample_export, move, external_id))
            jobs = self.env["queue.job"].search(
                [("uuid", "in", [uuid for uuid in todo.mapped("job_uuid") if uuid])]
            )
            jobs.button_cancelled()
            if not self.env["distribution.sync.binding"]._for_record(self, move):
                raise UserError(
                    self.env._(
                        "The sample invoice %(move)s could not be marked sent: "
                        "%(error)s",
                        move=move.name,
                        error="; ".join(filter(None, todo.mapped("last_error")))
                        or self.env._("it was not queued"),
                    )
                )

    def _quickbooks_sample_export(self, move, external_id):
        """What the export of ``move`` ends with, for the sample QuickBooks
        invoice ``external_id``; nothing is sent."""
        self.env["distribution.sync.binding"]._bind(
            self,
            move,
            external_id,
            remote_amount=move.amount_total,
            remote_residual=move.amount_residual,
            remote_state="posted",
        )
        return {
            "external_id": external_id,
            "summary": self.env._(
                "Sample, not sent: %(move)s stands for QuickBooks Invoice "
                "%(id)s (%(total)s).",
                move=move.name,
                id=external_id,
                total=move.currency_id.format(move.amount_total),
            ),
            "canonical": move._prepare_distribution_sync_invoice(),
        }

    # ---------------------------------------------------------------- payment
    def _prepare_quickbooks_sample_payment(self, move):
        """The bundled QuickBooks ``Payment``, paying all of ``move`` on its
        date and in its currency (the sample's taxes are the company's)."""
        qbo = json.loads(
            (SAMPLES_DIR / SAMPLE_PAYMENT_FILE).read_text(encoding="utf-8")
        )
        qbo.update(
            TotalAmt=move.amount_total,
            TxnDate=move.invoice_date.isoformat(),
            CurrencyRef={"value": move.currency_id.name},
        )
        qbo["Line"][0]["Amount"] = move.amount_total
        return qbo

    def _prepare_quickbooks_sample_change(self, payment):
        """The change notice a webhook would bring about ``payment``."""
        return {
            "realm_id": self.quickbooks_realm_id,
            "entity": "Payment",
            "entity_id": payment["external_id"],
            "operation": "Create",
            "event_id": f"sample:Payment:{payment['external_id']}:Create",
            "format": "sample",
        }

    def _quickbooks_sample_payment(self, move):
        """The inbound ``payment/create`` message of the sample payment of
        ``move``, applied once by the importer."""
        payment = mappers.parse_payment(self._prepare_quickbooks_sample_payment(move))
        change = self._prepare_quickbooks_sample_change(payment)
        message, is_new = self.env["distribution.sync.message"]._intake(
            self,
            "inbound",
            "payment/create",
            f"quickbooks:{change['event_id']}",
            json.dumps(change, sort_keys=True),
            external_id=payment["external_id"],
            work_key=f"quickbooks:Payment:{payment['external_id']}",
        )
        if is_new:
            message._run(partial(self._quickbooks_sample_apply_payment, payment, move))
        return message

    def _quickbooks_sample_apply_payment(self, payment, move):
        """What the import of ``payment`` ends with, read from the sample
        rather than from QuickBooks."""
        if self._ownership_matrix().owner_of("payment") != "channel":
            return {
                "state": "skipped",
                "summary": self.env._(
                    "Odoo owns payments on this backend: the sample QuickBooks "
                    "payment %s is not registered.",
                    payment["external_id"],
                ),
            }
        result = self.env["distribution.sync.quickbooks.importer"]._apply_payment(
            self, payment
        )
        if result.get("res_model") == move._name:
            result["res_id"] = move.id
        result["summary"] = self.env._(
            "Sample, never in QuickBooks: %s", result.get("summary") or ""
        )
        return result

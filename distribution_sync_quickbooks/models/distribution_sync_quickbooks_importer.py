# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
import json
from datetime import timedelta

from odoo import fields, models
from odoo.exceptions import UserError
from odoo.tools.misc import format_amount

from odoo.addons.distribution_sync.core.errors import PayloadError, SyncError
from odoo.addons.distribution_sync.core.money import money_compare

from ..core import mappers

# QuickBooks' change data capture looks back 30 days at most.
CDC_DAYS = 29
CDC_ENTITIES = ("Invoice", "CreditMemo", "Payment")


def _problem(message, record, category="validation", hint="", value=None):
    problem = SyncError(message, hint=hint, value=value)
    problem.category = category
    problem.record = record
    return problem


class DistributionSyncQuickbooksImporter(models.AbstractModel):
    """What comes from QuickBooks: a change notice (entity, id, operation)
    is read back from QuickBooks first. Payments settle the Odoo invoices
    they apply to when QuickBooks owns payments; an invoice Odoo owns that
    QuickBooks changed or deleted is a conflict on the Odoo invoice."""

    _name = "distribution.sync.quickbooks.importer"
    _description = "Distribution Sync: QuickBooks importer"

    def _process(self, backend, message):
        try:
            change = json.loads(message.payload or "")
        except ValueError as exc:
            raise PayloadError(
                self.env._("The message body is not valid JSON: %s", exc)
            ) from exc
        if message.topic == "invalid" or not isinstance(change, dict):
            raise PayloadError(
                self.env._("This QuickBooks delivery is no change notice.")
            )
        entity, operation = change.get("entity"), change.get("operation")
        entity_id = change.get("entity_id")
        if entity == "Payment" and operation in ("Create", "Update"):
            return self._import_payment(backend, entity_id)
        if entity in ("Invoice", "CreditMemo") and operation in (
            "Update",
            "Delete",
            "Void",
        ):
            return self._check_invoice(backend, entity, entity_id, operation)
        return {
            "state": "skipped",
            "summary": self.env._(
                "%(entity)s %(operation)s: nothing to do in Odoo.",
                entity=entity,
                operation=operation,
            ),
        }

    # ---------------------------------------------------------------- payments
    def _payment_journal(self, backend, payment):
        """The journal of a QuickBooks payment: mapped from its payment method
        or deposit account (``payment_method`` mappings with a journal),
        else the company's first bank journal."""
        mappings = self.env["distribution.sync.mapping"].sudo()
        for code in (payment.get("method"), payment.get("deposit_account")):
            if not code:
                continue
            mapping = mappings.search(
                [
                    ("mapping_type", "=", "payment_method"),
                    ("backend_id", "in", [backend.id, False]),
                    ("code_normalized", "=", str(code).strip().upper()),
                    ("journal_id", "!=", False),
                ],
                order="backend_id desc nulls last, id",
                limit=1,
            )
            if mapping:
                return mapping.journal_id
        return self.env["account.journal"].search(
            [("type", "=", "bank"), ("company_id", "=", backend.company_id.id)],
            order="sequence, id",
            limit=1,
        )

    def _import_payment(self, backend, payment_id):
        """Register and reconcile, once per invoice it applies to, a
        QuickBooks payment on the Odoo invoices it settles."""
        matrix = backend._ownership_matrix()
        if matrix.owner_of("payment") != "channel":
            return {
                "state": "skipped",
                "summary": self.env._(
                    "Odoo owns payments on this backend: QuickBooks payment %s "
                    "is not registered.",
                    payment_id,
                ),
            }
        client = backend._quickbooks_client()
        payment = mappers.parse_payment(client.read("Payment", payment_id)["Payment"])
        return self._apply_payment(backend, payment, client=client)

    def _apply_payment(self, backend, payment, client=None):
        """Register what a QuickBooks payment (``mappers.parse_payment``)
        applies to the Odoo invoices bound to its invoices: the money, once
        per payment and invoice (binding ``payment:<id>:<invoice id>``), and
        the credit memos it applies, as the credit note reconciled with the
        invoice (binding of the partial reconciliation).

        With ``client``, the open balances QuickBooks then has for those
        documents are read back for reconciliation (its notices of the
        invoices may come before or after the payment's); without (sample
        payments), what the payment applied is taken off them."""
        payment_id = payment["external_id"]
        bindings = self.env["distribution.sync.binding"]
        registered, problems = [], []
        known = []
        for application in payment["applications"]:
            external_id = str(application["invoice_external_id"])
            move = bindings._find_record(backend, "account.move", external_id)
            if move:
                known.append((application, external_id, move))
            else:
                problems.append(self._unknown_document(payment_id, application))
        # Credit memos settle the invoices first, in the payment's order; the
        # money pays the rest of each.
        credit_left = [
            [external_id, move, application["amount"]]
            for application, external_id, move in known
            if application["kind"] == "credit_note"
        ]
        for application, invoice_id, move in known:
            if application["kind"] != "invoice":
                continue
            shares, wanted = [], application["amount"]
            for credit in credit_left:
                share = min(credit[2], wanted)
                if share > 0:
                    shares.append((credit[0], credit[1], share))
                    credit[2] -= share
                    wanted -= share
            key = f"payment:{payment_id}:{invoice_id}"
            if wanted > 0 and not bindings._find(backend, "account.payment", key):
                odoo_payment = self._register_payment(
                    backend, payment, dict(application, amount=wanted), move
                )
                bindings._bind(backend, odoo_payment, key, remote_amount=wanted)
                registered.append(f"{move.name} {wanted}")
            for credit_id, credit_note, share in shares:
                key = f"payment:{payment_id}:{credit_id}:{invoice_id}"
                if bindings._find(backend, "account.partial.reconcile", key):
                    continue
                try:
                    partial = self._apply_credit(credit_note, move, share)
                except SyncError as exc:
                    problems.append(exc)
                    continue
                bindings._bind(backend, partial, key, remote_amount=share)
                registered.append(f"{credit_note.name} → {move.name} {share}")
        if registered:
            self._note_remote_balances(backend, known, client)
        return {
            "res_model": "account.move" if registered else None,
            "external_id": str(payment_id),
            "canonical": payment,
            "summary": self.env._(
                "QuickBooks payment %(payment)s: %(done)s",
                payment=payment_id,
                done=", ".join(registered) or self.env._("nothing new to register"),
            ),
            "problems": problems,
        }

    def _note_remote_balances(self, backend, known, client):
        """Keep on the bindings the open balance QuickBooks has for the
        documents a payment applied to (``known``: ``(application, external
        id, move)``): read back with ``client``, else lowered by what the
        payment applied (in the database, so that two payments of one
        invoice applied at once both count)."""
        bindings = self.env["distribution.sync.binding"]
        for application, external_id, _move in known:
            entity = "CreditMemo" if application["kind"] == "credit_note" else "Invoice"
            if client:
                data = client.read(entity, external_id)[entity]
                bindings._find(backend, "account.move", external_id).sudo().write(
                    {"remote_residual": float(data.get("Balance") or 0)}
                )
                continue
            self.env.cr.execute(
                """UPDATE distribution_sync_binding
                      SET remote_residual = GREATEST(
                          COALESCE(remote_residual, 0) - %s, 0)
                    WHERE backend_id = %s AND res_model = 'account.move'
                      AND external_id = %s""",
                (float(application["amount"]), backend.id, str(external_id)),
            )
            bindings.invalidate_model(["remote_residual"])

    def _unknown_document(self, payment_id, application):
        noun = (
            self.env._("credit memo")
            if application["kind"] == "credit_note"
            else self.env._("invoice")
        )
        return _problem(
            self.env._(
                "QuickBooks payment %(payment)s applies %(amount)s to %(noun)s "
                "%(invoice)s, which Odoo does not know.",
                payment=payment_id,
                amount=application["amount"],
                noun=noun,
                invoice=application["invoice_external_id"],
            ),
            None,
            category="reconciliation",
            value=str(application["invoice_external_id"]),
            hint=self.env._(
                "Find the document in Odoo and bind it, or record the payment by "
                "hand; then resolve this exception."
            ),
        )

    def _apply_credit(self, credit_note, move, amount):
        """Reconcile ``credit_note`` with ``move`` for ``amount``, as
        QuickBooks applied it; the new partial reconciliation. Odoo
        reconciles what both have open: when that is not ``amount`` the
        accountant decides (``SyncError``, a reconciliation exception)."""
        rounding = str(move.currency_id.rounding)

        def open_line(document):
            return document.line_ids.filtered(
                lambda line: (
                    line.account_id.account_type == "asset_receivable"
                    and not line.reconciled
                )
            )[:1]

        credit_line, invoice_line = open_line(credit_note), open_line(move)
        would = min(
            abs(credit_line.amount_residual_currency),
            abs(invoice_line.amount_residual_currency),
        )
        if (
            not credit_line
            or not invoice_line
            or money_compare(would, float(amount), rounding)
        ):
            raise _problem(
                self.env._(
                    "QuickBooks applies %(amount)s of credit note %(credit)s to "
                    "%(move)s; in Odoo %(would)s of it can be applied.",
                    amount=format_amount(self.env, float(amount), move.currency_id),
                    credit=credit_note.name,
                    move=move.name,
                    would=format_amount(
                        self.env,
                        would if credit_line and invoice_line else 0.0,
                        move.currency_id,
                    ),
                ),
                move,
                category="reconciliation",
                value=credit_note.name,
                hint=self.env._(
                    "Apply the credit note on the invoice by hand (its outstanding "
                    "credits), then resolve this exception."
                ),
            )
        before = invoice_line.matched_credit_ids
        (credit_line | invoice_line).reconcile()
        return invoice_line.matched_credit_ids - before

    def _register_payment(self, backend, payment, application, move):
        """The Odoo payment of one application, posted and reconciled with
        ``move`` (partial payments leave the rest open)."""
        journal = self._payment_journal(backend, payment)
        if not journal:
            raise SyncError(
                self.env._("The company of %s has no bank journal.", backend.name),
                hint=self.env._(
                    "Create a bank journal or map the payment method to one."
                ),
            )
        amount = float(application["amount"])
        residual = move.amount_residual
        if money_compare(amount, residual, str(move.currency_id.rounding)) > 0:
            raise _problem(
                self.env._(
                    "QuickBooks applies %(amount)s to %(move)s, which has only "
                    "%(residual)s left to pay in Odoo.",
                    amount=amount,
                    move=move.name,
                    residual=residual,
                ),
                move,
                category="reconciliation",
                hint=self.env._(
                    "Check the payments of the invoice on both sides, then retry."
                ),
            )
        wizard = (
            self.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=move.ids)
            .create(
                {
                    "amount": amount,
                    "journal_id": journal.id,
                    "payment_date": payment["date"],
                    "communication": self.env._(
                        "QuickBooks payment %s", payment["external_id"]
                    ),
                    "payment_difference_handling": "open",
                }
            )
        )
        try:
            return wizard._create_payments()
        except UserError as exc:
            raise SyncError(str(exc)) from exc

    # ---------------------------------------------------------------- invoices
    def _check_invoice(self, backend, entity, entity_id, operation):
        """An invoice Odoo owns changed in QuickBooks: what changed, as a
        conflict on the Odoo invoice (nothing is changed in Odoo)."""
        move = self.env["distribution.sync.binding"]._find_record(
            backend, "account.move", entity_id
        )
        if not move:
            return {
                "state": "skipped",
                "summary": self.env._(
                    "QuickBooks %(entity)s %(id)s is not an Odoo invoice.",
                    entity=entity,
                    id=entity_id,
                ),
            }
        result = {"res_model": move._name, "res_id": move.id}
        if not backend._ownership_matrix().may_push("invoice"):
            return dict(
                result,
                state="skipped",
                summary=self.env._("QuickBooks owns invoices on this backend."),
            )
        binding = self.env["distribution.sync.binding"]._find(
            backend, "account.move", entity_id
        )
        if operation == "Delete":
            binding.sudo().write({"remote_state": "deleted"})
            changes = [self.env._("It was deleted in QuickBooks.")]
        else:
            data = backend._quickbooks_client().read(entity, entity_id)[entity]
            move_type = "credit_note" if entity == "CreditMemo" else "invoice"
            theirs = mappers.parse_invoice(data, move_type=move_type)
            # What QuickBooks says now (a payment there changes the balance),
            # for reconciliation.
            binding.sudo().write(
                {
                    "remote_amount": float(data.get("TotalAmt") or 0),
                    "remote_residual": float(data.get("Balance") or 0),
                    "remote_state": theirs["state"] or "posted",
                }
            )
            changes = mappers.invoice_differences(
                move._prepare_distribution_sync_invoice(),
                theirs,
                rounding=str(move.currency_id.rounding),
            )
            if theirs["state"] == "voided" and move.state != "cancel":
                changes.insert(0, self.env._("It was voided in QuickBooks."))
        if not changes:
            return dict(
                result,
                summary=self.env._("%s agrees with QuickBooks.", move.name),
            )
        return dict(
            result,
            summary=self.env._("%s was changed in QuickBooks.", move.name),
            problems=[
                _problem(
                    self.env._(
                        "%(move)s is Odoo's but was changed in QuickBooks. %(changes)s",
                        move=move.name,
                        changes=" ".join(changes),
                    ),
                    move,
                    category="conflict",
                    value=str(entity_id),
                    hint=self.env._(
                        "Undo the change in QuickBooks, or make it in Odoo "
                        "(credit note, new invoice); then resolve this exception."
                    ),
                )
            ],
        )

    # ---------------------------------------------------------- change capture
    def _fetch_changes(self, backend, since, cursor=None):
        """What changed in QuickBooks since ``since`` (at most 29 days back),
        as change notices like the webhooks' (one page: QuickBooks answers at
        most 1,000 objects, a later run goes on from the checkpoint)."""
        oldest = fields.Datetime.now() - timedelta(days=CDC_DAYS)
        since = max(since or oldest, oldest)
        data = backend._quickbooks_client().cdc(
            list(CDC_ENTITIES), since.replace(microsecond=0)
        )
        events = []
        for entity in CDC_ENTITIES:
            for obj in data.get(entity, []):
                deleted = obj.get("status") == "Deleted"
                operation = "Delete" if deleted else "Update"
                if entity == "Payment" and not deleted:
                    operation = "Create"
                change = {
                    "realm_id": backend.quickbooks_realm_id,
                    "entity": entity,
                    "entity_id": str(obj["Id"]),
                    "operation": operation,
                    "event_id": f"cdc:{entity}:{obj['Id']}:{obj.get('SyncToken', '')}"
                    f":{operation}",
                    "format": "cdc",
                }
                events.append(
                    {
                        "topic": f"{entity}/{operation}".lower(),
                        "idempotency_key": f"quickbooks:{change['event_id']}",
                        "external_id": change["entity_id"],
                        "work_key": f"quickbooks:{entity}:{obj['Id']}",
                        "payload": json.dumps(change, sort_keys=True),
                    }
                )
        return events, None

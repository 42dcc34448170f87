# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from odoo import models

from odoo.addons.distribution_sync.core.errors import (
    MappingMissing,
    PayloadError,
    SyncError,
    TransientError,
)
from odoo.addons.distribution_sync.core.money import money_compare, money_equal
from odoo.addons.distribution_sync.core.states import FINAL_STATES, OPEN_STATES

from ..core import mappers
from ..core.client import BATCH_SIZE, batch_item_error
from ..core.errors import DuplicateName, StaleObject
from .distribution_sync_backend import TOPIC_CREDIT_MEMO, TOPIC_INVOICE, TOPIC_PAYMENT

ENTITY_OF = {"out_invoice": "Invoice", "out_refund": "CreditMemo"}


def _quote(text):
    """A value inside a QuickBooks query's single quotes."""
    return (text or "").replace("\\", "\\\\").replace("'", "\\'")


class DistributionSyncQuickbooksExporter(models.AbstractModel):
    """What Odoo sends to QuickBooks: posted customer invoices and credit
    notes, with the customers and items they need, and voids. Every create
    carries the ``requestid`` of its Odoo record and operation; every update
    the current ``SyncToken`` (a stale one is read again)."""

    _name = "distribution.sync.quickbooks.exporter"
    _description = "Distribution Sync: QuickBooks exporter"

    def _push(self, backend, message):
        record = message._document()
        expected = (
            "account.payment" if message.topic == TOPIC_PAYMENT else "account.move"
        )
        if not record or record._name != expected:
            raise PayloadError(
                self.env._("The document of %s no longer exists.", message.display_name)
            )
        backend = backend.with_context(
            distribution_sync_quickbooks_round=self._refusals(message)
        )
        if message.topic == TOPIC_PAYMENT:
            return self._export_payment(backend, record)
        if message.topic == "invoice/void":
            return self._void_move(backend, record)
        return self._export_move(backend, record, message)

    def _refusals(self, message):
        """How many times QuickBooks refused this message's work. QuickBooks
        answers a ``requestid`` it has seen with its first answer, a refusal
        too: once a person fixed the cause, the retry needs new request ids;
        a retry after a lost answer (no refusal) keeps them, and gets the
        first answer back instead of a second object."""
        refused = (
            self.env["distribution.sync.exception"]
            .sudo()
            .search([("message_id", "=", message.id), ("category", "!=", "transient")])
        )
        return sum(refused.mapped("occurrence_count"))

    # ---------------------------------------------------------------- lookups
    def _binding_of(self, backend, record):
        return (
            self.env["distribution.sync.binding"]
            .sudo()
            .search(
                [
                    ("backend_id", "=", backend.id),
                    ("res_model", "=", record._name),
                    ("res_id", "=", record.id),
                ],
                limit=1,
            )
        )

    def _query_one(self, client, entity, field, value):
        if not value:
            return None
        found = client.query(
            f"SELECT * FROM {entity} WHERE {field} = '{_quote(value)}'",
            max_results=1,
        )
        return found[0] if found else None

    # --------------------------------------------------------------- customers
    def _prepare_customer(self, partner):
        return {
            "name": partner.name,
            "email": partner.email or None,
            "phone": partner.phone or partner.mobile or None,
            "company": partner.commercial_company_name or None,
            "street": partner.street or None,
            "street2": partner.street2 or None,
            "city": partner.city or None,
            "state": partner.state_id.code or None,
            "zip": partner.zip or None,
            "country": partner.country_id.code or None,
            "currency": (
                partner.property_product_pricelist.currency_id.name
                if "property_product_pricelist" in partner._fields
                else None
            ),
        }

    def _customer_ref(self, backend, client, partner):
        """The QuickBooks customer of ``partner``: bound, else the customer of
        the same display name (names are unique in QuickBooks), else a new
        one. A name taken by a vendor or an employee gets the partner's
        reference appended."""
        binding = self._binding_of(backend, partner)
        if binding:
            return binding.external_id
        payload = mappers.customer_payload(self._prepare_customer(partner))
        found = self._query_one(
            client, "Customer", "DisplayName", payload["DisplayName"]
        )
        if not found:
            request_id = backend._quickbooks_request_id(partner, "create")
            try:
                found = client.create("Customer", payload, request_id)["Customer"]
            except DuplicateName:
                payload = dict(
                    payload, DisplayName=f"{payload['DisplayName']} ({partner.id})"
                )
                found = (
                    self._query_one(
                        client, "Customer", "DisplayName", payload["DisplayName"]
                    )
                    or client.create(
                        "Customer",
                        payload,
                        backend._quickbooks_request_id(partner, "create-renamed"),
                    )["Customer"]
                )
        self.env["distribution.sync.binding"]._bind(backend, partner, found["Id"])
        return found["Id"]

    # ------------------------------------------------------------------- items
    def _prepare_item(self, product):
        kind = "service" if product.type == "service" else "consu"
        if product.type == "consu" and product.is_storable:
            kind = "product"
        return {
            "name": product.display_name,
            "sku": product.default_code or None,
            "type": kind,
            "price": str(product.lst_price),
            "cost": str(product.standard_price),
        }

    def _item_accounts(self, backend):
        return {
            "income": backend.quickbooks_income_account_ref or None,
            "expense": backend.quickbooks_expense_account_ref or None,
            "asset": backend.quickbooks_asset_account_ref or None,
        }

    def _item_ref(self, backend, client, product):
        """The QuickBooks item of ``product``: bound, else by SKU, then by
        name, else a new one (type from the Odoo product type)."""
        binding = self._binding_of(backend, product)
        if binding:
            return binding.external_id
        data = self._prepare_item(product)
        found = self._query_one(client, "Item", "Sku", data["sku"]) or self._query_one(
            client, "Item", "Name", data["name"]
        )
        if not found:
            payload = mappers.item_payload(data, self._item_accounts(backend))
            try:
                found = client.create(
                    "Item", payload, backend._quickbooks_request_id(product, "create")
                )["Item"]
            except DuplicateName:
                found = self._query_one(client, "Item", "Name", payload.get("Name"))
                if not found:
                    raise
        self.env["distribution.sync.binding"]._bind(backend, product, found["Id"])
        return found["Id"]

    # ------------------------------------------------------------------ taxes
    def _tax_code(self, backend, tax):
        """The QuickBooks tax code mapped to an Odoo tax (``tax`` mappings)."""
        mapping = (
            self.env["distribution.sync.mapping"]
            .sudo()
            .search(
                [
                    ("mapping_type", "=", "tax"),
                    ("backend_id", "in", [backend.id, False]),
                    ("tax_id", "=", tax.id),
                ],
                order="backend_id desc nulls last, id",
                limit=1,
            )
        )
        return mapping.external_code or None

    def _prepare_refs(self, backend, client, move, invoice):
        """What the invoice payload refers to in QuickBooks."""
        lines = move.invoice_line_ids.filtered(
            lambda line: line.display_type in ("product", "rounding")
        )
        items, tax_codes = {}, {}
        txn_tax_code = None
        us = move.company_id.country_id.code == "US"
        for line in lines:
            if line.product_id:
                items[str(line.id)] = self._item_ref(backend, client, line.product_id)
            elif backend.quickbooks_default_item_ref:
                items[str(line.id)] = backend.quickbooks_default_item_ref
            else:
                raise MappingMissing(
                    "product",
                    line.name or str(line.id),
                    hint=self.env._(
                        "Set the QuickBooks item for lines without product on the "
                        "backend, then retry."
                    ),
                )
            for tax in line.tax_ids:
                code = self._tax_code(backend, tax)
                if code:
                    tax_codes[",".join(line.tax_ids.mapped("name")).upper()] = code
                    txn_tax_code = txn_tax_code or code
                elif not us:
                    raise MappingMissing("tax", tax.name)
        currency = move.currency_id
        company_currency = move.company_id.currency_id
        rate = None
        if currency != company_currency and move.amount_total:
            rate = abs(move.amount_total_signed) / move.amount_total
        return {
            "customer": self._customer_ref(
                backend, client, move.partner_id.commercial_partner_id
            ),
            "items": items,
            "tax_codes": tax_codes,
            "us": us,
            "txn_tax_code": txn_tax_code,
            "currency": currency.name,
            "exchange_rate": rate and str(round(rate, 6)),
            "terms": None,
        }

    # ---------------------------------------------------------------- invoices
    def _prepare_move_payload(self, backend, client, move):
        """``(entity, payload, canonical invoice)`` of a posted invoice or
        credit note; its customer and items are matched or created first."""
        entity = ENTITY_OF[move.move_type]
        invoice = move._prepare_distribution_sync_invoice()
        refs = self._prepare_refs(backend, client, move, invoice)
        build = (
            mappers.credit_memo_payload
            if entity == "CreditMemo"
            else mappers.invoice_payload
        )
        return entity, build(invoice, refs), invoice

    def _export_move(self, backend, move, message=None):
        """One QuickBooks object per posted invoice or credit note: created
        with its ``requestid`` (a retry gets the first answer back), updated
        with its ``SyncToken`` when Odoo posts it again. Totals are compared:
        a difference beyond the currency's rounding is a problem to look at
        (usually a tax mapping). A message sent in a batch before
        (``quickbooks_batch_request``) asks that batch first: QuickBooks may
        have created the object there."""
        entity = ENTITY_OF.get(move.move_type)
        if not entity or move.state != "posted":
            return {
                "state": "skipped",
                "summary": self.env._("%s is no posted customer invoice.", move.name),
            }
        client = backend._quickbooks_client()
        entity, payload, invoice = self._prepare_move_payload(backend, client, move)
        binding = self._binding_of(backend, move)
        data = None
        if binding:
            data = self._update(
                backend, client, entity, binding.external_id, payload, move
            )
            verb = self.env._("updated")
        else:
            if (
                message
                and message.quickbooks_batch_request
                and not self._refusals(message)
            ):
                data = self._replay_batch(
                    client, message.quickbooks_batch_request, move, entity, payload
                )
            if data is None:
                data = client.create(
                    entity, payload, backend._quickbooks_request_id(move, "create")
                )[entity]
            verb = self.env._("created")
        self._bind_move(backend, move, data, binding)
        return self._move_result(move, entity, data, invoice, verb)

    def _bind_move(self, backend, move, data, binding=None):
        """Bind ``move`` to the QuickBooks object ``data`` with what
        QuickBooks says of it (total, open balance) for reconciliation."""
        return self.env["distribution.sync.binding"]._bind(
            backend,
            move,
            data["Id"],
            binding=binding or None,
            remote_amount=data.get("TotalAmt"),
            remote_residual=data.get("Balance"),
            remote_state="posted",
        )

    def _move_result(self, move, entity, data, invoice, verb):
        theirs = mappers.parse_invoice(
            data, move_type="credit_note" if entity == "CreditMemo" else "invoice"
        )
        return {
            "external_id": data["Id"],
            "summary": self.env._(
                "QuickBooks %(entity)s %(id)s %(verb)s for %(move)s (%(total)s).",
                entity=entity,
                id=data["Id"],
                verb=verb,
                move=move.name,
                total=theirs["amount_total"],
            ),
            "canonical": invoice,
            "problems": self._total_problems(move, invoice, theirs),
        }

    def _update(self, backend, client, entity, external_id, payload, move):
        """Update with the current ``SyncToken``; a stale one (5010) is read
        again once."""
        for attempt in (1, 2):
            current = client.read(entity, external_id)[entity]
            body = dict(payload, Id=external_id, SyncToken=current["SyncToken"])
            request_id = backend._quickbooks_request_id(
                move, f"update:{move.write_date.isoformat()}:{current['SyncToken']}"
            )
            try:
                return client.update(entity, body, request_id)[entity]
            except StaleObject:
                if attempt == 2:
                    raise
        return None

    def _total_problems(self, move, ours, theirs):
        rounding = str(move.currency_id.rounding)
        if money_equal(ours["amount_total"], theirs["amount_total"], rounding):
            return []
        difference = theirs["amount_total"] - ours["amount_total"]
        problem = SyncError(
            self.env._(
                "QuickBooks computed %(theirs)s for %(move)s where Odoo has "
                "%(ours)s: %(more)s by %(difference)s.",
                theirs=theirs["amount_total"],
                move=move.name,
                ours=ours["amount_total"],
                more=self.env._("more")
                if money_compare(difference, 0, rounding) > 0
                else self.env._("less"),
                difference=abs(difference),
            ),
            value=str(difference),
            hint=self.env._(
                "Usually a tax mapping: check the QuickBooks tax code mapped to "
                "each Odoo tax of the invoice, fix the invoice in QuickBooks, then "
                "resolve this exception."
            ),
        )
        problem.record = move
        return [problem]

    def _void_move(self, backend, move):
        """Void the QuickBooks invoice of an invoice cancelled in Odoo."""
        binding = self._binding_of(backend, move)
        if not binding:
            return {
                "state": "skipped",
                "summary": self.env._("%s never reached QuickBooks.", move.name),
            }
        entity = ENTITY_OF.get(move.move_type, "Invoice")
        client = backend._quickbooks_client()
        for attempt in (1, 2):
            current = client.read(entity, binding.external_id)[entity]
            try:
                client.void(
                    entity,
                    binding.external_id,
                    current["SyncToken"],
                    backend._quickbooks_request_id(move, "void"),
                )
                break
            except StaleObject:
                if attempt == 2:
                    raise
        binding.sudo().write(
            {"remote_state": "voided", "remote_amount": 0.0, "remote_residual": 0.0}
        )
        return {
            "external_id": binding.external_id,
            "summary": self.env._(
                "QuickBooks %(entity)s %(id)s voided.",
                entity=entity,
                id=binding.external_id,
            ),
        }

    # ---------------------------------------------------------------- payments
    def _payment_applications(self, payment):
        """``{move: amount}`` of the customer invoices and credit notes
        ``payment`` settles, in the payment's currency (from its
        reconciliation; a payment without journal entry: its invoices, in
        order, up to its amount)."""
        applied = {}
        if payment.move_id:
            lines = payment.move_id.line_ids.filtered(
                lambda line: line.account_id.account_type == "asset_receivable"
            )
            for partial in lines.matched_debit_ids:
                move = partial.debit_move_id.move_id
                applied[move] = applied.get(move, 0.0) + partial.credit_amount_currency
            for partial in lines.matched_credit_ids:
                move = partial.credit_move_id.move_id
                applied[move] = applied.get(move, 0.0) + partial.debit_amount_currency
        else:
            left = payment.amount
            for move in payment.invoice_ids.sorted(lambda m: (m.invoice_date, m.id)):
                share = min(left, move.amount_total)
                if share > 0:
                    applied[move] = share
                    left -= share
        return {
            move: amount
            for move, amount in applied.items()
            if move.move_type in ENTITY_OF
        }

    def _prepare_payment(self, backend, payment, applied):
        """The canonical payment sent for ``payment``: what it applies to each
        QuickBooks invoice (credit notes settled by it count against)."""
        currency = payment.currency_id
        applications = []
        for move, amount in sorted(applied.items(), key=lambda item: item[0].id):
            binding = self._binding_of(backend, move)
            if not binding:
                self._invoice_not_there(backend, move, payment)
            applications.append(
                {
                    "invoice_external_id": binding.external_id,
                    "amount": str(currency.round(amount)),
                    "kind": "credit_note"
                    if move.move_type == "out_refund"
                    else "invoice",
                }
            )
        return {
            "amount": str(currency.round(payment.amount)),
            "date": payment.date,
            "currency": currency.name,
            "reference": payment.memo or payment.name,
            "applications": applications,
        }

    def _invoice_not_there(self, backend, move, payment):
        """Raise why ``payment`` cannot be sent before ``move`` is in
        QuickBooks: it is on its way (wait), or it will not come (fix)."""
        pending = (
            self.env["distribution.sync.message"]
            .sudo()
            .search_count(
                [
                    ("backend_id", "=", backend.id),
                    ("direction", "=", "outbound"),
                    ("res_model", "=", "account.move"),
                    ("res_id", "=", move.id),
                    ("state", "not in", list(FINAL_STATES)),
                ]
            )
        )
        if pending:
            raise TransientError(
                self.env._(
                    "%(payment)s waits for %(move)s to reach QuickBooks.",
                    payment=payment.name,
                    move=move.name,
                ),
                retry_after=30,
            )
        raise SyncError(
            self.env._(
                "%(payment)s pays %(move)s, which is not in QuickBooks.",
                payment=payment.name,
                move=move.name,
            ),
            value=move.name,
            hint=self.env._(
                "Send the invoice to QuickBooks (or record the payment there by "
                "hand), then retry."
            ),
        )

    def _export_payment(self, backend, payment):
        """One QuickBooks ``Payment`` per Odoo payment of invoices Odoo sent
        (Odoo owns payments on this backend), created with its ``requestid``
        and linked to those invoices."""
        binding = self._binding_of(backend, payment)
        if binding:
            return {
                "state": "skipped",
                "external_id": binding.external_id,
                "summary": self.env._(
                    "%(payment)s is QuickBooks payment %(id)s already.",
                    payment=payment.name,
                    id=binding.external_id,
                ),
            }
        applied = self._payment_applications(payment)
        if not applied:
            return {
                "state": "skipped",
                "summary": self.env._(
                    "%s settles no customer invoice: nothing to send.", payment.name
                ),
            }
        canonical = self._prepare_payment(backend, payment, applied)
        client = backend._quickbooks_client()
        refs = {
            "customer": self._customer_ref(
                backend, client, payment.partner_id.commercial_partner_id
            )
        }
        company_currency = payment.company_id.currency_id
        if payment.currency_id != company_currency and payment.amount:
            rate = abs(payment.amount_company_currency_signed) / payment.amount
            refs["exchange_rate"] = str(round(rate, 6))
        data = client.create(
            "Payment",
            mappers.payment_payload(canonical, refs),
            backend._quickbooks_request_id(payment, "create"),
        )["Payment"]
        self.env["distribution.sync.binding"]._bind(
            backend, payment, data["Id"], remote_amount=data.get("TotalAmt")
        )
        return {
            "external_id": data["Id"],
            "canonical": canonical,
            "summary": self.env._(
                "QuickBooks payment %(id)s created for %(payment)s (%(amount)s on "
                "%(moves)s).",
                id=data["Id"],
                payment=payment.name,
                amount=canonical["amount"],
                moves=", ".join(move.name for move in applied),
            ),
        }

    # ------------------------------------------------------------------ batch
    def _batch_request_id(self, backend, messages):
        """The ``requestid`` of one batch: the same for the same messages at
        the same round, so that a repeated batch gets QuickBooks' first
        answer."""
        uuid = self.env["ir.config_parameter"].sudo().get_param("database.uuid")
        rounds = sum(self._refusals(message) for message in messages)
        ids = ",".join(str(i) for i in sorted(messages.ids))
        return mappers.request_id(uuid, "batch", backend.id, ids, rounds)

    def _replay_batch(self, client, request_id, move, entity, payload):
        """The object QuickBooks created for ``move`` in batch
        ``request_id``, or None when that batch did not create it. Sent again
        with the same id: QuickBooks answers what it did the first time; a
        batch it never received runs now, with this item alone."""
        answers = client.batch(
            [{"bId": str(move.id), "operation": "create", entity: payload}],
            request_id,
        )
        for answer in answers:
            if str(answer.get("bId")) != str(move.id):
                continue
            error = batch_item_error(answer, client.last_tid)
            if error:
                raise error
            return answer.get(entity)
        return None

    def _send_batch(self, backend, messages):
        """Send the invoices and credit notes of ``messages`` (outbound
        ``invoice/create``/``creditmemo/create``) in batch requests of
        ``BATCH_SIZE``: what a bulk send uses (one request for ten
        documents). Each message ends as its own job would end it: done,
        refused with its exception, or queued again; one that cannot go in a
        batch (already bound, another worker on it...) takes its own path."""
        client = backend._quickbooks_client()
        ready, states = [], []
        for message in messages:
            if message.state not in OPEN_STATES:
                states.append("unchanged")
                continue
            if not message._lock_work():
                message._enqueue(eta=5)
                states.append("left open")
                continue
            move = message._document()
            if (
                message.topic not in (TOPIC_INVOICE, TOPIC_CREDIT_MEMO)
                or not move
                or move._name != "account.move"
                or move.move_type not in ENTITY_OF
                or move.state != "posted"
                or self._binding_of(backend, move)
                or message.quickbooks_batch_request
            ):
                message._run(message._do_work)
                states.append(message.state)
                continue
            try:
                with self.env.cr.savepoint():
                    item = self._prepare_move_payload(backend, client, move)
            except Exception as exc:  # recorded on the message, as its job would
                message._record_failure(exc, message.attempt_count + 1)
                states.append(message.state)
                continue
            ready.append((message, move, *item))
        for start in range(0, len(ready), BATCH_SIZE):
            chunk = ready[start : start + BATCH_SIZE]
            states += self._send_chunk(backend, client, chunk)
        return states

    def _send_chunk(self, backend, client, chunk):
        messages = self.env["distribution.sync.message"].browse(
            [item[0].id for item in chunk]
        )
        request_id = self._batch_request_id(backend, messages)
        self.env["distribution.sync.quickbooks.batch"].sudo()._remember(
            messages, request_id
        )
        items = [
            {"bId": str(move.id), "operation": "create", entity: payload}
            for _message, move, entity, payload, _invoice in chunk
        ]
        try:
            answers = client.batch(items, request_id)
        except Exception as exc:  # every message ends with the outcome
            for message in messages:
                message._record_failure(exc, message.attempt_count + 1)
            return list(messages.mapped("state"))
        by_id = {str(answer.get("bId")): answer for answer in answers}
        states = []
        for message, move, entity, _payload, invoice in chunk:

            def outcome(move=move, entity=entity, invoice=invoice):
                answer = by_id.get(str(move.id))
                if answer is None:
                    raise TransientError(
                        self.env._(
                            "QuickBooks answered the batch without %s.", move.name
                        )
                    )
                error = batch_item_error(answer, client.last_tid)
                if error:
                    raise error
                data = answer[entity]
                self._bind_move(backend, move, data)
                return self._move_result(
                    move, entity, data, invoice, self.env._("created in a batch")
                )

            message._run(outcome)
            states.append(message.state)
        return states

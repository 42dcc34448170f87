#!/usr/bin/env python3
"""Walk through the QuickBooks contract on a running Odoo: invoices out, payments in.

Real HTTP, the real queue_job runner, XML-RPC: nothing is called in-process.
A local fake QuickBooks Online
(``distribution_sync_quickbooks/tests/fake_quickbooks.py``: the Accounting API
and Intuit's token endpoint) stands for the outside; each promise of the
contract's QuickBooks part is one named check::

    python tests/quickbooks_walkthrough.py [--keep-db] [--db NAME]

creates a database with every addon of the repository (no demo data; ``--db``
uses an existing one, the addons installed, and keeps it), serves it on
127.0.0.1 (``--workers=2``, job runner on), creates a QuickBooks backend over
XML-RPC (company id, app client id and secret, the refresh token, token and API
URLs of the fake, the fake's verifier token as webhook secret) and an 8 % tax
mapped to QuickBooks' ``TAX`` code (the fake computes that tax itself, as
QuickBooks' automated sales tax does), then:

1. 20 customer invoices and 3 credit notes (four customers, four products, a
   line without product) are created and posted over XML-RPC in two batches;
   the runner sends them while the fake drops the answer of every fifth create
   after applying it (until each document was tried once): exactly one
   QuickBooks object each (a retry gets the first answer back through its
   ``requestid``), totals equal to Odoo's to the cent, every message done, no
   open exception;
2. the fake's access tokens are expired before each later step: every refresh
   presents the refresh token the previous one issued, once; none is refused;
3. a payment entered in QuickBooks for one invoice, announced by a signed
   CloudEvents webhook, and another for a second invoice, announced in the
   legacy ``eventNotifications`` shape, pay both invoices in Odoo with one
   payment each; the same deliveries posted again change nothing;
4. an invoice edited in QuickBooks (a quantity), announced by a webhook, is an
   open conflict exception on the Odoo invoice naming the change.

``run`` is the entry point for the Odoo tier (``tests/odoo_tier.py``), in its
database without demo data after the other live suites: the backend, its
customers and its company id are the run's own, the products and the tax have
names of their own, and the backend is archived at the end.
"""

import json
import random
import statistics
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

import walkthrough

HERE = Path(__file__).resolve().parent
ADDON = "distribution_sync_quickbooks"
FAKE_MODULE = walkthrough.REPO_ROOT / ADDON / "tests" / "fake_quickbooks.py"
TAX_NAME = "QuickBooks walk-through 8%"
TAX_RATE = 8.0
TAX_CODE = "TAX"  # the fake's (and QuickBooks US') taxable code
# code -> (name, price, type). Prices whose 8 % is whole cents: Odoo's tax
# per line and QuickBooks' tax on the taxable total are then the same.
PRODUCTS = {
    "QBW-WIDGET": ("QuickBooks walk widget", 12.5, "consu"),
    "QBW-KETTLE": ("QuickBooks walk kettle", 30.0, "consu"),
    "QBW-BOLT": ("QuickBooks walk bolt box", 4.25, "consu"),
    "QBW-SETUP": ("QuickBooks walk setup", 45.0, "service"),
}
CUSTOMERS = ("Harbor Hardware", "Mesa Supply", "Pine Street Tools", "Delta Fittings")
INVOICES = 20
CREDIT_NOTES = 3
BULK_INVOICES = 12
FIRST_BATCH = 10
DROP_EVERY = 5
REALM_BASE = 9_130_357_990_000_000
IDS_PER_RUN = 100_000
CENT = Decimal("0.01")


def money(value):
    return Decimal(str(value)).quantize(CENT)


class QuickBooksWalk(walkthrough.Walk):
    """The QuickBooks checks against a served database; ``backend_id`` is the
    walk's QuickBooks backend, ``fake`` the fake QuickBooks."""

    def __init__(self, ot, rpc, base_url, fake, tag):
        super().__init__(ot, rpc, base_url, fake)
        self.tag = tag
        self.figures = {}
        self.hook_seconds = []
        self.tax_id = None
        self.products = {}  # code -> product id
        self.customers = []  # partner ids
        self.invoices = []  # move ids, in order of creation
        self.credit_notes = []
        self.moves = {}  # move id -> {"name", "amount_total", "move_type"}
        self.qb_ids = {}  # move id -> QuickBooks Id

    # --------------------------------------------------------------- helpers
    def need(self, what, value):
        if not value:
            raise walkthrough.StepFailed(f"an earlier step did not get {what}")
        return value

    def read_one(self, model, record_id, fields):
        return self.rpc(model, "read", [record_id], fields)[0]

    def post_quickbooks(self, body, headers):
        """POST a QuickBooks delivery to the backend; (status, answer)."""
        t0 = time.monotonic()
        status, text = self.ot.post_webhook(
            self.base_url, self.backend_id, body, headers, timeout=30
        )
        self.hook_seconds.append(time.monotonic() - t0)
        try:
            answer = json.loads(text).get("status")
        except (ValueError, AttributeError):
            answer = text[:80]
        return status, answer

    def inbound_count(self):
        return self.rpc(
            "distribution.sync.message",
            "search_count",
            [("backend_id", "=", self.backend_id), ("direction", "=", "inbound")],
        )

    def entity_of(self, move_id):
        return (
            "CreditMemo"
            if self.moves[move_id]["move_type"] == "out_refund"
            else "Invoice"
        )

    def invoice_lines(self, number):
        """Lines ``(product code or None, quantity, price, taxed)`` of invoice
        ``number``: a few shapes, taxed and untaxed lines mixed."""
        lines = [
            ("QBW-WIDGET", number % 3 + 1, PRODUCTS["QBW-WIDGET"][1], True),
            ("QBW-KETTLE", 1 + number % 2, PRODUCTS["QBW-KETTLE"][1], False),
        ]
        if number % 4 == 1:
            lines.append(("QBW-BOLT", 4, PRODUCTS["QBW-BOLT"][1], True))
        if number % 5 == 2:
            lines.append(("QBW-SETUP", 1, PRODUCTS["QBW-SETUP"][1], False))
        if number % 7 == 3:
            lines.append((None, 1, 5.0, False))
        return lines

    def move_values(self, move_type, partner_id, lines):
        commands = []
        for code, quantity, price, taxed in lines:
            values = {
                "quantity": quantity,
                "price_unit": price,
                "tax_ids": [(6, 0, [self.tax_id] if taxed else [])],
            }
            if code:
                values["product_id"] = self.products[code]
            else:
                values["name"] = "Handling"
            commands.append((0, 0, values))
        return {
            "move_type": move_type,
            "partner_id": partner_id,
            "invoice_line_ids": commands,
        }

    def create_and_post(self, values_list):
        """Create moves over XML-RPC, post them all in one call; their ids."""
        ids = self.rpc("account.move", "create", values_list)
        self.rpc("account.move", "action_post", ids)
        for move in self.rpc(
            "account.move", "read", ids, ["name", "amount_total", "move_type", "state"]
        ):
            if move["state"] != "posted":
                raise walkthrough.StepFailed(f"{move['name']} was not posted")
            self.moves[move["id"]] = move
        return ids

    def exported(self, move_ids):
        """The outbound messages of ``move_ids``, once all are final."""
        rows = self.final_messages(
            [
                ("direction", "=", "outbound"),
                ("res_model", "=", "account.move"),
                ("res_id", "in", move_ids),
            ],
            len(move_ids),
        )
        return self.rpc(
            "distribution.sync.message",
            "read",
            [row["id"] for row in rows],
            ["res_id", "topic", "state", "attempt_count", "last_error"],
        )

    def tried(self, move_ids):
        """Wait until the outbound message of each of ``move_ids`` was tried
        at least once."""

        def probe():
            rows = self.rpc(
                "distribution.sync.message",
                "search_read",
                [
                    ("backend_id", "=", self.backend_id),
                    ("direction", "=", "outbound"),
                    ("res_model", "=", "account.move"),
                    ("res_id", "in", move_ids),
                ],
                fields=["res_id", "attempt_count"],
            )
            tried = {row["res_id"] for row in rows if row["attempt_count"]}
            return tried >= set(move_ids)

        self.wait(probe, f"a first try of {len(move_ids)} document(s)")

    def bindings(self, res_model, res_ids):
        rows = self.rpc(
            "distribution.sync.binding",
            "search_read",
            [
                ("backend_id", "=", self.backend_id),
                ("res_model", "=", res_model),
                ("res_id", "in", res_ids),
            ],
            fields=["res_id", "external_id"],
        )
        return rows

    def open_exceptions(self, domain=()):
        return self.exceptions([("state", "=", "open"), *domain])

    def payment_view(self, move_id):
        move = self.read_one(
            "account.move",
            move_id,
            ["name", "payment_state", "amount_residual", "matched_payment_ids"],
        )
        payments = (
            self.rpc(
                "account.payment",
                "read",
                move["matched_payment_ids"],
                ["amount", "state", "memo"],
            )
            if move["matched_payment_ids"]
            else []
        )
        return move, payments

    def pay_in_quickbooks(self, move_id):
        """A QuickBooks Payment of the whole invoice, entered there; its Id."""
        qb_id = self.qb_ids[move_id]
        invoice = self.fake.get("Invoice", qb_id)
        total = f"{money(invoice['TotalAmt'])}"
        payment = self.fake.add(
            "Payment",
            {
                "CustomerRef": {"value": invoice["CustomerRef"]["value"]},
                "TotalAmt": total,
                "Line": [
                    {
                        "Amount": total,
                        "LinkedTxn": [{"TxnId": qb_id, "TxnType": "Invoice"}],
                    }
                ],
            },
        )
        return payment["Id"]

    # ----------------------------------------------------------------- steps
    def setup(self):
        """Tax, products, customers, the backend and its tax mapping."""
        rpc, fake = self.rpc, self.fake
        company_id = rpc("res.users", "read", [rpc.uid], ["company_id"])[0][
            "company_id"
        ][0]
        tax = rpc(
            "account.tax",
            "search",
            [("name", "=", TAX_NAME), ("company_id", "=", company_id)],
            limit=1,
        )
        self.tax_id = (
            tax[0]
            if tax
            else rpc(
                "account.tax",
                "create",
                {
                    "name": TAX_NAME,
                    "amount": TAX_RATE,
                    "amount_type": "percent",
                    "type_tax_use": "sale",
                    "price_include_override": "tax_excluded",
                    "company_id": company_id,
                },
            )
        )
        for code, (name, price, kind) in PRODUCTS.items():
            values = {"list_price": price, "taxes_id": [(5, 0, 0)]}
            found = rpc("product.product", "search", [("default_code", "=", code)])
            if found:
                rpc("product.product", "write", found[:1], values)
                self.products[code] = found[0]
            else:
                self.products[code] = rpc(
                    "product.product",
                    "create",
                    dict(values, name=name, default_code=code, type=kind),
                )
        us = rpc("res.country", "search", [("code", "=", "US")], limit=1)
        for index, name in enumerate(CUSTOMERS):
            values = {
                "name": f"{name} {self.tag}",
                "email": f"qbw.{self.tag}.{index}@example.com",
            }
            if index == 0 and us:
                values.update(
                    street="417 Montgomery Street",
                    city="San Francisco",
                    zip="94104",
                    country_id=us[0],
                )
            self.customers.append(rpc("res.partner", "create", values))

        def account(name):
            return fake.find("Account", Name=name)[0]["Id"]

        before = len(fake.requests)
        self.backend_id = rpc(
            "distribution.sync.backend",
            "create",
            {
                "name": f"QuickBooks walk-through {self.tag}",
                "backend_type": "quickbooks",
                "environment": "sandbox",
                "api_url": fake.api_url,
                "quickbooks_token_url": fake.token_url,
                "quickbooks_realm_id": fake.realm_id,
                "quickbooks_client_id": fake.client_id,
                "quickbooks_client_secret": fake.client_secret,
                "quickbooks_refresh_token": fake.refresh_token,
                "webhook_secret": fake.verifier_token,
                "quickbooks_default_item_ref": fake.find("Item", Name="Services")[0][
                    "Id"
                ],
                "quickbooks_income_account_ref": account("Sales of Product Income"),
                "quickbooks_expense_account_ref": account("Cost of Goods Sold"),
                "quickbooks_asset_account_ref": account("Inventory Asset"),
                "responsible_user_id": rpc.uid,
                "request_timeout": 10,
            },
        )
        rpc(
            "distribution.sync.mapping",
            "create",
            {
                "backend_id": self.backend_id,
                "mapping_type": "tax",
                "external_code": TAX_CODE,
                "tax_id": self.tax_id,
            },
        )
        backend = self.read_one(
            "distribution.sync.backend",
            self.backend_id,
            [
                "active",
                "user_id",
                "quickbooks_connected",
                "quickbooks_refresh_token",
                "quickbooks_client_secret",
            ],
        )
        shown = [
            key
            for key in ("quickbooks_refresh_token", "quickbooks_client_secret")
            if backend[key] in (fake.refresh_token, fake.client_secret)
        ]
        self.check(
            "a QuickBooks backend created over XML-RPC is connected at once; its "
            "secrets are never shown again; nothing called outside",
            backend["active"]
            and backend["user_id"]
            and backend["quickbooks_connected"]
            and not shown
            and len(fake.requests) == before,
            f"connected {backend['quickbooks_connected']}, secrets shown "
            f"{shown or 'none'}, {len(fake.requests) - before} request(s) to "
            "QuickBooks",
        )

    def step_export(self):
        """Two batches posted over XML-RPC; every fifth create's answer lost."""
        invoice_values = [
            self.move_values(
                "out_invoice",
                self.customers[number % len(self.customers)],
                self.invoice_lines(number),
            )
            for number in range(INVOICES)
        ]
        refund_values = [
            self.move_values(
                "out_refund",
                self.customers[number % len(self.customers)],
                [("QBW-WIDGET", 1 + number, PRODUCTS["QBW-WIDGET"][1], True)]
                + ([(None, 1, 7.5, False)] if number == 1 else []),
            )
            for number in range(CREDIT_NOTES)
        ]
        self.fake.drop_every(DROP_EVERY, ["create"])
        try:
            t0 = time.monotonic()
            first = self.create_and_post(invoice_values[:FIRST_BATCH])
            self.invoices += first
            # The access token of the first refresh is in use: expire it
            # while the export goes on, the second batch meets a 401.
            self.wait(
                lambda: self.fake.created.get("Invoice"), "a first QuickBooks invoice"
            )
            self.fake.expire_access_tokens()
            second = self.create_and_post(invoice_values[FIRST_BATCH:])
            notes = self.create_and_post(refund_values)
            self.invoices += second
            self.credit_notes += notes
            # Answers are lost until every document was tried once: a retry
            # may lose its answer too, but no message waits through the
            # longer delays of a third or fourth failure.
            self.tried(self.invoices + self.credit_notes)
        finally:
            self.fake.drop_every(0)
        rows = self.exported(self.invoices + self.credit_notes)
        self.figures["export_seconds"] = round(time.monotonic() - t0, 1)
        moves = self.invoices + self.credit_notes
        by_move = Counter(row["res_id"] for row in rows)
        not_done = [row for row in rows if row["state"] != "done"]
        retried = [row for row in rows if row["attempt_count"] > 1]
        self.figures["messages_retried"] = len(retried)
        self.figures["most_attempts"] = max(
            (row["attempt_count"] for row in rows), default=0
        )
        self.check(
            "23 posted documents: one outbound message each, every one done",
            sorted(by_move) == sorted(moves)
            and set(by_move.values()) == {1}
            and not not_done,
            f"{len(rows)} message(s) for {len(moves)} document(s), "
            f"{len(retried)} retried; not done: "
            + (
                ", ".join(
                    f"{self.moves[r['res_id']]['name']} {r['state']} "
                    f"({r['last_error']})"
                    for r in not_done
                )
                or "none"
            ),
        )
        bound = self.bindings("account.move", moves)
        self.qb_ids = {row["res_id"]: row["external_id"] for row in bound}
        wrong, right = [], 0
        for move_id in moves:
            move = self.moves[move_id]
            entity = self.entity_of(move_id)
            obj = self.fake.get(entity, self.qb_ids.get(move_id) or "-")
            same = self.fake.find(entity, DocNumber=move["name"])
            if (
                obj is None
                or len(same) != 1
                or obj["DocNumber"] != move["name"]
                or money(obj["TotalAmt"]) != money(move["amount_total"])
            ):
                wrong.append(
                    f"{move['name']} {move['amount_total']:.2f}: "
                    + (
                        f"{entity} {obj['Id']} {obj['DocNumber']} "
                        f"{money(obj['TotalAmt'])}, {len(same)} with its number"
                        if obj
                        else "no QuickBooks object"
                    )
                )
            else:
                right += 1
        created = self.fake.created
        self.check(
            "exactly one QuickBooks Invoice per invoice and CreditMemo per credit "
            "note, its DocNumber the Odoo number, its total Odoo's to the cent",
            not wrong
            and len(bound) == len(moves)
            and created.get("Invoice") == INVOICES
            and created.get("CreditMemo") == CREDIT_NOTES
            and len(self.fake.objects["Invoice"]) == INVOICES
            and len(self.fake.objects["CreditMemo"]) == CREDIT_NOTES,
            f"{right}/{len(moves)} agree, {len(bound)} binding(s); QuickBooks "
            f"created {created.get('Invoice', 0)} Invoice(s), "
            f"{created.get('CreditMemo', 0)} CreditMemo(s)"
            + (f"; {'; '.join(wrong[:5])}" if wrong else ""),
        )
        customers = self.fake.objects["Customer"]
        names = Counter(obj["DisplayName"] for obj in customers.values())
        skus = Counter(
            obj.get("Sku")
            for obj in self.fake.objects["Item"].values()
            if obj.get("Sku")
        )
        self.check(
            "customers and items created once each in QuickBooks, whatever the "
            "retries and the two workers",
            len(customers) == len(CUSTOMERS)
            and set(names.values()) == {1}
            and sorted(skus) == sorted(PRODUCTS)
            and set(skus.values()) == {1},
            f"{len(customers)} customer(s) {sorted(names.values())}, items by SKU "
            f"{dict(skus)}",
        )
        creates = [r for r in self.fake.requests if r["operation"] == "create"]
        dropped = [r for r in creates if r["status"] is None]
        sales_dropped = [r for r in dropped if r["entity"] in ("Invoice", "CreditMemo")]
        answered = {
            r["request_id"]
            for r in creates
            if r["replay"] and r["status"] == 200 and r["request_id"]
        }
        lost = [r for r in sales_dropped if r["request_id"] not in answered]
        # Applied: run by the fake (answered 200, or dropped after running);
        # a 401 or a throttled request ran nothing.
        applied = Counter(
            r["request_id"]
            for r in creates
            if not r["replay"]
            and r["entity"] in ("Invoice", "CreditMemo")
            and (r["status"] == 200 or (r["status"] is None and r["injected"]))
        )
        self.figures.update(
            creates=len(creates),
            create_answers_dropped=len(dropped),
            replays=self.fake.replays,
        )
        # The documents whose create lost its answer: their messages retried.
        names = {move["name"]: move_id for move_id, move in self.moves.items()}
        attempts = {row["res_id"]: row["attempt_count"] for row in rows}
        hit = {names.get((r["json"] or {}).get("DocNumber")) for r in sales_dropped}
        not_retried = [m for m in hit if attempts.get(m, 0) < 2]
        self.check(
            "every fifth create answered with nothing (applied): each lost "
            "Invoice/CreditMemo answer comes back on the retry with the same "
            "requestid, nothing created twice",
            sales_dropped
            and not lost
            and not not_retried
            and set(applied.values()) == {1},
            f"{len(creates)} create(s), {len(dropped)} answer(s) dropped "
            f"({len(sales_dropped)} of invoices/credit memos), {self.fake.replays} "
            f"replay(s), {len(lost)} never answered; {len(hit)} message(s) hit, "
            f"{len(not_retried)} of them not retried; requestids applied more "
            "than once: "
            f"{[k for k, v in applied.items() if v > 1] or 'none'}",
        )
        problems = self.open_exceptions()
        self.check(
            "no open exception after the export",
            not problems and not self.fake.errors,
            "; ".join(f"[{p['category']}] {p['name']}" for p in problems)
            or f"none ({len(self.fake.errors)} error(s) of the fake)",
        )

    def step_payments(self):
        """Two payments entered in QuickBooks, announced in both shapes."""
        self.need("synced invoices", len(self.qb_ids) >= 2 and self.invoices)
        self.fake.expire_access_tokens()
        first, second = self.invoices[0], self.invoices[1]
        first_pay = self.pay_in_quickbooks(first)
        second_pay = self.pay_in_quickbooks(second)
        cloud = self.fake.cloudevents([("Payment", first_pay, "Create")])
        legacy = self.fake.legacy_event([("Payment", second_pay, "Create")])

        body, headers = cloud
        stored = self.inbound_count()
        wrong = dict(headers, **{"intuit-signature": self.fake.sign(body + b" ")})
        status, answer = self.post_quickbooks(body, wrong)
        self.check(
            "a QuickBooks webhook with a wrong intuit-signature: 401, nothing stored",
            status == 401 and self.inbound_count() == stored,
            f"HTTP {status} {answer}, {self.inbound_count() - stored} message(s)",
        )
        t0 = time.monotonic()
        answers = [self.post_quickbooks(*cloud), self.post_quickbooks(*legacy)]
        rows = self.final_messages(
            [
                ("direction", "=", "inbound"),
                ("topic", "=", "payment/create"),
                ("external_id", "in", [first_pay, second_pay]),
            ],
            2,
        )
        self.figures["payment_seconds"] = round(time.monotonic() - t0, 1)
        seen = {}
        for move_id in (first, second):
            seen[move_id] = self.payment_view(move_id)
        ok = all(
            move["payment_state"] in ("paid", "in_payment")
            and abs(move["amount_residual"]) < 0.005
            and len(payments) == 1
            and money(payments[0]["amount"])
            == money(self.moves[move["id"]]["amount_total"])
            for move, payments in seen.values()
        )
        self.check(
            "a Payment recorded in QuickBooks (CloudEvents webhook) and another "
            "(legacy eventNotifications) pay their invoices in Odoo, one payment "
            "each",
            ok
            and [a[0] for a in answers] == [200, 200]
            and [r["state"] for r in rows] == ["done", "done"],
            f"answers {answers}, messages "
            + ", ".join(f"{r['state']} ({r['result_summary']})" for r in rows)
            + "; "
            + ", ".join(
                f"{move['name']} {move['payment_state']} residual "
                f"{move['amount_residual']:.2f}, {len(payments)} payment(s) "
                + " ".join(f"{p['amount']:.2f} {p['state']}" for p in payments)
                for move, payments in seen.values()
            ),
        )
        stored = self.inbound_count()
        again = [self.post_quickbooks(*cloud), self.post_quickbooks(*legacy)]
        after = {move_id: self.payment_view(move_id) for move_id in (first, second)}
        bound = self.bindings(
            "account.payment",
            [p["id"] for _move, payments in after.values() for p in payments],
        )
        self.check(
            "the same deliveries posted again: answered 200 duplicate, nothing "
            "stored, still one payment each",
            again == [(200, "duplicate"), (200, "duplicate")]
            and self.inbound_count() == stored
            and after == seen
            and len(bound) == 2,
            f"answers {again}, {self.inbound_count() - stored} new message(s), "
            f"{len(bound)} payment binding(s)",
        )
        problems = self.open_exceptions()
        self.check(
            "no open exception after the payments",
            not problems,
            "; ".join(f"[{p['category']}] {p['name']}" for p in problems) or "none",
        )

    def step_conflict(self):
        """An invoice's quantity changed in QuickBooks."""
        self.need("synced invoices", len(self.invoices) >= 3 and self.qb_ids)
        self.fake.expire_access_tokens()
        move_id = self.invoices[2]
        move = self.moves[move_id]
        qb_id = self.qb_ids[move_id]
        lines = self.fake.get("Invoice", qb_id)["Line"]
        item = next(
            line for line in lines if line.get("DetailType") == "SalesItemLineDetail"
        )
        detail = item["SalesItemLineDetail"]
        old = int(detail["Qty"])
        new = old + 1
        detail["Qty"] = new
        item["Amount"] = f"{money(Decimal(str(detail['UnitPrice'])) * new)}"
        self.fake.edit(
            "Invoice",
            qb_id,
            {
                "Line": [
                    line
                    for line in lines
                    if line.get("DetailType") != "SubTotalLineDetail"
                ]
            },
        )
        t0 = time.monotonic()
        status, answer = self.post_quickbooks(
            *self.fake.cloudevents([("Invoice", qb_id, "Update")])
        )
        rows = self.final_messages(
            [
                ("direction", "=", "inbound"),
                ("topic", "=", "invoice/update"),
                ("external_id", "=", qb_id),
            ],
            1,
        )
        self.figures["conflict_seconds"] = round(time.monotonic() - t0, 1)
        conflicts = self.open_exceptions(
            [
                ("category", "=", "conflict"),
                ("res_model", "=", "account.move"),
                ("res_id", "=", move_id),
            ]
        )
        expected = f"quantity {new} in QuickBooks, {old} in Odoo"
        total = self.read_one("account.move", move_id, ["amount_total"])["amount_total"]
        self.check(
            "an invoice edited in QuickBooks (webhook): an open conflict on the "
            "Odoo invoice naming the change; the invoice unchanged",
            status == 200
            and rows[0]["state"] == "done"
            and len(conflicts) == 1
            and move["name"] in conflicts[0]["name"]
            and expected in conflicts[0]["name"]
            and money(total) == money(move["amount_total"]),
            f"HTTP {status} {answer}, message {rows[0]['state']}; "
            + (
                "; ".join(c["name"] for c in conflicts)
                or f"no conflict (expected '{expected}')"
            ),
        )

    def step_bulk(self):
        """Invoices posted while QuickBooks owned invoices, then sent with
        Send posted invoices: ten per batch request, the first batch's answer
        lost."""
        self.need("the export", self.qb_ids)
        rule = self.rpc(
            "distribution.sync.ownership",
            "search",
            [
                ("backend_id", "=", self.backend_id),
                ("entity", "=", "invoice"),
                ("field_name", "=", False),
            ],
        )
        owner = self.rpc("distribution.sync.ownership", "read", rule, ["owner"])
        self.rpc("distribution.sync.ownership", "write", rule, {"owner": "channel"})
        values = [
            self.move_values(
                "out_invoice",
                self.customers[number % len(self.customers)],
                self.invoice_lines(number),
            )
            for number in range(BULK_INVOICES)
        ]
        bulk = self.create_and_post(values)
        self.rpc(
            "distribution.sync.ownership", "write", rule, {"owner": owner[0]["owner"]}
        )
        batches_before = self.fake.count("batch")
        self.fake.fail_next("batch", "drop")
        t0 = time.monotonic()
        self.rpc(
            "distribution.sync.backend",
            "action_quickbooks_send_invoices",
            [self.backend_id],
        )
        rows = self.exported(bulk)
        self.figures["bulk_seconds"] = round(time.monotonic() - t0, 1)
        names = [self.moves[move_id]["name"] for move_id in bulk]
        found = {name: len(self.fake.find("Invoice", DocNumber=name)) for name in names}
        batches = self.fake.count("batch") - batches_before
        self.figures["bulk_batch_requests"] = batches
        self.check(
            f"Send posted invoices: {BULK_INVOICES} invoices QuickBooks lacked go ten "
            "per batch request; the first batch's answer lost, each is there once",
            all(row["state"] == "done" for row in rows)
            and len(rows) == BULK_INVOICES
            and set(found.values()) == {1}
            and batches >= 2,
            f"{len(rows)} message(s): "
            + ", ".join(
                f"{state} {n}"
                for state, n in sorted(Counter(r["state"] for r in rows).items())
            )
            + f"; {batches} batch request(s); QuickBooks objects per invoice "
            f"{sorted(set(found.values()))}",
        )

    def step_tokens(self):
        """The refresh tokens the fake saw, over the whole walk."""
        fake = self.fake
        used = fake.refresh_tokens_used
        refreshes = [
            r
            for r in fake.requests
            if r["operation"] == "token"
            and (r["form"] or {}).get("grant_type") == "refresh_token"
        ]
        live = fake.valid_refresh_tokens()
        backend = self.read_one(
            "distribution.sync.backend",
            self.backend_id,
            ["quickbooks_connected", "quickbooks_refresh_expires_at"],
        )
        self.figures.update(
            refreshes=len(refreshes), invalid_grants=fake.invalid_grants
        )
        # The fake keeps one live refresh token per grant and voids each one
        # presented: no refusal means each refresh presented the newest.
        self.check(
            "the refresh token is rotated on every refresh and never reused (at "
            "least 3 refreshes, each presenting the token the previous issued)",
            len(refreshes) >= 3
            and len(used) == len(refreshes)
            and len(set(used)) == len(used)
            and used[:1] == [fake.refresh_token]
            and fake.invalid_grants == 0
            and len(live) == 1
            and not live & set(used)
            and all(r["status"] == 200 for r in refreshes)
            and backend["quickbooks_connected"]
            and backend["quickbooks_refresh_expires_at"],
            f"{len(refreshes)} refresh(es), {len(set(used))} distinct token(s) "
            f"presented, {fake.invalid_grants} refused, {len(live)} live now "
            f"({'never presented' if not live & set(used) else 'presented before'})"
            f"; statuses {[r['status'] for r in refreshes]}",
        )

    def tidy(self):
        """Archive the backend: nothing of the walk stays at work in the
        database (its fake is gone)."""
        self.rpc(
            "distribution.sync.backend", "write", [self.backend_id], {"active": False}
        )

    def run(self):
        t0 = time.monotonic()
        self.setup()
        for title, step in (
            ("invoices and credit notes -> QuickBooks", self.step_export),
            ("payments recorded in QuickBooks", self.step_payments),
            ("invoice edited in QuickBooks", self.step_conflict),
            ("send posted invoices (batch)", self.step_bulk),
            ("refresh tokens", self.step_tokens),
        ):
            self.run_step(title, step)
        if self.backend_id:
            self.run_step("tidy", self.tidy)
        requests = self.fake.requests
        self.figures.update(
            documents={
                "invoices": len(self.invoices),
                "credit_notes": len(self.credit_notes),
            },
            quickbooks_requests=dict(
                sorted(Counter(r["operation"] or "unknown" for r in requests).items())
            ),
            peak_concurrency=self.fake.peak_concurrency,
            throttled=self.fake.throttled,
            walk_seconds=round(time.monotonic() - t0, 1),
        )
        if self.hook_seconds:
            ordered = sorted(self.hook_seconds)
            self.figures["quickbooks_webhooks"] = {
                "posted": len(ordered),
                "median_ms": round(statistics.median(ordered) * 1000, 1),
                "max_ms": round(ordered[-1] * 1000, 1),
            }
        return self.results, self.figures


def run(ot, odoo, pg, db, addons, workdir, data_dir=None):
    """Serve ``db`` (job runner on), start the fake QuickBooks, walk through
    the QuickBooks contract.

    Returns ``(checks, figures)``: ``[(check, ok, detail)]`` and a dict of what
    was measured; raises ``ot.TierError`` when the server cannot be started.
    """
    fake_quickbooks = walkthrough.load_module("fake_quickbooks", FAKE_MODULE)
    tag = random.SystemRandom().randrange(1, IDS_PER_RUN)
    # A company id of the run's own: webhooks are routed by company.
    with fake_quickbooks.FakeQuickBooks(
        realm_id=REALM_BASE + tag, tax_rates={TAX_CODE: TAX_RATE}
    ) as fake:
        return walkthrough.walk_served(
            ot,
            odoo,
            pg,
            db,
            addons,
            Path(workdir) / "quickbooks-walkthrough-server.log",
            data_dir,
            lambda rpc, base_url: QuickBooksWalk(ot, rpc, base_url, fake, tag),
            "QuickBooks walk-through",
        )


def main():
    return walkthrough.script_main(
        __doc__,
        "quickbooks",
        "QuickBooks walk-through",
        run,
        ("distribution_sync", ADDON),
    )


if __name__ == "__main__":
    raise SystemExit(main())

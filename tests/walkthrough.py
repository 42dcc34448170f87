#!/usr/bin/env python3
"""Walk through the Shopify order-to-cash contract on a running Odoo.

Real HTTP, the real queue_job runner, XML-RPC: nothing is called in-process.
Each point of the contract's Shopify section (and of its HTTP table) is one
named check that passes or fails with what was seen::

    python tests/walkthrough.py [--keep-db]

creates a database with every addon of the repository and their demo data,
serves it on 127.0.0.1 (``--workers=2``, job runner on), starts a local fake of
the Shopify Admin API (``distribution_sync_shopify/tests/fake_shopify.py``),
creates a Shopify backend over XML-RPC from the contract's fields only and
sends it signed webhooks, then drops the database. The Odoo tier
(``tests/odoo_tier.py``) runs the same walk-through in its database without
demo data, after the addons' tests. Odoo is found like the test tier: the
provisioned runtime, or ``ODOO_BIN``.
"""

import argparse
import base64
import copy
import hashlib
import hmac
import http.client
import importlib.util
import json
import os
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
ADDON = "distribution_sync_shopify"
SAMPLES = REPO_ROOT / ADDON / "tests" / "samples"
FAKE_MODULE = REPO_ROOT / ADDON / "tests" / "fake_shopify.py"

SECRET = "shpss_walkthrough_0123456789abcdef"
TOKEN = "shpat_walkthrough_0123456789abcdef"
API_VERSION = "2025-07"
SHOP = "walkthrough.myshopify.com"
WAIT = 120  # seconds the runner gets for one piece of work
MAX_BODY = 5 * 1024 * 1024
FINAL = ("done", "error", "dead", "skipped", "blocked")
# The samples' SKUs are the demo data's; the walk-through books documents
# (stock moves, invoices) on products of its own, so that the demo products
# can still be removed when the addons are uninstalled.
PRODUCTS = (
    ("DS-WIDGET", "WALK-WIDGET", "Steel widget", 12.5),
    ("DS-BOLT-M8", "WALK-BOLT-M8", "Hex bolt M8", 0.4),
    ("DS-KETTLE", "WALK-KETTLE", "Enamel kettle", 30.0),
    ("DS-MUG", "WALK-MUG", "Stoneware mug", 12.0),
)
# Ids of the sample order_refundable.json (order A) and refund_full.json.
ORDER_A = "6100000003001"
REFUND_A = "7100000000001"
INVENTORY_ITEM = "43000000000099"
LOCATION = "77001"


def load_module(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(name, module)
    spec.loader.exec_module(module)
    return module


def sample(name):
    """A sample payload, with the walk-through's SKUs."""
    text = (SAMPLES / name).read_text()
    for sku, own_sku, _name, _price in PRODUCTS:
        text = text.replace(f'"{sku}"', f'"{own_sku}"')
    return json.loads(text)


def demo_variant(order_id, **changes):
    """The demo order #1001 with its own ids (order and lines) and changes."""
    order = sample("demo_order_1001.json")
    order["id"] = int(order_id)
    order["admin_graphql_api_id"] = f"gid://shopify/Order/{order_id}"
    order["name"] = f"#W{order_id[-4:]}"
    for index, line in enumerate(order["line_items"]):
        line["id"] = int(order_id) * 10 + index
        line["admin_graphql_api_id"] = f"gid://shopify/LineItem/{line['id']}"
    order.update(changes)
    return order


def now_iso():
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


class StepFailed(Exception):
    pass


class Walk:
    """The checks of one walk-through against a served database."""

    def __init__(self, ot, rpc, base_url, fake):
        self.ot, self.rpc, self.base_url, self.fake = ot, rpc, base_url, fake
        self.results = []  # (name, ok, detail)
        self.backend_id = None
        self.events = 0
        self.latencies = []

    # ------------------------------------------------------------- reporting
    def check(self, name, ok, detail=""):
        self.results.append((name, bool(ok), detail))
        mark = "ok  " if ok else "FAIL"
        self.ot.say(f"  [{mark}] {name}" + (f": {detail}" if detail else ""))
        return ok

    def run_step(self, title, step):
        self.ot.say(f"walkthrough: {title}")
        try:
            step()
        except StepFailed as exc:
            self.check(title, False, str(exc))
        except self.ot.RPC_ERRORS as exc:
            self.check(title, False, self.ot.rpc_failure(exc))

    # --------------------------------------------------------------- helpers
    def headers(self, topic, body, event_id=None, secret=SECRET):
        """Shopify's webhook headers for ``body``, signed with ``secret``."""
        if event_id is None:
            self.events += 1
            event_id = f"walk-{uuid.uuid4().hex[:8]}-{self.events}"
        digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
        return {
            "Content-Type": "application/json",
            "X-Shopify-Topic": topic,
            "X-Shopify-Hmac-Sha256": base64.b64encode(digest).decode(),
            "X-Shopify-Shop-Domain": SHOP,
            "X-Shopify-API-Version": API_VERSION,
            "X-Shopify-Event-Id": event_id,
            "X-Shopify-Webhook-Id": f"hook-{event_id}",
            "X-Shopify-Triggered-At": now_iso(),
        }

    def post(self, topic, payload, event_id=None, secret=SECRET, backend_id=None):
        """POST a Shopify webhook; returns (status, text, seconds)."""
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        request = urllib.request.Request(
            f"{self.base_url}/distribution_sync/webhook/"
            f"{backend_id or self.backend_id}",
            data=body,
            method="POST",
            headers=self.headers(topic, body, event_id, secret),
        )
        t0 = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, text = response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            status, text = exc.code, exc.read().decode("utf-8", "replace")
        seconds = time.monotonic() - t0
        if status == 200:
            self.latencies.append(seconds)
        return status, text, seconds

    def post_oversized(self, size):
        """Status answered to a signed body of ``size`` bytes (the server may
        answer and close before reading it all)."""
        body = b'{"padding": "' + b"x" * (size - 15) + b'"}'
        connection = http.client.HTTPConnection(
            self.base_url.split("//", 1)[1], timeout=30
        )
        try:
            connection.putrequest(
                "POST", f"/distribution_sync/webhook/{self.backend_id}"
            )
            headers = self.headers("orders/create", body)
            headers["Content-Length"] = str(len(body))
            for name, value in headers.items():
                connection.putheader(name, value)
            connection.endheaders()
            try:
                connection.send(body)
            except (BrokenPipeError, ConnectionResetError):
                pass
            return connection.getresponse().status
        except OSError as exc:
            return f"no answer ({exc})"
        finally:
            connection.close()

    def wait(self, probe, what, timeout=WAIT):
        """``probe()`` until it returns something truthy; StepFailed on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            value = probe()
            if value:
                return value
            if time.monotonic() > deadline:
                raise StepFailed(f"{what}: not seen within {timeout} s")
            time.sleep(0.5)

    def messages(self, domain):
        return self.rpc(
            "distribution.sync.message",
            "search_read",
            [("backend_id", "=", self.backend_id), *domain],
            fields=[
                "topic",
                "state",
                "res_model",
                "res_id",
                "last_error",
                "result_summary",
                "external_id",
                "api_version",
            ],
            order="id",
        )

    def final_messages(self, domain, count):
        """Wait until ``count`` messages match ``domain`` and all are final."""

        def probe():
            rows = self.messages(domain)
            if len(rows) >= count and all(row["state"] in FINAL for row in rows):
                return rows
            return None

        return self.wait(probe, f"{count} processed message(s) {domain}")

    def bound(self, res_model, external_id):
        rows = self.rpc(
            "distribution.sync.binding",
            "search_read",
            [
                ("backend_id", "=", self.backend_id),
                ("res_model", "=", res_model),
                ("external_id", "=", external_id),
            ],
            fields=["res_id"],
        )
        return [row["res_id"] for row in rows]

    def exceptions(self, domain):
        return self.rpc(
            "distribution.sync.exception",
            "search_read",
            [("backend_id", "=", self.backend_id), *domain],
            fields=[
                "category",
                "state",
                "name",
                "value",
                "res_model",
                "res_id",
                "severity",
            ],
        )

    def order(self, order_id, fields=("state", "client_order_ref", "amount_total")):
        ids = self.bound("sale.order", order_id)
        if len(ids) != 1:
            return None
        return self.rpc("sale.order", "read", ids, list(fields))[0]

    # ----------------------------------------------------------------- steps
    def setup(self):
        """Products, a 10 % sale tax, and the backend from the contract fields."""
        rpc = self.rpc
        for _demo_sku, sku, name, price in PRODUCTS:
            found = rpc("product.product", "search", [("default_code", "=", sku)])
            values = {"list_price": price, "taxes_id": [(5, 0, 0)]}
            if found:
                rpc("product.product", "write", found[:1], values)
            else:
                rpc(
                    "product.product",
                    "create",
                    dict(values, name=name, default_code=sku, type="consu"),
                )
        company_id = rpc("res.users", "read", [rpc.uid], ["company_id"])[0][
            "company_id"
        ][0]
        tax = [
            ("type_tax_use", "=", "sale"),
            ("amount_type", "=", "percent"),
            ("amount", "=", 10),
            ("price_include", "=", False),
            ("company_id", "=", company_id),
        ]
        if not rpc("account.tax", "search", tax, limit=1):
            rpc(
                "account.tax",
                "create",
                {
                    "name": "Sales tax 10%",
                    "amount": 10,
                    "amount_type": "percent",
                    "type_tax_use": "sale",
                    "price_include_override": "tax_excluded",
                    "company_id": company_id,
                },
            )
        before = len(self.fake.requests)
        self.backend_id = rpc(
            "distribution.sync.backend",
            "create",
            {
                "name": "Walk-through shop",
                "backend_type": "shopify",
                "environment": "sandbox",
                "api_url": self.fake.url,
                "webhook_secret": SECRET,
                "shopify_shop_domain": SHOP,
                "shopify_access_token": TOKEN,
                "shopify_api_version": API_VERSION,
            },
        )
        backend = rpc(
            "distribution.sync.backend",
            "read",
            [self.backend_id],
            ["user_id", "ownership_ids", "active", "create_date"],
        )[0]
        self.started = backend["create_date"]
        self.check(
            "a backend created over XML-RPC from the contract fields works at once",
            backend["user_id"] and backend["ownership_ids"] and backend["active"],
            f"technical user {backend['user_id'] and backend['user_id'][1]}, "
            f"{len(backend['ownership_ids'])} ownership rows",
        )
        self.check(
            "creating the backend called nothing outside",
            len(self.fake.requests) == before,
            f"{len(self.fake.requests) - before} request(s) to Shopify",
        )

    def step_route(self):
        count = lambda: self.rpc(  # noqa: E731
            "distribution.sync.message",
            "search_count",
            [("backend_id", "=", self.backend_id)],
        )
        stored = count()
        order = demo_variant("5610000009100")
        status, _text, _s = self.post("orders/create", order, secret="wrong-secret")
        self.check(
            "wrong signature: 401, nothing stored",
            status == 401 and count() == stored,
            f"HTTP {status}, {count() - stored} message(s) stored",
        )
        last = self.rpc(
            "distribution.sync.backend",
            "search",
            [("active", "in", [True, False])],
            order="id desc",
            limit=1,
        )[0]
        status, _text, _s = self.post("orders/create", order, backend_id=last + 1000)
        self.check("unknown backend: 404", status == 404, f"HTTP {status}")
        status = self.post_oversized(MAX_BODY + 1)
        self.check(
            "body over 5 MiB: 413, nothing stored",
            status == 413 and count() == stored,
            f"HTTP {status}",
        )
        status, _text, _s = self.post("orders/create", b"{not json")
        rows = self.final_messages([("payload", "=", "{not json")], 1)
        problems = self.exceptions(
            [("message_id", "=", rows[0]["id"]), ("state", "=", "open")]
        )
        self.check(
            "signed body that is not JSON: 200, message 'error', validation exception",
            status == 200
            and rows[0]["state"] == "error"
            and [p["category"] for p in problems] == ["validation"],
            f"HTTP {status}, message {rows[0]['state']}, exceptions "
            f"{[p['category'] for p in problems]}",
        )

    def step_order_a(self):
        """Three versions of order A, each delivered twice, all at once."""
        paid = sample("order_refundable.json")
        created = copy.deepcopy(paid)
        created.update(
            financial_status="pending", updated_at="2026-03-02T09:59:30+01:00"
        )
        updated = copy.deepcopy(created)
        updated.update(
            note="Leave at the back door", updated_at="2026-03-02T10:00:30+01:00"
        )
        self.order_a_paid = paid
        deliveries = []
        for topic, payload in (
            ("orders/paid", paid),
            ("orders/create", created),
            ("orders/updated", updated),
        ):
            event_id = f"walk-a-{topic.split('/')[1]}-{uuid.uuid4().hex[:6]}"
            deliveries += [(topic, payload, event_id)] * 2
        answers = [None] * len(deliveries)
        barrier = threading.Barrier(len(deliveries))

        def send(index, topic, payload, event_id):
            barrier.wait(timeout=30)
            answers[index] = self.post(topic, payload, event_id)

        threads = [
            threading.Thread(target=send, args=(index, *delivery))
            for index, delivery in enumerate(deliveries)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        statuses = [answer and answer[0] for answer in answers]
        slowest = max((answer[2] for answer in answers if answer), default=0)
        self.check(
            "6 deliveries at once (3 versions x 2): every one answered 200 within 5 s",
            statuses == [200] * 6 and slowest < 5,
            f"statuses {statuses}, slowest {slowest * 1000:.0f} ms",
        )
        rows = self.final_messages([("external_id", "=", ORDER_A)], 3)
        self.check(
            "duplicates stored once: 3 messages for 6 deliveries",
            len(rows) == 3,
            ", ".join(f"{r['topic']}={r['state']}" for r in rows),
        )
        versions = {row["api_version"] for row in rows}
        self.check(
            "the API version of the delivery is recorded on every message",
            versions == {API_VERSION},
            f"{sorted(map(str, versions))}",
        )
        order_ids = self.bound("sale.order", ORDER_A)
        refs = self.rpc(
            "sale.order",
            "search_count",
            [
                ("client_order_ref", "=", paid["name"]),
                ("create_date", ">=", self.started),
            ],
        )
        self.check(
            "one sale.order per Shopify order id, whatever the order of arrival",
            len(order_ids) == 1 and refs == 1,
            f"{len(order_ids)} binding(s), {refs} order(s) with reference "
            f"{paid['name']}",
        )
        order = self.order(ORDER_A)
        self.check(
            "client_order_ref is the Shopify name; paid means confirmed; "
            "total equals total_price",
            order
            and order["client_order_ref"] == paid["name"]
            and order["state"] == "sale"
            and abs(order["amount_total"] - float(paid["total_price"])) < 0.005,
            order
            and f"{order['client_order_ref']} {order['state']} "
            f"{order['amount_total']:.2f} (Shopify {paid['total_price']})",
        )
        if order:
            partners = self.rpc(
                "sale.order",
                "read",
                self.bound("sale.order", ORDER_A),
                ["partner_id", "partner_invoice_id", "partner_shipping_id"],
            )[0]
            customer, invoice, delivery = (
                self.rpc(
                    "res.partner", "read", [partners[name][0]], ["email", "parent_id"]
                )[0]
                for name in ("partner_id", "partner_invoice_id", "partner_shipping_id")
            )
            self.check(
                "customer matched by email, invoice and delivery addresses as "
                "child contacts",
                customer["email"] == paid["email"]
                and invoice["parent_id"]
                and invoice["parent_id"][0] == customer["id"]
                and delivery["parent_id"]
                and delivery["parent_id"][0] == customer["id"],
                f"customer {customer['email']}, invoice contact of "
                f"{invoice['parent_id'] and invoice['parent_id'][1]}, delivery "
                f"contact of {delivery['parent_id'] and delivery['parent_id'][1]}",
            )
        self.check(
            "imported from the webhook bodies alone (no call to Shopify)",
            not self.fake.requests,
            f"{len(self.fake.requests)} request(s) to Shopify",
        )

    def step_unknown_sku(self):
        sku = f"WALK-{uuid.uuid4().hex[:6].upper()}"
        order_id = "5610000009001"
        order = demo_variant(order_id)
        order["line_items"][0]["sku"] = sku
        self.post("orders/create", order)
        rows = self.final_messages([("external_id", "=", order_id)], 1)
        problems = self.exceptions(
            [("message_id", "=", rows[0]["id"]), ("state", "=", "open")]
        )
        self.check(
            "unknown SKU: a mapping exception names it and no order is created",
            [p["category"] for p in problems] == ["mapping"]
            and sku in (problems[0]["name"] + str(problems[0]["value"]))
            and not self.bound("sale.order", order_id),
            problems and problems[0]["name"],
        )
        if not problems:
            return
        self.rpc(
            "product.product",
            "create",
            {"name": "Walk-through widget", "default_code": sku, "type": "consu"},
        )
        self.rpc("distribution.sync.exception", "action_retry", [problems[0]["id"]])
        state = self.rpc(
            "distribution.sync.exception", "read", [problems[0]["id"]], ["state"]
        )[0]["state"]
        order = self.order(order_id)
        self.check(
            "once the product exists, action_retry() creates the order and "
            "resolves the exception",
            order and state == "resolved",
            f"exception {state}, order {order and order['state']}",
        )

    def step_unmapped_tax(self):
        order_id = "5610000009006"
        order = demo_variant(order_id)
        money = {"amount": "3.63", "currency_code": "USD"}
        order["line_items"][0]["tax_lines"] = [
            {
                "title": "Walk-through city tax",
                "rate": 0.0725,
                "price": "3.63",
                "price_set": {"shop_money": money, "presentment_money": money},
            }
        ]
        self.post("orders/create", order)
        rows = self.final_messages([("external_id", "=", order_id)], 1)
        problems = self.exceptions([("message_id", "=", rows[0]["id"])])
        self.check(
            "a tax line with no mapping and no Odoo tax of that rate: a mapping "
            "exception names it, no order",
            [p["category"] for p in problems] == ["mapping"]
            and "Walk-through city tax" in problems[0]["name"]
            and not self.bound("sale.order", order_id),
            problems and problems[0]["name"],
        )

    def step_total_mismatch(self):
        order_id = "5610000009002"
        self.post("orders/create", demo_variant(order_id, total_price="999.99"))
        rows = self.final_messages([("external_id", "=", order_id)], 1)
        problems = self.exceptions([("message_id", "=", rows[0]["id"])])
        order = self.order(order_id)
        self.check(
            "total differs from total_price: validation exception, order not confirmed",
            "validation" in [p["category"] for p in problems]
            and (not order or order["state"] in ("draft", "sent")),
            f"exceptions {[p['category'] for p in problems]}, order "
            f"{order and order['state']}",
        )

    def step_cancel_unshipped(self):
        order_id = "5610000009003"
        order = demo_variant(order_id)
        self.post("orders/paid", order)
        self.final_messages([("external_id", "=", order_id)], 1)
        cancelled = dict(
            order,
            cancelled_at=now_iso(),
            cancel_reason="customer",
            updated_at=now_iso(),
        )
        self.post("orders/cancelled", cancelled)
        rows = self.final_messages([("external_id", "=", order_id)], 2)
        found = self.order(order_id)
        self.check(
            "orders/cancelled before shipping cancels the order",
            found and found["state"] == "cancel",
            f"order {found and found['state']}, messages {[r['state'] for r in rows]}",
        )

    def step_fulfillment(self):
        paid = self.order_a_paid
        self.fake.add_order(ORDER_A, rest_body=paid)
        order_ids = self.bound("sale.order", ORDER_A)
        if not order_ids:
            raise StepFailed("order A was not imported")
        pickings = self.rpc(
            "stock.picking",
            "search_read",
            [
                ("sale_id", "=", order_ids[0]),
                ("picking_type_code", "=", "outgoing"),
                ("state", "not in", ["done", "cancel"]),
            ],
            fields=["move_ids", "name"],
        )
        if not pickings:
            raise StepFailed("order A has no delivery to validate")
        picking = pickings[0]
        for move in self.rpc(
            "stock.move", "read", picking["move_ids"], ["product_uom_qty"]
        ):
            self.rpc(
                "stock.move",
                "write",
                [move["id"]],
                {"quantity": move["product_uom_qty"], "picked": True},
            )
        # skip_sms: the SMS confirmation of stock_sms (demo data) is a
        # question for a person, not part of the flow.
        answer = self.rpc(
            "stock.picking",
            "button_validate",
            [picking["id"]],
            context={"skip_sms": True},
        )
        state = self.rpc("stock.picking", "read", [picking["id"]], ["state"])[0]
        if state["state"] != "done":
            raise StepFailed(f"the delivery was not validated: {answer}")
        rows = self.final_messages(
            [
                ("direction", "=", "outbound"),
                ("topic", "=", "fulfillments/create"),
                ("res_model", "=", "stock.picking"),
                ("res_id", "=", picking["id"]),
            ],
            1,
        )
        shipped = sum(
            item["quantity"]
            for fulfillment in self.fake.fulfillments
            for group in fulfillment["input"]["lineItemsByFulfillmentOrder"]
            for item in group["fulfillmentOrderLineItems"]
        )
        ordered = sum(line["quantity"] for line in paid["line_items"])
        self.check(
            "a validated delivery creates one Shopify fulfillment (GraphQL)",
            len(rows) == 1
            and rows[0]["state"] == "done"
            and len(self.fake.fulfillments) == 1
            and shipped == ordered,
            f"message {rows[0]['state']} ({rows[0]['result_summary']}), "
            f"{len(self.fake.fulfillments)} fulfillment(s) of {shipped}/{ordered} "
            "items",
        )

    def step_cancel_shipped(self):
        cancelled = dict(
            self.order_a_paid,
            cancelled_at=now_iso(),
            cancel_reason="customer",
            updated_at=now_iso(),
        )
        self.post("orders/cancelled", cancelled)
        self.final_messages(
            [("external_id", "=", ORDER_A), ("topic", "=", "orders/cancelled")], 1
        )
        order = self.order(ORDER_A)
        conflicts = self.exceptions(
            [
                ("category", "=", "conflict"),
                ("state", "=", "open"),
                ("res_model", "=", "sale.order"),
                ("res_id", "=", order and self.bound("sale.order", ORDER_A)[0]),
            ]
        )
        self.check(
            "orders/cancelled after shipping: conflict exception asking for a "
            "return, order kept",
            order
            and order["state"] == "sale"
            and conflicts
            and "return" in conflicts[0]["name"].lower(),
            conflicts and conflicts[0]["name"],
        )

    def step_refund(self):
        refund = sample("refund_full.json")
        for _twice in range(2):
            self.post("refunds/create", refund)
        rows = self.final_messages([("topic", "=", "refunds/create")], 2)
        moves = self.bound("account.move", REFUND_A)
        notes = (
            self.rpc(
                "account.move",
                "read",
                moves,
                ["move_type", "amount_total", "state"],
            )
            if moves
            else []
        )
        self.check(
            "refunds/create (delivered twice): one customer credit note per "
            "refund id, exact total",
            len(notes) == 1
            and notes[0]["move_type"] == "out_refund"
            and abs(notes[0]["amount_total"] - 88.0) < 0.005,
            f"{len(notes)} credit note(s) "
            + (f"{notes[0]['amount_total']:.2f} {notes[0]['state']}" if notes else "")
            + f", messages {[r['state'] for r in rows]}",
        )

    def step_drift(self):
        order_id = "5610000009004"
        order = demo_variant(order_id, updated_at=now_iso())
        self.fake.add_order(order_id, rest_body=order)
        self.rpc("distribution.sync.backend", "action_fetch_changes", [self.backend_id])
        found = self.wait(lambda: self.order(order_id), "the order fetched by drift")
        self.check(
            "an order whose webhooks never came is imported by the drift re-fetch",
            found["state"] == "sale",
            f"order {found['client_order_ref']} {found['state']}",
        )

    def step_stock(self):
        # A product of its own: one already on orders cannot become storable.
        widget = self.rpc(
            "product.product",
            "create",
            {
                "name": "Walk-through stocked item",
                "default_code": f"WALK-STOCK-{uuid.uuid4().hex[:6].upper()}",
                "type": "consu",
                "is_storable": True,
            },
        )
        sku = self.rpc("product.product", "read", [widget], ["default_code"])[0][
            "default_code"
        ]
        self.post(
            "products/update",
            {
                "id": 9100000000099,
                "admin_graphql_api_id": "gid://shopify/Product/9100000000099",
                "title": "Stocked item",
                "variants": [
                    {"id": 1, "sku": sku, "inventory_item_id": INVENTORY_ITEM}
                ],
            },
        )
        self.final_messages([("topic", "=", "products/update")], 1)
        warehouse = self.rpc(
            "stock.warehouse", "search_read", [], fields=["lot_stock_id"], limit=1
        )[0]
        self.rpc(
            "distribution.sync.shopify.location",
            "create",
            {
                "backend_id": self.backend_id,
                "shopify_location_id": LOCATION,
                "name": "Main store",
                "warehouse_id": warehouse["id"],
            },
        )
        wizard = self.rpc(
            "stock.change.product.qty",
            "create",
            {
                "product_id": widget,
                "product_tmpl_id": self.rpc(
                    "product.product", "read", [widget], ["product_tmpl_id"]
                )[0]["product_tmpl_id"][0],
                "new_quantity": 37,
            },
        )
        self.rpc("stock.change.product.qty", "change_product_qty", [wizard])
        free = self.rpc(
            "product.product",
            "read",
            [widget],
            ["free_qty"],
            context={"warehouse_id": warehouse["id"]},
        )[0]["free_qty"]
        self.rpc(
            "distribution.sync.backend", "action_shopify_push_stock", [self.backend_id]
        )
        rows = self.final_messages([("topic", "=", "inventory/set")], 1)
        key = (
            f"gid://shopify/InventoryItem/{INVENTORY_ITEM}",
            f"gid://shopify/Location/{LOCATION}",
        )
        self.check(
            "available stock of a product Odoo owns is set in Shopify "
            "(inventorySetQuantities)",
            rows[-1]["state"] == "done" and self.fake.inventory.get(key) == int(free),
            f"message {rows[-1]['state']}, Shopify has "
            f"{self.fake.inventory.get(key)}, Odoo free quantity {free}",
        )

    def step_uninstalled(self):
        status, _text, _s = self.post("app/uninstalled", sample("app_uninstalled.json"))
        backend = self.wait(
            lambda: (
                not self.rpc(
                    "distribution.sync.backend", "read", [self.backend_id], ["active"]
                )[0]["active"]
            ),
            "the backend archived",
        )
        problems = self.exceptions(
            [("state", "=", "open"), ("severity", "=", "critical")]
        )
        status, _text, _s = self.post("orders/create", demo_variant("5610000009005"))
        self.check(
            "app/uninstalled archives the backend (critical exception); then 404",
            backend and problems and status == 404,
            f"{len(problems)} critical exception(s), next webhook HTTP {status}",
        )

    def run(self):
        self.setup()
        for title, step in (
            ("webhook route answers", self.step_route),
            ("order A: shuffled, duplicated, concurrent", self.step_order_a),
            ("unknown SKU, then retry", self.step_unknown_sku),
            ("unmapped tax", self.step_unmapped_tax),
            ("total mismatch", self.step_total_mismatch),
            ("cancellation before shipping", self.step_cancel_unshipped),
            ("delivery -> fulfillment", self.step_fulfillment),
            ("cancellation after shipping", self.step_cancel_shipped),
            ("refund -> credit note", self.step_refund),
            ("drift re-fetch", self.step_drift),
            ("stock push", self.step_stock),
            ("app/uninstalled", self.step_uninstalled),
        ):
            self.run_step(title, step)
        if self.latencies:
            ordered = sorted(self.latencies)
            self.ot.say(
                f"walkthrough: {len(ordered)} webhooks answered 200, slowest "
                f"{ordered[-1] * 1000:.0f} ms, median "
                f"{ordered[len(ordered) // 2] * 1000:.0f} ms"
            )
        return self.results


def log_check(ot, log_path, label):
    """The named check of a live suite's server log: no ERROR or traceback
    (the first ones printed)."""
    errors = ot.log_errors(log_path)
    if errors:
        ot.print_records(f"server errors during the {label}", errors, 5)
    return (
        "no ERROR or traceback in the server log",
        not errors,
        f"{len(errors)} ERROR/CRITICAL record(s)",
    )


def walk_served(ot, odoo, pg, db, addons, log_path, data_dir, make_walk, label):
    """Serve ``db`` (job runner on, a secret key of the run) and run the walk
    ``make_walk(rpc, base_url)`` makes: ``(checks, figures)``, the server
    log's check last. A walk raising an RPC error ends with a failed check.
    Raises ``ot.TierError`` when the server cannot be started."""
    t0 = time.monotonic()
    keys = os.environ.get(ot.SECRET_KEYS_ENV) or ot.new_fernet_key()
    with ot.serving(
        odoo,
        pg,
        db,
        addons,
        log_path,
        channels="root:2",
        data_dir=data_dir,
        env_extra={ot.SECRET_KEYS_ENV: keys},
    ) as base_url:
        walk = make_walk(ot.Rpc(base_url, db), base_url)
        try:
            outcome = walk.run()
        except ot.RPC_ERRORS as exc:
            walk.check("the walk-through ran to its checks", False, ot.rpc_failure(exc))
            outcome = walk.results
    results, figures = outcome if isinstance(outcome, tuple) else (outcome, {})
    results.append(log_check(ot, log_path, label))
    figures["wall_seconds"] = round(time.monotonic() - t0, 1)
    return results, figures


def walk(ot, odoo, pg, db, addons, workdir, data_dir=None):
    """Serve ``db`` (queue job runner on) and walk through the contract.

    Returns ``[(check, ok, detail)]``; raises ``ot.TierError`` when the server
    cannot be started.
    """
    fake_shopify = load_module("fake_shopify", FAKE_MODULE)
    with fake_shopify.FakeShopify(access_token=TOKEN, api_version=API_VERSION) as fake:
        results, _figures = walk_served(
            ot,
            odoo,
            pg,
            db,
            addons,
            Path(workdir) / "walkthrough-server.log",
            data_dir,
            lambda rpc, base_url: Walk(ot, rpc, base_url, fake),
            "walk-through",
        )
    return results


def script_main(doc, slug, title, run, addons, demo=False):
    """Standalone mode of a live walk-through script (``--keep-db``,
    ``--db``): a database of its own (``demo``: with demo data), ``run``
    on it, the figures and the count of checks printed; the exit code."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument(
        "--keep-db", action="store_true", help="do not drop the database"
    )
    parser.add_argument(
        "--db",
        help="walk through this existing database (the addons installed) "
        "instead of a new one; it is kept",
    )
    args = parser.parse_args()
    ot = load_module("odoo_tier", HERE / "odoo_tier.py")

    def body(odoo, pg, workdir):
        with ot.script_database(
            odoo, pg, workdir, slug, demo, args.db, args.keep_db
        ) as (db, data_dir):
            outcome = run(ot, odoo, pg, db, ot.selected_addons(), workdir, data_dir)
        results, figures = outcome if isinstance(outcome, tuple) else (outcome, {})
        if figures:
            ot.say(f"{title}: figures")
        for key, value in figures.items():
            ot.say(f"  {key}: {json.dumps(value)}")
        failed = [name for name, good, _detail in results if not good]
        ot.say(f"{title}: {len(results) - len(failed)} passed, {len(failed)} failed")
        return 1 if failed else 0

    return ot.run_script(
        f"{slug}-walkthrough" if slug != "walkthrough" else slug,
        f"NO {title.upper()}",
        body,
        addons,
    )


def main():
    return script_main(__doc__, "walkthrough", "walk-through", walk, (ADDON,), True)


if __name__ == "__main__":
    raise SystemExit(main())

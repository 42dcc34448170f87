#!/usr/bin/env python3
"""Walk through the carrier contract on a running Odoo: label, tracking, shop.

Real HTTP, the real queue_job runner, XML-RPC: nothing is called in-process.
A local fake EasyPost (``distribution_sync_carrier/tests/fake_easypost.py``)
and the fake Shopify of the Shopify walk-through (``tests/walkthrough.py``)
stand for the outside; each promise of the contract's Carriers section is one
named check::

    python tests/carrier_walkthrough.py [--keep-db] [--db NAME]

creates a database with every addon of the repository (no demo data; ``--db``
uses an existing one, the addons installed, and keeps it), serves it on
127.0.0.1 (``--workers=2``, job runner on), then:

1. a Shopify order (signed ``orders/create``; products with weights, a customer
   with a full US address) is imported and confirmed; its delivery gets a
   ``distribution_sync`` delivery method of an EasyPost backend (both created
   over XML-RPC, the backend's ``api_url`` then pointed at the fake) and is
   validated over XML-RPC;
2. the runner runs ``shipment/create`` then ``shipment/buy``; the first buy's
   answer is lost (the fake applies it, then closes the connection), so the
   retry must read the shipment back: one label bought, never two;
3. the tracking number, its URL and carrier reach the picking and the Shopify
   fulfillment;
4. signed EasyPost tracker webhooks ``in_transit`` and ``delivered`` (the
   latter posted twice), then a late one older than ``delivered``: status
   ``delivered``, one scan row per carrier scan, the order's invoice posted
   (``carrier_invoice_on_delivery``);
5. a second order (delivery method set before confirmation) whose tracker
   reports ``return_to_sender``: status ``returned``, an open ``delivery``
   exception with the carrier's message and an activity for the backend's
   responsible user.

``run`` is the entry point for the Odoo tier (``tests/odoo_tier.py``), in its
database without demo data after the other live suites: everything here has
names of its own (backends, delivery method, products, order and customer
ids) and the backends are archived at the end.
"""

import json
import random
import statistics
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import walkthrough

HERE = Path(__file__).resolve().parent
ADDON = "distribution_sync_carrier"
FAKE_MODULE = walkthrough.REPO_ROOT / ADDON / "tests" / "fake_easypost.py"
EASYPOST_URL = "https://api.easypost.com/v2"  # the contract's default api_url
EASYPOST_KEY = "EZTKwalkthrough0123456789abcdef"
# Not ASCII: the signature key is the NFKD form of the secret (contract).
EASYPOST_SECRET = "sécret-walk-through"
SERVICE = ("UPS", "Ground")
# kg per unit of the walk's own products (the demo order's two SKUs).
WEIGHTS = {"CARR-WIDGET": 1.2, "CARR-BOLT-M8": 0.05}
ORDER_ID_BASE = 5_630_000_000_000
CUSTOMER_ID_BASE = 7_730_000_000_000
IDS_PER_RUN = 1_000
RETURN_MESSAGE = "Return to sender: addressee unknown"
DELIVERED_MESSAGE = "Delivered, front porch"


def iso_odoo(moment):
    """An aware datetime as Odoo's XML-RPC writes a Datetime (UTC, seconds)."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def parse_iso(text):
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


class CarrierWalk(walkthrough.Walk):
    """The carrier checks against a served database. ``backend_id`` is the
    walk's Shopify backend (the Shopify helpers of ``Walk`` use it);
    ``carrier`` is a ``Walk`` on the EasyPost backend, for its messages and
    exceptions."""

    def __init__(self, ot, rpc, base_url, shop_fake, easypost_fake):
        super().__init__(ot, rpc, base_url, shop_fake)
        self.easypost = easypost_fake
        self.carrier = walkthrough.Walk(ot, rpc, base_url, easypost_fake)
        self.tag = random.SystemRandom().randrange(1, IDS_PER_RUN)
        self.figures = {}
        self.hook_seconds = []
        self.first = {}  # order 1: order, picking, shipment, tracker ids
        self.method_id = None
        self.responsible = None

    # --------------------------------------------------------------- helpers
    def need(self, *keys):
        """What the earlier steps recorded of order 1; StepFailed when one
        of them stopped before."""
        missing = [key for key in keys if key not in self.first]
        if missing:
            raise walkthrough.StepFailed(
                f"order 1 did not get that far (no {', '.join(missing)})"
            )
        return [self.first[key] for key in keys]

    def order_id(self, number):
        return str(ORDER_ID_BASE + self.tag * 10 + number)

    def shop_order(self, number):
        """The demo order #1001 with ids, name, customer and SKUs of this run."""
        order_id = self.order_id(number)
        order = walkthrough.demo_variant(order_id, name=f"#C{self.tag}-{number}")
        for line in order["line_items"]:
            line["sku"] = line["sku"].replace("WALK-", "CARR-")
        for index, line in enumerate(order["shipping_lines"]):
            line["id"] = int(order_id) * 10 + 5 + index
        email = f"carrier.{self.tag}.{number}@example.com"
        order["email"] = email
        order["customer"].update(
            id=CUSTOMER_ID_BASE + self.tag * 10 + number,
            email=email,
            first_name="Parcel",
            last_name=f"Buyer {self.tag}-{number}",
        )
        for address in (order["billing_address"], order["shipping_address"]):
            address.update(
                first_name="Parcel",
                last_name=f"Buyer {self.tag}-{number}",
                name=f"Parcel Buyer {self.tag}-{number}",
            )
        return order

    def post_easypost(self, body, headers):
        """POST an EasyPost webhook to the carrier backend; (status, answer)."""
        t0 = time.monotonic()
        status, text = self.ot.post_webhook(
            self.base_url, self.carrier.backend_id, body, headers, timeout=30
        )
        self.hook_seconds.append(time.monotonic() - t0)
        try:
            answer = json.loads(text).get("status")
        except (ValueError, AttributeError):
            answer = text[:80]
        return status, answer

    def read_one(self, model, record_id, fields):
        return self.rpc(model, "read", [record_id], fields)[0]

    def delivery_of(self, order_id):
        ids = self.rpc(
            "stock.picking",
            "search",
            [
                ("sale_id", "=", order_id),
                ("picking_type_code", "=", "outgoing"),
                ("state", "not in", ["done", "cancel"]),
            ],
            order="id",
        )
        if not ids:
            raise walkthrough.StepFailed(f"sale order {order_id} has no open delivery")
        return ids[0]

    def validate(self, picking_id):
        """Validate a delivery in full over XML-RPC, as a person would."""
        picking = self.read_one("stock.picking", picking_id, ["move_ids"])
        for move in self.rpc(
            "stock.move", "read", picking["move_ids"], ["product_uom_qty"]
        ):
            self.rpc(
                "stock.move",
                "write",
                [move["id"]],
                {"quantity": move["product_uom_qty"], "picked": True},
            )
        answer = self.rpc(
            "stock.picking",
            "button_validate",
            [picking_id],
            context={"skip_sms": True},
        )
        state = self.read_one("stock.picking", picking_id, ["state"])["state"]
        if state != "done":
            raise walkthrough.StepFailed(f"the delivery was not validated: {answer}")

    def label_messages(self, picking_id):
        """The EasyPost backend's create and buy messages of a delivery, once
        both are final."""
        return self.carrier.final_messages(
            [
                ("direction", "=", "outbound"),
                ("res_model", "=", "stock.picking"),
                ("res_id", "=", picking_id),
                ("topic", "in", ["shipment/create", "shipment/buy"]),
            ],
            2,
        )

    def shipments(self, picking_id):
        return self.rpc(
            "distribution.sync.shipment",
            "search_read",
            [("picking_id", "=", picking_id)],
            fields=[
                "external_id",
                "state",
                "tracking_code",
                "tracker_ref",
                "public_url",
                "carrier",
                "service",
                "quoted_amount",
                "charged_amount",
                "label_attachment_id",
                "label_format",
            ],
        )

    def tracking(self, picking_id):
        return self.read_one(
            "stock.picking",
            picking_id,
            [
                "carrier_tracking_ref",
                "carrier_tracking_url",
                "distribution_sync_tracking_status",
                "distribution_sync_tracking_date",
                "distribution_sync_tracking_message",
            ],
        )

    def scans(self, picking_id):
        return self.rpc(
            "distribution.sync.tracking.event",
            "search_read",
            [("picking_id", "=", picking_id)],
            fields=["status", "event_time", "description", "scan_key"],
            order="event_time, id",
        )

    def tracker_messages(self, tracker_id, count):
        return self.carrier.final_messages(
            [("direction", "=", "inbound"), ("external_id", "=", tracker_id)], count
        )

    def labelled(self, picking_id):
        """Shipment and fake tracker of a labelled delivery."""
        rows = self.shipments(picking_id)
        if len(rows) != 1 or rows[0]["state"] != "bought":
            raise walkthrough.StepFailed(
                f"delivery {picking_id} has no bought label: {rows}"
            )
        tracker = self.easypost.tracker_of(rows[0]["external_id"])
        return rows[0], tracker["id"]

    # ----------------------------------------------------------------- steps
    def setup(self):
        """Products with weights, the walk's Shopify backend, an EasyPost
        backend and its delivery method, the warehouse's address."""
        rpc = self.rpc
        prices = {sku: price for _d, sku, _n, price in walkthrough.PRODUCTS}
        names = {sku: name for _d, sku, name, _p in walkthrough.PRODUCTS}
        for sku, weight in WEIGHTS.items():
            walk_sku = sku.replace("CARR-", "WALK-")
            values = {
                "list_price": prices[walk_sku],
                "taxes_id": [(5, 0, 0)],
                "weight": weight,
            }
            found = rpc("product.product", "search", [("default_code", "=", sku)])
            if found:
                rpc("product.product", "write", found[:1], values)
            else:
                rpc(
                    "product.product",
                    "create",
                    dict(
                        values,
                        name=f"Carrier walk {names[walk_sku].lower()}",
                        default_code=sku,
                        type="consu",
                    ),
                )
        self.backend_id = rpc(
            "distribution.sync.backend",
            "create",
            {
                "name": f"Carrier walk-through shop {self.tag}",
                "backend_type": "shopify",
                "environment": "sandbox",
                "api_url": self.fake.url,
                "webhook_secret": walkthrough.SECRET,
                "shopify_shop_domain": walkthrough.SHOP,
                "shopify_access_token": walkthrough.TOKEN,
                "shopify_api_version": walkthrough.API_VERSION,
            },
        )
        before = len(self.easypost.requests)
        carrier_id = rpc(
            "distribution.sync.backend",
            "create",
            {
                "name": f"EasyPost walk-through {self.tag}",
                "backend_type": "easypost",
                "environment": "sandbox",
                "easypost_api_key": EASYPOST_KEY,
                "webhook_secret": EASYPOST_SECRET,
                "responsible_user_id": rpc.uid,
                "carrier_invoice_on_delivery": True,
                "request_timeout": 10,
            },
        )
        self.carrier.backend_id = carrier_id
        default_url = self.read_one(
            "distribution.sync.backend", carrier_id, ["api_url"]
        )["api_url"]
        rpc(
            "distribution.sync.backend",
            "write",
            [carrier_id],
            {"api_url": self.easypost.url},
        )
        backend = self.read_one(
            "distribution.sync.backend",
            carrier_id,
            ["api_url", "active", "user_id", "responsible_user_id"],
        )
        self.responsible = backend["responsible_user_id"]
        self.check(
            "an EasyPost backend created over XML-RPC defaults to EasyPost's URL "
            "and takes the fake's; nothing called outside",
            default_url == EASYPOST_URL
            and backend["api_url"] == self.easypost.url
            and backend["active"]
            and len(self.easypost.requests) == before,
            f"default {default_url}, now {backend['api_url']}, "
            f"{len(self.easypost.requests) - before} request(s) to EasyPost",
        )
        ship_product = rpc(
            "product.product",
            "create",
            {
                "name": f"UPS Ground (carrier walk-through {self.tag})",
                "type": "service",
                "list_price": 0.0,
                "sale_ok": False,
            },
        )
        self.method_name = f"UPS Ground (carrier walk-through {self.tag})"
        self.method_id = rpc(
            "delivery.carrier",
            "create",
            {
                "name": self.method_name,
                "delivery_type": "distribution_sync",
                "product_id": ship_product,
                "distribution_sync_backend_id": carrier_id,
                "distribution_sync_service": "/".join(SERVICE),
            },
        )
        self.us = rpc("res.country", "search", [("code", "=", "US")], limit=1)[0]
        self.ca = rpc(
            "res.country.state",
            "search",
            [("code", "=", "CA"), ("country_id", "=", self.us)],
            limit=1,
        )[0]
        company_id = rpc("res.users", "read", [rpc.uid], ["company_id"])[0][
            "company_id"
        ][0]
        warehouse = rpc(
            "stock.warehouse",
            "search_read",
            [("company_id", "=", company_id)],
            fields=["partner_id"],
            limit=1,
        )[0]
        origin = self.read_one(
            "res.partner",
            warehouse["partner_id"][0],
            ["street", "city", "zip", "country_id"],
        )
        if not all(origin[key] for key in ("street", "city", "zip", "country_id")):
            # A database without demo data has a company without address:
            # EasyPost needs a sender.
            rpc(
                "res.partner",
                "write",
                [origin["id"]],
                {
                    "street": "417 Montgomery Street",
                    "city": "San Francisco",
                    "zip": "94104",
                    "state_id": self.ca,
                    "country_id": self.us,
                    "phone": "4155559999",
                },
            )

    def step_order(self):
        """Shopify order 1 imported, confirmed; its delivery validated with
        the EasyPost delivery method, the first buy's answer lost."""
        order = self.shop_order(1)
        self.fake.add_order(order["id"], rest_body=order)
        status, _text, _s = self.post("orders/create", order)
        rows = self.final_messages([("external_id", "=", str(order["id"]))], 1)
        found = self.order(str(order["id"]))
        self.check(
            "a Shopify order (signed orders/create) is imported and confirmed",
            status == 200 and found and found["state"] == "sale",
            f"HTTP {status}, message {rows[0]['state']} "
            f"({rows[0]['result_summary'] or rows[0]['last_error']}), order "
            f"{found and found['state']}",
        )
        if not found:
            raise walkthrough.StepFailed("the Shopify order was not imported")
        order_id = self.bound("sale.order", str(order["id"]))[0]
        picking_id = self.delivery_of(order_id)
        partner = self.read_one(
            "res.partner",
            self.read_one("stock.picking", picking_id, ["partner_id"])["partner_id"][0],
            ["street", "city", "zip", "state_id", "country_id"],
        )
        self.check(
            "the delivery goes to the order's full US address",
            all(partner[key] for key in ("street", "city", "zip", "state_id"))
            and partner["country_id"]
            and partner["country_id"][0] == self.us,
            f"{partner['street']}, {partner['city']} {partner['zip']} "
            f"{partner['state_id'] and partner['state_id'][1]}",
        )
        self.rpc("stock.picking", "write", [picking_id], {"carrier_id": self.method_id})
        self.first.update(order=order, order_id=order_id, picking_id=picking_id)
        self.easypost.fail_next("buy", "drop")
        t0 = time.monotonic()
        self.validate(picking_id)
        self.first["validated"] = t0

    def step_label(self):
        picking_id, validated = self.need("picking_id", "validated")
        rows = self.label_messages(picking_id)
        self.figures["label_seconds"] = round(time.monotonic() - validated, 1)
        states = {row["topic"]: row["state"] for row in rows}
        attempts = {
            row["topic"]: row["attempt_count"]
            for row in self.rpc(
                "distribution.sync.message",
                "read",
                [row["id"] for row in rows],
                ["topic", "attempt_count"],
            )
        }
        self.check(
            "the runner runs shipment/create, then shipment/buy",
            [row["topic"] for row in rows] == ["shipment/create", "shipment/buy"]
            and set(states.values()) == {"done"},
            ", ".join(f"{t}={s}" for t, s in states.items()),
        )
        shipments = self.shipments(picking_id)
        buys = dict(self.easypost.buys)
        buy_calls = [r for r in self.easypost.requests if r["operation"] == "buy"]
        dropped = [r for r in buy_calls if r["status"] is None]
        self.check(
            "label bought once: the buy whose answer was lost is read back on "
            "the retry, nothing bought again",
            len(shipments) == 1
            and shipments[0]["state"] == "bought"
            and buys == {shipments[0]["external_id"]: 1}
            and len(dropped) == 1
            and attempts.get("shipment/buy") == 2,
            f"{len(shipments)} shipment(s), buys {list(buys.values())}, "
            f"{len(buy_calls)} buy request(s) ({len(dropped)} unanswered), buy "
            f"message attempts {attempts.get('shipment/buy')}",
        )
        if not shipments or shipments[0]["state"] != "bought":
            raise walkthrough.StepFailed("no label was bought")
        shipment = shipments[0]
        fake_shipment = self.easypost.shipments[shipment["external_id"]]
        tracker = self.easypost.tracker_of(shipment["external_id"])
        picking = self.tracking(picking_id)
        self.first.update(shipment=shipment, tracker_id=tracker["id"])
        self.check(
            "tracking number and link on the picking (the bought shipment's)",
            picking["carrier_tracking_ref"] == fake_shipment["tracking_code"]
            and shipment["tracking_code"] == fake_shipment["tracking_code"]
            and shipment["tracker_ref"] == tracker["id"]
            and picking["carrier_tracking_url"] == tracker["public_url"],
            f"{picking['carrier_tracking_ref']} {picking['carrier_tracking_url']}",
        )
        request = fake_shipment  # what EasyPost was asked for
        weight_oz = request["parcel"]["weight"]
        expected_kg = sum(
            WEIGHTS[line["sku"]] * line["quantity"]
            for line in self.first["order"]["line_items"]
        )
        self.check(
            "the shipment is the order's parcel: weight of the products, the "
            "customer's address, the service of the delivery method",
            abs(weight_oz / 35.27396195 - expected_kg) < 0.01
            and request["to_address"]["zip"]
            == self.first["order"]["shipping_address"]["zip"]
            and (shipment["carrier"], shipment["service"]) == SERVICE,
            f"{weight_oz} oz for {expected_kg} kg, to "
            f"{request['to_address']['city']} {request['to_address']['zip']}, "
            f"{shipment['carrier']}/{shipment['service']}",
        )
        attachment = (
            self.read_one(
                "ir.attachment",
                shipment["label_attachment_id"][0],
                ["res_model", "res_id", "mimetype", "name"],
            )
            if shipment["label_attachment_id"]
            else {}
        )
        self.check(
            "label attached to the picking; postage charged stored next to the "
            "rate quoted",
            attachment.get("res_model") == "stock.picking"
            and attachment.get("res_id") == picking_id
            and attachment.get("mimetype") == "application/pdf"
            and abs(shipment["quoted_amount"] - 9.10) < 0.005
            and abs(shipment["charged_amount"] - 9.11) < 0.005,
            f"{attachment.get('name')} ({attachment.get('mimetype')}), quoted "
            f"{shipment['quoted_amount']:.2f}, charged "
            f"{shipment['charged_amount']:.2f}",
        )

    def step_shop_tracking(self):
        """The Shopify fulfillment of the delivery carries the tracking."""
        picking_id, shipment, validated = self.need(
            "picking_id", "shipment", "validated"
        )
        number = shipment["tracking_code"]
        url = self.tracking(picking_id)["carrier_tracking_url"]

        def probe():
            for fulfillment in self.fake.fulfillments:
                for info in fulfillment["trackingInfo"]:
                    if info.get("number") == number:
                        return fulfillment, info
            return None

        try:
            fulfillment, info = self.wait(probe, "the tracking in Shopify")
        except walkthrough.StepFailed as exc:
            fulfillment, info = None, {}
            shown = [f["trackingInfo"] for f in self.fake.fulfillments]
            detail = f"{exc}; fulfillments' tracking {shown}"
        else:
            self.figures["shop_tracking_seconds"] = round(
                time.monotonic() - validated, 1
            )
            detail = f"{info}, set by " + (
                "the FulfillmentInput"
                if (fulfillment["input"].get("trackingInfo") or {}).get("number")
                == number
                else f"{len(self.fake.tracking_updates)} tracking update(s)"
            )
        rows = self.messages(
            [("res_model", "=", "stock.picking"), ("res_id", "=", picking_id)]
        )
        self.check(
            "tracking number, URL and carrier in the Shopify fulfillment",
            fulfillment is not None
            and len(self.fake.fulfillments) == 1
            and info.get("url") == url
            and info.get("company") == SERVICE[0],
            detail + f"; Shopify messages {[(r['topic'], r['state']) for r in rows]}",
        )

    def step_tracking(self):
        """in_transit, delivered (twice), then a late older event."""
        picking_id, tracker_id = self.need("picking_id", "tracker_id")
        fake = self.easypost
        start = datetime.now(timezone.utc).replace(microsecond=0)
        fake.advance(
            tracker_id,
            "in_transit",
            "Departed UPS facility",
            when=start + timedelta(hours=1),
            location={"city": "Oakland", "state": "CA", "country": "US"},
        )
        in_transit = fake.tracker_event(tracker_id, f"evt_walk{self.tag}a")
        fake.advance(
            tracker_id,
            "out_for_delivery",
            "Out for delivery",
            when=start + timedelta(hours=20),
        )
        late = fake.tracker_event(tracker_id, f"evt_walk{self.tag}c")
        delivered_at = start + timedelta(hours=26)
        fake.advance(tracker_id, "delivered", DELIVERED_MESSAGE, when=delivered_at)
        delivered = fake.tracker_event(tracker_id, f"evt_walk{self.tag}b")

        body, headers = in_transit
        wrong = dict(headers, **{"X-Hmac-Signature": fake.sign(body + b" ")})
        status, answer = self.post_easypost(body, wrong)
        stored = self.rpc(
            "distribution.sync.message",
            "search_count",
            [
                ("backend_id", "=", self.carrier.backend_id),
                ("direction", "=", "inbound"),
            ],
        )
        self.check(
            "an EasyPost webhook with a wrong X-Hmac-Signature: 401, nothing stored",
            status == 401 and stored == 0,
            f"HTTP {status} {answer}, {stored} message(s)",
        )
        status, answer = self.post_easypost(*in_transit)
        self.tracker_messages(tracker_id, 1)
        picking = self.tracking(picking_id)
        self.check(
            "in_transit webhook (signed per contract): status in_transit",
            status == 200
            and picking["distribution_sync_tracking_status"] == "in_transit",
            f"HTTP {status} {answer}, status "
            f"{picking['distribution_sync_tracking_status']}",
        )
        t0 = time.monotonic()
        answers = [self.post_easypost(*delivered) for _twice in range(2)]
        self.tracker_messages(tracker_id, 2)
        picking = self.tracking(picking_id)
        self.figures["delivered_seconds"] = round(time.monotonic() - t0, 2)
        status, answer = self.post_easypost(*late)
        rows = self.tracker_messages(tracker_id, 3)
        after = self.tracking(picking_id)
        self.check(
            "delivered webhook posted twice: both answered 200, stored once",
            [a[0] for a in answers] == [200, 200]
            and answers[1][1] == "duplicate"
            and len(rows) == 3,
            f"answers {answers}, {len(rows)} message(s) for 4 deliveries: "
            + ", ".join(f"{r['state']} ({r['result_summary']})" for r in rows),
        )
        self.check(
            "a late event older than delivered changes nothing: status delivered "
            "at the delivered scan's time",
            status == 200
            and rows[-1]["state"] in ("done", "skipped")
            and after["distribution_sync_tracking_status"] == "delivered"
            and after["distribution_sync_tracking_date"] == iso_odoo(delivered_at)
            and after == picking,
            f"late event {rows[-1]['state']} ({rows[-1]['result_summary']}); "
            f"status {after['distribution_sync_tracking_status']} at "
            f"{after['distribution_sync_tracking_date']} "
            f"({after['distribution_sync_tracking_message']})",
        )
        details = fake.trackers[tracker_id]["tracking_details"]
        scans = self.scans(picking_id)
        # The fake's statuses here are the contract's own names.
        expected = sorted(
            (iso_odoo(parse_iso(d["datetime"])), d["status"]) for d in details
        )
        seen = sorted((s["event_time"], s["status"]) for s in scans)
        self.check(
            "one scan row per carrier scan, however many webhooks repeat it",
            seen == expected and len({s["scan_key"] for s in scans}) == len(scans),
            f"{len(scans)} row(s) for {len(details)} scan(s) in 4 webhooks: "
            + ", ".join(status for _t, status in seen),
        )
        self.figures["scans"] = len(scans)

    def step_invoice(self):
        (order_id,) = self.need("order_id")
        order = self.read_one("sale.order", order_id, ["invoice_ids", "amount_total"])
        moves = (
            self.rpc(
                "account.move",
                "read",
                order["invoice_ids"],
                ["move_type", "state", "amount_total", "name"],
            )
            if order["invoice_ids"]
            else []
        )
        posted = [m for m in moves if m["move_type"] == "out_invoice"]
        self.check(
            "carrier_invoice_on_delivery: the order's invoice is posted when "
            "the carrier reports delivered",
            len(posted) == 1
            and posted[0]["state"] == "posted"
            and abs(posted[0]["amount_total"] - order["amount_total"]) < 0.005,
            ", ".join(
                f"{m['name']} {m['move_type']} {m['state']} {m['amount_total']:.2f}"
                for m in moves
            )
            or "no invoice",
        )

    def step_return(self):
        """Order 2 (delivery method set before confirmation) comes back."""
        rpc = self.rpc
        partner_id = rpc(
            "res.partner",
            "create",
            {
                "name": f"Rita Return {self.tag}",
                "street": "179 N Harbor Dr",
                "city": "Redondo Beach",
                "zip": "90277",
                "state_id": self.ca,
                "country_id": self.us,
                "email": f"rita.{self.tag}@example.com",
            },
        )
        product = rpc(
            "product.product", "search", [("default_code", "=", "CARR-WIDGET")]
        )[0]
        order_id = rpc(
            "sale.order",
            "create",
            {
                "partner_id": partner_id,
                "carrier_id": self.method_id,
                "order_line": [(0, 0, {"product_id": product, "product_uom_qty": 3})],
            },
        )
        rpc("sale.order", "action_confirm", [order_id])
        picking_id = self.delivery_of(order_id)
        method = self.read_one("stock.picking", picking_id, ["carrier_id"])
        self.validate(picking_id)
        rows = self.label_messages(picking_id)
        shipment, tracker_id = self.labelled(picking_id)
        self.check(
            "an order whose delivery method was set before confirmation: its "
            "delivery is labelled at validation",
            method["carrier_id"]
            and method["carrier_id"][0] == self.method_id
            and [r["state"] for r in rows] == ["done", "done"]
            and self.easypost.buys.get(shipment["external_id"]) == 1,
            f"delivery method {method['carrier_id'] and method['carrier_id'][1]}, "
            f"messages {[r['state'] for r in rows]}, {shipment['tracking_code']}",
        )
        start = datetime.now(timezone.utc).replace(microsecond=0)
        self.easypost.advance(
            tracker_id, "in_transit", "Arrived at facility", when=start
        )
        self.easypost.advance(
            tracker_id,
            "return_to_sender",
            RETURN_MESSAGE,
            when=start + timedelta(days=2),
            status_detail="return",
        )
        status, answer = self.post_easypost(
            *self.easypost.tracker_event(tracker_id, f"evt_walk{self.tag}r")
        )
        messages = self.tracker_messages(tracker_id, 1)
        picking = self.tracking(picking_id)
        self.check(
            "return_to_sender webhook: status returned with the carrier's message",
            status == 200
            and messages[0]["state"] == "done"
            and picking["distribution_sync_tracking_status"] == "returned"
            and picking["distribution_sync_tracking_message"] == RETURN_MESSAGE,
            f"HTTP {status} {answer}, message {messages[0]['state']} "
            f"({messages[0]['result_summary']}), status "
            f"{picking['distribution_sync_tracking_status']}: "
            f"{picking['distribution_sync_tracking_message']}",
        )
        problems = self.carrier.exceptions(
            [
                ("category", "=", "delivery"),
                ("res_model", "=", "stock.picking"),
                ("res_id", "=", picking_id),
            ]
        )
        opened = [p for p in problems if p["state"] == "open"]
        activities = (
            rpc(
                "mail.activity",
                "search_read",
                [
                    ("res_model", "=", "distribution.sync.exception"),
                    ("res_id", "in", [p["id"] for p in opened]),
                ],
                fields=["user_id", "summary"],
            )
            if opened
            else []
        )
        self.check(
            "a delivery exception with the carrier's message is open on the picking",
            len(opened) == 1 and RETURN_MESSAGE in opened[0]["name"],
            "; ".join(f"[{p['state']}] {p['name']}" for p in problems)
            or "no delivery exception",
        )
        self.check(
            "the backend's responsible user has an activity for it",
            len(activities) == 1
            and activities[0]["user_id"]
            and activities[0]["user_id"][0] == self.responsible[0],
            f"{len(activities)} activit(y/ies) "
            + ", ".join(
                f"{a['user_id'] and a['user_id'][1]}: {a['summary']}"
                for a in activities
            )
            + f" (responsible {self.responsible[1]})",
        )

    def tidy(self):
        """Archive the walk's backends and delivery method: nothing of it
        stays at work in the database (its fakes are gone)."""
        self.rpc("delivery.carrier", "write", [self.method_id], {"active": False})
        self.rpc(
            "distribution.sync.backend",
            "write",
            [self.backend_id, self.carrier.backend_id],
            {"active": False},
        )

    def run(self):
        t0 = time.monotonic()
        self.setup()
        for title, step in (
            ("Shopify order -> delivery validated", self.step_order),
            ("label bought once", self.step_label),
            ("tracking in the Shopify fulfillment", self.step_shop_tracking),
            ("tracking webhooks", self.step_tracking),
            ("invoice on delivery", self.step_invoice),
            ("return to sender", self.step_return),
        ):
            self.run_step(title, step)
        if self.method_id:
            self.run_step("tidy", self.tidy)
        requests = self.easypost.requests
        self.figures.update(
            easypost_requests={
                op: sum(1 for r in requests if r["operation"] == op)
                for op in sorted({r["operation"] or "unknown" for r in requests})
            },
            labels_bought=sum(self.easypost.buys.values()),
            shopify_requests=len(self.fake.requests),
            walk_seconds=round(time.monotonic() - t0, 1),
        )
        if self.hook_seconds:
            ordered = sorted(self.hook_seconds)
            self.figures["easypost_webhooks"] = {
                "posted": len(ordered),
                "median_ms": round(statistics.median(ordered) * 1000, 1),
                "max_ms": round(ordered[-1] * 1000, 1),
            }
        return self.results, self.figures


def run(ot, odoo, pg, db, addons, workdir, data_dir=None):
    """Serve ``db`` (job runner on), start the fake EasyPost and the fake
    Shopify, walk through the carrier contract.

    Returns ``(checks, figures)``: ``[(check, ok, detail)]`` and a dict of what
    was measured; raises ``ot.TierError`` when the server cannot be started.
    """
    fake_shopify = walkthrough.load_module("fake_shopify", walkthrough.FAKE_MODULE)
    fake_easypost = walkthrough.load_module("fake_easypost", FAKE_MODULE)
    with (
        fake_shopify.FakeShopify(
            access_token=walkthrough.TOKEN, api_version=walkthrough.API_VERSION
        ) as shop,
        fake_easypost.FakeEasyPost(
            api_key=EASYPOST_KEY, webhook_secret=EASYPOST_SECRET
        ) as easypost,
    ):
        return walkthrough.walk_served(
            ot,
            odoo,
            pg,
            db,
            addons,
            Path(workdir) / "carrier-walkthrough-server.log",
            data_dir,
            lambda rpc, base_url: CarrierWalk(ot, rpc, base_url, shop, easypost),
            "carrier walk-through",
        )


def main():
    return walkthrough.script_main(
        __doc__, "carrier", "carrier walk-through", run, (walkthrough.ADDON, ADDON)
    )


if __name__ == "__main__":
    raise SystemExit(main())

# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
import base64
import copy
import hashlib
import hmac
import itertools
import json
from pathlib import Path

from odoo.addons.distribution_sync.tests.common import DistributionSyncCase

SAMPLES = Path(__file__).resolve().parent / "samples"

SHOPIFY_SECRET = "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"
SHOPIFY_TOKEN = "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"
SHOP_DOMAIN = "acme-test.myshopify.com"

# Order ids of the sample payloads.
DEMO_ORDER_ID = "5610000001001"
REFUNDABLE_ORDER_ID = "6100000003001"
EUR_ORDER_ID = "6100000003002"
DISCOUNTS_ORDER_ID = "5894736281775"
TAXES_INCLUDED_ORDER_ID = "5894736281743"
SHIPPING_DISCOUNT_ORDER_ID = "5894736281791"
REST_ORDER_ID = "450789469"
# Shopify's published sample: "id" lost its last digits in a JavaScript round
# trip; the GraphQL id keeps them.
SAMPLE_ORDER_ID = "820982911946154508"


def sample_bytes(name):
    """A sample payload exactly as stored (the bytes Shopify would sign)."""
    return (SAMPLES / name).read_bytes()


def sample(name):
    return json.loads(sample_bytes(name))


def shopify_hmac(body, secret=SHOPIFY_SECRET):
    """``X-Shopify-Hmac-Sha256`` as Shopify computes it: base64 of the digest."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def order_variant(name, order_id=None, **changes):
    """A copy of a sample order with another id (and line ids) and changes."""
    order = copy.deepcopy(sample(name))
    if order_id is not None:
        order["id"] = int(order_id)
        order["admin_graphql_api_id"] = f"gid://shopify/Order/{order_id}"
        order["name"] = changes.pop("name", f"#{order_id[-4:]}")
    order.update(changes)
    return order


class ShopifyCase(DistributionSyncCase):
    """A Shopify backend created from the contract fields only, its products
    and helpers to deliver webhooks as the route stores them."""

    _event_ids = itertools.count(1)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.shop = cls.env["distribution.sync.backend"].create(
            {
                "name": "Acme Shopify",
                "backend_type": "shopify",
                "shopify_shop_domain": SHOP_DOMAIN,
                "shopify_access_token": SHOPIFY_TOKEN,
                "shopify_api_version": "2025-07",
                "webhook_secret": SHOPIFY_SECRET,
            }
        )
        cls.products = cls.env["product.product"]
        for sku, name, price in (
            ("DS-WIDGET", "Steel widget", 12.50),
            ("DS-BOLT-M8", "Hex bolt M8", 0.40),
            ("DS-KETTLE", "Enamel kettle", 30.0),
            ("DS-MUG", "Stoneware mug", 12.0),
            ("SOCK-WOOL-M", "Wool socks M", 20.0),
            ("CAP-LOGO", "Logo cap", 46.0),
            ("LAMP-DESK-BRS", "Desk lamp brass", 40.0),
            ("TEA-GREEN-250", "Green tea 250 g", 24.20),
        ):
            cls.products |= cls.make_product(sku, name, price)
        cls.tax_10 = cls.make_tax(10)
        cls.sale_orders = cls.env["sale.order"]

    # ------------------------------------------------------------------ data
    @classmethod
    def make_product(cls, sku, name=None, price=1.0, **values):
        # A database with demo data already has some of these SKUs: reuse
        # them, as SKUs must stay unique for matching.
        existing = cls.env["product.product"].search(
            [("default_code", "=", sku)], limit=1
        )
        if existing:
            existing.write(
                dict({"list_price": price, "taxes_id": [(5, 0, 0)]}, **values)
            )
            return existing
        return cls.env["product.product"].create(
            dict(
                {
                    "name": name or sku,
                    "default_code": sku,
                    "type": "consu",
                    "list_price": price,
                    "taxes_id": [(5, 0, 0)],
                },
                **values,
            )
        )

    def product_by_sku(self, sku):
        return self.products.filtered(lambda p: p.default_code == sku)

    # -------------------------------------------------------------- webhooks
    @classmethod
    def next_event_id(cls):
        return f"evt-{next(cls._event_ids)}"

    def shopify_headers(
        self,
        topic,
        body,
        event_id=None,
        webhook_id=None,
        api_version="2025-07",
        secret=SHOPIFY_SECRET,
    ):
        headers = {
            "Content-Type": "application/json",
            "X-Shopify-Topic": topic,
            "X-Shopify-Hmac-Sha256": shopify_hmac(body, secret),
            "X-Shopify-Shop-Domain": SHOP_DOMAIN,
            "X-Shopify-Triggered-At": "2026-03-02T09:01:31.000Z",
        }
        if api_version:
            headers["X-Shopify-API-Version"] = api_version
        if event_id:
            headers["X-Shopify-Event-Id"] = event_id
        if webhook_id:
            headers["X-Shopify-Webhook-Id"] = webhook_id
        return headers

    @staticmethod
    def body_of(payload):
        if isinstance(payload, bytes):
            return payload
        if isinstance(payload, str):
            return sample_bytes(payload)
        return json.dumps(payload, indent=2).encode()

    def deliver(self, topic, payload, event_id=None, backend=None):
        """Store a delivery as the webhook route does (identity from the
        Shopify headers), without queueing its job. ``payload``: a sample
        file name, bytes, or a dict."""
        backend = backend or self.shop
        body = self.body_of(payload)
        headers = self.shopify_headers(topic, body, event_id or self.next_event_id())
        message, _is_new = backend._store_webhook(body, headers, json.loads(body))
        return message

    def receive(self, topic, payload, event_id=None, backend=None):
        """Deliver and process at once, as the job would."""
        return self.process(self.deliver(topic, payload, event_id, backend))

    # --------------------------------------------------------------- lookups
    def order_of(self, external_id, backend=None):
        return self.bindings._find_record(
            backend or self.shop, "sale.order", external_id
        )

    def orders_with_ref(self, ref):
        return self.sale_orders.search([("client_order_ref", "=", ref)])

    def open_exceptions(self, message=None, category=None, backend=None):
        domain = [
            ("backend_id", "=", (backend or self.shop).id),
            ("state", "=", "open"),
        ]
        if message:
            domain.append(("message_id", "=", message.id))
        if category:
            domain.append(("category", "=", category))
        return self.exceptions.search(domain)

    def ship(self, order):
        """Validate the delivery of ``order`` in full."""
        picking = order.picking_ids.filtered(
            lambda p: p.picking_type_code == "outgoing" and p.state != "done"
        )
        self.assertEqual(len(picking), 1, "one delivery to validate")
        return self.validate_in_full(picking)

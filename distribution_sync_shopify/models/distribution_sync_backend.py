# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
import json
import logging
import math
from datetime import datetime, time
from pathlib import Path

from odoo import api, fields, models
from odoo.exceptions import UserError

from odoo.addons.distribution_sync.core.canonical import parse_datetime
from odoo.addons.distribution_sync.core.errors import (
    PayloadError,
    SyncError,
    TransientError,
)
from odoo.addons.distribution_sync.core.idempotency import (
    lock_key,
    message_key,
    payload_digest,
)
from odoo.addons.distribution_sync.core.states import FINAL_STATES

from ..core import customer_mapper, order_mapper, refund_mapper, versions, webhook
from ..core import topics as shopify_topics
from ..core.client import ShopifyClient, raise_user_errors
from ..core.common import field, plain_id

_logger = logging.getLogger(__name__)

SAMPLES_DIR = Path(__file__).resolve().parent.parent / "demo" / "samples"

ORDER_TOPICS = (
    "orders/create",
    "orders/updated",
    "orders/paid",
    "orders/fulfilled",
    "orders/cancelled",
)
# Idempotency key prefix of the orders re-fetched from Shopify (drift).
DRIFT_KEY_PREFIX = "drift"
# Bindings of products to Shopify inventory items carry this external id.
INVENTORY_ITEM_PREFIX = "gid://shopify/InventoryItem/"
INVENTORY_TOPIC = "inventory/set"
FULFILLMENT_TOPIC = "fulfillments/create"
TRACKING_TOPIC = "fulfillments/tracking"
# Orders listed per page of a fetch: each is read in full (one REST call), and
# one page is the work of one job.
FETCH_PAGE_SIZE = 50


class DistributionSyncBackend(models.Model):
    """The ``shopify`` channel: webhooks verified with the app's secret
    (base64 HMAC-SHA256), deduplicated by ``X-Shopify-Event-Id``, routed by
    ``X-Shopify-Topic``. Orders, cancellations, refunds and customers come in
    from the webhook body alone (``core.order_mapper`` and friends map them to
    the core's canonical form).

    Webhooks can be missed or delayed, so ``_shopify_fetch_changes`` (run by the
    core's fetch cron, and from a date by the import wizard) lists the orders
    updated since the checkpoint and re-fetches each new version in full.

    Outbound: validated deliveries become fulfillments (``fulfillments/create``)
    and later tracking updates them (``fulfillments/tracking``); stock levels
    go out through the core's stock push (``*_stock_mixin``) with the stock
    verbs below, one ``inventory/set`` message per push."""

    _inherit = "distribution.sync.backend"

    backend_type = fields.Selection(
        selection_add=[("shopify", "Shopify")],
        # Uninstalling this addon keeps its backends, archived as the reference
        # channel (as delivery.carrier providers fall back to "fixed"), with
        # their bindings, messages and audit trail: a reinstall finds what was
        # imported instead of importing it all again as duplicates.
        ondelete={"shopify": lambda backends: backends._shopify_keep_on_uninstall()},
    )
    shopify_shop_domain = fields.Char(
        string="Shop domain", help="e.g. acme.myshopify.com"
    )
    shopify_access_token = fields.Char(
        string="Access token",
        compute="_compute_secret_fields",
        inverse="_inverse_shopify_access_token",
        help="Admin API access token; stored encrypted, never shown again.",
    )
    shopify_access_token_set = fields.Boolean(
        compute="_compute_secret_fields", string="Access token is set"
    )
    shopify_api_version = fields.Char(
        string="Shopify API version",
        default=lambda self: self._shopify_default_api_version(),
        help="Admin API version (YYYY-MM) of every call and webhook. New "
        "backends start on the newest stable version.",
    )
    shopify_api_version_warning = fields.Char(
        compute="_compute_shopify_api_version_warning"
    )
    shopify_money_set = fields.Selection(
        [("shop", "Shop currency"), ("presentment", "Customer's currency")],
        string="Book amounts in",
        default="shop",
        help="Which of Shopify's money sets becomes the order's amounts; the "
        "order uses a pricelist of that currency.",
    )
    shopify_location_ids = fields.One2many(
        "distribution.sync.shopify.location",
        "backend_id",
        string="Shopify locations",
        help="The Shopify locations whose available stock Odoo sets, each from "
        "the free quantity of one warehouse.",
    )

    def _secret_fields(self):
        return super()._secret_fields() + ["shopify_access_token"]

    def _inverse_shopify_access_token(self):
        self._inverse_secret("shopify_access_token")

    @api.model
    def _shopify_default_api_version(self):
        """The newest stable Shopify API version today."""
        return versions.current_version(fields.Date.context_today(self))

    def _shopify_credentials_set(self):
        return bool(
            (self.shopify_shop_domain or self.api_url) and self.shopify_access_token_set
        )

    @api.depends("shopify_shop_domain")
    def _compute_credentials_set(self):
        return super()._compute_credentials_set()

    def _shopify_document_url(self, record, external_id):
        """An order's page in the Shopify admin of the backend's shop."""
        domain = (self.shopify_shop_domain or "").strip()
        domain = domain.removeprefix("https://").removeprefix("http://").strip("/")
        if record._name == "sale.order" and domain:
            return f"https://{domain}/admin/orders/{external_id}"
        return None

    def _shopify_topic_labels(self):
        """Readable labels of the Shopify topics, in the user's language."""
        return {
            key: self.env._(label) for key, label in shopify_topics.TOPIC_LABELS.items()
        }

    def _shopify_health(self):
        """Until when Shopify serves the backend's API version."""
        try:
            return {"api_support_end": versions.support_end(self.shopify_api_version)}
        except ValueError:
            return {}

    @api.depends("shopify_api_version", "backend_type")
    def _compute_shopify_api_version_warning(self):
        today = fields.Date.context_today(self)
        for backend in self:
            warning = False
            if backend.backend_type == "shopify" and backend.shopify_api_version:
                try:
                    warning = backend._shopify_api_version_text(today)
                except ValueError:
                    warning = self.env._(
                        "%s is not a Shopify API version (YYYY-MM).",
                        backend.shopify_api_version,
                    )
            backend.shopify_api_version_warning = warning

    def _shopify_api_version_text(self, today):
        """The warning about the backend's API version on ``today``, or False
        when it is supported for long enough; ``ValueError`` when malformed."""
        version = self.shopify_api_version
        if not versions.is_near_end(version, today):
            return False
        end = versions.support_end(version)
        newest = versions.current_version(today)
        if end <= today:
            return self.env._(
                "Shopify support for API version %(version)s ended on %(date)s: "
                "requests are served by %(served)s, the oldest version still "
                "supported, whose data may differ. Move to %(newest)s.",
                version=version,
                date=end,
                served=versions.oldest_supported(today),
                newest=newest,
            )
        return self.env._(
            "Shopify support for API version %(version)s ends on %(date)s: move "
            "to %(newest)s before then.",
            version=version,
            date=end,
            newest=newest,
        )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("backend_type") != "shopify":
                continue
            if vals.get("shopify_shop_domain") and not vals.get("api_url"):
                vals["api_url"] = f"https://{vals['shopify_shop_domain']}"
            if not vals.get("shopify_api_version"):
                vals["shopify_api_version"] = self._shopify_default_api_version()
            if not vals.get("api_version"):
                vals["api_version"] = vals["shopify_api_version"]
        return super().create(vals_list)

    def write(self, vals):
        if vals.get("shopify_shop_domain") and "api_url" not in vals:
            # The API URL follows the shop domain, unless it was set to
            # something else on purpose (a proxy, a test server).
            followers = self.filtered(
                lambda b: (
                    b.backend_type == "shopify"
                    and b.api_url in (False, "", f"https://{b.shopify_shop_domain}")
                )
            )
            if followers:
                super(DistributionSyncBackend, followers).write(
                    {"api_url": f"https://{vals['shopify_shop_domain']}"}
                )
        res = super().write(vals)
        if "shopify_api_version" in vals or "backend_type" in vals:
            # The core's API version (on messages, the overview) follows the
            # one Shopify version the form shows.
            for backend in self.filtered(
                lambda b: (
                    b.backend_type == "shopify"
                    and b.shopify_api_version
                    and b.api_version != b.shopify_api_version
                )
            ):
                super(DistributionSyncBackend, backend).write(
                    {"api_version": backend.shopify_api_version}
                )
        return res

    def _shopify_keep_on_uninstall(self):
        self.write({"backend_type": "generic", "active": False})

    # ------------------------------------------------------------------ verbs
    def _shopify_default_ownership(self):
        """Shopify owns orders and customers' contact data; Odoo the rest."""
        return self._default_default_ownership()

    def _shopify_order_channel(self):
        return True

    def _shopify_webhook_verify(self, body, headers, query=None):
        secret = self._get_secret("webhook_secret")
        return bool(secret) and webhook.verify(secret, body, headers)

    def _shopify_webhook_identity(self, body, headers, data):
        identity = webhook.identity(headers, body, data)
        if not identity.get("api_version"):
            identity["api_version"] = self.shopify_api_version
        return identity

    def _shopify_process_message(self, message):
        """Route one Shopify webhook by topic."""
        try:
            data = json.loads(message.payload or "{}")
        except (ValueError, RecursionError) as exc:
            raise PayloadError(
                self.env._("The message body is not valid JSON: %s", exc)
            ) from exc
        topic = message.topic or ""
        importer = self.env["distribution.sync.importer"]
        if topic in ORDER_TOPICS:
            return self._shopify_process_order(message, data)
        if topic == "refunds/create":
            refund = refund_mapper.map_refund(
                data,
                money_set=self.shopify_money_set,
                taxes_included=self._shopify_taxes_included(data),
            )
            return importer._import_credit_note(self, refund, message)
        if topic in ("customers/create", "customers/update"):
            customer = customer_mapper.map_customer(data)
            values = dict(
                customer.get("values") or {}, external_id=customer["external_id"]
            )
            partner, problems = importer._import_customer(
                self,
                values,
                updated_at=customer.get("updated_at"),
                digest=message.payload_digest,
            )
            return {
                "res_model": "res.partner",
                "res_id": partner.id,
                "problems": problems,
                "canonical": customer,
                "summary": partner.display_name,
            }
        if topic == "products/update":
            return self._shopify_bind_inventory_items(data)
        if topic == "app/uninstalled":
            return self._shopify_uninstalled(message)
        return {
            "state": "skipped",
            "summary": self.env._("Topic %s is not synchronised.", topic or "-"),
        }

    def _shopify_taxes_included(self, refund):
        """Whether the refunded order was booked with tax-included prices."""
        order_id = refund.get("order_id") if isinstance(refund, dict) else None
        order = self.env["distribution.sync.binding"]._find_record(
            self, "sale.order", order_id
        )
        taxes = order.order_line.tax_id
        return bool(taxes) and all(tax.price_include for tax in taxes)

    def _shopify_process_order(self, message, data):
        importer = self.env["distribution.sync.importer"]
        order = order_mapper.map_order(data, money_set=self.shopify_money_set)
        if message.topic == "orders/cancelled":
            binding = self.env["distribution.sync.binding"]._find(
                self, "sale.order", order["external_id"]
            )
            if not binding:
                # The order never came in: import it, then cancel it, and keep
                # what the import found.
                imported = importer._import_sale_order(self, order, message)
                result = importer._cancel_sale_order(
                    self, order["external_id"], message
                )
                result["problems"] = list(imported.get("problems", ())) + list(
                    result.get("problems", ())
                )
                return result
            return importer._cancel_sale_order(self, order["external_id"], message)
        return importer._import_sale_order(self, order, message)

    def _shopify_bind_inventory_items(self, product):
        """Bind the Odoo products to the inventory items of a Shopify
        product's variants, by SKU (exactly one Odoo product with that
        internal reference). The product data itself is left untouched."""
        bindings = self.env["distribution.sync.binding"]
        products = self.env["product.product"].with_company(self.company_id)
        bound, unknown, ambiguous = [], [], []
        variants = product.get("variants") if isinstance(product, dict) else None
        for index, variant in enumerate(variants or []):
            if not isinstance(variant, dict):
                continue
            sku = field(variant, "sku", f"variants[{index}]") or ""
            item_id = plain_id(
                variant.get("inventory_item_id"), f"variants[{index}].inventory_item_id"
            )
            if not sku or not item_id:
                continue
            found = products.search(
                [
                    ("default_code", "=", sku),
                    ("company_id", "in", [self.company_id.id, False]),
                ],
                limit=2,
            )
            if not found:
                unknown.append(sku)
                continue
            if len(found) > 1:
                ambiguous.append(sku)
                continue
            external_id = f"{INVENTORY_ITEM_PREFIX}{item_id}"
            previous = bindings._for_record(self, found)
            if previous and previous.external_id != external_id:
                # The variant now tracks another inventory item.
                previous.sudo().unlink()
            # An item whose SKU moved to this variant follows it.
            bindings._bind(self, found, external_id, rebind=True, external_name=sku)
            bound.append(sku)
        parts = [
            self.env._("Inventory items bound: %s", ", ".join(bound) or "-"),
        ]
        if unknown:
            parts.append(self.env._("no Odoo product: %s", ", ".join(unknown)))
        if ambiguous:
            parts.append(self.env._("several Odoo products: %s", ", ".join(ambiguous)))
        return {"state": "done", "summary": "; ".join(parts)}

    def _shopify_uninstalled(self, message):
        self.sudo().active = False
        return {
            "state": "done",
            "summary": self.env._("App uninstalled: backend archived."),
            "problems": [self._shopify_uninstalled_problem()],
        }

    def _shopify_uninstalled_problem(self):
        problem = SyncError(
            self.env._(
                "The Shopify app was uninstalled from %s: the backend is archived "
                "and receives nothing.",
                self.shopify_shop_domain or self.name,
            ),
            value=self.shopify_shop_domain,
            hint=self.env._(
                "Reinstall the app, set a new access token, then unarchive the backend."
            ),
        )
        problem.category = "technical"
        problem.severity = "critical"
        return problem

    # --------------------------------------------------------------- outbound
    def _shopify_client(self, **options):
        """A client for this shop (one per job: Shopify's cost bucket, read
        from every answer, is the only shared throttling state); ``options``
        go to ``ShopifyClient``."""
        self.ensure_one()
        options.setdefault("timeout", self.request_timeout or 20)
        return ShopifyClient(
            self.api_url or f"https://{self.shopify_shop_domain}",
            self._get_secret("shopify_access_token") or "",
            self.shopify_api_version,
            **options,
        )

    def _shopify_interactive_client(self):
        """A client for a person waiting on a button: one attempt, no back-off
        (the job queue is what retries)."""
        return self._shopify_client(max_retries=0, max_wait=5.0)

    def _shopify_test_connection(self):
        with self._shopify_interactive_client() as client:
            shop = client.shop()
        return self.env._(
            "Connected to %(domain)s (%(name)s, API %(version)s).",
            domain=shop.get("myshopifyDomain") or self.shopify_shop_domain,
            name=shop.get("name"),
            version=self.shopify_api_version,
        )

    def _shopify_push_record(self, message):
        payload = json.loads(message.payload or "{}")
        if message.topic == FULFILLMENT_TOPIC:
            return self._shopify_push_fulfillment(payload, message)
        if message.topic == TRACKING_TOPIC:
            return self._shopify_push_tracking(payload, message)
        if message.topic == INVENTORY_TOPIC:
            return self._shopify_push_inventory(payload, message)
        raise PayloadError(
            self.env._("Odoo does not send %s to Shopify.", message.topic),
            value=message.topic,
        )

    @staticmethod
    def _shopify_fulfillment_groups(fulfillment_orders, wanted):
        """Spread shipped quantities (by Shopify line id) over the open
        fulfillment orders; ``wanted`` is decremented in place."""
        groups = []
        for fulfillment_order in fulfillment_orders:
            if fulfillment_order.get("status") not in ("OPEN", "IN_PROGRESS"):
                continue
            items = []
            for node in fulfillment_order["lineItems"]["nodes"]:
                line_id = node["lineItem"]["id"].rsplit("/", 1)[-1]
                quantity = min(wanted.get(line_id, 0), node["remainingQuantity"])
                if quantity > 0:
                    items.append({"id": node["id"], "quantity": int(quantity)})
                    wanted[line_id] -= quantity
            if items:
                groups.append(
                    {
                        "fulfillmentOrderId": fulfillment_order["id"],
                        "fulfillmentOrderLineItems": items,
                    }
                )
        return groups

    @staticmethod
    def _shopify_fulfilled_quantities(fulfillment_orders):
        """Quantities Shopify has fulfilled, by Shopify line id (total minus
        remaining over the fulfillment orders that were not cancelled)."""
        fulfilled = {}
        for fulfillment_order in fulfillment_orders:
            if fulfillment_order.get("status") == "CANCELLED":
                continue
            for node in fulfillment_order["lineItems"]["nodes"]:
                line_id = node["lineItem"]["id"].rsplit("/", 1)[-1]
                done = (node.get("totalQuantity") or 0) - node["remainingQuantity"]
                fulfilled[line_id] = fulfilled.get(line_id, 0) + max(done, 0)
        return fulfilled

    def _shopify_push_fulfillment(self, payload, message):
        """Create the Shopify fulfillment of one validated delivery.

        What is sent for a line is the delivery's quantity, capped by what
        Odoo has shipped of it in all (every done delivery of the order, in
        Shopify units) minus what Shopify has fulfilled: a retry after a lost
        answer, whose fulfillment was created, sends nothing more, and Shopify
        never shows more shipped than Odoo did. The pushes of one order are
        serialised, so that each reads what the previous one created.
        """
        order_id = payload["order_id"]
        self.env.cr.execute(
            "SELECT pg_advisory_xact_lock(%s, %s)",
            (7920, lock_key(f"{self.id}:fulfillment:{order_id}")),
        )
        client = self._shopify_client()
        fulfillment_orders = client.fulfillment_orders(
            f"gid://shopify/Order/{order_id}"
        )
        wanted = {}
        for line in payload["lines"]:
            key = str(line["line_item_id"])
            wanted[key] = wanted.get(key, 0) + line["quantity"]
        picking = (
            self.env["stock.picking"]
            .browse(message.res_id if message.res_model == "stock.picking" else ())
            .exists()
        )
        shipped = picking._shopify_shipped_quantities() if picking else wanted
        fulfilled = self._shopify_fulfilled_quantities(fulfillment_orders)
        for key, quantity in wanted.items():
            wanted[key] = max(
                0, min(quantity, shipped.get(key, quantity) - fulfilled.get(key, 0))
            )
        groups = self._shopify_fulfillment_groups(fulfillment_orders, wanted)
        if not groups:
            return {
                "summary": self.env._(
                    "Nothing left to fulfil in Shopify for %s (already "
                    "fulfilled there, or no open fulfillment order).",
                    payload["picking"],
                )
            }
        tracking = {k: v for k, v in (payload.get("tracking") or {}).items() if v}
        answer = client.create_fulfillment(groups, tracking)
        raise_user_errors(answer, "fulfillmentCreate")
        fulfillment = answer.get("fulfillment") or {}
        fulfillment_id = (fulfillment.get("id") or "").rsplit("/", 1)[-1] or None
        unmatched = {key: qty for key, qty in wanted.items() if qty > 0}
        summary = self.env._(
            "Fulfillment %(id)s for %(picking)s",
            id=fulfillment_id,
            picking=payload["picking"],
        )
        if unmatched:
            summary += self.env._(
                " (not open in Shopify: lines %s)", ", ".join(sorted(unmatched))
            )
        partial = [line for line in payload["lines"] if line.get("partial")]
        if partial:
            summary += self.env._(
                " (part of a Shopify unit shipped, counted as one: lines %s)",
                ", ".join(sorted(str(line["line_item_id"]) for line in partial)),
            )
        return {"external_id": fulfillment_id, "summary": summary}

    def _shopify_push_tracking(self, payload, message):
        """Set the tracking of the Shopify fulfillment of one delivery.

        The fulfillment is the one the delivery's ``fulfillments/create``
        message made (its external id). While that message is not done, the
        update waits (``TransientError``: retried later, the fulfillment will
        exist); when it made none (nothing was left to fulfil in Shopify),
        there is nothing to update: skipped. Tracking that Shopify already has
        is not sent again, nor tracking that a newer update of the delivery
        replaced (a retry run late must not put it back).
        """
        picking = (
            self.env["stock.picking"]
            .browse(message.res_id if message.res_model == "stock.picking" else ())
            .exists()
        )
        messages = self.env["distribution.sync.message"].sudo()
        newer = messages.search(
            [
                ("backend_id", "=", self.id),
                ("direction", "=", "outbound"),
                ("topic", "=", TRACKING_TOPIC),
                ("res_model", "=", "stock.picking"),
                ("res_id", "=", picking.id),
                ("id", ">", message.id),
                ("state", "!=", "skipped"),
            ],
            limit=1,
        )
        if picking and newer:
            return {
                "state": "skipped",
                "summary": self.env._(
                    "Superseded by the newer tracking update %s", newer.id
                ),
            }
        fulfillments = messages.search(
            [
                ("backend_id", "=", self.id),
                ("direction", "=", "outbound"),
                ("topic", "=", FULFILLMENT_TOPIC),
                ("res_model", "=", "stock.picking"),
                ("res_id", "=", picking.id),
            ],
            order="id",
        )
        if fulfillments.filtered(lambda m: m.state not in FINAL_STATES):
            raise TransientError(
                self.env._(
                    "The fulfillment of %s is not in Shopify yet: its tracking "
                    "waits for it.",
                    payload["picking"],
                )
            )
        made = fulfillments.filtered(lambda m: m.state == "done" and m.external_id)
        if not made:
            return {
                "state": "skipped",
                "summary": self.env._(
                    "No Shopify fulfillment of %s: no tracking to update.",
                    payload["picking"],
                ),
            }
        tracking = {k: v for k, v in (payload.get("tracking") or {}).items() if v}
        client = self._shopify_client()
        updated = []
        for fulfillment in made:
            known = client.fulfillment_tracking(fulfillment.external_id)
            if known and any(
                all(info.get(key) == value for key, value in tracking.items())
                for info in known
            ):
                continue
            answer = client.update_fulfillment_tracking(
                fulfillment.external_id, tracking
            )
            raise_user_errors(answer, "fulfillmentTrackingInfoUpdate")
            updated.append(fulfillment.external_id)
        if not updated:
            summary = self.env._(
                "Shopify already has tracking %(number)s for %(picking)s",
                number=tracking.get("number"),
                picking=payload["picking"],
            )
        else:
            summary = self.env._(
                "Tracking %(number)s set on fulfillment %(ids)s",
                number=tracking.get("number"),
                ids=", ".join(updated),
            )
        return {"external_id": made[-1].external_id, "summary": summary}

    def _shopify_push_inventory(self, quantities, message):
        """Set the available quantities of one stock push (the client sends
        them 250 per call).

        A push sent after a newer one (a retry of a failed push, a job run
        late) would set older quantities over newer ones: it is skipped and
        the current quantities of its items are queued as a new push.
        """
        if not isinstance(quantities, list):
            raise PayloadError(
                self.env._("An inventory push must be a list of quantities."),
                value=quantities,
            )
        newer = self._stock_messages(after=message, limit=1)
        if newer:
            fresh = self._queue_stock(self._shopify_current_quantities(quantities))
            return {
                "state": "skipped",
                "summary": self.env._(
                    "Superseded by the newer stock push %(newer)s; current "
                    "quantities in %(fresh)s",
                    newer=newer.id,
                    fresh=fresh.id or self.env._("no message (nothing to set)"),
                ),
            }
        answer = self._shopify_client().set_inventory(quantities)
        raise_user_errors(answer, "inventorySetQuantities")
        return {
            "summary": self.env._("%s quantities set", len(quantities)),
        }

    # ---------------------------------------------------------- document events
    def _shopify_order_ids(self, orders):
        """``{sale order id: Shopify order id}`` of those of ``orders`` that
        came from this shop (one search for all of them)."""
        return {
            binding.res_id: binding.external_id
            for binding in self.env["distribution.sync.binding"]
            .sudo()
            .search(
                [
                    ("backend_id", "=", self.id),
                    ("res_model", "=", "sale.order"),
                    ("res_id", "in", orders.ids),
                ]
            )
        }

    def _shopify_on_delivery_validated(self, pickings):
        """Queue one fulfillment per validated delivery of an order of this
        shop. Partial deliveries push what they shipped, backorders push
        later; the same delivery is never pushed twice (idempotency key)."""
        pickings = pickings.filtered("sale_id")
        if not pickings:
            return
        external_ids = self._shopify_order_ids(pickings.sale_id)
        for picking in pickings:
            external_id = external_ids.get(picking.sale_id.id)
            if not external_id:
                continue
            payload = picking._shopify_fulfillment_payload(external_id)
            if payload["lines"]:
                self._push(picking, FULFILLMENT_TOPIC, payload, "shipment")

    def _shopify_on_tracking_changed(self, pickings):
        """Queue a tracking update of the Shopify fulfillment of each done
        delivery of an order of this shop that has a tracking number. The same
        tracking again makes no new message (a carrier status change keeps
        the number); tracking that comes back to an earlier value is sent
        again (the last update's id is in the key)."""
        pickings = pickings.filtered(
            lambda p: (
                p.sale_id and p.state == "done" and p.picking_type_code == "outgoing"
            )
        )
        if not pickings or not self._ownership_matrix().may_push("shipment"):
            return
        external_ids = self._shopify_order_ids(pickings.sale_id)
        messages = self.env["distribution.sync.message"].sudo()
        for picking in pickings:
            external_id = external_ids.get(picking.sale_id.id)
            tracking = picking._distribution_sync_tracking()
            if not external_id or not tracking.get("number"):
                continue
            payload = {
                "order_id": external_id,
                "picking": picking.name,
                "tracking": tracking,
            }
            latest = messages.search(
                [
                    ("backend_id", "=", self.id),
                    ("direction", "=", "outbound"),
                    ("topic", "=", TRACKING_TOPIC),
                    ("res_model", "=", picking._name),
                    ("res_id", "=", picking.id),
                ],
                order="id desc",
                limit=1,
            )
            body = json.dumps(payload, sort_keys=True, default=str)
            key = (
                latest.idempotency_key
                if latest and latest.payload == body
                else message_key(
                    picking._name,
                    picking.id,
                    TRACKING_TOPIC,
                    payload_digest(body),
                    latest.id or None,
                )
            )
            self._push(
                picking,
                TRACKING_TOPIC,
                payload,
                "shipment",
                key=key,
                work_key=f"shopify:tracking:{picking.id}",
            )

    # ------------------------------------------------------------------ stock
    def action_shopify_push_stock(self):
        """Push the stock of every bound product now (full resync)."""
        self.check_access("write")
        for backend in self:
            backend._with_technical_user()._push_stock_job(full=True)
        return self.action_open_messages()

    def _shopify_stock_ready(self):
        """Stock goes to the mapped locations: none, no push."""
        return bool(self.sudo().shopify_location_ids.filtered("warehouse_id"))

    def _shopify_stock_topic(self):
        return INVENTORY_TOPIC

    def _shopify_stock_bindings(self):
        """The products bound to Shopify inventory items."""
        self.ensure_one()
        return (
            self.env["distribution.sync.binding"]
            .sudo()
            .search(
                [
                    ("backend_id", "=", self.id),
                    ("res_model", "=", "product.product"),
                    ("external_id", "=like", f"{INVENTORY_ITEM_PREFIX}%"),
                ]
            )
        )

    def _shopify_stock_quantities(self, bindings):
        """``[{"inventoryItemId", "locationId", "quantity"}]`` of the bound
        products at each mapped location: the warehouse's free quantity,
        floored to a whole number, never negative."""
        self.ensure_one()
        item_of = {binding.res_id: binding.external_id for binding in bindings}
        products = (
            self.env["product.product"]
            .sudo()
            .with_company(self.company_id)
            .browse(list(item_of))
            .exists()
            .filtered("is_storable")
        )
        quantities = []
        # A location fetched from Shopify waits for its warehouse.
        for location in self.sudo().shopify_location_ids.filtered("warehouse_id"):
            in_warehouse = products.with_context(warehouse_id=location.warehouse_id.id)
            for product in in_warehouse.sorted("id"):
                quantities.append(
                    {
                        "inventoryItemId": item_of[product.id],
                        "locationId": location.shopify_location_id.strip(),
                        "quantity": max(0, math.floor(product.free_qty)),
                    }
                )
        return quantities

    def _shopify_current_quantities(self, quantities):
        """The quantities of the same items and locations as ``quantities``,
        read now (items no longer bound are left out)."""
        self.ensure_one()
        wanted = {
            (row.get("inventoryItemId"), row.get("locationId")) for row in quantities
        }
        bindings = self._shopify_stock_bindings().filtered(
            lambda b: b.external_id in {item for item, _location in wanted}
        )
        return [
            row
            for row in self._shopify_stock_quantities(bindings)
            if (row["inventoryItemId"], row["locationId"]) in wanted
        ]

    # ------------------------------------------------------------------ drift
    def _shopify_fetch_changes(self, since, cursor=None):
        """One page of the orders updated in Shopify since ``since`` (the
        backend's creation when there is no checkpoint yet; older orders come
        in with the import wizard), as events for the core's intake, and the
        cursor of the next page.

        The page comes from the GraphQL ``orders`` query; each order is then
        read in full from the REST endpoint, the shape of the ``orders/*``
        webhook bodies the mapper reads: one page is at most
        ``FETCH_PAGE_SIZE`` REST reads, the work of one job. The idempotency
        key ``drift:<order id>:<updatedAt>`` makes one message per version of
        an order; the external id and the work key are those of the webhooks,
        so that the lock and the auto-resolution of exceptions cover both. A
        version that is already a message, or no newer than what the order's
        binding applied, is not read again.
        """
        self.ensure_one()
        since = since or self.create_date
        with self._shopify_client() as client:
            nodes, next_cursor = client.orders_updated_page(
                since, after=cursor, first=FETCH_PAGE_SIZE
            )
            versions = [self._shopify_listed_version(node) for node in nodes]
            known = self._shopify_known_versions(versions)
            events = []
            for order_id, key, _updated_at in versions:
                if (order_id, key) in known:
                    continue
                event = self._shopify_drift_event(client, order_id, key)
                if event:
                    events.append(event)
        return events, next_cursor

    def _shopify_listed_version(self, node):
        """``(order id, idempotency key, updatedAt)`` of one listed order
        (``{"legacyResourceId", "updatedAt", ...}``)."""
        order_id = str(node.get("legacyResourceId") or "").strip()
        if not order_id:
            order_id = str(node.get("id") or "").rsplit("/", 1)[-1]
        updated_at = node.get("updatedAt")
        if not order_id.isdigit() or not updated_at:
            raise PayloadError(
                self.env._("Shopify listed an order without id or date: %s", node),
                value=node,
            )
        key = f"{DRIFT_KEY_PREFIX}:{order_id}:{updated_at}"
        return order_id, key, parse_datetime(updated_at).replace(tzinfo=None)

    def _shopify_drift_event(self, client, order_id, key):
        """The event of one listed version of an order, or None when the
        order is gone."""
        try:
            order = client.rest_order(order_id)
        except PayloadError as exc:
            if exc.value != 404:
                raise
            # Deleted in Shopify since it was listed: nothing left to import.
            _logger.info("Shopify order %s is gone: not fetched (%s)", order_id, exc)
            return None
        body = json.dumps(order)
        topic = "orders/cancelled" if order.get("cancelled_at") else "orders/updated"
        identity = webhook.identity({webhook.TOPIC_HEADER: topic}, body.encode(), order)
        return {
            "topic": topic,
            "idempotency_key": key,
            "external_id": identity.get("external_id") or order_id,
            "work_key": identity.get("work_key") or f"order:{order_id}",
            "payload": body,
        }

    def _shopify_known_versions(self, versions):
        """The ``(order id, key)`` of ``versions`` (``_shopify_listed_version``
        tuples) that need no read: already a message, or no newer than what
        the order's live binding applied. Two queries for a whole page."""
        if not versions:
            return set()
        stored = set(
            self.env["distribution.sync.message"]
            .sudo()
            .search(
                [
                    ("backend_id", "=", self.id),
                    ("direction", "=", "inbound"),
                    ("idempotency_key", "in", [key for _id, key, _at in versions]),
                ]
            )
            .mapped("idempotency_key")
        )
        bindings = (
            self.env["distribution.sync.binding"]
            .sudo()
            .search(
                [
                    ("backend_id", "=", self.id),
                    ("res_model", "=", "sale.order"),
                    ("external_id", "in", list({oid for oid, _key, _at in versions})),
                    ("remote_updated_at", "!=", False),
                ]
            )
        )
        live = set(
            self.env["sale.order"].sudo().browse(bindings.mapped("res_id")).exists().ids
        )
        applied = {
            binding.external_id: binding.remote_updated_at
            for binding in bindings
            if binding.res_id in live
        }
        return {
            (order_id, key)
            for order_id, key, updated_at in versions
            if key in stored
            or (order_id in applied and updated_at <= applied[order_id])
        }

    def action_shopify_import_orders(self):
        """Open the "Import orders since…" wizard of this backend."""
        self.check_access("write")
        self.ensure_one()
        self._check_credentials()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "distribution_sync_shopify.distribution_sync_shopify_import_wizard_action"
        )
        action["context"] = {"default_backend_id": self.id}
        return action

    def _shopify_enqueue_import(self, date_from):
        """Queue the import of the orders updated since ``date_from`` (a date:
        from its start, UTC), one page per job like the periodic fetch, without
        touching its checkpoint (the periodic fetch goes on from where it
        was); the same backend and date queue it once."""
        self.ensure_one()
        since = datetime.combine(fields.Date.to_date(date_from), time.min)
        return self._queue_fetch(
            since=fields.Datetime.to_string(since),
            move_checkpoint=False,
            description=self.env._(
                "Import Shopify orders updated since %(date)s into %(backend)s",
                date=since.date().isoformat(),
                backend=self.name,
            ),
        )

    # -------------------------------------------------------------- locations
    def action_shopify_fetch_locations(self):
        """Read the shop's locations and add or update one row per location
        (name, id, active as in Shopify); a new row gets the company's
        warehouse when it has just one, else the consultant picks it."""
        self.check_access("write")
        self.ensure_one()
        self._check_credentials()
        with self._outside_errors_as_user_errors():
            with self._shopify_interactive_client() as client:
                nodes = client.locations()
        created, updated = self._shopify_store_locations(nodes)
        return self._notification(
            self.env._("Shopify locations"),
            self.env._(
                "%(count)s locations read from Shopify: %(new)s added, "
                "%(updated)s updated.",
                count=len(nodes),
                new=len(created),
                updated=len(updated),
            ),
            # The rows changed: the form shows them at once.
            next={"type": "ir.actions.client", "tag": "soft_reload"},
        )

    def _shopify_store_locations(self, nodes):
        """Create or update the location rows of ``nodes`` (``{"id", "name",
        "isActive"}``); returns ``(created, updated)`` rows."""
        rows = self.env["distribution.sync.shopify.location"].with_context(
            active_test=False
        )
        existing = rows.search([("backend_id", "=", self.id)])
        by_number = {
            str(row.shopify_location_id).strip().rsplit("/", 1)[-1]: row
            for row in existing
        }
        warehouses = self.env["stock.warehouse"].search(
            [("company_id", "=", self.company_id.id)], limit=2
        )
        created = updated = rows.browse()
        for node in nodes:
            row = by_number.get(node["id"].rsplit("/", 1)[-1])
            if row:
                row.write(self._shopify_prepare_location_vals(node, row))
                updated |= row
            else:
                created |= rows.create(
                    self._shopify_prepare_location_vals(
                        node, row, warehouses if len(warehouses) == 1 else None
                    )
                )
        return created, updated

    def _shopify_prepare_location_vals(self, node, row=None, warehouse=None):
        vals = {"name": node.get("name") or node["id"]}
        if not row:
            vals.update(
                backend_id=self.id,
                shopify_location_id=node["id"],
                active=bool(node.get("isActive", True)),
                warehouse_id=warehouse.id if warehouse else False,
            )
        elif not node.get("isActive", True):
            # Closed in Shopify: its stock can no longer be set.
            vals["active"] = False
        return vals

    # ------------------------------------------------------------------- demo
    def action_shopify_load_samples(self):
        """Feed the bundled sample webhooks through the normal intake.

        Sandbox Shopify backends only: the samples are made-up orders and
        customers that must never reach a production database.
        """
        self.check_access("write")
        self.ensure_one()
        if self.backend_type != "shopify" or self.environment != "sandbox":
            raise UserError(
                self.env._(
                    "Sample events can only be loaded into a Shopify sandbox "
                    "backend; %s is not one.",
                    self.name,
                )
            )
        loaded = self.env["distribution.sync.message"]
        for path in sorted(SAMPLES_DIR.glob("*.json")):
            topic = path.stem.split("__", 1)[0].replace("-", "/")
            body = path.read_bytes()
            headers = {
                "X-Shopify-Topic": topic,
                "X-Shopify-Event-Id": f"sample-{path.stem}",
            }
            message, is_new = self._store_webhook(body, headers, json.loads(body))
            if is_new:
                loaded |= message
        loaded._enqueue()
        return self.action_open_messages()

# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
import json
from pathlib import Path

from odoo import api, fields, models
from odoo.exceptions import UserError

from odoo.addons.distribution_sync.core.errors import PayloadError, SyncError

from ..core import customer_mapper, order_mapper, refund_mapper, versions, webhook
from ..core.client import ShopifyClient, raise_user_errors

SAMPLES_DIR = Path(__file__).resolve().parent.parent / "demo" / "samples"

ORDER_TOPICS = (
    "orders/create",
    "orders/updated",
    "orders/paid",
    "orders/fulfilled",
    "orders/cancelled",
)


class DistributionSyncBackend(models.Model):
    """The ``shopify`` channel: webhooks verified with the app's secret
    (base64 HMAC-SHA256), deduplicated by ``X-Shopify-Event-Id``, routed by
    ``X-Shopify-Topic``. Orders, cancellations, refunds and customers come in
    from the webhook body alone (``core.order_mapper`` and friends map them to
    the core's canonical form)."""

    _inherit = "distribution.sync.backend"

    backend_type = fields.Selection(
        selection_add=[("shopify", "Shopify")], ondelete={"shopify": "cascade"}
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
    shopify_api_version = fields.Char(string="Shopify API version", default="2025-07")
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

    def _secret_fields(self):
        return super()._secret_fields() + ["shopify_access_token"]

    def _inverse_shopify_access_token(self):
        self._inverse_secret("shopify_access_token")

    @api.depends("shopify_api_version", "backend_type")
    def _compute_shopify_api_version_warning(self):
        today = fields.Date.context_today(self)
        for backend in self:
            warning = False
            if backend.backend_type == "shopify" and backend.shopify_api_version:
                try:
                    if versions.is_near_end(backend.shopify_api_version, today):
                        warning = self.env._(
                            "Shopify stops supporting API version %(version)s on "
                            "%(date)s: move to a newer version.",
                            version=backend.shopify_api_version,
                            date=versions.support_end(backend.shopify_api_version),
                        )
                except ValueError:
                    warning = self.env._(
                        "%s is not a Shopify API version (YYYY-MM).",
                        backend.shopify_api_version,
                    )
            backend.shopify_api_version_warning = warning

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if (
                vals.get("backend_type") == "shopify"
                and vals.get("shopify_shop_domain")
                and not vals.get("api_url")
            ):
                vals["api_url"] = f"https://{vals['shopify_shop_domain']}"
            if vals.get("backend_type") == "shopify" and not vals.get("api_version"):
                vals["api_version"] = vals.get("shopify_api_version") or "2025-07"
        return super().create(vals_list)

    # ------------------------------------------------------------------ verbs
    def shopify_default_ownership(self):
        """Shopify owns orders and customers' contact data; Odoo the rest."""
        return self._default_default_ownership()

    def shopify_webhook_verify(self, body, headers):
        secret = self._get_secret("webhook_secret")
        return bool(secret) and webhook.verify(secret, body, headers)

    def shopify_webhook_identity(self, body, headers, data):
        identity = webhook.identity(headers, body, data)
        if not identity.get("api_version"):
            identity["api_version"] = self.shopify_api_version
        return identity

    def shopify_process_message(self, message):
        """Route one Shopify webhook by topic."""
        data = json.loads(message.payload or "{}")
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
    def _shopify_client(self):
        """A client for this shop (one per job: Shopify's cost bucket, read
        from every answer, is the only shared throttling state)."""
        self.ensure_one()
        return ShopifyClient(
            self.api_url or f"https://{self.shopify_shop_domain}",
            self._get_secret("shopify_access_token") or "",
            self.shopify_api_version,
            timeout=self.request_timeout or 20,
        )

    def shopify_test_connection(self):
        shop = self._shopify_client().shop()
        return self.env._(
            "Connected to %(name)s (%(domain)s).",
            name=shop.get("name"),
            domain=shop.get("myshopifyDomain"),
        )

    def shopify_push_record(self, message):
        payload = json.loads(message.payload or "{}")
        if message.topic == "fulfillments/create":
            return self._shopify_push_fulfillment(payload)
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

    def _shopify_push_fulfillment(self, payload):
        """Create the Shopify fulfillment of one validated delivery."""
        client = self._shopify_client()
        fulfillment_orders = client.fulfillment_orders(
            f"gid://shopify/Order/{payload['order_id']}"
        )
        wanted = {}
        for line in payload["lines"]:
            key = str(line["line_item_id"])
            wanted[key] = wanted.get(key, 0) + line["quantity"]
        groups = self._shopify_fulfillment_groups(fulfillment_orders, wanted)
        if not groups:
            return {
                "summary": self.env._(
                    "Nothing left to fulfil in Shopify for %s.", payload["picking"]
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
        return {"external_id": fulfillment_id, "summary": summary}

    # ------------------------------------------------------------------- demo
    def action_shopify_load_samples(self):
        """Feed the bundled sample webhooks through the normal intake.

        Sandbox Shopify backends only: the samples are made-up orders and
        customers that must never reach a production database.
        """
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
            message, is_new = self.env["distribution.sync.message"]._intake(
                self,
                "inbound",
                topic,
                f"sample:{path.name}",
                body,
                **{
                    k: v
                    for k, v in webhook.identity(
                        {"X-Shopify-Topic": topic}, body, json.loads(body)
                    ).items()
                    if k in ("external_id", "work_key", "api_version")
                },
            )
            if is_new:
                loaded |= message
        loaded._enqueue()
        return self.action_open_messages()

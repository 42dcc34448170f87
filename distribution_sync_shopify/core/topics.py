"""Readable labels of the Shopify topics (webhooks in, pushes out); the
core's ``topic_label`` reads them before its own table."""

if __name__.startswith("odoo.addons."):
    from odoo.addons.distribution_sync.core.topics import _lt
else:
    from distribution_sync.core.topics import _lt


TOPIC_LABELS = {
    "orders/create": _lt("Order created"),
    "orders/updated": _lt("Order updated"),
    "orders/paid": _lt("Order paid"),
    "orders/cancelled": _lt("Order cancelled"),
    "orders/fulfilled": _lt("Order fulfilled"),
    "refunds/create": _lt("Refund created"),
    "customers/create": _lt("Customer created"),
    "customers/update": _lt("Customer updated"),
    "products/update": _lt("Product updated"),
    "app/uninstalled": _lt("App uninstalled"),
    "inventory/set": _lt("Stock levels sent"),
    "fulfillments/create": _lt("Fulfillment sent"),
    "fulfillments/tracking": _lt("Tracking number sent"),
}

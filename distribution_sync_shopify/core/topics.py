"""Readable labels of the Shopify topics (webhooks in, pushes out); the
core's ``topic_label`` reads them before its own table."""


def _lt(source):
    """Mark ``source`` for the translation catalog (translated where shown)."""
    return source


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

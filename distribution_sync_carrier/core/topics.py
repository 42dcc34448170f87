"""Readable labels of the carrier topics (EasyPost and Shippo webhooks in,
shipment requests out); the core's ``topic_label`` reads them before its
own table."""

if __name__.startswith("odoo.addons."):
    from odoo.addons.distribution_sync.core.topics import _lt
else:
    from distribution_sync.core.topics import _lt


TOPIC_LABELS = {
    "tracker.created": _lt("Tracking started"),
    "tracker.updated": _lt("Tracking updated"),
    "track_updated": _lt("Tracking updated"),
    "shipment/create": _lt("Shipment requested"),
    "shipment/buy": _lt("Label bought"),
    "shipment/refund": _lt("Label refund requested"),
    "tracker/create": _lt("Tracking requested"),
}

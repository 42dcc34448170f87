"""Readable labels of the QuickBooks topics (``<entity>/<operation>`` change
notices in, documents out); the core's ``topic_label`` reads them before its
own table. A topic both ways (``invoice/create``: a notice in, an invoice
out) has a ``(direction, topic)`` entry. Entities Odoo does not use read as
their words."""

if __name__.startswith("odoo.addons."):
    from odoo.addons.distribution_sync.core.topics import _lt
else:
    from distribution_sync.core.topics import _lt


TOPIC_LABELS = {
    # Outbound: what Odoo sends.
    ("outbound", "invoice/create"): _lt("Invoice sent"),
    ("outbound", "creditmemo/create"): _lt("Credit note sent"),
    ("outbound", "invoice/void"): _lt("Invoice voided"),
    ("outbound", "payment/create"): _lt("Payment sent"),
    # Inbound change notices Odoo acts on or reports.
    "invoice/create": _lt("Invoice created"),
    "creditmemo/create": _lt("Credit note created"),
    "invoice/void": _lt("Invoice voided"),
    "payment/create": _lt("Payment created"),
    "payment/update": _lt("Payment updated"),
    "payment/delete": _lt("Payment deleted"),
    "invoice/update": _lt("Invoice updated"),
    "invoice/delete": _lt("Invoice deleted"),
    "invoice/emailed": _lt("Invoice emailed"),
    "creditmemo/update": _lt("Credit note updated"),
    "creditmemo/delete": _lt("Credit note deleted"),
    "creditmemo/void": _lt("Credit note voided"),
    "customer/create": _lt("Customer created"),
    "customer/update": _lt("Customer updated"),
    "customer/merge": _lt("Customers merged"),
    "item/create": _lt("Item created"),
    "item/update": _lt("Item updated"),
    "invalid": _lt("Unreadable delivery"),
}

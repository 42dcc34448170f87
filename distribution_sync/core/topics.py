"""Readable labels of message topics.

A topic is the channel's own name of an event (``orders/create``,
``tracker.updated``) and stays the contract; people read a label. Each
channel keeps a table ``topic -> label``, with ``(direction, topic)`` keys
for a topic that means one thing inbound and another outbound; a topic
missing from it reads as its words (``customers/merge`` -> "Customers
merge").
"""

import re


def _lt(source):
    """Mark ``source`` for the translation catalog; it is translated where it
    is shown (the tables are read by Odoo code, in the user's language)."""
    return source


# Topics of the core: the reference channel and the stock push.
TOPIC_LABELS = {
    "partner/upsert": _lt("Customer created or updated"),
    "order/upsert": _lt("Order created or updated"),
    "order/cancel": _lt("Order cancelled"),
    "refund/create": _lt("Refund created"),
    "inventory/set": _lt("Stock levels sent"),
    "invalid": _lt("Unreadable delivery"),
}

_SEPARATORS = re.compile(r"[/._\-\s]+")


def humanize(topic):
    """``topic`` as words: ``customers/merge`` -> "Customers merge"."""
    words = _SEPARATORS.sub(" ", topic or "").strip()
    return words[:1].upper() + words[1:]


def topic_label(topic, *tables, direction=None):
    """The label of ``topic`` from the first table that has it (a channel's
    table before the core's; its ``(direction, topic)`` entry before its
    ``topic`` one), else its words; "" without a topic."""
    if not topic:
        return ""
    for table in tables:
        for key in ((direction, topic), topic):
            if table and key in table:
                return table[key]
    return humanize(topic)

"""Topics in words: a channel's table first, by direction, then the core's,
then the topic's own words; every channel's table covers its topics."""

import ast
from pathlib import Path

import pytest

from distribution_sync.core import topics
from distribution_sync_carrier.core import shippo
from distribution_sync_carrier.core import topics as carrier_topics
from distribution_sync_quickbooks.core import topics as quickbooks_topics
from distribution_sync_shopify.core import topics as shopify_topics
from distribution_sync_shopify.core import webhook as shopify_webhook

REPO = Path(__file__).resolve().parents[2]
TABLES = {
    "core": topics.TOPIC_LABELS,
    "shopify": shopify_topics.TOPIC_LABELS,
    "carrier": carrier_topics.TOPIC_LABELS,
    "quickbooks": quickbooks_topics.TOPIC_LABELS,
}


def test_core_topics_in_words():
    assert topics.topic_label("order/upsert", topics.TOPIC_LABELS) == (
        "Order created or updated"
    )


@pytest.mark.parametrize(
    ("topic", "words"),
    [
        ("customers/merge", "Customers merge"),
        ("tracker.updated", "Tracker updated"),
        ("track_updated", "Track updated"),
        ("a//b", "A b"),
        ("  ", ""),
    ],
)
def test_unknown_topic_reads_as_its_words(topic, words):
    assert topics.topic_label(topic, {}, topics.TOPIC_LABELS) == words


def test_no_topic_no_label():
    assert topics.topic_label(None, topics.TOPIC_LABELS) == ""
    assert topics.topic_label("", topics.TOPIC_LABELS) == ""


def test_first_table_wins_and_direction_before_topic():
    channel = {"order/upsert": "Shop order", ("outbound", "order/upsert"): "Sent"}
    assert topics.topic_label("order/upsert", channel, topics.TOPIC_LABELS) == (
        "Shop order"
    )
    assert (
        topics.topic_label(
            "order/upsert", channel, topics.TOPIC_LABELS, direction="outbound"
        )
        == "Sent"
    )
    assert topics.topic_label("order/cancel", channel, topics.TOPIC_LABELS) == (
        "Order cancelled"
    )


def test_quickbooks_topic_both_ways():
    table = quickbooks_topics.TOPIC_LABELS
    label = topics.topic_label
    assert label("invoice/create", table, direction="outbound") == "Invoice sent"
    assert label("invoice/create", table, direction="inbound") == "Invoice created"
    assert label("bill/create", table, direction="inbound") == "Bill create"


@pytest.mark.parametrize("name", sorted(TABLES))
def test_tables_hold_labels(name):
    for key, label in TABLES[name].items():
        topic = key[1] if isinstance(key, tuple) else key
        if isinstance(key, tuple):
            assert key[0] in ("inbound", "outbound")
        assert topic and label and label[0].isupper(), key


def test_channel_tables_cover_their_topics():
    assert set(shopify_webhook.KNOWN_TOPICS) <= set(shopify_topics.TOPIC_LABELS)
    # EasyPost: the Event descriptions of trackers; Shippo: its one event.
    carrier = set(carrier_topics.TOPIC_LABELS)
    assert {"tracker.created", "tracker.updated", shippo.TRACK_EVENT} <= carrier


def _string_constants(path, prefix):
    """Module-level ``<prefix>* = "..."`` constants of ``path``."""
    tree = ast.parse(path.read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id.startswith(prefix):
                    if isinstance(node.value.value, str):
                        yield node.value.value


@pytest.mark.parametrize(
    ("addon", "table"),
    [
        ("distribution_sync_shopify", shopify_topics.TOPIC_LABELS),
        ("distribution_sync_carrier", carrier_topics.TOPIC_LABELS),
        ("distribution_sync_quickbooks", quickbooks_topics.TOPIC_LABELS),
    ],
)
def test_outbound_topics_of_the_backends_have_labels(addon, table):
    """The topic constants of a channel's backend read in words, whichever
    way they go."""
    path = REPO / addon / "models" / "distribution_sync_backend.py"
    constants = [
        value
        for value in _string_constants(path, "TOPIC")
        if "/" in value or "." in value
    ]
    constants += list(_string_constants(path, "INVENTORY_TOPIC"))
    constants += list(_string_constants(path, "FULFILLMENT_TOPIC"))
    constants += list(_string_constants(path, "TRACKING_TOPIC"))
    assert constants
    for topic in constants:
        assert topic in table or ("outbound", topic) in table, topic

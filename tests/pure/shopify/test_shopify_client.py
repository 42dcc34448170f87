"""The Shopify GraphQL Admin API client, over real HTTP against the local fake."""

import importlib.util
import socket
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
import requests

import distribution_sync_shopify
from distribution_sync.core.errors import PayloadError, TransientError
from distribution_sync_shopify.core import client as client_module
from distribution_sync_shopify.core.client import (
    FULFILLMENT_ORDERS_QUERY,
    ORDERS_UPDATED_SINCE_QUERY,
    SHOP_QUERY,
    ShopifyClient,
    raise_user_errors,
)

# Loaded by path: importing the package distribution_sync_shopify.tests would run
# its __init__, which imports the Odoo test modules.
FAKE_FILE = Path(distribution_sync_shopify.__path__[0]) / "tests" / "fake_shopify.py"
_spec = importlib.util.spec_from_file_location("shopify_fake_server", FAKE_FILE)
fake_shopify = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fake_shopify)
FakeShopify = fake_shopify.FakeShopify

GRAPHQL_PATH = "/admin/api/2025-07/graphql.json"


class Sleeper:
    """Records the waits asked for; really sleeps them only when ``real``."""

    def __init__(self, real=False):
        self.calls = []
        self.real = real

    def __call__(self, seconds):
        self.calls.append(seconds)
        if self.real:
            time.sleep(seconds)


class RecordingSession(requests.Session):
    """A session that records the keyword arguments of every request."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def request(self, method, url, *args, **kwargs):
        self.calls.append({"method": method, "url": url, **kwargs})
        return super().request(method, url, *args, **kwargs)


def make_client(fake, *, real_sleep=False, **kwargs):
    kwargs.setdefault("sleep", Sleeper(real=real_sleep))
    return ShopifyClient(fake.url, fake.access_token, fake.api_version, **kwargs)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def fake():
    with FakeShopify() as server:
        yield server


@pytest.fixture
def small_bucket():
    with FakeShopify(maximum_available=100, restore_rate=50) as server:
        yield server


# --------------------------------------------------------------- transport
def test_versioned_url_and_token_header(fake):
    client = make_client(fake)
    assert client.shop() == {
        "name": "Acme Test Shop",
        "myshopifyDomain": "acme-test.myshopify.com",
    }
    (request,) = fake.requests
    assert request["path"] == GRAPHQL_PATH
    assert request["headers"]["X-Shopify-Access-Token"] == fake.access_token
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["json"] == {"query": SHOP_QUERY, "variables": {}}
    assert client.url == fake.url + GRAPHQL_PATH


def test_timeout_is_passed_on_every_call(fake):
    for number in range(3):
        fake.add_order(str(100 + number), lines=[])
    fake.fail_next(500)
    session = RecordingSession()
    client = make_client(fake, session=session, timeout=7)
    client.shop()
    nodes, cursor = client.orders_updated_page("2000-01-01T00:00:00Z", first=2)
    client.orders_updated_page("2000-01-01T00:00:00Z", after=cursor, first=2)
    assert len(session.calls) == 4  # a 500 and its retry, then two pages
    assert {call["timeout"] for call in session.calls} == {7}
    assert {call["method"] for call in session.calls} == {"POST"}


def test_base_url_is_normalised_and_token_kept_private():
    client = ShopifyClient("acme.myshopify.com/", "shpat_secret", "2025-07")
    assert client.url == "https://acme.myshopify.com/admin/api/2025-07/graphql.json"
    local = ShopifyClient("http://127.0.0.1:8999", "shpat_secret", "2025-07")
    assert local.url == "http://127.0.0.1:8999/admin/api/2025-07/graphql.json"
    assert "shpat_secret" not in repr(client)
    with pytest.raises(PayloadError, match="shop address is missing"):
        ShopifyClient("", "token", "2025-07")
    with pytest.raises(PayloadError, match="access token is missing"):
        ShopifyClient("https://acme.myshopify.com", "", "2025-07")
    with pytest.raises(PayloadError, match="not a Shopify API version"):
        ShopifyClient("https://acme.myshopify.com", "token", "")


def test_wrong_token_is_a_payload_error_without_retry(fake):
    client = ShopifyClient(fake.url, "shpat_wrong", fake.api_version, sleep=Sleeper())
    with pytest.raises(PayloadError) as caught:
        client.shop()
    assert "HTTP 401" in str(caught.value)
    assert "Invalid API key or access token" in str(caught.value)
    assert "shpat_wrong" not in str(caught.value)
    assert len(fake.requests) == 1
    assert client.sleep.calls == []


def test_wrong_version_path_is_refused(fake):
    client = ShopifyClient(fake.url, fake.access_token, "2024-01", sleep=Sleeper())
    with pytest.raises(PayloadError, match="HTTP 404: Not Found"):
        client.shop()
    assert fake.requests[0]["path"] == "/admin/api/2024-01/graphql.json"


# --------------------------------------------------------------- throttling
def test_cost_throttling_spaces_queries_before_the_bucket_runs_dry():
    # 8 queries of 25 points against a bucket of 100 restored at 100 points/s:
    # about 1 s of waiting, done by the client instead of by "Throttled" answers.
    with FakeShopify(
        maximum_available=100, restore_rate=100, costs={"shop": 25}
    ) as server:
        client = make_client(server, real_sleep=True)
        started = time.monotonic()
        for _ in range(8):
            assert client.shop()["name"] == "Acme Test Shop"
        elapsed = time.monotonic() - started
        assert server.count("shop") - server.throttled == 8
        assert server.throttled <= 1
        assert sum(client.sleep.calls) > 0
        # The bucket itself needs (8 x 25 - 100) / 100 = 1 s to pay for them all.
        assert 0.95 <= elapsed < 4
        assert client.throttle_status["maximumAvailable"] == 100


def test_estimated_cost_waits_for_the_restore_rate(small_bucket):
    small_bucket.set_available(41)
    client = make_client(small_bucket, clock=lambda: 1000.0)
    client.shop()
    assert client.sleep.calls == []
    available = client.throttle_status["currentlyAvailable"]
    assert available <= 41
    client.graphql(SHOP_QUERY, estimated_cost=90)
    assert client.sleep.calls == [pytest.approx((90 - available) / 50)]


def test_throttled_answer_is_waited_out_and_retried():
    with FakeShopify(
        maximum_available=100, restore_rate=50, costs={"shop": 20}
    ) as server:
        server.set_available(0)
        client = make_client(server, real_sleep=True)
        assert client.shop()["myshopifyDomain"] == "acme-test.myshopify.com"
        assert server.throttled == 1
        assert len(server.requests) == 2
        # (requestedQueryCost - currentlyAvailable) / restoreRate = (20 - 0) / 50
        (wait,) = client.sleep.calls
        assert 0.3 <= wait <= 0.4


def test_throttled_longer_than_max_wait_goes_back_to_the_job_queue():
    with FakeShopify(
        maximum_available=100, restore_rate=1, costs={"shop": 90}
    ) as server:
        server.set_available(0)
        client = make_client(server)
        with pytest.raises(TransientError) as caught:
            client.shop()
        assert caught.value.retry_after in (89, 90)
        assert client.sleep.calls == []
        assert server.throttled == 1


def test_throttled_again_and_again_gives_up_after_max_retries():
    with FakeShopify(
        maximum_available=100, restore_rate=1, costs={"shop": 5}
    ) as server:
        server.set_available(0)
        client = make_client(server, max_retries=2)  # the sleep does not sleep
        with pytest.raises(TransientError, match="throttled") as caught:
            client.shop()
        assert server.throttled == 3
        assert caught.value.retry_after in (4, 5)
        assert len(client.sleep.calls) == 2
        assert all(4 <= wait <= 5 for wait in client.sleep.calls)


# ----------------------------------------------------------------- failures
def test_server_error_then_success_is_retried(fake):
    fake.fail_next(500)
    client = make_client(fake)
    assert client.shop()["name"] == "Acme Test Shop"
    assert [r["status"] for r in fake.requests] == [500, 200]
    assert client.sleep.calls == [1.0]


def test_server_error_forever_raises_transient_after_max_retries(fake):
    fake.fail_next(500, times=10)
    client = make_client(fake, max_retries=3)
    with pytest.raises(TransientError, match="HTTP 500") as caught:
        client.shop()
    assert len(fake.requests) == 4
    assert client.sleep.calls == [1.0, 2.0, 4.0]
    assert caught.value.retry_after is None


def test_unavailable_with_retry_after_reports_it(fake):
    fake.fail_next(503, retry_after=3, times=10)
    client = make_client(fake, max_retries=1)
    with pytest.raises(TransientError) as caught:
        client.shop()
    assert caught.value.retry_after == 3
    assert client.sleep.calls == [3]


def test_rate_limited_429_honours_retry_after(fake):
    fake.fail_next(429, retry_after="2.0")
    client = make_client(fake)
    assert client.shop()["name"] == "Acme Test Shop"
    assert client.sleep.calls == [2]
    assert [r["status"] for r in fake.requests] == [429, 200]


def test_429_asking_too_long_a_wait_is_left_to_the_job_queue(fake):
    fake.fail_next(429, retry_after=120)
    client = make_client(fake)
    with pytest.raises(TransientError) as caught:
        client.shop()
    assert caught.value.retry_after == 120
    assert client.sleep.calls == []
    assert len(fake.requests) == 1


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (400, "Bad Request"),
        (422, "Required parameter missing or invalid"),
        (403, "This action requires merchant approval for write_inventory scope."),
    ],
)
def test_client_errors_are_payload_errors_without_retry(fake, status, message):
    fake.fail_next(status, body={"errors": message})
    client = make_client(fake)
    with pytest.raises(PayloadError) as caught:
        client.shop()
    assert f"HTTP {status}" in str(caught.value)
    assert message in str(caught.value)
    assert len(fake.requests) == 1
    assert client.sleep.calls == []


def test_graphql_errors_are_payload_errors(fake):
    client = make_client(fake)
    with pytest.raises(PayloadError, match="Field 'nonsense' doesn't exist"):
        client.graphql("query { nonsense { id } }")
    assert len(fake.requests) == 1


def test_graphql_internal_error_is_retried(fake):
    fake.fail_next(
        200,
        body={
            "errors": [
                {
                    "message": "Internal error. Looks like something went wrong.",
                    "extensions": {"code": "INTERNAL_SERVER_ERROR"},
                }
            ]
        },
    )
    client = make_client(fake)
    assert client.shop()["name"] == "Acme Test Shop"
    assert len(fake.requests) == 2


def test_read_timeout_is_retried_then_transient(fake):
    fake.fail_next(None, delay=0.5, times=2)
    client = make_client(fake, timeout=0.15, max_retries=1)
    with pytest.raises(TransientError, match="did not answer within 0.15 s"):
        client.shop()
    assert len(fake.requests) == 2


def test_read_timeout_then_success(fake):
    fake.fail_next(None, delay=0.5)
    client = make_client(fake, timeout=0.15)
    assert client.shop()["name"] == "Acme Test Shop"
    assert client.sleep.calls == [1.0]


def test_connection_refused_is_retried_then_transient():
    port = free_port()
    client = ShopifyClient(
        f"http://127.0.0.1:{port}", "token", "2025-07", sleep=Sleeper(), max_retries=2
    )
    with pytest.raises(TransientError, match="Cannot reach Shopify"):
        client.shop()
    assert client.sleep.calls == [1.0, 2.0]
    # Nothing reached Shopify: even a mutation is tried again.
    client.sleep.calls.clear()
    with pytest.raises(TransientError):
        client.create_fulfillment([{"fulfillmentOrderId": "1"}])
    assert client.sleep.calls == [1.0, 2.0]


# ---------------------------------------------------------------- mutations
def _order_with_two_lines(fake):
    record = fake.add_order(
        "5001",
        lines=[
            {"line_item_id": "61", "sku": "SKU-A", "quantity": 2},
            {"line_item_id": "62", "sku": "SKU-B", "quantity": 1},
        ],
        location_id="77",
    )
    return record["fulfillment_orders"][0]


def test_fulfillment_orders_shape(fake):
    fulfillment_order = _order_with_two_lines(fake)
    client = make_client(fake)
    result = client.fulfillment_orders("gid://shopify/Order/5001")
    line_a, line_b = fulfillment_order["line_items"]
    assert result == [
        {
            "id": fulfillment_order["id"],
            "status": "OPEN",
            "assignedLocation": {"location": {"id": "gid://shopify/Location/77"}},
            "lineItems": {
                "nodes": [
                    {
                        "id": line_a["id"],
                        "totalQuantity": 2,
                        "remainingQuantity": 2,
                        "lineItem": {"id": "gid://shopify/LineItem/61", "sku": "SKU-A"},
                    },
                    {
                        "id": line_b["id"],
                        "totalQuantity": 1,
                        "remainingQuantity": 1,
                        "lineItem": {"id": "gid://shopify/LineItem/62", "sku": "SKU-B"},
                    },
                ]
            },
        }
    ]
    (request,) = fake.requests
    assert request["json"]["query"] == FULFILLMENT_ORDERS_QUERY
    assert request["json"]["variables"] == {
        "id": "gid://shopify/Order/5001",
        "first": 5,
        "linesFirst": 50,
        "after": None,
    }


def test_fulfillment_orders_reads_every_page(fake):
    lines = [
        {"line_item_id": str(100 + n), "sku": f"S{n}", "quantity": 1} for n in range(5)
    ]
    fake.add_order("5002", lines=lines, location_id="1")
    fake.add_fulfillment_order("5002", lines=lines[:1], location_id="2")
    fake.add_fulfillment_order("5002", lines=lines[1:3], location_id="3")
    client = make_client(fake)
    client.fulfillment_orders_page = 2
    client.fulfillment_lines_page = 2
    client.fulfillment_lines_more_page = 2
    result = client.fulfillment_orders(5002)
    assert [len(fo["lineItems"]["nodes"]) for fo in result] == [5, 1, 2]
    assert [n["lineItem"]["sku"] for n in result[0]["lineItems"]["nodes"]] == [
        "S0",
        "S1",
        "S2",
        "S3",
        "S4",
    ]
    assert fake.count("fulfillmentOrders") == 2
    assert fake.count("fulfillmentOrder") == 2  # lines 3-4, then line 5


def test_fulfillment_orders_of_an_unknown_order(fake):
    client = make_client(fake)
    with pytest.raises(PayloadError, match="no order gid://shopify/Order/404"):
        client.fulfillment_orders("404")
    variables = {"id": "gid://shopify/Order/404", "first": 5, "linesFirst": 5}
    pages = client.paginate(
        FULFILLMENT_ORDERS_QUERY, variables, "order.fulfillmentOrders"
    )
    assert list(pages) == []


def test_create_fulfillment_sends_the_exact_input(fake):
    fulfillment_order = _order_with_two_lines(fake)
    line_a, line_b = fulfillment_order["line_items"]
    client = make_client(fake)
    payload = client.create_fulfillment(
        [
            {
                "fulfillmentOrderId": fulfillment_order["id"],
                "fulfillmentOrderLineItems": [{"id": line_a["id"], "quantity": 1}],
            }
        ],
        {"number": "1Z999AA10123456784", "company": "UPS", "url": ""},
    )
    assert raise_user_errors(payload, "fulfillmentCreate") is payload
    assert payload["fulfillment"]["status"] == "SUCCESS"
    (created,) = fake.fulfillments
    assert created["id"] == payload["fulfillment"]["id"]
    assert created["input"] == {
        "lineItemsByFulfillmentOrder": [
            {
                "fulfillmentOrderId": fulfillment_order["id"],
                "fulfillmentOrderLineItems": [{"id": line_a["id"], "quantity": 1}],
            }
        ],
        "notifyCustomer": False,
        "trackingInfo": {"number": "1Z999AA10123456784", "company": "UPS"},
    }
    assert (line_a["remainingQuantity"], line_b["remainingQuantity"]) == (1, 1)
    assert fulfillment_order["status"] == "IN_PROGRESS"
    # No line items: everything left on the fulfillment order.
    client.create_fulfillment(
        [{"fulfillmentOrderId": fulfillment_order["id"]}], None, notify_customer=True
    )
    assert fake.fulfillments[1]["input"] == {
        "lineItemsByFulfillmentOrder": [
            {"fulfillmentOrderId": fulfillment_order["id"]}
        ],
        "notifyCustomer": True,
    }
    assert fulfillment_order["status"] == "CLOSED"


def test_create_fulfillment_refuses_a_bad_quantity_before_calling(fake):
    client = make_client(fake)
    with pytest.raises(PayloadError, match="positive whole number"):
        client.create_fulfillment(
            [
                {
                    "fulfillmentOrderId": "1",
                    "fulfillmentOrderLineItems": [{"id": "2", "quantity": 0}],
                }
            ]
        )
    assert fake.requests == []


def test_mutation_is_not_repeated_after_a_server_error(fake):
    fulfillment_order = _order_with_two_lines(fake)
    fake.fail_next(500)
    client = make_client(fake)
    with pytest.raises(TransientError):
        client.create_fulfillment([{"fulfillmentOrderId": fulfillment_order["id"]}])
    assert len(fake.requests) == 1
    assert fake.fulfillments == []


def test_mutation_is_repeated_after_429(fake):
    fulfillment_order = _order_with_two_lines(fake)
    fake.fail_next(429, retry_after=1)
    client = make_client(fake)
    client.create_fulfillment([{"fulfillmentOrderId": fulfillment_order["id"]}])
    assert len(fake.fulfillments) == 1
    assert client.sleep.calls == [1]


def test_user_errors_are_returned_and_raise_user_errors_names_them(fake):
    fulfillment_order = _order_with_two_lines(fake)
    user_errors = [
        {"field": ["fulfillment", "trackingInfo", "url"], "message": "Url is invalid"}
    ]
    fake.fail_next_with_user_errors(user_errors)
    client = make_client(fake)
    payload = client.create_fulfillment(
        [{"fulfillmentOrderId": fulfillment_order["id"]}], {"url": "nope"}
    )
    assert payload == {"fulfillment": None, "userErrors": user_errors}
    assert fake.fulfillments == []
    with pytest.raises(PayloadError) as caught:
        raise_user_errors(payload, "fulfillmentCreate")
    assert "fulfillment.trackingInfo.url: Url is invalid" in str(caught.value)
    assert "fulfillmentCreate" in str(caught.value)
    assert caught.value.path == "fulfillmentCreate.fulfillment.trackingInfo.url"
    assert caught.value.value == user_errors


def test_over_fulfilment_comes_back_as_a_user_error(fake):
    fulfillment_order = _order_with_two_lines(fake)
    line_a = fulfillment_order["line_items"][0]
    client = make_client(fake)
    payload = client.create_fulfillment(
        [
            {
                "fulfillmentOrderId": fulfillment_order["id"],
                "fulfillmentOrderLineItems": [{"id": line_a["id"], "quantity": 3}],
            }
        ]
    )
    with pytest.raises(PayloadError, match="quantity requested") as caught:
        ShopifyClient.raise_user_errors(payload, "fulfillmentCreate")
    assert caught.value.path == (
        "fulfillmentCreate.fulfillment.lineItemsByFulfillmentOrder.0"
        ".fulfillmentOrderLineItems.0.quantity"
    )
    assert line_a["remainingQuantity"] == 2


def test_raise_user_errors_on_a_missing_payload():
    with pytest.raises(PayloadError, match="inventorySetQuantities: Shopify returned"):
        raise_user_errors(None, "inventorySetQuantities")


# ----------------------------------------------------------------- inventory
def _quantities(count, location="1"):
    return [
        {"inventoryItemId": str(10_000 + n), "locationId": location, "quantity": n}
        for n in range(count)
    ]


def test_inventory_is_set_in_batches_of_250(fake):
    client = make_client(fake)
    result = client.set_inventory(_quantities(600))
    assert [len(call["quantities"]) for call in fake.inventory_calls] == [250, 250, 100]
    assert fake.count("inventorySetQuantities") == 3
    assert len(fake.inventory) == 600
    assert (
        fake.inventory[
            ("gid://shopify/InventoryItem/10599", "gid://shopify/Location/1")
        ]
        == 599
    )
    assert result["userErrors"] == []
    assert len(result["inventoryAdjustmentGroups"]) == 3
    first = fake.inventory_calls[0]
    assert {key: first[key] for key in first if key != "quantities"} == {
        "name": "available",
        "reason": "correction",
        "ignoreCompareQuantity": True,
    }
    assert first["quantities"][1] == {
        "inventoryItemId": "gid://shopify/InventoryItem/10001",
        "locationId": "gid://shopify/Location/1",
        "quantity": 1,
    }


def test_inventory_reference_document_and_reason(fake):
    client = make_client(fake)
    client.set_inventory(
        _quantities(1),
        reason="cycle_count_available",
        name="on_hand",
        reference_document_uri="gid://odoo/StockQuant/5",
    )
    (call,) = fake.inventory_calls
    assert call["reason"] == "cycle_count_available"
    assert call["name"] == "on_hand"
    assert call["referenceDocumentUri"] == "gid://odoo/StockQuant/5"
    assert client.set_inventory([]) == {
        "inventoryAdjustmentGroups": [],
        "userErrors": [],
    }
    assert len(fake.inventory_calls) == 1


def test_inventory_user_errors_count_in_the_whole_list(fake):
    fake.locations = {"gid://shopify/Location/1"}
    rows = _quantities(300)
    rows[260]["locationId"] = "99"
    client = make_client(fake)
    result = client.set_inventory(rows)
    assert len(fake.inventory_calls) == 2
    assert len(fake.inventory) == 250  # the refused batch changed nothing
    (error,) = result["userErrors"]
    assert error["field"] == ["input", "quantities", "260", "locationId"]
    with pytest.raises(PayloadError, match="input.quantities.260.locationId"):
        raise_user_errors(result, "inventorySetQuantities")


def test_inventory_refuses_a_quantity_that_is_not_whole(fake):
    client = make_client(fake)
    rows = _quantities(2)
    rows[1]["quantity"] = 1.5
    with pytest.raises(PayloadError, match=r"quantities\[1\]\.quantity"):
        client.set_inventory(rows)
    assert fake.requests == []


def test_inventory_is_repeated_after_a_server_error(fake):
    fake.fail_next(502)
    client = make_client(fake)
    client.set_inventory(_quantities(3))
    assert fake.count("inventorySetQuantities") == 2
    assert len(fake.inventory) == 3


# ------------------------------------------------------------- pagination
def _orders(fake, count):
    for n in range(count):
        fake.add_order(
            str(8000 + n),
            lines=[],
            updated_at=f"2026-01-{n + 1:02d}T10:00:00Z",
        )


def test_paginate_follows_the_cursor(fake):
    _orders(fake, 7)
    client = make_client(fake)
    nodes = list(
        client.paginate(
            ORDERS_UPDATED_SINCE_QUERY,
            {"first": 3, "query": "updated_at:>='2000-01-01'"},
            "orders",
        )
    )
    assert [node["legacyResourceId"] for node in nodes] == [
        str(8000 + n) for n in range(7)
    ]
    assert [r["json"]["variables"]["after"] for r in fake.requests] == [None, "3", "6"]


def updated_since(client, since, first=50):
    """Every page of ``orders_updated_page``."""
    nodes, cursor = client.orders_updated_page(since, first=first)
    while cursor:
        more, cursor = client.orders_updated_page(since, after=cursor, first=first)
        nodes += more
    return nodes


def test_orders_updated_page(fake):
    _orders(fake, 5)
    client = make_client(fake)
    page, cursor = client.orders_updated_page("2026-01-03T00:00:00Z", first=2)
    assert [n["name"] for n in page] == ["#8002", "#8003"]
    assert cursor
    page, cursor = client.orders_updated_page(
        "2026-01-03T00:00:00Z", after=cursor, first=2
    )
    assert ([n["name"] for n in page], cursor) == (["#8004"], None)
    nodes = updated_since(client, "2026-01-03T00:00:00Z", first=2)
    assert nodes[0] == {
        "id": "gid://shopify/Order/8002",
        "legacyResourceId": "8002",
        "updatedAt": "2026-01-03T10:00:00Z",
        "name": "#8002",
    }
    assert [n["name"] for n in nodes] == ["#8002", "#8003", "#8004"]
    assert fake.requests[0]["json"]["variables"] == {
        "first": 2,
        "query": "updated_at:>='2026-01-03T00:00:00Z'",
        "after": None,
    }
    since = datetime(2026, 1, 4, 12, 0, tzinfo=timezone.utc)
    assert [n["name"] for n in updated_since(client, since)] == ["#8004"]


def test_orders_updated_page_refuses_text_that_would_change_the_query(fake):
    client = make_client(fake)
    with pytest.raises(PayloadError, match="not an ISO timestamp"):
        client.orders_updated_page("2026-01-01' OR status:any")
    assert fake.requests == []


def test_paginate_refuses_a_page_without_a_new_cursor(fake, monkeypatch):
    client = make_client(fake)
    answer = {"orders": {"nodes": [{"id": "1"}], "pageInfo": {"hasNextPage": True}}}
    monkeypatch.setattr(client, "graphql", lambda *args, **kwargs: answer)
    with pytest.raises(PayloadError, match="without a new cursor"):
        list(client.paginate(ORDERS_UPDATED_SINCE_QUERY, {}, "orders"))


def test_learned_cost_is_reused_for_the_same_query(small_bucket):
    client = make_client(small_bucket)
    client.shop()
    assert client._costs == {SHOP_QUERY: 1}
    assert client.last_cost["throttleStatus"]["restoreRate"] == 50
    assert client_module.INVENTORY_BATCH_SIZE == 250


# --------------------------------------------------------------- REST order
REST_BODY = {
    "id": 9001,
    "admin_graphql_api_id": "gid://shopify/Order/9001",
    "name": "#9001",
    "updated_at": "2026-03-02T10:01:30+01:00",
    "line_items": [{"id": 91, "sku": "SKU-A", "quantity": 1}],
}
REST_ORDER_PATH = "/admin/api/2025-07/orders/9001.json"


def test_rest_order_is_a_get_with_token_and_timeout(fake):
    fake.add_order("9001", rest_body=REST_BODY)
    session = RecordingSession()
    client = make_client(fake, session=session, timeout=7)
    assert client.rest_order("gid://shopify/Order/9001") == REST_BODY
    assert client.rest_order(9001) == REST_BODY
    assert [r["path"] for r in fake.requests] == [REST_ORDER_PATH] * 2
    assert {r["operation"] for r in fake.requests} == {"rest_order"}
    assert fake.requests[0]["headers"]["X-Shopify-Access-Token"] == fake.access_token
    assert {(call["method"], call["timeout"]) for call in session.calls} == {("GET", 7)}
    assert session.calls[0]["url"] == fake.url + REST_ORDER_PATH


def test_rest_order_keeps_ids_above_two_to_the_53(fake):
    body = dict(REST_BODY, id=820982911946154508)
    fake.set_rest_order("820982911946154508", body)
    assert make_client(fake).rest_order("820982911946154508")["id"] == (
        820982911946154508
    )


def test_rest_order_429_honours_retry_after(fake):
    fake.add_order("9001", rest_body=REST_BODY)
    fake.fail_next(429, retry_after="2.0")
    client = make_client(fake)
    assert client.rest_order("9001")["name"] == "#9001"
    assert client.sleep.calls == [2]
    assert [r["status"] for r in fake.requests] == [429, 200]


def test_rest_order_server_error_is_retried_then_transient(fake):
    fake.add_order("9001", rest_body=REST_BODY)
    fake.fail_next(500)
    client = make_client(fake)
    assert client.rest_order("9001")["name"] == "#9001"
    assert client.sleep.calls == [1.0]
    fake.fail_next(502, times=10)
    client = make_client(fake, max_retries=2)
    with pytest.raises(TransientError, match="HTTP 502"):
        client.rest_order("9001")
    assert client.sleep.calls == [1.0, 2.0]


def test_rest_order_unknown_is_a_payload_error_without_retry(fake):
    client = make_client(fake)
    with pytest.raises(PayloadError, match="HTTP 404") as caught:
        client.rest_order("9002")
    assert "no order 9002" in caught.value.hint
    assert len(fake.requests) == 1
    assert client.sleep.calls == []


def test_rest_order_wrong_token_and_bad_id(fake):
    fake.add_order("9001", rest_body=REST_BODY)
    client = ShopifyClient(fake.url, "shpat_wrong", fake.api_version, sleep=Sleeper())
    with pytest.raises(PayloadError, match="HTTP 401"):
        client.rest_order("9001")
    with pytest.raises(PayloadError, match="not a Shopify Order id"):
        make_client(fake).rest_order("../shop")
    assert len(fake.requests) == 1


def test_fake_orders_query_follows_the_rest_body_updated_at(fake):
    fake.add_order("9001", rest_body=REST_BODY)
    client = make_client(fake)
    (node,) = updated_since(client, "2026-03-02T09:00:00Z")
    assert node["updatedAt"] == "2026-03-02T09:01:30Z"
    assert not updated_since(client, "2026-03-02T09:02:00Z")
    fake.set_rest_order("9001", dict(REST_BODY, updated_at="2026-03-02T11:00:00Z"))
    (node,) = updated_since(client, "2026-03-02T09:02:00Z")
    assert node["updatedAt"] == "2026-03-02T11:00:00Z"

"""A local fake of the Shopify GraphQL Admin API, for tests.

Standard library only (it imports nothing from odoo), so that both the addon's
Odoo tests (``from .fake_shopify import FakeShopify``) and the pure tests (which
load this file by path) can use it::

    with FakeShopify(maximum_available=100, restore_rate=50) as fake:
        fake.add_order("1001", lines=[{"line_item_id": "11", "sku": "A",
                                       "quantity": 2}], location_id="7")
        client = ShopifyClient(fake.url, fake.access_token, fake.api_version)
        ...
        fake.requests, fake.fulfillments, fake.inventory

It serves ``POST /admin/api/{api_version}/graphql.json`` and the REST order
``GET /admin/api/{api_version}/orders/{id}.json`` on 127.0.0.1 (port 0: a free
port) from a daemon thread, checks ``X-Shopify-Access-Token`` (401 otherwise)
and the versioned path (404 otherwise), and charges every GraphQL operation
a fixed ``requestedQueryCost`` (``costs``) against a leaky bucket
(``maximum_available`` points, refilled at ``restore_rate`` points per second).
A request the bucket cannot pay for gets Shopify's "Throttled" answer: HTTP 200,
``errors[{"message": "Throttled", "extensions": {"code": "THROTTLED"}}]``, no
``data``. Every GraphQL answer carries ``extensions.cost``.

The operation is recognised by the query's root field; its arguments are read
from the variables (the queries of ``core/client.py`` pass every argument as a
variable): ``shop``, ``order { fulfillmentOrders }``, ``fulfillmentOrder {
lineItems }``, ``orders`` (paginated, filtered on ``updated_at:>='...'``),
``fulfillment { trackingInfo }``, ``locations`` (paginated, ``nodes { id name
isActive }``; inactive ones only with ``includeInactive: true``, as Shopify
does), ``fulfillmentCreate``,
``fulfillmentTrackingInfoUpdate`` and ``inventorySetQuantities``. Any other root
field is answered with a GraphQL error, as Shopify does for an unknown field.

REST orders: ``add_order(..., rest_body={...})`` or ``set_rest_order(id, body)``
store the body the REST endpoint answers (``{"order": body}``; 404 for an order
without one); the order's ``updatedAt``, which the GraphQL ``orders`` query
filters on, follows the body's ``updated_at``. A newer version of an order in
Shopify is one more ``set_rest_order`` call. REST requests are recorded with the
operation ``"rest_order"`` and take injected failures like any other.

What it records: ``requests`` (``{"path", "headers", "json", "operation",
"status"}`` per request), ``fulfillments`` (``{"id", "status", "input",
"trackingInfo"}``: the exact ``FulfillmentInput`` and the tracking the
fulfillment has now), ``tracking_updates`` (``{"id", "trackingInfoInput",
"notifyCustomer"}`` per accepted tracking update; an unknown fulfillment id is a
user error), ``inventory`` (``{(inventory item gid, location
gid): quantity}``), ``inventory_calls`` (each ``InventorySetQuantitiesInput``)
and ``throttled`` (the number of "Throttled" answers). Failures are injected
with ``fail_next`` and ``fail_next_with_user_errors``; ``locations`` (a set of
location gids, None for any) makes unknown locations a user error. The shop's
listed locations are added with ``add_location`` (``shop_locations``).
"""

import copy
import itertools
import json
import math
import re
import threading
import time
from collections import deque
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DEFAULT_ACCESS_TOKEN = "shpat_fake0123456789abcdef0123456789"
DEFAULT_API_VERSION = "2025-07"
DEFAULT_COSTS = {
    "shop": 1,
    "fulfillmentOrders": 10,
    "fulfillmentOrder": 10,
    "fulfillmentCreate": 10,
    "fulfillment": 1,
    "fulfillmentTrackingInfoUpdate": 10,
    "inventorySetQuantities": 10,
    "orders": 20,
    "locations": 5,
}
UNKNOWN_OPERATION_COST = 1
MAX_INVENTORY_QUANTITIES = 250
DOCUMENTATION = "https://shopify.dev/api/usage/rate-limits"

_PATH_RE = re.compile(r"^/admin/api/([^/]+)/graphql\.json$")
_REST_ORDER_RE = re.compile(r"^/admin/api/([^/]+)/orders/(\d+)\.json$")
REST_ORDER_OPERATION = "rest_order"
_ROOT_RE = re.compile(r"^\s*(?:\w+\s*:\s*)?(\w+)")
_SINCE_RE = re.compile(r"updated_at:>=?'?([^' ]+)'?")
_COMMENT_RE = re.compile(r"#[^\n]*")


def gid(kind, value):
    """``("Order", 5)`` -> ``"gid://shopify/Order/5"``; a GraphQL id is kept."""
    text = str(value)
    return text if text.startswith("gid://") else f"gid://shopify/{kind}/{text}"


def _number(value):
    return str(value).rsplit("/", 1)[-1]


def _now_iso():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _utc_iso(text):
    """An ISO timestamp with any offset as GraphQL writes it (UTC, ``Z``)."""
    value = _parse_time(text)
    if value is None:
        raise ValueError(f"{text!r} is not an ISO timestamp")
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(text):
    text = str(text).strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value


def root_field(query):
    """The first root field of a GraphQL document (``shop``, ``orders``...)."""
    text = _COMMENT_RE.sub("", query or "")
    start = text.find("{")
    if start < 0:
        return None
    match = _ROOT_RE.match(text[start + 1 :])
    return match.group(1) if match else None


class _Handler(BaseHTTPRequestHandler):
    server_version = "FakeShopify/1.0"
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        """Silence the default access log on stderr."""

    def do_POST(self):
        self.server.fake.handle(self)

    def do_GET(self):
        self.server.fake.handle(self)

    def send_json(self, status, body, headers=None):
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, str(value))
        self.end_headers()
        self.wfile.write(data)


class FakeShopify:
    """The fake shop; starts serving at once (``.url``), ``.stop()`` ends it."""

    def __init__(
        self,
        *,
        access_token=DEFAULT_ACCESS_TOKEN,
        api_version=DEFAULT_API_VERSION,
        maximum_available=1000,
        restore_rate=50,
        costs=None,
        shop_name="Acme Test Shop",
        shop_domain="acme-test.myshopify.com",
    ):
        self.access_token = access_token
        self.api_version = api_version
        self.maximum_available = float(maximum_available)
        self.restore_rate = float(restore_rate)
        self.costs = {**DEFAULT_COSTS, **(costs or {})}
        self.shop_name = shop_name
        self.shop_domain = shop_domain
        self.requests = []  # {"path", "headers", "json", "operation", "status"}
        self.fulfillments = []  # {"id", "status", "input", "trackingInfo"}
        self.tracking_updates = []  # {"id", "trackingInfoInput", "notifyCustomer"}
        self.inventory = {}  # (inventory item gid, location gid) -> quantity
        self.inventory_calls = []  # each InventorySetQuantitiesInput received
        self.throttled = 0  # "Throttled" answers given
        self.orders = {}  # order number (text) -> order record
        self.rest_orders = {}  # order number (text) -> REST order body
        # Location gids inventory may be set at; None accepts any location.
        self.locations = None
        self.shop_locations = []  # {"id" (gid), "name", "isActive"}
        self._failures = deque()
        self._user_errors = deque()
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self._available = self.maximum_available
        self._refilled_at = time.monotonic()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.fake = self
        host, port = self._server.server_address[:2]
        self.url = f"http://{host}:{port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-shopify",
            daemon=True,
        )
        self._thread.start()

    # --------------------------------------------------------------- life
    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.stop()

    def stop(self):
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        self._server = None

    @property
    def graphql_url(self):
        return f"{self.url}/admin/api/{self.api_version}/graphql.json"

    # -------------------------------------------------------------- state
    def add_order(
        self,
        order_id,
        lines=None,
        location_id="1",
        *,
        name=None,
        updated_at=None,
        rest_body=None,
    ):
        """An order with one open fulfillment order at ``location_id``.

        ``lines``: ``[{"line_item_id", "sku", "quantity"}]``, by default the
        ``line_items`` of ``rest_body``. ``rest_body``: the order as the REST
        endpoint serves it (see ``set_rest_order``). Returns the order record;
        ``record["fulfillment_orders"][0]["line_items"]`` holds the fulfillment
        order line item ids (``"id"``) next to ``line_item_id``.
        """
        number = _number(order_id)
        if lines is None:
            lines = [
                {
                    "line_item_id": line["id"],
                    "sku": line.get("sku"),
                    "quantity": line.get("quantity") or 0,
                }
                for line in (rest_body or {}).get("line_items") or ()
            ]
        with self._lock:
            self.orders[number] = {
                "id": gid("Order", number),
                "legacyResourceId": number,
                "name": name or (rest_body or {}).get("name") or f"#{number}",
                "updatedAt": updated_at or _now_iso(),
                "fulfillment_orders": [],
            }
        if rest_body is not None:
            self.set_rest_order(number, rest_body, updated_at=updated_at)
        self.add_fulfillment_order(number, lines, location_id)
        return self.orders[number]

    def set_rest_order(self, order_id, body, *, updated_at=None):
        """Store (or replace: a newer version) the REST body of an order.

        The order's ``updatedAt`` becomes ``updated_at``, else the body's
        ``updated_at`` in UTC, else now; an order the fake did not know yet is
        added without fulfillment orders. Returns the order record.
        """
        number = _number(order_id)
        stamp = updated_at or (
            _utc_iso(body["updated_at"]) if body.get("updated_at") else _now_iso()
        )
        with self._lock:
            self.rest_orders[number] = copy.deepcopy(body)
            order = self.orders.setdefault(
                number,
                {
                    "id": gid("Order", number),
                    "legacyResourceId": number,
                    "name": body.get("name") or f"#{number}",
                    "fulfillment_orders": [],
                },
            )
            order["updatedAt"] = stamp
            return order

    def add_fulfillment_order(self, order_id, lines, location_id="1"):
        """Another fulfillment order of an existing order; returns it."""
        with self._lock:
            order = self.orders[_number(order_id)]
            fulfillment_order = {
                "id": gid("FulfillmentOrder", 9000 + next(self._ids)),
                "status": "OPEN",
                "location_id": gid("Location", location_id),
                "line_items": [
                    {
                        "id": gid("FulfillmentOrderLineItem", 7000 + next(self._ids)),
                        "line_item_id": gid("LineItem", line["line_item_id"]),
                        "sku": line.get("sku"),
                        "totalQuantity": int(line["quantity"]),
                        "remainingQuantity": int(line["quantity"]),
                    }
                    for line in lines
                ],
            }
            order["fulfillment_orders"].append(fulfillment_order)
            return fulfillment_order

    def add_location(self, location_id, name, *, active=True):
        """A location the ``locations`` query lists; returns its node."""
        node = {"id": gid("Location", location_id), "name": name, "isActive": active}
        with self._lock:
            self.shop_locations.append(node)
        return node

    def fulfillment_order_line_id(self, order_id, line_item_id):
        """The fulfillment order line item gid of an order line."""
        wanted = gid("LineItem", line_item_id)
        for fulfillment_order in self.orders[_number(order_id)]["fulfillment_orders"]:
            for line in fulfillment_order["line_items"]:
                if line["line_item_id"] == wanted:
                    return line["id"]
        raise KeyError(line_item_id)

    def fail_next(self, status=500, retry_after=None, *, body=None, delay=0.0, times=1):
        """Answer the next ``times`` requests with HTTP ``status`` (and a
        ``Retry-After`` header when given) instead of running them.

        ``body`` replaces the JSON body (with status 200 it can inject GraphQL
        errors); ``status=None`` with a ``delay`` only slows the request down
        (seconds) before it is served normally, to provoke client timeouts.
        """
        with self._lock:
            for _ in range(times):
                self._failures.append(
                    {
                        "status": status,
                        "retry_after": retry_after,
                        "body": body,
                        "delay": delay,
                    }
                )

    def clear_failures(self):
        """Forget the failures planned by ``fail_next`` and not served yet."""
        with self._lock:
            self._failures.clear()

    def fail_next_with_user_errors(self, user_errors):
        """The next mutation answers these ``userErrors`` and changes nothing
        (``[{"field": [...], "message": ...}]``)."""
        with self._lock:
            self._user_errors.append(copy.deepcopy(list(user_errors)))

    def set_available(self, points):
        """Set the bucket's current level (e.g. 0 to provoke "Throttled")."""
        with self._lock:
            self._refill()
            self._available = float(points)

    def throttle_status(self):
        with self._lock:
            self._refill()
            return self._status()

    def count(self, operation):
        """Requests received for an operation (``"orders"``, ...)."""
        return sum(1 for r in self.requests if r.get("operation") == operation)

    # ------------------------------------------------------------- bucket
    def _refill(self):
        now = time.monotonic()
        elapsed = max(0.0, now - self._refilled_at)
        self._available = min(
            self.maximum_available, self._available + elapsed * self.restore_rate
        )
        self._refilled_at = now

    def _status(self):
        return {
            "maximumAvailable": self.maximum_available,
            "currentlyAvailable": int(math.floor(self._available)),
            "restoreRate": self.restore_rate,
        }

    def _charge(self, cost):
        """Take ``cost`` points; None (nothing taken) when the bucket is short."""
        with self._lock:
            self._refill()
            if self._available < cost:
                return None
            self._available -= cost
            return self._status()

    def _cost(self, requested, actual, status):
        return {
            "requestedQueryCost": requested,
            "actualQueryCost": actual,
            "throttleStatus": status,
        }

    # ----------------------------------------------------------- requests
    def handle(self, handler):
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        try:
            body = json.loads(raw.decode("utf-8")) if raw else None
        except (UnicodeDecodeError, ValueError):
            body = None
        query = body.get("query") if isinstance(body, dict) else None
        record = {
            "path": handler.path,
            "headers": dict(handler.headers.items()),
            "json": body,
            "operation": self._operation(query)
            if handler.command == "POST"
            else self._rest_operation(handler.path),
            "status": None,
        }
        with self._lock:
            self.requests.append(record)
            failure = self._failures.popleft() if self._failures else None
        status, answer, headers = self._answer(handler, record, body, failure)
        record["status"] = status
        handler.send_json(status, answer, headers)

    def _operation(self, query):
        root = root_field(query) if isinstance(query, str) else None
        if root == "order" and "fulfillmentOrders" in query:
            return "fulfillmentOrders"
        return root

    @staticmethod
    def _rest_operation(path):
        if _REST_ORDER_RE.match(path.split("?", 1)[0]):
            return REST_ORDER_OPERATION
        return None

    def _refusal(self, handler, failure, pattern, method):
        """(status, body, headers) when the path, the token or an injected
        failure stops the request before it runs; None otherwise."""
        match = pattern.match(handler.path.split("?", 1)[0])
        if handler.command != method or not match or match.group(1) != self.api_version:
            return 404, {"errors": "Not Found"}, None
        token = handler.headers.get("X-Shopify-Access-Token")
        if token != self.access_token:
            return (
                401,
                {
                    "errors": "[API] Invalid API key or access token "
                    "(unrecognized login or wrong password)"
                },
                None,
            )
        if failure is not None:
            if failure["delay"]:
                time.sleep(failure["delay"])
            if failure["status"] is not None:
                return self._failure_answer(failure)
        return None

    def _answer(self, handler, record, body, failure):
        """(status, JSON body, headers) for one request."""
        if record["operation"] == REST_ORDER_OPERATION:
            return self._answer_rest_order(handler, failure)
        refused = self._refusal(handler, failure, _PATH_RE, "POST")
        if refused is not None:
            return refused
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return (
                400,
                {"errors": {"query": "Required parameter missing or invalid"}},
                None,
            )
        operation = record["operation"]
        requested = self.costs.get(operation, UNKNOWN_OPERATION_COST)
        status = self._charge(requested)
        if status is None:
            with self._lock:
                self.throttled += 1
                throttle_status = self._status()
            return (
                200,
                {
                    "errors": [
                        {
                            "message": "Throttled",
                            "extensions": {
                                "code": "THROTTLED",
                                "documentation": DOCUMENTATION,
                            },
                        }
                    ],
                    "extensions": {
                        "cost": self._cost(requested, None, throttle_status)
                    },
                },
                None,
            )
        variables = body.get("variables") or {}
        handler_method = getattr(self, f"_op_{operation}", None)
        extensions = {"cost": self._cost(requested, requested, status)}
        if handler_method is None:
            return (
                200,
                {
                    "errors": [
                        {
                            "message": f"Field '{operation}' doesn't exist on type "
                            "'QueryRoot'",
                            "extensions": {
                                "code": "undefinedField",
                                "typeName": "QueryRoot",
                                "fieldName": operation,
                            },
                        }
                    ],
                    "extensions": extensions,
                },
                None,
            )
        with self._lock:
            data = handler_method(variables)
        return 200, {"data": data, "extensions": extensions}, None

    def _answer_rest_order(self, handler, failure):
        refused = self._refusal(handler, failure, _REST_ORDER_RE, "GET")
        if refused is not None:
            return refused
        number = _REST_ORDER_RE.match(handler.path.split("?", 1)[0]).group(2)
        with self._lock:
            body = copy.deepcopy(self.rest_orders.get(number))
        if body is None:
            return 404, {"errors": "Not Found"}, None
        return 200, {"order": body}, {"X-Shopify-Shop-Api-Call-Limit": "1/40"}

    def _failure_answer(self, failure):
        status = failure["status"]
        headers = {}
        if failure["retry_after"] is not None:
            headers["Retry-After"] = failure["retry_after"]
        body = failure["body"]
        if body is None:
            if status == 429:
                message = (
                    "Exceeded 2 calls per second for api client. Reduce request "
                    "rates to resume uninterrupted service."
                )
            elif status >= 500:
                message = "Internal Server Error"
            else:
                message = f"Bad Request (HTTP {status})"
            body = {"errors": message}
        return status, body, headers

    def _take_user_errors(self):
        return self._user_errors.popleft() if self._user_errors else None

    # ---------------------------------------------------------- operations
    def _op_shop(self, variables):
        return {"shop": {"name": self.shop_name, "myshopifyDomain": self.shop_domain}}

    def _fulfillment_order_node(self, fulfillment_order, lines_first):
        lines = self._page(
            [self._line_node(line) for line in fulfillment_order["line_items"]],
            lines_first,
            None,
        )
        return {
            "id": fulfillment_order["id"],
            "status": fulfillment_order["status"],
            "assignedLocation": {"location": {"id": fulfillment_order["location_id"]}},
            "lineItems": lines,
        }

    @staticmethod
    def _line_node(line):
        return {
            "id": line["id"],
            "totalQuantity": line["totalQuantity"],
            "remainingQuantity": line["remainingQuantity"],
            "lineItem": {"id": line["line_item_id"], "sku": line["sku"]},
        }

    @staticmethod
    def _page(nodes, first, after):
        """A connection page; cursors are the position after a node."""
        start = int(after) if after else 0
        first = int(first or 50)
        chunk = nodes[start : start + first]
        end = start + len(chunk)
        return {
            "nodes": chunk,
            "pageInfo": {
                "hasNextPage": end < len(nodes),
                "endCursor": str(end) if chunk else None,
            },
        }

    def _op_fulfillmentOrders(self, variables):
        order = self.orders.get(_number(variables.get("id", "")))
        if order is None:
            return {"order": None}
        nodes = [
            self._fulfillment_order_node(fo, variables.get("linesFirst", 100))
            for fo in order["fulfillment_orders"]
        ]
        return {
            "order": {
                "id": order["id"],
                "fulfillmentOrders": self._page(
                    nodes, variables.get("first", 50), variables.get("after")
                ),
            }
        }

    def _find_fulfillment_order(self, fulfillment_order_id):
        for order in self.orders.values():
            for fulfillment_order in order["fulfillment_orders"]:
                if fulfillment_order["id"] == fulfillment_order_id:
                    return fulfillment_order
        return None

    def _op_fulfillmentOrder(self, variables):
        fulfillment_order = self._find_fulfillment_order(variables.get("id"))
        if fulfillment_order is None:
            return {"fulfillmentOrder": None}
        nodes = [self._line_node(line) for line in fulfillment_order["line_items"]]
        return {
            "fulfillmentOrder": {
                "id": fulfillment_order["id"],
                "lineItems": self._page(
                    nodes, variables.get("first", 50), variables.get("after")
                ),
            }
        }

    def _op_orders(self, variables):
        since = None
        match = _SINCE_RE.search(variables.get("query") or "")
        if match:
            since = _parse_time(match.group(1))
        orders = sorted(
            self.orders.values(),
            key=lambda o: (_parse_time(o["updatedAt"]), int(o["legacyResourceId"])),
        )
        nodes = [
            {
                "id": order["id"],
                "legacyResourceId": order["legacyResourceId"],
                "updatedAt": order["updatedAt"],
                "name": order["name"],
            }
            for order in orders
            if since is None or _parse_time(order["updatedAt"]) >= since
        ]
        return {
            "orders": self._page(
                nodes, variables.get("first", 50), variables.get("after")
            )
        }

    def _op_locations(self, variables):
        nodes = [
            dict(node)
            for node in self.shop_locations
            if node["isActive"] or variables.get("includeInactive")
        ]
        return {
            "locations": self._page(
                nodes, variables.get("first", 50), variables.get("after")
            )
        }

    def _fulfillment_errors(self, fulfillment):
        """userErrors Shopify would give for a FulfillmentInput, and the
        (line record, quantity) pairs to apply when there are none."""
        groups = fulfillment.get("lineItemsByFulfillmentOrder") or []
        if not groups:
            return [
                {
                    "field": ["fulfillment", "lineItemsByFulfillmentOrder"],
                    "message": "Line items by fulfillment order can't be blank",
                }
            ], []
        problems, changes = [], []
        for index, group in enumerate(groups):
            base = ["fulfillment", "lineItemsByFulfillmentOrder", str(index)]
            fulfillment_order = self._find_fulfillment_order(
                group.get("fulfillmentOrderId")
            )
            if fulfillment_order is None:
                problems.append(
                    {
                        "field": [*base, "fulfillmentOrderId"],
                        "message": "Fulfillment order does not exist.",
                    }
                )
                continue
            lines = {line["id"]: line for line in fulfillment_order["line_items"]}
            items = group.get("fulfillmentOrderLineItems")
            if not items:
                changes += [
                    (line, line["remainingQuantity"])
                    for line in lines.values()
                    if line["remainingQuantity"]
                ]
                continue
            for line_index, item in enumerate(items):
                line = lines.get(item.get("id"))
                quantity = item.get("quantity")
                field = [*base, "fulfillmentOrderLineItems", str(line_index)]
                if line is None:
                    problems.append(
                        {
                            "field": [*field, "id"],
                            "message": "Fulfillment order line item does not exist.",
                        }
                    )
                elif (
                    not isinstance(quantity, int)
                    or quantity <= 0
                    or quantity > line["remainingQuantity"]
                ):
                    problems.append(
                        {
                            "field": [*field, "quantity"],
                            "message": "Invalid fulfillment order line item "
                            "quantity requested.",
                        }
                    )
                else:
                    changes.append((line, quantity))
        return problems, changes

    def _op_fulfillmentCreate(self, variables):
        fulfillment = variables.get("fulfillment") or {}
        injected = self._take_user_errors()
        problems, changes = (
            (injected, []) if injected else self._fulfillment_errors(fulfillment)
        )
        if problems:
            return {"fulfillmentCreate": {"fulfillment": None, "userErrors": problems}}
        for line, quantity in changes:
            line["remainingQuantity"] -= quantity
        for group in fulfillment.get("lineItemsByFulfillmentOrder") or []:
            fulfillment_order = self._find_fulfillment_order(
                group.get("fulfillmentOrderId")
            )
            remaining = any(
                line["remainingQuantity"] for line in fulfillment_order["line_items"]
            )
            fulfillment_order["status"] = "IN_PROGRESS" if remaining else "CLOSED"
        tracking = fulfillment.get("trackingInfo")
        record = {
            "id": gid("Fulfillment", 5000 + next(self._ids)),
            "status": "SUCCESS",
            "input": copy.deepcopy(fulfillment),
            "trackingInfo": [self._tracking_info(tracking)] if tracking else [],
        }
        self.fulfillments.append(record)
        return {
            "fulfillmentCreate": {
                "fulfillment": {"id": record["id"], "status": record["status"]},
                "userErrors": [],
            }
        }

    @staticmethod
    def _tracking_info(tracking):
        return {key: tracking.get(key) for key in ("number", "url", "company")}

    def _find_fulfillment(self, fulfillment_id):
        for record in self.fulfillments:
            if record["id"] == fulfillment_id:
                return record
        return None

    def _op_fulfillment(self, variables):
        record = self._find_fulfillment(variables.get("id"))
        if record is None:
            return {"fulfillment": None}
        return {
            "fulfillment": {
                "id": record["id"],
                "trackingInfo": copy.deepcopy(record["trackingInfo"]),
            }
        }

    def _op_fulfillmentTrackingInfoUpdate(self, variables):
        record = self._find_fulfillment(variables.get("fulfillmentId"))
        tracking = variables.get("trackingInfoInput") or {}
        problems = self._take_user_errors()
        if not problems and record is None:
            problems = [
                {"field": ["fulfillmentId"], "message": "Fulfillment does not exist."}
            ]
        if problems:
            return {
                "fulfillmentTrackingInfoUpdate": {
                    "fulfillment": None,
                    "userErrors": problems,
                }
            }
        record["trackingInfo"] = [self._tracking_info(tracking)]
        self.tracking_updates.append(
            {
                "id": record["id"],
                "trackingInfoInput": copy.deepcopy(tracking),
                "notifyCustomer": variables.get("notifyCustomer"),
            }
        )
        return {
            "fulfillmentTrackingInfoUpdate": {
                "fulfillment": {
                    "id": record["id"],
                    "trackingInfo": copy.deepcopy(record["trackingInfo"]),
                },
                "userErrors": [],
            }
        }

    def _inventory_errors(self, payload):
        quantities = payload.get("quantities") or []
        if not quantities:
            return [
                {
                    "code": "INVALID_QUANTITY",
                    "field": ["input", "quantities"],
                    "message": "Quantities can't be blank",
                }
            ]
        if len(quantities) > MAX_INVENTORY_QUANTITIES:
            return [
                {
                    "code": "INVALID_QUANTITY",
                    "field": ["input", "quantities"],
                    "message": f"Quantities can't exceed {MAX_INVENTORY_QUANTITIES}",
                }
            ]
        problems = []
        for index, row in enumerate(quantities):
            for key, kind in (
                ("inventoryItemId", "InventoryItem"),
                ("locationId", "Location"),
            ):
                value = row.get(key)
                if not isinstance(value, str) or not value.startswith(
                    f"gid://shopify/{kind}/"
                ):
                    problems.append(
                        {
                            "code": "INVALID_INVENTORY_ITEM"
                            if key == "inventoryItemId"
                            else "INVALID_LOCATION",
                            "field": ["input", "quantities", str(index), key],
                            "message": f"The specified {kind} could not be found.",
                        }
                    )
            location = row.get("locationId")
            if (
                self.locations is not None
                and isinstance(location, str)
                and location not in self.locations
            ):
                problems.append(
                    {
                        "code": "INVALID_LOCATION",
                        "field": ["input", "quantities", str(index), "locationId"],
                        "message": "The specified location could not be found.",
                    }
                )
            if not isinstance(row.get("quantity"), int):
                problems.append(
                    {
                        "code": "INVALID_QUANTITY",
                        "field": ["input", "quantities", str(index), "quantity"],
                        "message": "Quantity must be a whole number.",
                    }
                )
        return problems

    def _op_inventorySetQuantities(self, variables):
        payload = variables.get("input") or {}
        self.inventory_calls.append(copy.deepcopy(payload))
        problems = self._take_user_errors() or self._inventory_errors(payload)
        if problems:
            return {
                "inventorySetQuantities": {
                    "inventoryAdjustmentGroup": None,
                    "userErrors": problems,
                }
            }
        name = payload.get("name") or "available"
        changes = []
        for row in payload["quantities"]:
            key = (row["inventoryItemId"], row["locationId"])
            before = self.inventory.get(key, 0)
            self.inventory[key] = row["quantity"]
            changes.append(
                {
                    "name": name,
                    "delta": row["quantity"] - before,
                    "quantityAfterChange": row["quantity"],
                }
            )
        return {
            "inventorySetQuantities": {
                "inventoryAdjustmentGroup": {
                    "id": gid("InventoryAdjustmentGroup", 3000 + next(self._ids)),
                    "reason": payload.get("reason"),
                    "referenceDocumentUri": payload.get("referenceDocumentUri"),
                    "changes": changes,
                },
                "userErrors": [],
            }
        }

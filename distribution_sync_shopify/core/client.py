"""Client of the Shopify GraphQL Admin API, on ``requests``.

Requests go to ``{base_url}/admin/api/{api_version}/graphql.json`` with the header
``X-Shopify-Access-Token`` and a timeout on every call. ``base_url`` is the shop
address (``https://acme.myshopify.com``); a local server
(``http://127.0.0.1:8999``) is enough to talk to a fake shop in tests.

One REST Admin call remains: ``rest_order`` reads an order in the REST shape
that ``orders/*`` webhook bodies have (``GET {base_url}/admin/api/{api_version}/
orders/{id}.json``), to re-fetch an order whose webhook went missing. It shares
the token header, the timeout, the retries and the error classes below.

Rate limits: Shopify charges each query its calculated cost against a leaky
bucket per app and shop (``extensions.cost.throttleStatus`` on every answer:
``maximumAvailable``, ``currentlyAvailable``, ``restoreRate`` points per second).
The client keeps the last status it saw and, before a query whose cost is known
(``estimated_cost``, or the ``requestedQueryCost`` Shopify charged the same query
text before), sleeps just long enough for the bucket to hold it. When Shopify
answers "Throttled" anyway, the client waits
``(requestedQueryCost - currentlyAvailable) / restoreRate`` seconds and retries.

Each job builds its own client: the bucket state kept here only spaces the calls
of that job and nothing relies on memory shared between workers or processes.
Shopify's bucket is the authority; workers that drain it together get
"Throttled" answers, which are waited out like any other. A client is not meant
to be shared between threads.

Failures: HTTP 429 honours ``Retry-After``; 5xx, timeouts and connection errors
are retried with a bounded exponential back-off (``max_retries``) and then raise
``TransientError`` (with ``retry_after`` when known), as does a wait longer than
``max_wait`` seconds, so that a worker is never blocked for long: the job queue
retries later. A mutation that is not idempotent is not sent twice when the first
request may have reached Shopify (5xx, read timeout, dropped connection): the
``TransientError`` goes straight to the job, whose retry reads the state first.
Other 4xx answers and GraphQL ``errors`` raise ``PayloadError`` with Shopify's
message, without retry. ``userErrors`` of mutations are returned to the caller;
``raise_user_errors`` turns them into a ``PayloadError`` naming field and message.
"""

import logging
import math
import re
import time
from collections.abc import Mapping
from datetime import date, datetime, timezone

import requests

from ._base import errors

if __name__.startswith("odoo.addons."):
    from odoo.addons.distribution_sync.core import http, retry
else:
    from distribution_sync.core import http, retry

_logger = logging.getLogger(__name__)

PayloadError = errors.PayloadError
ConfigurationError = errors.ConfigurationError
TransientError = errors.TransientError

TOKEN_HEADER = "X-Shopify-Access-Token"
GRAPHQL_PATH = "/admin/api/{version}/graphql.json"
DEFAULT_TIMEOUT = 20
THROTTLED_CODE = "THROTTLED"
MAX_COST_CODE = "MAX_COST_EXCEEDED"
# GraphQL error codes that mean "try again later" rather than "fix the request".
TRANSIENT_GRAPHQL_CODES = frozenset({"INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE"})
INVENTORY_BATCH_SIZE = 250

_GID_RE = re.compile(r"^gid://shopify/[A-Za-z]+/\d+(?:\?.*)?$")
_SAFE_TIMESTAMP_RE = re.compile(r"^[0-9T:.+\-Z ]+$")
_MESSAGE_LIMIT = 500

# ------------------------------------------------------------------ queries
# Shopify refuses a query whose requested cost exceeds 1,000 points; nested
# connections multiply (a connection costs 2 + its page size times the cost of
# one node). Fulfillment orders are therefore read 5 at a time with 50 lines
# each (about 530 points requested, far less actually charged); an order with
# more lines gets the rest through FULFILLMENT_ORDER_LINES_QUERY.
SHOP_QUERY = """
query Shop {
  shop {
    name
    myshopifyDomain
  }
}
"""

FULFILLMENT_ORDERS_QUERY = """
query FulfillmentOrders($id: ID!, $first: Int!, $after: String, $linesFirst: Int!) {
  order(id: $id) {
    id
    fulfillmentOrders(first: $first, after: $after) {
      nodes {
        id
        status
        assignedLocation {
          location {
            id
          }
        }
        lineItems(first: $linesFirst) {
          nodes {
            id
            totalQuantity
            remainingQuantity
            lineItem {
              id
              sku
            }
          }
          pageInfo {
            hasNextPage
            endCursor
          }
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
}
"""

FULFILLMENT_ORDER_LINES_QUERY = """
query FulfillmentOrderLines($id: ID!, $first: Int!, $after: String) {
  fulfillmentOrder(id: $id) {
    id
    lineItems(first: $first, after: $after) {
      nodes {
        id
        remainingQuantity
        lineItem {
          id
          sku
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
}
"""

FULFILLMENT_CREATE_MUTATION = """
mutation FulfillmentCreate($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment {
      id
      status
    }
    userErrors {
      field
      message
    }
  }
}
"""

FULFILLMENT_TRACKING_QUERY = """
query FulfillmentTracking($id: ID!) {
  fulfillment(id: $id) {
    id
    trackingInfo(first: 10) {
      company
      number
      url
    }
  }
}
"""

FULFILLMENT_TRACKING_UPDATE_MUTATION = """
mutation FulfillmentTrackingInfoUpdate(
  $fulfillmentId: ID!
  $trackingInfoInput: FulfillmentTrackingInput!
  $notifyCustomer: Boolean
) {
  fulfillmentTrackingInfoUpdate(
    fulfillmentId: $fulfillmentId
    trackingInfoInput: $trackingInfoInput
    notifyCustomer: $notifyCustomer
  ) {
    fulfillment {
      id
      trackingInfo(first: 10) {
        company
        number
        url
      }
    }
    userErrors {
      field
      message
    }
  }
}
"""

INVENTORY_SET_QUANTITIES_MUTATION = """
mutation InventorySetQuantities($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) {
    inventoryAdjustmentGroup {
      id
      reason
      referenceDocumentUri
      changes {
        name
        delta
        quantityAfterChange
      }
    }
    userErrors {
      code
      field
      message
    }
  }
}
"""

# Without the read_all_orders scope Shopify only returns the last 60 days.
ORDERS_UPDATED_SINCE_QUERY = """
query OrdersUpdatedSince($first: Int!, $after: String, $query: String!) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    nodes {
      id
      legacyResourceId
      updatedAt
      name
    }
    pageInfo {
      hasNextPage
      endCursor
    }
  }
}
"""

# Needs the read_locations access scope; inactive locations are listed too, so
# that a location closed in Shopify is seen as such instead of vanishing.
LOCATIONS_QUERY = """
query Locations($first: Int!, $after: String, $includeInactive: Boolean) {
  locations(first: $first, after: $after, includeInactive: $includeInactive) {
    nodes {
      id
      name
      isActive
    }
    pageInfo {
      hasNextPage
      endCursor
    }
  }
}
"""


# ------------------------------------------------------------------ helpers
def to_gid(kind, value):
    """``("Order", 123)`` -> ``"gid://shopify/Order/123"``; a GraphQL id is kept."""
    if isinstance(value, bool) or value is None:
        raise PayloadError(f"{value!r} is not a Shopify {kind} id.", value=value)
    text = str(value).strip()
    if _GID_RE.match(text):
        return text
    if text.isdigit():
        return f"gid://shopify/{kind}/{text}"
    raise PayloadError(f"{value!r} is not a Shopify {kind} id.", value=value)


def _numeric_id(kind, value):
    """The numeric tail of a Shopify id (``123`` or ``gid://shopify/Order/123``)."""
    return to_gid(kind, value).split("?", 1)[0].rsplit("/", 1)[-1]


def _field_path(field):
    if isinstance(field, (list, tuple)):
        return ".".join(str(part) for part in field)
    return str(field) if field else ""


def raise_user_errors(payload, path):
    """Raise ``PayloadError`` when a mutation payload carries ``userErrors``.

    ``payload`` is the mutation's answer (``data["fulfillmentCreate"]``) and
    ``path`` names it; the message lists ``field: message`` for each error and
    ``error.path`` names the first field. Returns ``payload`` when clean.
    """
    if not isinstance(payload, Mapping):
        raise PayloadError(f"{path}: Shopify returned no result.", path=path)
    user_errors = payload.get("userErrors") or []
    if not user_errors:
        return payload
    parts = []
    first_path = None
    for error in user_errors:
        error = error if isinstance(error, Mapping) else {"message": str(error)}
        field = _field_path(error.get("field"))
        message = str(error.get("message") or "invalid").strip()
        full = f"{path}.{field}" if field else path
        if first_path is None:
            first_path = full
        parts.append(f"{field}: {message}" if field else message)
    raise errors.DocumentRefused(
        f"Shopify refused {path}: {'; '.join(parts)}",
        value=list(user_errors),
        hint="Correct the data in Odoo or in Shopify, then retry.",
        path=first_path,
    )


def _dig(data, path, what):
    """``data["a"]["b"]`` for ``"a.b"`` (or ``["a", "b"]``); None when a step
    is null (e.g. an object Shopify does not know)."""
    keys = path.split(".") if isinstance(path, str) else list(path)
    node = data
    for key in keys:
        if node is None:
            return None
        if not isinstance(node, Mapping):
            raise PayloadError(
                f"Unexpected Shopify answer for {what}: {key!r} is not in an object.",
                path=".".join(keys),
            )
        node = node.get(key)
    return node


def _connection_nodes(connection):
    if "nodes" in connection:
        return list(connection.get("nodes") or [])
    return [edge.get("node") for edge in connection.get("edges") or []]


def _timestamp_text(since):
    if isinstance(since, datetime):
        if since.tzinfo is None:
            since = since.replace(tzinfo=timezone.utc)
        return since.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(since, date):
        return since.isoformat()
    text = str(since or "").strip()
    if not text or not _SAFE_TIMESTAMP_RE.match(text):
        raise PayloadError(f"{since!r} is not an ISO timestamp.", value=since)
    return text


def _shopify_message(response):
    """Shopify's own words from an error answer (JSON ``errors`` or the text)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    message = None
    if isinstance(body, Mapping):
        found = body.get("errors", body.get("error"))
        if isinstance(found, str):
            message = found
        elif isinstance(found, list):
            message = "; ".join(
                str(item.get("message", item))
                if isinstance(item, Mapping)
                else str(item)
                for item in found
            )
        elif isinstance(found, Mapping):
            message = "; ".join(f"{key}: {value}" for key, value in found.items())
    if not message:
        message = (response.text or "").strip() or (response.reason or "no message")
    return message[:_MESSAGE_LIMIT]


class _Retry(Exception):
    """Internal: the attempt failed in a way worth repeating after ``wait``."""

    def __init__(self, wait, error, *, kind, unsafe=False):
        super().__init__(str(error))
        self.wait = wait
        self.error = error
        self.kind = kind  # "failure" or "throttle"
        self.unsafe = unsafe  # the request may have been executed


# ------------------------------------------------------------------- client
class ShopifyClient:
    """Shopify GraphQL Admin API client; see the module docstring."""

    backoff_base = 1.0  # seconds after the first failure, doubled each time
    backoff_cap = 30.0
    fulfillment_orders_page = 5
    fulfillment_lines_page = 50
    fulfillment_lines_more_page = 250
    inventory_batch_size = INVENTORY_BATCH_SIZE

    raise_user_errors = staticmethod(raise_user_errors)

    def __init__(
        self,
        base_url,
        access_token,
        api_version,
        *,
        timeout=DEFAULT_TIMEOUT,
        session=None,
        max_retries=4,
        sleep=time.sleep,
        clock=time.monotonic,
        max_wait=60.0,
    ):
        base = str(base_url or "").strip().rstrip("/")
        if not base:
            raise ConfigurationError(
                "The Shopify shop address is missing.",
                hint="Set the shop domain or the API URL on the backend.",
            )
        if "://" not in base:
            base = f"https://{base}"
        version = str(api_version or "").strip()
        if not version or "/" in version:
            raise ConfigurationError(
                f"{api_version!r} is not a Shopify API version.",
                value=api_version,
                hint="Set the Shopify API version (YYYY-MM) on the backend.",
            )
        if not access_token:
            raise ConfigurationError(
                "The Shopify access token is missing.",
                hint="Set the Admin API access token on the backend.",
            )
        self.base_url = base
        self.api_version = version
        self.url = base + GRAPHQL_PATH.format(version=version)
        self._access_token = access_token
        self.timeout = timeout
        self.session = session if session is not None else requests.Session()
        self._own_session = session is None
        self.max_retries = max(0, int(max_retries))
        self.sleep = sleep
        self.clock = clock
        self.max_wait = max_wait
        # Last bucket state seen: (maximum, available, restore rate, clock time).
        self._bucket = None
        # requestedQueryCost Shopify charged per query text.
        self._costs = {}
        self.last_cost = None

    def __repr__(self):
        return f"<ShopifyClient {self.url}>"

    def close(self):
        if self._own_session:
            self.session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    # ------------------------------------------------------------- bucket
    @property
    def throttle_status(self):
        """The bucket as last reported, restored to now; None before any answer."""
        if self._bucket is None:
            return None
        maximum, _available, rate, _at = self._bucket
        return {
            "maximumAvailable": maximum,
            "currentlyAvailable": self._available_now(),
            "restoreRate": rate,
        }

    def _available_now(self):
        maximum, available, rate, at = self._bucket
        elapsed = max(0.0, self.clock() - at)
        return min(maximum, available + rate * elapsed)

    def _remember_cost(self, query, body):
        """Keep ``extensions.cost`` of an answer: the bucket and the query's cost."""
        extensions = body.get("extensions")
        cost = extensions.get("cost") if isinstance(extensions, Mapping) else None
        if not isinstance(cost, Mapping):
            return None
        self.last_cost = cost
        status = cost.get("throttleStatus")
        if isinstance(status, Mapping):
            try:
                self._bucket = (
                    float(status["maximumAvailable"]),
                    float(status["currentlyAvailable"]),
                    float(status["restoreRate"]),
                    self.clock(),
                )
            except (KeyError, TypeError, ValueError):
                _logger.warning("Shopify: unreadable throttleStatus %r", status)
        requested = cost.get("requestedQueryCost")
        if isinstance(requested, (int, float)) and not isinstance(requested, bool):
            self._costs[query] = requested
        return cost

    def _wait_for_points(self, cost):
        """Sleep until the bucket as last seen holds ``cost`` points."""
        if not cost or self._bucket is None:
            return
        maximum, _available, rate, _at = self._bucket
        if rate <= 0:
            return
        needed = min(float(cost), maximum)
        available = self._available_now()
        if available >= needed:
            return
        wait = (needed - available) / rate
        error = TransientError(
            f"Shopify's rate limit: the query costs {cost} points and the bucket "
            f"holds {available:.0f}.",
            hint="The job is retried later.",
        )
        self._pause(wait, error)

    def _pause(self, seconds, error):
        """Sleep ``seconds``, or raise ``error`` when that is longer than
        ``max_wait`` (the job queue then retries later, the worker is free)."""
        if seconds > self.max_wait:
            if error.retry_after is None or error.retry_after < seconds:
                error.retry_after = math.ceil(seconds)
            raise error
        if seconds > 0:
            _logger.debug("Shopify: waiting %.2f s (%s)", seconds, error)
            self.sleep(seconds)

    def _backoff(self, failures):
        """Seconds to wait after the ``failures``-th failure in a row."""
        return min(self.backoff_cap, self.backoff_base * 2 ** (failures - 1))

    # ------------------------------------------------------------ graphql
    def graphql(self, query, variables=None, *, estimated_cost=None, idempotent=None):
        """Run ``query`` and return its ``data``.

        ``estimated_cost`` (points) lets the client wait before the bucket runs
        dry; by default the cost Shopify charged the same query text before is
        used. ``idempotent`` (default: True for queries, False for mutations)
        allows repeating a request that may have reached Shopify.
        """
        if idempotent is None:
            idempotent = not query.lstrip().startswith("mutation")
        payload = {"query": query, "variables": dict(variables or {})}
        cost = estimated_cost if estimated_cost is not None else self._costs.get(query)
        return self._with_retries(
            lambda: self._attempt(query, payload), idempotent=idempotent, cost=cost
        )

    def _with_retries(self, attempt, *, idempotent, cost=None):
        """Run ``attempt()`` until it answers, waiting out throttling and
        transient failures as the module docstring says."""
        failures = throttles = 0
        while True:
            self._wait_for_points(cost)
            try:
                return attempt()
            except _Retry as again:
                error = again.error
                if again.kind == "throttle":
                    throttles += 1
                    exhausted = throttles > self.max_retries
                    wait = again.wait
                    # The wait was computed from fresh numbers: no second wait.
                    cost = None
                else:
                    failures += 1
                    exhausted = failures > self.max_retries
                    wait = again.wait
                    if wait is None:
                        wait = self._backoff(failures)
                if exhausted or (again.unsafe and not idempotent):
                    raise error from again.__cause__
                self._pause(wait, error)

    def _send(self, method, url, payload=None):
        """One HTTP request with the token header and the timeout; network
        failures become ``_Retry`` (transient) or ``PayloadError``."""
        headers = {TOKEN_HEADER: self._access_token, "Accept": "application/json"}
        if payload is not None:
            headers["Content-Type"] = "application/json"
        try:
            return self.session.request(
                method, url, json=payload, headers=headers, timeout=self.timeout
            )
        except requests.exceptions.Timeout as exc:
            error = TransientError(
                f"Shopify did not answer within {self.timeout} s.",
                hint="The job is retried later.",
            )
            raise _Retry(
                None, error, kind="failure", unsafe=not http.never_sent(exc)
            ) from exc
        except (
            requests.exceptions.ConnectionError,
            requests.exceptions.ChunkedEncodingError,
        ) as exc:
            error = TransientError(
                f"Cannot reach Shopify at {self.base_url} ({type(exc).__name__}).",
                hint="Check the shop address; the job is retried later.",
            )
            raise _Retry(
                None, error, kind="failure", unsafe=not http.never_sent(exc)
            ) from exc
        except requests.exceptions.RequestException as exc:
            raise PayloadError(
                f"Cannot call Shopify at {url}: {exc}",
                hint="Check the shop address (api_url).",
            ) from exc

    def _json_answer(self, response, not_found_hint=None):
        """The JSON object of an answer; errors raised as for every call."""
        status = response.status_code
        if status >= 400:
            self._raise_for_status(response, not_found_hint=not_found_hint)
        return http.json_object(
            response, "Shopify", "Check the shop address (api_url)."
        )

    def _attempt(self, query, payload):
        body = self._json_answer(self._send("POST", self.url, payload))
        cost = self._remember_cost(query, body)
        if body.get("errors"):
            self._raise_graphql_errors(body["errors"], cost)
        data = body.get("data")
        if not isinstance(data, Mapping):
            raise PayloadError("Shopify answered without data.", value=body)
        return data

    def _raise_for_status(self, response, not_found_hint=None):
        status = response.status_code
        message = _shopify_message(response)
        header_wait = retry.retry_after_seconds(response.headers.get("Retry-After"))
        if retry.is_transient_http_status(status):
            error = TransientError(
                f"Shopify answered HTTP {status}: {message}",
                retry_after=header_wait,
                hint="The job is retried later.",
            )
            # 429 and 503 are refused before the request runs.
            unsafe = status not in (429, 503)
            raise _Retry(header_wait, error, kind="failure", unsafe=unsafe)
        if status in (401, 403):
            hint = "Check the access token and the app's access scopes."
        elif status == 404:
            hint = not_found_hint or "Check the shop address and the API version."
        else:
            hint = "Correct the request, then retry."
        raise PayloadError(
            f"Shopify answered HTTP {status}: {message}", value=status, hint=hint
        )

    def _raise_graphql_errors(self, found, cost):
        items = found if isinstance(found, list) else [found]
        codes = set()
        messages = []
        for item in items:
            if isinstance(item, Mapping):
                extensions = item.get("extensions") or {}
                code = (
                    extensions.get("code") if isinstance(extensions, Mapping) else None
                )
                if code:
                    codes.add(str(code).upper())
                messages.append(str(item.get("message") or code or item))
            else:
                messages.append(str(item))
        text = "; ".join(messages)[:_MESSAGE_LIMIT]
        if THROTTLED_CODE in codes or any(m.strip() == "Throttled" for m in messages):
            raise self._throttled(cost)
        if codes & TRANSIENT_GRAPHQL_CODES:
            error = TransientError(
                f"Shopify failed: {text}", hint="The job is retried later."
            )
            raise _Retry(None, error, kind="failure", unsafe=True)
        hint = "Correct the request, then retry."
        if MAX_COST_CODE in codes:
            hint = "Ask for fewer records per page."
        raise PayloadError(f"Shopify refused the query: {text}", value=items, hint=hint)

    def _throttled(self, cost):
        requested = available = rate = maximum = None
        if isinstance(cost, Mapping):
            requested = cost.get("requestedQueryCost")
            status = cost.get("throttleStatus") or {}
            available = status.get("currentlyAvailable")
            rate = status.get("restoreRate")
            maximum = status.get("maximumAvailable")
        if None in (requested, available, rate) or rate <= 0:
            wait = self.backoff_base
        else:
            if maximum is not None and requested > maximum:
                return PayloadError(
                    f"The query costs {requested} points, more than Shopify's "
                    f"bucket holds ({maximum}).",
                    value=requested,
                    hint="Ask for fewer records per page.",
                )
            wait = max(0.0, (float(requested) - float(available)) / float(rate))
            if wait <= 0:
                wait = 1.0 / float(rate)
        error = TransientError(
            "Shopify throttled the request (query cost above the available points).",
            retry_after=math.ceil(wait),
            hint="The job is retried later.",
        )
        return _Retry(wait, error, kind="throttle")

    # --------------------------------------------------------- pagination
    def paginate(self, query, variables, connection_path, *, estimated_cost=None):
        """Yield the nodes of a connection over all its pages.

        ``query`` takes a ``$after: String`` variable; ``connection_path`` names
        the connection in ``data`` (``"orders"`` or ``"order.fulfillmentOrders"``)
        and the connection selects ``nodes`` (or ``edges { node }``) and
        ``pageInfo { hasNextPage endCursor }``. A null object on the path (an
        unknown id) yields nothing.
        """
        for _data, connection in self._pages(
            query, variables, connection_path, estimated_cost=estimated_cost
        ):
            if connection is not None:
                yield from _connection_nodes(connection)

    def _pages(self, query, variables, connection_path, *, estimated_cost=None):
        """Yield ``(data, connection)`` per page; see ``paginate``."""
        variables = dict(variables or {})
        after = variables.pop("after", None)
        while True:
            data = self.graphql(
                query, {**variables, "after": after}, estimated_cost=estimated_cost
            )
            connection = _dig(data, connection_path, connection_path)
            if connection is None:
                yield data, None
                return
            if not isinstance(connection, Mapping):
                raise PayloadError(
                    f"Unexpected Shopify answer: {connection_path} is not a "
                    "connection.",
                    path=str(connection_path),
                )
            yield data, connection
            page = connection.get("pageInfo") or {}
            if not page.get("hasNextPage"):
                return
            cursor = page.get("endCursor")
            if not cursor or cursor == after:
                raise PayloadError(
                    f"Shopify announced another page of {connection_path} "
                    "without a new cursor.",
                    path=str(connection_path),
                )
            after = cursor

    # ------------------------------------------------------------ helpers
    def shop(self):
        """``{"name", "myshopifyDomain"}``: the cheapest proof that the address,
        version and token work ("test connection")."""
        shop = self.graphql(SHOP_QUERY).get("shop")
        if not isinstance(shop, Mapping):
            raise PayloadError("Shopify answered without the shop.")
        return dict(shop)

    def locations(self, first=100):
        """Every location of the shop, active or not: ``[{"id" (GraphQL id),
        "name", "isActive"}]`` (further pages are fetched)."""
        return [
            {
                "id": to_gid("Location", node.get("id")),
                "name": str(node.get("name") or ""),
                "isActive": bool(node.get("isActive", True)),
            }
            for node in self.paginate(
                LOCATIONS_QUERY,
                {"first": int(first), "includeInactive": True},
                "locations",
            )
            if isinstance(node, Mapping)
        ]

    def fulfillment_orders(self, order_gid):
        """The order's fulfillment orders as Shopify shapes them: ``[{"id",
        "status", "assignedLocation": {"location": {"id"}}, "lineItems":
        {"nodes": [{"id", "remainingQuantity", "lineItem": {"id", "sku"}}]}}]``,
        every fulfillment order and line item included (further pages are
        fetched). ``order_gid`` may also be the numeric order id."""
        order_id = to_gid("Order", order_gid)
        variables = {
            "id": order_id,
            "first": self.fulfillment_orders_page,
            "linesFirst": self.fulfillment_lines_page,
        }
        result = []
        for data, connection in self._pages(
            FULFILLMENT_ORDERS_QUERY, variables, "order.fulfillmentOrders"
        ):
            if data.get("order") is None:
                raise PayloadError(
                    f"Shopify has no order {order_id}.",
                    value=order_id,
                    hint="The order may have been deleted in Shopify.",
                )
            for node in _connection_nodes(connection or {}):
                result.append(self._complete_lines(node))
        return result

    def _complete_lines(self, node):
        """A fulfillment order with all its line items (``lineItems.nodes``)."""
        node = dict(node)
        lines = node.get("lineItems") or {}
        items = _connection_nodes(lines)
        page = lines.get("pageInfo") or {}
        if page.get("hasNextPage"):
            items.extend(
                self.paginate(
                    FULFILLMENT_ORDER_LINES_QUERY,
                    {
                        "id": node["id"],
                        "first": self.fulfillment_lines_more_page,
                        "after": page.get("endCursor"),
                    },
                    "fulfillmentOrder.lineItems",
                )
            )
        node["lineItems"] = {"nodes": items}
        return node

    def create_fulfillment(
        self, lines_by_fulfillment_order, tracking=None, notify_customer=False
    ):
        """Create one fulfillment; returns the ``fulfillmentCreate`` payload
        (``{"fulfillment": {"id", "status"}, "userErrors": [...]}``) for the
        caller to check with ``raise_user_errors``.

        ``lines_by_fulfillment_order``: ``[{"fulfillmentOrderId",
        "fulfillmentOrderLineItems": [{"id", "quantity"}]}]`` (no line items:
        everything remaining on that fulfillment order); ``tracking``:
        ``{"number", "company", "url"}``, empty values left out.

        Not repeated after a failure that may have reached Shopify: a second
        fulfillment would be refused (nothing left to fulfil) or, worse, succeed
        for lines that are still open.
        """
        groups = []
        for index, group in enumerate(lines_by_fulfillment_order or []):
            path = f"lineItemsByFulfillmentOrder[{index}]"
            entry = {
                "fulfillmentOrderId": to_gid(
                    "FulfillmentOrder", group.get("fulfillmentOrderId")
                )
            }
            items = []
            for line_index, item in enumerate(
                group.get("fulfillmentOrderLineItems") or []
            ):
                quantity = item.get("quantity")
                if (
                    isinstance(quantity, bool)
                    or not isinstance(quantity, int)
                    or quantity <= 0
                ):
                    raise PayloadError(
                        f"{path}.fulfillmentOrderLineItems[{line_index}].quantity: "
                        f"{quantity!r} is not a positive whole number.",
                        value=quantity,
                        path=f"{path}.fulfillmentOrderLineItems[{line_index}].quantity",
                    )
                items.append(
                    {
                        "id": to_gid("FulfillmentOrderLineItem", item.get("id")),
                        "quantity": quantity,
                    }
                )
            if items:
                entry["fulfillmentOrderLineItems"] = items
            groups.append(entry)
        if not groups:
            raise PayloadError("A fulfillment needs at least one fulfillment order.")
        fulfillment = {
            "lineItemsByFulfillmentOrder": groups,
            "notifyCustomer": bool(notify_customer),
        }
        tracking_info = self._tracking_input(tracking)
        if tracking_info:
            fulfillment["trackingInfo"] = tracking_info
        data = self.graphql(
            FULFILLMENT_CREATE_MUTATION, {"fulfillment": fulfillment}, idempotent=False
        )
        return data.get("fulfillmentCreate")

    @staticmethod
    def _tracking_input(tracking):
        """``{"number", "company", "url"}`` with empty values left out."""
        return {
            key: str(value).strip()
            for key, value in (tracking or {}).items()
            if key in ("number", "company", "url") and value and str(value).strip()
        }

    def fulfillment_tracking(self, fulfillment_id):
        """The tracking Shopify has for a fulfillment (``[{"number", "url",
        "company"}]``, one per package, possibly none), or None when Shopify
        has no such fulfillment. ``fulfillment_id``: numeric or GraphQL id."""
        data = self.graphql(
            FULFILLMENT_TRACKING_QUERY, {"id": to_gid("Fulfillment", fulfillment_id)}
        )
        fulfillment = data.get("fulfillment")
        if not isinstance(fulfillment, Mapping):
            return None
        return [
            {key: info.get(key) for key in ("number", "url", "company")}
            for info in fulfillment.get("trackingInfo") or ()
            if isinstance(info, Mapping)
        ]

    def update_fulfillment_tracking(
        self, fulfillment_id, tracking, notify_customer=False
    ):
        """Set a fulfillment's tracking (``{"number", "company", "url"}``,
        empty values left out) with ``fulfillmentTrackingInfoUpdate``; returns
        its payload (``{"fulfillment", "userErrors"}``) for the caller to
        check with ``raise_user_errors``. Setting the same tracking again
        changes nothing (the customer is not notified by default): retried
        after any transient failure."""
        tracking_input = self._tracking_input(tracking)
        if not tracking_input.get("number"):
            raise PayloadError("A tracking update needs a tracking number.")
        data = self.graphql(
            FULFILLMENT_TRACKING_UPDATE_MUTATION,
            {
                "fulfillmentId": to_gid("Fulfillment", fulfillment_id),
                "trackingInfoInput": tracking_input,
                "notifyCustomer": bool(notify_customer),
            },
            idempotent=True,
        )
        return data.get("fulfillmentTrackingInfoUpdate")

    def set_inventory(
        self,
        quantities,
        reason="correction",
        name="available",
        reference_document_uri=None,
    ):
        """Set absolute quantities (``[{"inventoryItemId", "locationId",
        "quantity"}]``) with ``inventorySetQuantities``, 250 per call, without
        compare-and-set (Odoo is the source of truth).

        Returns ``{"inventoryAdjustmentGroups": [...], "userErrors": [...]}``
        over all calls; a user error's ``field`` index counts in the whole list.
        Every batch is sent even when one is refused (Shopify applies a call
        whole or not at all; setting absolute quantities again is harmless), so
        one bad item does not hold back the others. Absolute quantities make the
        call idempotent, hence retried after any transient failure.
        """
        rows = []
        for index, row in enumerate(quantities or []):
            quantity = row.get("quantity")
            if isinstance(quantity, bool) or not isinstance(quantity, int):
                raise PayloadError(
                    f"quantities[{index}].quantity: {quantity!r} is not a whole "
                    "number.",
                    value=quantity,
                    path=f"quantities[{index}].quantity",
                )
            rows.append(
                {
                    "inventoryItemId": to_gid(
                        "InventoryItem", row.get("inventoryItemId")
                    ),
                    "locationId": to_gid("Location", row.get("locationId")),
                    "quantity": quantity,
                }
            )
        groups, user_errors = [], []
        size = max(1, int(self.inventory_batch_size))
        for start in range(0, len(rows), size):
            payload = {
                "name": name,
                "reason": reason,
                "ignoreCompareQuantity": True,
                "quantities": rows[start : start + size],
            }
            if reference_document_uri:
                payload["referenceDocumentUri"] = reference_document_uri
            data = self.graphql(
                INVENTORY_SET_QUANTITIES_MUTATION, {"input": payload}, idempotent=True
            )
            result = data.get("inventorySetQuantities") or {}
            if result.get("inventoryAdjustmentGroup"):
                groups.append(result["inventoryAdjustmentGroup"])
            for error in result.get("userErrors") or []:
                user_errors.append(_shift_field(error, start))
        return {"inventoryAdjustmentGroups": groups, "userErrors": user_errors}

    def orders_updated_page(self, since_iso, after=None, first=50):
        """One page of the orders updated at or after ``since_iso``, oldest
        first, to find orders whose webhook never arrived: ``(nodes, cursor)``
        with nodes ``{"id", "legacyResourceId", "updatedAt", "name"}`` and the
        cursor of the next page (None after the last page)."""
        since = _timestamp_text(since_iso)
        data = self.graphql(
            ORDERS_UPDATED_SINCE_QUERY,
            {"first": int(first), "query": f"updated_at:>='{since}'", "after": after},
        )
        connection = _dig(data, "orders", "orders")
        if connection is None:
            return [], None
        if not isinstance(connection, Mapping):
            raise PayloadError(
                "Unexpected Shopify answer: orders is not a connection.",
                path="orders",
            )
        page = connection.get("pageInfo") or {}
        cursor = page.get("endCursor") if page.get("hasNextPage") else None
        if page.get("hasNextPage") and (not cursor or cursor == after):
            raise PayloadError(
                "Shopify announced another page of orders without a new cursor.",
                path="orders",
            )
        return _connection_nodes(connection), cursor

    # --------------------------------------------------------------- REST
    def rest_url(self, path):
        """``{base}/admin/api/{version}/{path}`` of a REST Admin resource."""
        return f"{self.base_url}/admin/api/{self.api_version}/{path.lstrip('/')}"

    def rest_get(self, path, not_found_hint=None):
        """GET one REST Admin resource (``orders/1.json``) and return its JSON,
        with the retries and error classes of ``graphql`` (REST answers carry
        no query cost; 429 honours ``Retry-After``)."""
        url = self.rest_url(path)
        return self._with_retries(
            lambda: self._json_answer(
                self._send("GET", url), not_found_hint=not_found_hint
            ),
            idempotent=True,
        )

    def rest_order(self, order_id):
        """The order as the REST Admin API shapes it (``GET orders/{id}.json``,
        the shape of the ``orders/*`` webhook bodies). ``order_id``: the
        numeric id or the GraphQL id."""
        number = _numeric_id("Order", order_id)
        body = self.rest_get(
            f"orders/{number}.json",
            not_found_hint=f"Shopify has no order {number}: it may have been "
            "deleted, or the shop address or API version is wrong.",
        )
        order = body.get("order")
        if not isinstance(order, Mapping):
            raise PayloadError(
                f"Shopify answered without order {number}.", value=number
            )
        return order


def _shift_field(error, offset):
    """A user error of a batch with its ``input.quantities.N`` index made global."""
    error = dict(error) if isinstance(error, Mapping) else {"message": str(error)}
    field = error.get("field")
    if (
        offset
        and isinstance(field, list)
        and len(field) >= 3
        and field[:2] == ["input", "quantities"]
        and str(field[2]).isdigit()
    ):
        error["field"] = [*field[:2], str(int(field[2]) + offset), *field[3:]]
    return error

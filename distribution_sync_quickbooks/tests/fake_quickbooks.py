"""A local fake of QuickBooks Online (Accounting API v3) and of Intuit's OAuth
2.0 endpoints, for tests.

Standard library only (it imports nothing from odoo nor from the addon), so that
both the addon's Odoo tests (``from .fake_quickbooks import FakeQuickBooks``)
and the pure tests (which load this file by path) can use it::

    with FakeQuickBooks(per_minute=50, window_seconds=6) as fake:
        tokens = TokenClient(fake.token_url, fake.client_id,
                             fake.client_secret).refresh(fake.refresh_token)
        client = QuickBooksClient(fake.api_url, fake.realm_id,
                                  lambda force: tokens["access_token"])
        client.create("Customer", {"DisplayName": "Ada"}, "ds-customer-7")
        fake.fail_next("create:Invoice", "drop")
        fake.drop_every(5)
        body, headers = fake.cloudevents([("Invoice", "12", "Update")])
        fake.requests, fake.objects["Invoice"], fake.created, fake.replays,
        fake.throttled, fake.refresh_tokens_used

It serves on 127.0.0.1 (port 0: a free port) from a daemon thread, at Intuit's
paths, so that a backend whose API URL and token URL both point at the fake
works: ``api_url`` (``http://127.0.0.1:<port>``; the API is under
``/v3/company/<realm>/``), ``token_url`` (``.../oauth2/v1/tokens/bearer``) and
``revoke_url`` (``.../v2/oauth2/tokens/revoke``).

OAuth (client id and secret as HTTP basic auth, else 401 ``invalid_client``):

- ``grant_type=refresh_token``: a new access token (``expires_in`` 3600) and a
  NEW refresh token every time (``x_refresh_token_expires_in`` 100 days); the
  refresh token used is void afterwards: presenting it again answers 400
  ``{"error": "invalid_grant"}``. The first refresh token is ``refresh_token``;
  every one presented is recorded in ``refresh_tokens_used`` (a reuse shows as
  a repeated entry), refusals are counted in ``invalid_grants``;
- ``grant_type=authorization_code``: tokens for a code from
  ``authorization_code(redirect_uri)`` (single use, same redirect URI);
- revoke (``{"token"}``): ends the grant of that token (its access and refresh
  tokens); 200 even for an unknown token, as RFC 7009 says;
- ``expire_access_tokens()`` makes every access token answer 401 (QuickBooks'
  lowercase ``fault`` envelope, code 3200, as the sample); access tokens also
  lapse 3600 s after issue on the fake's clock (``advance_clock``).

The API, per company (``realm_id``; more with ``add_realm``; an unknown realm
answers 403, code 120):

- ``POST /<entity>`` creates (``Id`` a string from a counter, ``SyncToken``
  "0", ``MetaData`` times at the company's offset -07:00), or updates when the
  body has an ``Id`` (or ``?operation=update``); ``GET /<entity>/<id>`` reads;
  ``?operation=void`` voids, ``?operation=delete`` deletes (both with ``Id`` and
  ``SyncToken``); a ``Payment`` is voided with ``?operation=update&include=void``
  (or ``operation=void``); ``GET /companyinfo/<realm>`` reads the company.
  Entities: Account, Customer, Item, TaxCode, PaymentMethod, Term, Invoice,
  CreditMemo, Payment; each company starts with accounts (``Sales of Product
  Income``, ``Services``, ``Cost of Goods Sold``, ``Inventory Asset``,
  ``Undeposited Funds``, ``Checking``, ``Discounts given``), tax codes ``TAX``
  and ``NON`` (those are their Ids), payment methods ``Cash``, ``Check``,
  ``Credit Card``, terms ``Net 30`` and ``Due on receipt`` and the item
  ``Services`` (``seed=False``: none);
- invoices and credit memos: lines ``SalesItemLineDetail`` (``Amount``, or
  ``Qty`` x ``UnitPrice`` when it is missing; both given and different: 400
  code 6070), ``DiscountLineDetail`` (an amount, or ``PercentBased``) and
  ``DescriptionOnly``; a ``SubTotalLineDetail`` line is added; ``TotalAmt`` =
  lines - discounts + ``TxnTaxDetail.TotalTax`` (or, when the
  ``TxnTaxCodeRef`` is in ``tax_rates`` ``{code id: percent}``, the tax
  computed on the taxable lines, as QuickBooks' automated tax does);
  ``Balance`` (and ``RemainingCredit``) = ``TotalAmt`` less what payments
  applied; ``DocNumber`` from 1001 when not given; ``DueDate`` from the term (30
  days by default). A ``Payment`` (``TotalAmt``, ``Line[{Amount,
  LinkedTxn[{TxnId, TxnType: Invoice|CreditMemo}]}]``, ``UnappliedAmt``
  computed) lowers the balances of what it links and adds ``{"TxnId": payment,
  "TxnType": "Payment"}`` to their ``LinkedTxn`` (their ``SyncToken`` moves
  on); updating, voiding or deleting the payment gives it back;
- voiding an invoice or credit memo zeroes its amounts (lines, tax, total,
  balance) and sets ``PrivateNote`` "Voided" (the sample's shape);
- ``GET /query?query=`` (or ``POST /query`` with the text): ``SELECT * FROM
  <Entity> [WHERE <Field> = '<value>' [AND ...]] [STARTPOSITION n] [MAXRESULTS
  m]`` (``Field IN ('a', 'b')`` too; ``\\'`` escapes a quote; values compare
  without case) on DisplayName, Name, Sku, DocNumber, Id; 100 results unless
  ``MAXRESULTS`` (at most 1000); objects in Id order; anything else: 400 code
  4001 (the sample's shape);
- ``POST /batch``: ``BatchItemRequest[{bId, operation: create|update|delete,
  <Entity>}|{bId, Query}]`` -> ``BatchItemResponse[{bId, <Entity>|Fault|
  QueryResponse}]``, each item on its own; more than 30 items: 400;
- ``GET /cdc?entities=A,B&changedSince=<ISO>``: ``CDCResponse[{QueryResponse[
  {<Entity>: [...]}, ...]}]``, the oldest changes first, at most 1000 objects;
  deleted ones as ``{"Id", "status": "Deleted"}``; ``changedSince`` more than 30
  days back: 400 (code 500, QuickBooks' wording);
- ``requestid`` (at most 50 characters; for a batch 36, its ``bId`` 10): a
  request with a ``requestid`` the company has seen gets the first answer
  again, refusals included ("the same response as it did for the original
  request", Intuit), and changes nothing (counted in ``replays``); throttled,
  401 and injected-status answers are not remembered (nothing ran).

What it checks, answering QuickBooks' error envelope ``{"Fault": {"Error":
[{"Message", "Detail", "code"}], "type"}, "time"}`` (400 unless said):
``Authorization: Bearer`` with a live access token (401, 3200); a reference to
a missing or inactive object (``CustomerRef``, ``ItemRef``, ``TaxCodeRef``,
accounts, terms, payment methods, a payment's ``TxnId``; a read of an unknown
Id): 610; a ``SyncToken`` that is not the current one: 5010 (the batch sample's
Fault); a ``DisplayName`` (Customer) or ``Name`` (Item, Account, ...) in use,
without case: 6240 (the sample); a ``DocNumber`` in use by the same entity when
``custom_doc_numbers`` is on: 6210; a missing required field (``CustomerRef``,
``ItemRef``, ``Name``, ``TotalAmt``, ``Id``, ``SyncToken``,
``IncomeAccountRef``...): 2020; a body that is not JSON or a field of the wrong
kind: 2010; deleting a Customer/Item/...: 500 (Unsupported Operation).

Limits, per company: at most ``max_concurrent`` (10) requests at once and
``per_minute`` (500) in a sliding window of ``window_seconds`` (60); over
either, 429 with QuickBooks' throttle Fault (code 3001, type SERVICE), counted
in ``throttled`` (each refused request; ``None`` switches a limit off).
``latency`` holds every admitted API request that long, so that concurrency is
visible; ``peak_concurrency`` is the most requests seen at once.

Failures: ``fail_next(operation, mode, times=1, body=None)``, operation one of
``OPERATIONS`` (``"token"``, ``"revoke"``, ``"create"``, ``"read"``,
``"update"``, ``"void"``, ``"delete"``, ``"query"``, ``"batch"``, ``"cdc"``),
or ``"create:Invoice"`` for one entity; mode an HTTP status (answered instead of
running the request, nothing applied: 429 the throttle Fault, 401 the token
Fault, 5xx a SystemFault 10000, other statuses ``body`` or a 2010 Fault),
``"drop"`` (the request IS applied, then the connection is closed without an
answer: the lost-answer case) or ``"slow"`` (applied, answered after
``slow_seconds``). ``drop_every(n)`` applies every n-th API request (of
``operations``, by default every API operation; never the token endpoint) and
drops its answer; ``drop_every(0)`` stops it.

Webhooks: ``legacy_event(entities, realm=None)`` and ``cloudevents(entities,
realm=None)`` build the body QuickBooks POSTs for ``[(entity, id, operation)]``
(or ``(realm, entity, id, operation)`` to mix companies in one POST) as
``(body bytes, headers)`` signed with ``intuit-signature`` (base64 HMAC-SHA256
of the body, key ``verifier_token``); an event's time is the object's last
change when the fake has the object.

Working in QuickBooks as a person would (no HTTP, not counted in ``created``;
ValueError for what QuickBooks refuses): ``add(entity, data)``, ``edit(entity,
id, changes)`` (sparse; the SyncToken moves on: "an invoice edited in
QuickBooks"), ``void_object`` and ``remove``; ``get(entity, id)`` and
``find(entity, **fields)`` read the store as the API would answer;
``advance_clock(seconds)`` moves the fake's time; ``access_token()`` gives a
live token without the refresh.

What it records: ``requests`` (``{"method", "path", "query", "json", "form",
"operation", "entity", "realm", "status", "request_id", "injected", "replay",
"throttle", "headers"}`` per request; ``status`` None when the answer was
dropped; ``json`` parsed with Decimal amounts), ``objects`` (entity -> {Id ->
object}; amounts are Decimal, keys starting with ``_`` are the fake's own),
``created`` (entity -> objects created through the API), ``replays``,
``throttled``, ``refresh_tokens_used``, ``invalid_grants`` and ``errors`` (bugs
of the fake itself, answered 500). ``objects``/``created`` are the default
company's; ``company(realm)`` has the others.

Choices of this fake, not QuickBooks facts: Ids from one counter per company;
the 2010/2020/6000/6070 codes and wordings; voiding or deleting an invoice with
payments applied is refused (6000); a voided invoice keeps its lines with
``Amount``, ``Qty`` and ``UnitPrice`` 0; ``DisplayName`` is unique among
customers only (no vendors or employees here); a query returns inactive objects
too; throttled requests do not count in the window.
"""

import base64
import binascii
import copy
import hashlib
import hmac
import itertools
import json
import re
import secrets
import threading
import time
import traceback
import uuid
from collections import deque
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

DEFAULT_REALM_ID = "9130357992221046"
DEFAULT_CLIENT_ID = "ABfakeQuickBooksClientId0123456789abcdefghijkl"
DEFAULT_CLIENT_SECRET = "fake-quickbooks-client-secret-0123456789"
DEFAULT_VERIFIER_TOKEN = "fake-verifier-token-0123456789abcdef"
TOKEN_PATH = "/oauth2/v1/tokens/bearer"
REVOKE_PATH = "/v2/oauth2/tokens/revoke"
SIGNATURE_HEADER = "intuit-signature"
TID_HEADER = "intuit_tid"
ACCESS_TOKEN_SECONDS = 3600
REFRESH_TOKEN_SECONDS = 8640000  # 100 days
MAX_CONCURRENT = 10
PER_MINUTE = 500
BATCH_MAX_ITEMS = 30
BATCH_MAX_REQUEST_ID = 36
BATCH_MAX_ITEM_ID = 10
MAX_REQUEST_ID = 50
QUERY_DEFAULT_RESULTS = 100
QUERY_MAX_RESULTS = 1000
CDC_MAX_DAYS = 30
CDC_MAX_OBJECTS = 1000
COMPANY_TZ = timezone(timedelta(hours=-7))
CENT = Decimal("0.01")
ZERO = Decimal(0)

ENTITIES = (
    "Account",
    "Customer",
    "Item",
    "TaxCode",
    "PaymentMethod",
    "Term",
    "Invoice",
    "CreditMemo",
    "Payment",
)
SALES = frozenset({"Invoice", "CreditMemo"})
TRANSACTIONS = SALES | {"Payment"}
NAME_FIELD = {
    "Customer": "DisplayName",
    "Item": "Name",
    "Account": "Name",
    "TaxCode": "Name",
    "PaymentMethod": "Name",
    "Term": "Name",
}
QUERY_FIELDS = ("DisplayName", "Name", "Sku", "DocNumber", "Id")
OPERATIONS = frozenset(
    {
        "token",
        "revoke",
        "create",
        "read",
        "update",
        "void",
        "delete",
        "query",
        "batch",
        "cdc",
    }
)
API_OPERATIONS = OPERATIONS - {"token", "revoke"}
MODES = ("drop", "slow")
USD = {"value": "USD", "name": "United States Dollar"}
_ENTITY_PATHS = {name.lower(): name for name in (*ENTITIES, "CompanyInfo")}
_PAST = {
    "Create": "created",
    "Update": "updated",
    "Delete": "deleted",
    "Void": "voided",
    "Merge": "merged",
    "Emailed": "emailed",
}
_COMPANY_RE = re.compile(r"^/v3/company/([^/]+)/(.+)$")
_TOKEN_RE = re.compile(
    r"\s*(?:(?P<str>'(?:[^'\\]|\\.)*')|(?P<num>\d+)"
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_.]*)|(?P<sym>[=(),*]))"
)
_MARK = "\ue000" + uuid.uuid4().hex[:12]
_SEED_ACCOUNTS = (
    ("Sales of Product Income", "Income", "SalesOfProductIncome"),
    ("Services", "Income", "ServiceFeeIncome"),
    ("Cost of Goods Sold", "Cost of Goods Sold", "SuppliesMaterialsCogs"),
    ("Inventory Asset", "Other Current Asset", "Inventory"),
    ("Undeposited Funds", "Other Current Asset", "UndepositedFunds"),
    ("Checking", "Bank", "Checking"),
    ("Discounts given", "Income", "DiscountsRefundsGiven"),
)


# ------------------------------------------------------------------ helpers
def cents(value):
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def local_time(moment, timespec="seconds"):
    """``2020-09-29T05:58:16-07:00``: QuickBooks writes times at the
    company's offset."""
    return moment.astimezone(COMPANY_TZ).isoformat(timespec=timespec)


def signature(verifier_token, body):
    """The ``intuit-signature`` value for ``body``: base64 HMAC-SHA256."""
    digest = hmac.new(str(verifier_token).encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def dumps(payload):
    """JSON text of an answer; a Decimal is written as the exact number."""

    def convert(value):
        if isinstance(value, Decimal):
            return f"{_MARK}{format(value, 'f')}{_MARK}"
        if isinstance(value, dict):
            return {key: convert(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [convert(item) for item in value]
        return value

    text = json.dumps(convert(payload), ensure_ascii=False)
    return re.sub(rf'"{_MARK}(-?[0-9.]+){_MARK}"', r"\1", text)


def public(obj):
    """A copy of a stored object without the fake's own keys."""
    return copy.deepcopy({k: v for k, v in obj.items() if not k.startswith("_")})


def _casefold(value):
    return str(value if value is not None else "").strip().casefold()


class FakeFault(Exception):
    """A QuickBooks error answer (``Fault`` envelope)."""

    def __init__(self, code, message, detail, *, status=400, kind=None, element=None):
        super().__init__(f"{code} {message}: {detail}")
        self.code = str(code)
        self.message = message
        self.detail = detail
        self.status = status
        self.kind = kind or "ValidationFault"
        self.element = element

    def fault(self):
        error = {"Message": self.message, "Detail": self.detail, "code": self.code}
        if self.element is not None:
            error["element"] = self.element
        return {"Error": [error], "type": self.kind}


def not_found(element=""):
    return FakeFault(
        "610",
        "Object Not Found",
        "Object Not Found : Something you're trying to use has been made "
        "inactive. Check the fields with accounts, customers, items, vendors or "
        "employees.",
        element=element,
    )


def stale():
    return FakeFault(
        "5010",
        "Stale Object Error",
        "Stale Object Error : You and Fake Accountant were working on this at the "
        "same time. Fake Accountant finished before you did, so your work was not "
        "saved.",
        element="",
    )


def duplicate_name():
    return FakeFault(
        "6240",
        "Duplicate Name Exists Error",
        "The name supplied already exists. : null",
    )


def duplicate_doc_number(number, entity, txn_id):
    return FakeFault(
        "6210",
        "Duplicate Document Number Error",
        "Duplicate Document Number Error : You must specify a different number. "
        f"This number has already been used. DocNumber={number} is assigned to "
        f"TxnType={entity} with TxnId={txn_id}",
    )


def missing(field):
    return FakeFault(
        "2020",
        "Required param missing, need to supply the required value for the API",
        f"Required parameter {field} is missing in the request",
        element=field,
    )


def invalid(detail, element=None):
    return FakeFault(
        "2010",
        "Request has invalid or unsupported property",
        f"Property Name:{detail}",
        element=element,
    )


def business(detail):
    return FakeFault(
        "6000",
        "A business validation error has occurred while processing your request",
        f"Business Validation Error: {detail}",
    )


def bad_query(detail):
    return FakeFault("4001", "Invalid query", detail)


def unsupported(detail):
    return FakeFault("500", "Unsupported Operation", detail)


def _number(value, path):
    if isinstance(value, bool) or value is None:
        raise invalid(f"{path} must be a number", element=path)
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise invalid(f"{path} must be a number", element=path) from None
    if not number.is_finite():
        raise invalid(f"{path} must be a number", element=path)
    return number


def _date(value, path):
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise invalid(f"{path} must be a date (YYYY-MM-DD)", element=path) from None


def _parse_moment(text):
    value = str(text or "").strip()
    if not value:
        raise missing("changedSince")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise invalid(f"changedSince {value!r} is not a date-time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


# ------------------------------------------------------------------ company
class Company:
    """One QuickBooks company (realm): its objects and QuickBooks' rules over
    them. Callers hold the fake's lock."""

    def __init__(self, fake, realm_id, seed=True):
        self.fake = fake
        self.realm_id = realm_id
        self.objects = {name: {} for name in ENTITIES}
        self.deleted = {name: {} for name in ENTITIES}
        self.created = dict.fromkeys(ENTITIES, 0)
        self.responses = {}  # requestid -> (status, answer)
        self.window = deque()
        self.in_flight = 0
        self._ids = itertools.count(1)
        self._numbers = itertools.count(1001)
        if seed:
            self._seed()

    def _seed(self):
        for name, kind, sub in _SEED_ACCOUNTS:
            self.create(
                "Account",
                {"Name": name, "AccountType": kind, "AccountSubType": sub},
                count=False,
            )
        for code, taxable in (("TAX", True), ("NON", False)):
            fields = {"Name": code, "Taxable": taxable, "TaxGroup": False}
            self._store("TaxCode", self._named("TaxCode", fields, None), None, code)
        for name, kind in (
            ("Cash", "NON_CREDIT_CARD"),
            ("Check", "NON_CREDIT_CARD"),
            ("Credit Card", "CREDIT_CARD"),
        ):
            self.create("PaymentMethod", {"Name": name, "Type": kind}, count=False)
        for name, days in (("Net 30", 30), ("Due on receipt", 0)):
            self.create("Term", {"Name": name, "DueDays": days}, count=False)
        income = self.find("Account", "Name", "Services")
        self.create(
            "Item",
            {
                "Name": "Services",
                "Type": "Service",
                "IncomeAccountRef": {"value": income["Id"]},
            },
            count=False,
        )

    # ------------------------------------------------------------ lookups
    def now(self):
        return self.fake.now()

    def find(self, entity, field, value):
        wanted = _casefold(value)
        for obj in self.objects[entity].values():
            if _casefold(obj.get(field)) == wanted:
                return obj
        return None

    def _ref(self, entity, ref, path, required=False):
        """The live object a ``{"value": id}`` reference names (610 when it is
        missing or inactive)."""
        if ref in (None, "", {}):
            if required:
                raise missing(path)
            return None
        value = ref.get("value") if isinstance(ref, dict) else ref
        obj = self.objects[entity].get(str(value if value is not None else ""))
        if obj is None or obj.get("Active") is False:
            raise not_found(path)
        return obj

    @staticmethod
    def _ref_of(obj, name_field="Name"):
        return {"value": obj["Id"], "name": obj.get(name_field)}

    def _current(self, entity, data, check_token):
        if not isinstance(data, dict):
            raise invalid(entity)
        obj_id = str(data.get("Id") or "").strip()
        if not obj_id:
            raise missing("Id")
        current = self.objects[entity].get(obj_id)
        if current is None:
            raise not_found("Id")
        if check_token:
            token = data.get("SyncToken")
            if token in (None, ""):
                raise missing("SyncToken")
            if str(token) != current["SyncToken"]:
                raise stale()
        return current

    def _unique(self, entity, field, value, current):
        found = self.find(entity, field, value)
        if found is not None and (current is None or found["Id"] != current["Id"]):
            raise duplicate_name()

    # ------------------------------------------------------------- writes
    def create(self, entity, data, count=True):  # pylint: disable=method-required-super
        if not isinstance(data, dict):
            raise invalid(entity)
        obj = self._build(entity, data, None)
        stored = self._store(entity, obj, None)
        if count:
            self.created[entity] += 1
        return stored

    def update(self, entity, data, check_token=True):
        current = self._current(entity, data, check_token)
        if data.get("sparse") in (True, "true"):
            merged = {**public(current), **data}
        else:
            merged = dict(data)
        obj = self._build(entity, merged, current)
        return self._store(entity, obj, current)

    def void(self, entity, data, check_token=True):
        current = self._current(entity, data, check_token)
        if entity in SALES:
            if current["_applied"]:
                raise business(
                    f"{entity} {current['Id']} has payments or credits applied; "
                    "remove them before voiding it."
                )
            self._zero_sales(current)
        elif entity == "Payment":
            self._relink(current["Id"], current["_applications"], [])
            current["_applications"] = []
            current["TotalAmt"] = ZERO
            current["UnappliedAmt"] = ZERO
            for line in current.get("Line") or []:
                line["Amount"] = ZERO
        else:
            raise unsupported(f"Operation Void is not supported for {entity}.")
        current["PrivateNote"] = "Voided"
        self._touch(current)
        return current

    def delete(self, entity, data, check_token=True):
        if entity not in TRANSACTIONS:
            raise unsupported(
                f"Operation Delete is not supported for {entity}; make it "
                "inactive instead."
            )
        current = self._current(entity, data, check_token)
        if entity in SALES and current["_applied"]:
            raise business(
                f"{entity} {current['Id']} has payments or credits applied; "
                "remove them before deleting it."
            )
        if entity == "Payment":
            self._relink(current["Id"], current["_applications"], [])
        del self.objects[entity][current["Id"]]
        now = self.now()
        tombstone = {
            "domain": "QBO",
            "status": "Deleted",
            "Id": current["Id"],
            "MetaData": {"LastUpdatedTime": local_time(now)},
            "_updated": now,
        }
        self.deleted[entity][current["Id"]] = tombstone
        return {"domain": "QBO", "status": "Deleted", "Id": current["Id"]}

    def _store(self, entity, obj, current, obj_id=None):
        now = self.now()
        if current is None:
            obj_id = obj_id or str(next(self._ids))
            token, created = "0", now
        else:
            obj_id = current["Id"]
            token = str(int(current["SyncToken"]) + 1)
            created = current["_created"]
        stored = {
            "domain": "QBO",
            "sparse": False,
            "Id": obj_id,
            "SyncToken": token,
            "MetaData": {
                "CreateTime": local_time(created),
                "LastUpdatedTime": local_time(now),
            },
        }
        for key, value in obj.items():
            if key not in stored and key != "sparse":
                stored[key] = value
        stored["_created"], stored["_updated"] = created, now
        self.objects[entity][obj_id] = stored
        if entity == "Payment":
            old = current["_applications"] if current else []
            self._relink(obj_id, old, stored["_applications"])
        return stored

    def _touch(self, obj):
        now = self.now()
        obj["SyncToken"] = str(int(obj["SyncToken"]) + 1)
        obj["MetaData"]["LastUpdatedTime"] = local_time(now)
        obj["_updated"] = now

    # ----------------------------------------------------------- builders
    def _build(self, entity, data, current):
        builder = {
            "Customer": self._customer,
            "Item": self._item,
            "Invoice": self._sales,
            "CreditMemo": self._sales,
            "Payment": self._payment,
        }.get(entity)
        if builder is None:
            if entity not in NAME_FIELD:
                raise unsupported(f"Operation Create is not supported for {entity}.")
            return self._named(entity, data, current)
        return builder(entity, data, current)

    @staticmethod
    def _fields(data, *computed):
        skip = {"Id", "SyncToken", "MetaData", "domain", "sparse", *computed}
        return {k: copy.deepcopy(v) for k, v in data.items() if k not in skip}

    def _named(self, entity, data, current):
        name = str(data.get("Name") or "").strip()
        if not name:
            raise missing("Name")
        self._unique(entity, "Name", name, current)
        obj = self._fields(data)
        obj["Name"] = name
        obj.setdefault("Active", True)
        if entity == "Account":
            obj.setdefault("AccountType", "Income")
            obj["FullyQualifiedName"] = name
            obj.setdefault("CurrentBalance", ZERO)
        elif entity == "Term":
            obj.setdefault("Type", "STANDARD")
            obj["DueDays"] = int(_number(obj.get("DueDays", 30), "DueDays"))
        elif entity == "PaymentMethod":
            obj.setdefault("Type", "NON_CREDIT_CARD")
        return obj

    def _customer(self, entity, data, current):
        name = str(data.get("DisplayName") or "").strip()
        if not name:
            parts = (
                data.get(key)
                for key in ("Title", "GivenName", "MiddleName", "FamilyName", "Suffix")
            )
            name = (
                " ".join(str(p).strip() for p in parts if p)
                or str(data.get("CompanyName") or "").strip()
            )
        if not name:
            raise missing("DisplayName")
        self._unique(entity, "DisplayName", name, current)
        obj = self._fields(data, "FullyQualifiedName", "Balance", "BalanceWithJobs")
        obj.update(DisplayName=name, FullyQualifiedName=name)
        obj.setdefault("PrintOnCheckName", name)
        obj.setdefault("Active", True)
        obj.setdefault("Taxable", True)
        obj.setdefault("Job", False)
        obj.setdefault("BillWithParent", False)
        obj.setdefault("CurrencyRef", dict(USD))
        obj.setdefault("PreferredDeliveryMethod", "Print")
        obj["Balance"] = obj["BalanceWithJobs"] = ZERO
        return obj

    def _item(self, entity, data, current):
        name = str(data.get("Name") or "").strip()
        if not name:
            raise missing("Name")
        self._unique(entity, "Name", name, current)
        obj = self._fields(data, "FullyQualifiedName")
        obj.update(Name=name, FullyQualifiedName=name)
        obj.setdefault("Active", True)
        kind = obj.setdefault("Type", "NonInventory")
        if kind not in ("Inventory", "NonInventory", "Service"):
            raise invalid(f"Type {kind!r}", element="Type")
        needed = ["IncomeAccountRef"]
        if kind == "Inventory":
            needed += ["ExpenseAccountRef", "AssetAccountRef"]
            for field in ("InvStartDate", "QtyOnHand"):
                if data.get(field) in (None, ""):
                    raise missing(field)
            obj["TrackQtyOnHand"] = True
        for field in ("IncomeAccountRef", "ExpenseAccountRef", "AssetAccountRef"):
            account = self._ref("Account", data.get(field), field, field in needed)
            if account is not None:
                obj[field] = self._ref_of(account)
        return obj

    def _sales(self, entity, data, current):
        customer = self._ref("Customer", data.get("CustomerRef"), "CustomerRef", True)
        lines, subtotal, taxable, discount = self._lines(data.get("Line"))
        detail = data.get("TxnTaxDetail") or {}
        if not isinstance(detail, dict):
            raise invalid("TxnTaxDetail", element="TxnTaxDetail")
        code_ref = detail.get("TxnTaxCodeRef")
        tax_code = self._ref("TaxCode", code_ref, "TxnTaxDetail.TxnTaxCodeRef")
        tax_detail, tax = self._tax(detail, tax_code, subtotal, taxable, discount, data)
        total = cents(subtotal - discount + tax)
        txn_date = (
            _date(data.get("TxnDate"), "TxnDate")
            or self.now().astimezone(COMPANY_TZ).date()
        )
        obj = self._fields(
            data, "Line", "TxnTaxDetail", "TotalAmt", "Balance", "RemainingCredit"
        )
        obj.update(
            DocNumber=self._doc_number(entity, data.get("DocNumber"), current),
            TxnDate=txn_date.isoformat(),
            CurrencyRef=data.get("CurrencyRef") or dict(USD),
            LinkedTxn=copy.deepcopy(current["LinkedTxn"]) if current else [],
            Line=lines,
            TxnTaxDetail=tax_detail,
            CustomerRef=self._ref_of(customer, "DisplayName"),
            TotalAmt=total,
        )
        obj.setdefault("ApplyTaxAfterDiscount", False)
        applied = current["_applied"] if current else ZERO
        obj["_applied"] = applied
        obj["Balance"] = cents(total - applied)
        if entity == "Invoice":
            term = self._ref("Term", data.get("SalesTermRef"), "SalesTermRef")
            if term is not None:
                obj["SalesTermRef"] = self._ref_of(term)
            days = term["DueDays"] if term is not None else 30
            due = _date(data.get("DueDate"), "DueDate") or txn_date + timedelta(days)
            obj["DueDate"] = due.isoformat()
        else:
            obj["RemainingCredit"] = obj["Balance"]
        return obj

    def _lines(self, lines):
        """``(lines, subtotal, taxable amount, discount)`` of a sales form."""
        if lines is None:
            lines = []
        if not isinstance(lines, list):
            raise invalid("Line", element="Line")
        out, discounts = [], []
        subtotal = taxable = discount = ZERO
        for index, line in enumerate(lines):
            if not isinstance(line, dict):
                raise invalid(f"Line[{index}]", element="Line")
            kind = line.get("DetailType")
            if kind == "SubTotalLineDetail":
                continue
            if kind == "DiscountLineDetail":
                discounts.append((index, line))
                continue
            if kind == "SalesItemLineDetail":
                new, amount, taxed = self._item_line(line, index)
                subtotal += amount
                taxable += amount if taxed else ZERO
            elif kind == "DescriptionOnly":
                new = copy.deepcopy(line)
            else:
                raise invalid(f"Line[{index}].DetailType {kind!r}", element="Line")
            out.append(new)
        out.append(
            {
                "Amount": cents(subtotal),
                "DetailType": "SubTotalLineDetail",
                "SubTotalLineDetail": {},
            }
        )
        for index, line in discounts:
            new = copy.deepcopy(line)
            info = new.get("DiscountLineDetail") or {}
            if info.get("PercentBased"):
                percent = _number(info.get("DiscountPercent"), "DiscountPercent")
                amount = cents(subtotal * percent / 100)
            else:
                amount = cents(_number(line.get("Amount"), f"Line[{index}].Amount"))
            account = self._ref(
                "Account", info.get("DiscountAccountRef"), "DiscountAccountRef"
            )
            if account is not None:
                info["DiscountAccountRef"] = self._ref_of(account)
            new["Amount"], new["DiscountLineDetail"] = amount, info
            discount += amount
            out.append(new)
        number = 0
        for new in out:
            if new["DetailType"] != "SubTotalLineDetail":
                number += 1
                new["Id"], new["LineNum"] = str(number), number
        return out, subtotal, taxable, discount

    def _item_line(self, line, index):
        path = f"Line[{index}].SalesItemLineDetail"
        new = copy.deepcopy(line)
        detail = new.get("SalesItemLineDetail") or {}
        if not isinstance(detail, dict):
            raise invalid(path, element=path)
        item = self._ref("Item", detail.get("ItemRef"), f"{path}.ItemRef", True)
        detail["ItemRef"] = self._ref_of(item)
        qty = _number(detail["Qty"], f"{path}.Qty") if "Qty" in detail else None
        price = detail.get("UnitPrice")
        price = _number(price, f"{path}.UnitPrice") if price is not None else None
        if line.get("Amount") is None:
            if qty is None or price is None:
                raise missing(f"Line[{index}].Amount")
            amount = cents(qty * price)
        else:
            amount = cents(_number(line["Amount"], f"Line[{index}].Amount"))
            if qty is not None and price is not None and cents(qty * price) != amount:
                raise FakeFault(
                    "6070",
                    "Amount is not equal to UnitPrice * Qty",
                    f"Amount is not equal to UnitPrice * Qty. Supplied value:{amount}",
                    element=f"Line[{index}].Amount",
                )
        code = self._ref(
            "TaxCode",
            detail.get("TaxCodeRef") or {"value": "NON"},
            f"{path}.TaxCodeRef",
        )
        detail["TaxCodeRef"] = {"value": code["Id"]}
        new["Amount"], new["SalesItemLineDetail"] = amount, detail
        return new, amount, code["Id"] != "NON"

    def _tax(self, detail, tax_code, subtotal, taxable, discount, data):
        """``(TxnTaxDetail, total tax)``: the tax sent, or computed from
        ``tax_rates`` for the transaction's tax code."""
        rate = None
        if tax_code is not None:
            rate = self.fake.tax_rates.get(tax_code["Id"])
        if rate is None:
            tax = cents(_number(detail.get("TotalTax", 0), "TxnTaxDetail.TotalTax"))
            out = self._fields(detail, "TotalTax")
            out.setdefault("TaxLine", [])
        else:
            base = taxable
            if data.get("ApplyTaxAfterDiscount") and subtotal:
                base = taxable - discount * taxable / subtotal
            percent = Decimal(str(rate))
            tax = cents(base * percent / 100)
            out = {
                "TaxLine": [
                    {
                        "Amount": tax,
                        "DetailType": "TaxLineDetail",
                        "TaxLineDetail": {
                            # QuickBooks names the rate it applied.
                            "TaxRateRef": {"value": tax_code["Id"]},
                            "PercentBased": True,
                            "TaxPercent": percent,
                            "NetAmountTaxable": cents(base),
                        },
                    }
                ]
            }
        if tax_code is not None:
            out["TxnTaxCodeRef"] = {"value": tax_code["Id"]}
        out["TotalTax"] = tax
        return out, tax

    def _doc_number(self, entity, given, current):
        text = str(given).strip() if given not in (None, "") else ""
        if not text:
            if current is not None and current.get("DocNumber"):
                return current["DocNumber"]
            used = {obj.get("DocNumber") for obj in self.objects[entity].values()}
            text = str(next(self._numbers))
            while text in used:
                text = str(next(self._numbers))
            return text
        if self.fake.custom_doc_numbers:
            for obj in self.objects[entity].values():
                same = current is not None and obj["Id"] == current["Id"]
                if obj.get("DocNumber") == text and not same:
                    raise duplicate_doc_number(text, entity, obj["Id"])
        return text

    def _zero_sales(self, obj):
        for line in obj.get("Line") or []:
            line["Amount"] = ZERO
            detail = line.get("SalesItemLineDetail")
            if isinstance(detail, dict):
                for key in ("Qty", "UnitPrice"):
                    if key in detail:
                        detail[key] = ZERO
        tax_detail = {"TotalTax": ZERO}
        if (obj.get("TxnTaxDetail") or {}).get("TxnTaxCodeRef"):
            tax_detail["TxnTaxCodeRef"] = obj["TxnTaxDetail"]["TxnTaxCodeRef"]
        obj["TxnTaxDetail"] = tax_detail
        obj["TotalAmt"] = obj["Balance"] = ZERO
        if "RemainingCredit" in obj:
            obj["RemainingCredit"] = ZERO

    def _payment(self, entity, data, current):
        customer = self._ref("Customer", data.get("CustomerRef"), "CustomerRef", True)
        if data.get("TotalAmt") in (None, ""):
            raise missing("TotalAmt")
        total = cents(_number(data["TotalAmt"], "TotalAmt"))
        if total < 0:
            raise invalid("TotalAmt must not be negative", element="TotalAmt")
        lines, applications = self._payment_lines(data.get("Line"), customer, current)
        invoices = sum((a for k, _i, a in applications if k == "Invoice"), ZERO)
        credits = sum((a for k, _i, a in applications if k == "CreditMemo"), ZERO)
        unapplied = total - (invoices - credits)
        if unapplied < 0:
            raise business(
                f"The payment's lines apply {invoices - credits}, more than its "
                f"total {total}."
            )
        txn_date = (
            _date(data.get("TxnDate"), "TxnDate")
            or self.now().astimezone(COMPANY_TZ).date()
        )
        obj = self._fields(data, "Line", "TotalAmt", "UnappliedAmt")
        obj.update(
            CustomerRef=self._ref_of(customer, "DisplayName"),
            TotalAmt=total,
            UnappliedAmt=cents(unapplied),
            Line=lines,
            TxnDate=txn_date.isoformat(),
            CurrencyRef=data.get("CurrencyRef") or dict(USD),
        )
        obj.setdefault("ProcessPayment", False)
        account = self._ref(
            "Account", data.get("DepositToAccountRef"), "DepositToAccountRef"
        ) or self.find("Account", "Name", "Undeposited Funds")
        if account is not None:
            obj["DepositToAccountRef"] = self._ref_of(account)
        method = self._ref(
            "PaymentMethod", data.get("PaymentMethodRef"), "PaymentMethodRef"
        )
        if method is not None:
            obj["PaymentMethodRef"] = self._ref_of(method)
        obj["_applications"] = applications
        return obj

    def _payment_lines(self, lines, customer, current):
        """``(lines, [(entity, id, amount)])``; the amounts this payment
        applied before (an update) count as open again."""
        if lines is None:
            lines = []
        if not isinstance(lines, list):
            raise invalid("Line", element="Line")
        open_again = {}
        for kind, txn_id, amount in current["_applications"] if current else []:
            open_again[(kind, txn_id)] = open_again.get((kind, txn_id), ZERO) + amount
        out, applications, used = [], [], {}
        for index, line in enumerate(lines):
            path = f"Line[{index}]"
            links = line.get("LinkedTxn") if isinstance(line, dict) else None
            if not isinstance(links, list) or len(links) != 1:
                raise invalid(f"{path}.LinkedTxn (one per line)", element=path)
            kind = links[0].get("TxnType")
            txn_id = str(links[0].get("TxnId") or "")
            if kind not in SALES:
                raise invalid(f"{path}.LinkedTxn.TxnType {kind!r}", element=path)
            target = self._ref(kind, {"value": txn_id}, f"{path}.LinkedTxn.TxnId")
            if target["CustomerRef"]["value"] != customer["Id"]:
                raise business(f"{kind} {txn_id} belongs to another customer.")
            amount = cents(_number(line.get("Amount"), f"{path}.Amount"))
            key = (kind, txn_id)
            used[key] = used.get(key, ZERO) + amount
            available = target["Balance"] + open_again.get(key, ZERO)
            if amount <= 0 or used[key] > available:
                raise business(
                    f"The amount applied to {kind} {txn_id} ({amount}) is not "
                    f"between 0 and its open balance ({available})."
                )
            applications.append((kind, txn_id, amount))
            new = copy.deepcopy(line)
            new["Amount"] = amount
            out.append(new)
        return out, applications

    def _relink(self, payment_id, old, new):
        """Move the balances of what a payment applies from ``old`` to ``new``
        (``[(entity, id, amount)]``); each changed target is touched once."""
        change = {}
        for kind, txn_id, amount in old:
            change[(kind, txn_id)] = change.get((kind, txn_id), ZERO) - amount
        for kind, txn_id, amount in new:
            change[(kind, txn_id)] = change.get((kind, txn_id), ZERO) + amount
        linked = {(kind, txn_id) for kind, txn_id, _amount in new}
        for (kind, txn_id), delta in change.items():
            target = self.objects[kind].get(txn_id)
            if target is None:
                continue
            target["_applied"] += delta
            target["Balance"] = cents(target["TotalAmt"] - target["_applied"])
            if kind == "CreditMemo":
                target["RemainingCredit"] = target["Balance"]
            links = [
                link
                for link in target.get("LinkedTxn") or []
                if not (
                    link.get("TxnType") == "Payment" and link.get("TxnId") == payment_id
                )
            ]
            if (kind, txn_id) in linked:
                links.append({"TxnId": payment_id, "TxnType": "Payment"})
            target["LinkedTxn"] = links
            self._touch(target)

    # -------------------------------------------------------------- reads
    def read(self, entity, obj_id):  # pylint: disable=method-required-super
        if entity == "CompanyInfo":
            if obj_id != self.realm_id:
                raise not_found("Id")
            return self.company_info()
        obj = self.objects[entity].get(obj_id)
        if obj is None:
            raise not_found("Id")
        return obj

    def company_info(self):
        return {
            "domain": "QBO",
            "sparse": False,
            "Id": "1",
            "SyncToken": "0",
            "CompanyName": f"Fake Company {self.realm_id}",
            "LegalName": f"Fake Company {self.realm_id}",
            "Country": "US",
            "CompanyAddr": {"Line1": "1 Fake St", "City": "Mountain View"},
        }

    def query(self, statement):
        entity, conditions, start, limit = parse_query(statement)
        matches = []
        for obj in self.objects[entity].values():
            if all(_matches(obj, field, values) for field, values in conditions):
                matches.append(obj)
        matches.sort(key=_id_order)
        page = [public(obj) for obj in matches[start - 1 : start - 1 + limit]]
        if not page:
            return {"QueryResponse": {}}
        answer = {entity: page, "startPosition": start, "maxResults": len(page)}
        return {"QueryResponse": answer}

    def cdc(self, entities, changed_since):
        names = []
        for text in str(entities or "").split(","):
            name = _ENTITY_PATHS.get(text.strip().lower())
            if name is None or name == "CompanyInfo":
                raise unsupported(f"Operation cdc is not supported for {text!r}.")
            names.append(name)
        if not names:
            raise missing("entities")
        since = _parse_moment(changed_since)
        if since < self.now() - timedelta(days=CDC_MAX_DAYS):
            raise unsupported(
                f"Operation cdc with changedSince date {changed_since} which is "
                "older than fixed days is not supported."
            )
        changes = []
        for order, name in enumerate(names):
            for obj in (*self.objects[name].values(), *self.deleted[name].values()):
                if obj["_updated"] >= since:
                    changes.append((obj["_updated"], order, _id_order(obj), name, obj))
        changes.sort(key=lambda change: change[:3])
        found = {name: [] for name in names}
        for *_order, name, obj in changes[:CDC_MAX_OBJECTS]:
            found[name].append(public(obj))
        blocks = [
            {name: found[name], "startPosition": 1, "maxResults": len(found[name])}
            if found[name]
            else {}
            for name in names
        ]
        return {"CDCResponse": [{"QueryResponse": blocks}]}


def _id_order(obj):
    text = str(obj.get("Id"))
    return (0, int(text), "") if text.isdigit() else (1, 0, text)


def _matches(obj, field, values):
    if field == "Id":
        return str(obj.get("Id")) in values
    return _casefold(obj.get(field)) in {_casefold(v) for v in values}


def _tokens(statement):
    text = str(statement or "")
    position, tokens = 0, []
    while position < len(text):
        if not text[position:].strip():
            break
        match = _TOKEN_RE.match(text, position)
        if match is None:
            raise bad_query(
                f'QueryParserError: Encountered "{text[position:].strip()[:20]}"'
            )
        kind = match.lastgroup
        value = match.group(kind)
        if kind == "str":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        tokens.append((kind, value))
        position = match.end()
    return tokens


def parse_query(statement):
    """``(entity, [(field, values)], start, max results)`` of a query
    statement (see the module docstring), else a 4001 ``FakeFault``."""
    tokens = _tokens(statement)
    position = 0

    def take(kind, word=None):
        nonlocal position
        if position >= len(tokens):
            raise bad_query("QueryParserError: Encountered end of query")
        found_kind, value = tokens[position]
        if found_kind != kind or (word and value.upper() != word):
            raise bad_query(f'QueryParserError: Encountered "{value}"')
        position += 1
        return value

    def peek(word):
        return (
            position < len(tokens)
            and tokens[position][0] == "word"
            and tokens[position][1].upper() == word
        )

    take("word", "SELECT")
    take("sym", "*")
    take("word", "FROM")
    name = take("word")
    entity = _ENTITY_PATHS.get(name.lower())
    if entity is None or entity == "CompanyInfo":
        raise bad_query(f"QueryValidationError: invalid context declaration: {name}")
    conditions = []
    if peek("WHERE"):
        take("word", "WHERE")
        while True:
            field = take("word")
            canonical = {f.lower(): f for f in QUERY_FIELDS}.get(field.lower())
            if canonical is None:
                raise bad_query(
                    f"QueryValidationError: property '{field}' is not queryable"
                )
            if peek("IN"):
                take("word", "IN")
                take("sym", "(")
                values = [take("str")]
                while position < len(tokens) and tokens[position] == ("sym", ","):
                    take("sym", ",")
                    values.append(take("str"))
                take("sym", ")")
            else:
                take("sym", "=")
                values = [take("str")]
            conditions.append((canonical, values))
            if not peek("AND"):
                break
            take("word", "AND")
    start, limit = 1, QUERY_DEFAULT_RESULTS
    if peek("STARTPOSITION"):
        take("word", "STARTPOSITION")
        start = max(1, int(take("num")))
    if peek("MAXRESULTS"):
        take("word", "MAXRESULTS")
        limit = int(take("num"))
        if limit > QUERY_MAX_RESULTS:
            raise bad_query(
                f"QueryValidationError: value {limit} is too large. Max allowed "
                f"value is: {QUERY_MAX_RESULTS}"
            )
    if position != len(tokens):
        raise bad_query(f'QueryParserError: Encountered "{tokens[position][1]}"')
    return entity, conditions, start, limit


# ------------------------------------------------------------------- server
class _Handler(BaseHTTPRequestHandler):
    server_version = "FakeQuickBooks/1.0"
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: without this, delayed ACKs cost
    # about 40 ms per answer.
    disable_nagle_algorithm = True

    def log_message(self, format, *args):
        """Silence the default access log on stderr."""

    def do_GET(self):
        self.server.fake.handle(self)

    def do_POST(self):
        self.server.fake.handle(self)

    def send_body(self, status, payload, headers=None):
        headers = dict(headers or {})
        if isinstance(payload, bytes):
            data = payload
        else:
            data = dumps(payload).encode("utf-8")
            headers.setdefault("Content-Type", "application/json;charset=UTF-8")
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        for key, value in headers.items():
            self.send_header(key, str(value))
        self.end_headers()
        self.wfile.write(data)


class FakeQuickBooks:
    """The fake QuickBooks Online; serves at once (``.api_url``, ``.token_url``),
    ``.stop()`` ends it. See the module docstring."""

    def __init__(
        self,
        *,
        realm_id=DEFAULT_REALM_ID,
        client_id=DEFAULT_CLIENT_ID,
        client_secret=DEFAULT_CLIENT_SECRET,
        verifier_token=DEFAULT_VERIFIER_TOKEN,
        max_concurrent=MAX_CONCURRENT,
        per_minute=PER_MINUTE,
        window_seconds=60,
        latency=0.0,
        slow_seconds=3.0,
        custom_doc_numbers=False,
        tax_rates=None,
        seed=True,
    ):
        self.realm_id = str(realm_id)
        self.client_id = client_id
        self.client_secret = client_secret
        self.verifier_token = verifier_token
        self.max_concurrent = max_concurrent
        self.per_minute = per_minute
        self.window_seconds = window_seconds
        self.latency = latency
        self.slow_seconds = slow_seconds
        self.custom_doc_numbers = custom_doc_numbers
        self.tax_rates = dict(tax_rates or {})
        self.requests = []
        self.replays = 0
        self.throttled = 0
        self.peak_concurrency = 0
        self.refresh_tokens_used = []
        self.invalid_grants = 0
        self.errors = []
        self._lock = threading.RLock()
        self._clock_offset = timedelta(0)
        self._grants = {}  # grant id -> set of its live tokens
        self._refresh = {}  # refresh token -> grant id
        self._access = {}  # access token -> (grant id, expires at)
        self._expired = set()
        self._codes = {}  # authorization code -> redirect URI
        self._grant_ids = itertools.count(1)
        self._failures = {}
        self._drop_every = 0
        self._drop_operations = API_OPERATIONS
        self._drop_count = 0
        self._seed = seed
        self._event_source = "intuit." + base64.b64encode(
            hashlib.sha256(self.realm_id.encode()).digest()
        ).decode("ascii")
        self.companies = {self.realm_id: Company(self, self.realm_id, seed)}
        self.refresh_token = self._issue(next(self._grant_ids))["refresh_token"]
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.fake = self
        host, port = self._server.server_address[:2]
        self.base_url = f"http://{host}:{port}"
        self.api_url = self.base_url
        self.token_url = self.base_url + TOKEN_PATH
        self.revoke_url = self.base_url + REVOKE_PATH
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-quickbooks",
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

    # ------------------------------------------------------------- state
    @property
    def objects(self):
        return self.companies[self.realm_id].objects

    @property
    def created(self):
        return self.companies[self.realm_id].created

    def company(self, realm=None):
        return self.companies[str(realm or self.realm_id)]

    def add_realm(self, realm_id, seed=None):
        """Another company the app is connected to (seeded like the first
        unless ``seed`` says otherwise)."""
        with self._lock:
            seed = self._seed if seed is None else seed
            company = Company(self, str(realm_id), seed)
            self.companies[str(realm_id)] = company
            return company

    def now(self):
        return datetime.now(timezone.utc) + self._clock_offset

    def advance_clock(self, seconds):
        """Move the fake's clock (MetaData times, CDC window, token expiry)."""
        with self._lock:
            self._clock_offset += timedelta(seconds=seconds)

    def count(self, operation):
        """Requests received for an operation (``"create"``, ``"token"``...)."""
        return sum(1 for r in self.requests if r["operation"] == operation)

    # ------------------------------------------------------ direct access
    def _direct(self, method, entity, realm, *args):
        with self._lock:
            try:
                return public(getattr(self.company(realm), method)(entity, *args))
            except FakeFault as fault:
                raise ValueError(str(fault)) from fault

    def add(self, entity, data, realm=None):
        """Create an object as someone working in QuickBooks would (not
        counted in ``created``); ValueError for what QuickBooks refuses."""
        return self._direct("create", entity, realm, data, False)

    def get(self, entity, obj_id, realm=None):
        """The object as the API would answer it, None when unknown."""
        with self._lock:
            obj = self.company(realm).objects[entity].get(str(obj_id))
            return public(obj) if obj is not None else None

    def find(self, entity, realm=None, **fields):
        """Objects whose fields equal ``fields`` (names without case)."""
        with self._lock:
            objects = self.company(realm).objects[entity].values()
            return [
                public(obj)
                for obj in sorted(objects, key=_id_order)
                if all(_matches(obj, k, [str(v)]) for k, v in fields.items())
            ]

    def edit(self, entity, obj_id, changes, realm=None):
        """A change made in QuickBooks (sparse, with the current SyncToken)."""
        data = {**changes, "Id": str(obj_id), "sparse": True}
        return self._direct("update", entity, realm, data, False)

    def void_object(self, entity, obj_id, realm=None):
        """A void made in QuickBooks."""
        return self._direct("void", entity, realm, {"Id": str(obj_id)}, False)

    def remove(self, entity, obj_id, realm=None):
        """A delete made in QuickBooks."""
        return self._direct("delete", entity, realm, {"Id": str(obj_id)}, False)

    # ------------------------------------------------------------- OAuth
    def _issue(self, grant):
        """New access and refresh tokens of a grant (Intuit's answer)."""
        access = "fake-at-" + secrets.token_urlsafe(24)
        refresh = "fake-rt-" + secrets.token_urlsafe(24)
        expires = self.now() + timedelta(seconds=ACCESS_TOKEN_SECONDS)
        with self._lock:
            self._access[access] = (grant, expires)
            self._refresh[refresh] = grant
            self._grants.setdefault(grant, set()).update({access, refresh})
        return {
            "token_type": "bearer",
            "expires_in": ACCESS_TOKEN_SECONDS,
            "refresh_token": refresh,
            "x_refresh_token_expires_in": REFRESH_TOKEN_SECONDS,
            "access_token": access,
        }

    def access_token(self):
        """A live access token of a new grant (tests that skip the refresh)."""
        return self._issue(next(self._grant_ids))["access_token"]

    def valid_refresh_tokens(self):
        with self._lock:
            return set(self._refresh)

    def authorization_code(self, redirect_uri=None):
        """A code Intuit would put on the redirect after the user connected."""
        code = "fake-code-" + secrets.token_urlsafe(12)
        with self._lock:
            self._codes[code] = redirect_uri
        return code

    def expire_access_tokens(self):
        """Every access token issued so far answers 401 from now on."""
        with self._lock:
            self._expired.update(self._access)
            self._access.clear()

    def revoke_grant_of(self, token):
        with self._lock:
            grant = self._refresh.get(token)
            if grant is None and token in self._access:
                grant = self._access[token][0]
            for item in self._grants.pop(grant, set()) if grant else ():
                self._refresh.pop(item, None)
                self._access.pop(item, None)

    def _client_ok(self, header):
        if not header or not header.lower().startswith("basic "):
            return False
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        expected = f"{self.client_id}:{self.client_secret}"
        return hmac.compare_digest(decoded.encode(), expected.encode())

    def _oauth(self, record, raw):
        """``(status, answer, headers, mode)`` of a token or revoke request."""
        operation = "revoke" if record["path"] == REVOKE_PATH else "token"
        record["operation"] = operation
        failure = self._take_failure(operation, None)
        mode = failure["mode"] if failure else None
        if failure and mode not in MODES:
            record["injected"] = mode
            return self._failure_answer(failure) + (None,)
        record["injected"] = mode
        if not self._client_ok(record["headers"].get("Authorization")):
            return 401, {"error": "invalid_client"}, None, mode
        if operation == "revoke":
            try:
                token = json.loads(raw.decode("utf-8") or "{}").get("token")
            except (ValueError, AttributeError, UnicodeDecodeError):
                token = None
            record["json"] = {"token": token}
            self.revoke_grant_of(token)
            return 200, b"", None, mode
        form = {k: v[-1] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
        record["form"] = form
        with self._lock:
            answer = self._grant_answer(form)
        return (*answer, None, mode)

    def _grant_answer(self, form):
        grant_type = form.get("grant_type")
        if grant_type == "refresh_token":
            token = form.get("refresh_token", "")
            self.refresh_tokens_used.append(token)
            grant = self._refresh.pop(token, None)
            if grant is None:
                self.invalid_grants += 1
                return 400, {"error": "invalid_grant"}
            self._grants[grant].discard(token)
            return 200, self._issue(grant)
        if grant_type == "authorization_code":
            code = form.get("code", "")
            if code not in self._codes:
                self.invalid_grants += 1
                return 400, {"error": "invalid_grant"}
            expected = self._codes.pop(code)
            if expected is not None and expected != form.get("redirect_uri"):
                self.invalid_grants += 1
                return 400, {"error": "invalid_grant"}
            return 200, self._issue(next(self._grant_ids))
        return 400, {"error": "unsupported_grant_type"}

    # ------------------------------------------------------------ control
    def fail_next(self, operation, mode=500, *, times=1, body=None):
        """The next ``times`` requests of ``operation`` (``"create"`` or
        ``"create:Invoice"``) fail with ``mode``: an HTTP status (not applied;
        ``body`` replaces the answer), ``"drop"`` or ``"slow"`` (applied)."""
        if operation.split(":", 1)[0] not in OPERATIONS:
            raise ValueError(f"Unknown operation {operation!r}: {sorted(OPERATIONS)}")
        if mode not in MODES and not (
            isinstance(mode, int) and not isinstance(mode, bool) and mode >= 400
        ):
            raise ValueError(f"Unknown failure mode {mode!r}.")
        with self._lock:
            queue = self._failures.setdefault(operation, deque())
            for _ in range(times):
                queue.append({"mode": mode, "body": body})

    def drop_every(self, n, operations=None):
        """Apply every ``n``-th API request (of ``operations``) and drop its
        answer; 0 stops it."""
        operations = set(operations or API_OPERATIONS)
        if not operations <= API_OPERATIONS:
            raise ValueError(
                f"Unknown operations {sorted(operations - API_OPERATIONS)}"
            )
        with self._lock:
            self._drop_every = int(n or 0)
            self._drop_operations = frozenset(operations)
            self._drop_count = 0

    def clear_failures(self):
        with self._lock:
            self._failures.clear()
            self._drop_every = 0

    def _take_failure(self, operation, entity):
        with self._lock:
            for key in (f"{operation}:{entity}", operation):
                queue = self._failures.get(key)
                if queue:
                    return queue.popleft()
        return None

    def _drop_due(self, operation):
        with self._lock:
            if not self._drop_every or operation not in self._drop_operations:
                return False
            self._drop_count += 1
            return self._drop_count % self._drop_every == 0

    def _time(self):
        return local_time(self.now(), "milliseconds")

    def _fault_answer(self, fault):
        return fault.status, {"Fault": fault.fault(), "time": self._time()}

    def _auth_fault(self, token):
        detail = (
            f"Token expired: {token}" if token in self._expired else "Token invalid"
        )
        return {
            "warnings": None,
            "intuitObject": None,
            "fault": {
                "error": [
                    {
                        "message": "message=AuthenticationFailed; errorCode=003200; "
                        "statusCode=401",
                        "detail": detail,
                        "code": "3200",
                        "element": None,
                    }
                ],
                "type": "AUTHENTICATION",
            },
            "report": None,
            "queryResponse": None,
            "batchItemResponse": [],
            "attachableResponse": [],
            "syncErrorResponse": None,
            "requestId": None,
            "time": int(self.now().timestamp() * 1000),
            "status": None,
            "cdcresponse": [],
        }

    def _throttle_answer(self):
        fault = FakeFault(
            "3001",
            "message=ThrottleExceeded; errorCode=003001; statusCode=429",
            "The request limit was reached.  Try again later",
            status=429,
            kind="SERVICE",
        )
        return self._fault_answer(fault)

    def _failure_answer(self, failure):
        status = failure["mode"]
        if failure.get("body") is not None:
            return status, failure["body"], None
        if status == 429:
            return (*self._throttle_answer(), None)
        if status == 401:
            return 401, self._auth_fault(None), None
        if status >= 500:
            fault = FakeFault(
                "10000",
                "An application error has occurred while processing your request",
                "System Failure Error: injected failure",
                status=status,
                kind="SystemFault",
            )
        else:
            fault = invalid(f"injected failure (HTTP {status})")
            fault.status = status
        return (*self._fault_answer(fault), None)

    # ---------------------------------------------------------- webhooks
    def sign(self, body):
        """The ``intuit-signature`` header value for ``body``."""
        return signature(self.verifier_token, body)

    def _changes(self, entities, realm):
        for entry in entities:
            if len(entry) == 4:
                realm_id, name, obj_id, operation = entry
            else:
                name, obj_id, operation = entry
                realm_id = realm or self.realm_id
            if operation not in _PAST:
                raise ValueError(f"Unknown operation {operation!r}: {sorted(_PAST)}")
            yield str(realm_id), str(name), str(obj_id), operation

    def _changed_at(self, realm_id, name, obj_id):
        with self._lock:
            company = self.companies.get(realm_id)
            obj = None
            if company is not None and name in company.objects:
                obj = company.objects[name].get(obj_id) or company.deleted[name].get(
                    obj_id
                )
            return obj["_updated"] if obj else self.now()

    def _signed(self, payload):
        body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        return body, {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: self.sign(body),
        }

    def legacy_event(self, entities, realm=None):
        """``(body, headers)`` of the legacy ``eventNotifications`` POST."""
        notifications = {}
        for realm_id, name, obj_id, operation in self._changes(entities, realm):
            moment = self._changed_at(realm_id, name, obj_id).astimezone(timezone.utc)
            stamp = moment.strftime("%Y-%m-%dT%H:%M:%S.") + (
                f"{moment.microsecond // 1000:03d}Z"
            )
            notifications.setdefault(realm_id, []).append(
                {
                    "name": name,
                    "id": obj_id,
                    "operation": operation,
                    "lastUpdated": stamp,
                }
            )
        return self._signed(
            {
                "eventNotifications": [
                    {"realmId": realm_id, "dataChangeEvent": {"entities": items}}
                    for realm_id, items in notifications.items()
                ]
            }
        )

    def cloudevents(self, entities, realm=None):
        """``(body, headers)`` of the CloudEvents array POST."""
        events = []
        for realm_id, name, obj_id, operation in self._changes(entities, realm):
            moment = self._changed_at(realm_id, name, obj_id).astimezone(timezone.utc)
            stamp = moment.strftime("%Y-%m-%dT%H:%M:%S.") + (
                f"{moment.microsecond:06d}000Z"
            )
            events.append(
                {
                    "specversion": "1.0",
                    "id": str(uuid.uuid4()),
                    "source": self._event_source,
                    "type": f"qbo.{name.lower()}.{_PAST[operation]}.v1",
                    "datacontenttype": "application/json",
                    "time": stamp,
                    "intuitentityid": obj_id,
                    "intuitaccountid": realm_id,
                    "data": {},
                }
            )
        return self._signed(events)

    # ----------------------------------------------------------- requests
    def handle(self, handler):
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        parts = urlsplit(handler.path)
        query = {
            k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()
        }
        record = {
            "method": handler.command,
            "path": parts.path,
            "query": query,
            "json": None,
            "form": None,
            "operation": None,
            "entity": None,
            "realm": None,
            "status": None,
            "request_id": query.get("requestid"),
            "injected": None,
            "replay": False,
            "throttle": None,
            "headers": dict(handler.headers.items()),
        }
        with self._lock:
            self.requests.append(record)
        company = None
        try:
            if parts.path in (TOKEN_PATH, REVOKE_PATH):
                answer = self._oauth(record, raw)
            else:
                answer, company = self._api(record, raw)
            if company is not None and self.latency:
                time.sleep(self.latency)
        except Exception as exc:  # a bug of the fake: visible, not a hang
            with self._lock:
                self.errors.append(traceback.format_exc())
            fault = FakeFault(
                "10000",
                "An application error has occurred while processing your request",
                f"System Failure Error: fake bug {exc!r}",
                status=500,
                kind="SystemFault",
            )
            answer = (*self._fault_answer(fault), None, None)
        try:
            self._send(handler, record, *answer)
        finally:
            if company is not None:
                with self._lock:
                    company.in_flight -= 1

    def _send(self, handler, record, status, payload, headers, mode):
        if mode == "drop":
            # Applied, then no answer at all: the client sees the connection end.
            handler.close_connection = True
            return
        if mode == "slow":
            time.sleep(self.slow_seconds)
            handler.close_connection = True
        record["status"] = status
        headers = {TID_HEADER: str(uuid.uuid4()), **(headers or {})}
        try:
            handler.send_body(status, payload, headers)
        except (BrokenPipeError, ConnectionResetError):
            handler.close_connection = True

    def _token_ok(self, header):
        """``(ok, token)`` for an ``Authorization: Bearer`` header."""
        token = None
        if header and header.lower().startswith("bearer "):
            token = header[7:].strip()
        with self._lock:
            found = self._access.get(token)
            if found is not None and found[1] <= self.now():
                self._expired.add(token)
                del self._access[token]
                found = None
        return found is not None, token

    def _admit(self, company, record):
        """None when the request may run (counted in flight), else the 429."""
        with self._lock:
            now = time.monotonic()
            window = company.window
            if self.per_minute is not None:
                while window and window[0] <= now - self.window_seconds:
                    window.popleft()
            if self.max_concurrent is not None and company.in_flight >= (
                self.max_concurrent
            ):
                record["throttle"] = "concurrency"
            elif self.per_minute is not None and len(window) >= self.per_minute:
                record["throttle"] = "rate"
            else:
                company.in_flight += 1
                self.peak_concurrency = max(self.peak_concurrency, company.in_flight)
                window.append(now)
                return None
            self.throttled += 1
        return (*self._throttle_answer(), None, None)

    def _api(self, record, raw):
        """``(answer, company admitted or None)`` of an API request."""
        match = _COMPANY_RE.match(record["path"])
        if match is None:
            fault = unsupported(f"Operation {record['path']} is not supported.")
            return (*self._fault_answer(fault), None, None), None
        realm, rest = match.group(1), match.group(2)
        record["realm"] = realm
        body, bad_json = None, False
        if raw and rest.lower() != "query":
            try:
                body = json.loads(raw.decode("utf-8"), parse_float=Decimal)
            except (UnicodeDecodeError, ValueError):
                bad_json = True
        record["json"] = body
        operation, entity, obj_id = self._route(
            record["method"], rest, record["query"], body
        )
        record["operation"], record["entity"] = operation, entity
        if operation is None:
            fault = unsupported(f"Operation {rest} is not supported.")
            return (*self._fault_answer(fault), None, None), None
        ok, token = self._token_ok(record["headers"].get("Authorization"))
        if not ok:
            return (401, self._auth_fault(token), None, None), None
        company = self.companies.get(realm)
        if company is None:
            fault = FakeFault(
                "120",
                "Authorization Failure",
                f"AuthorizationFailure: the app is not connected to company {realm}.",
                status=403,
                kind="AuthorizationFault",
            )
            return (*self._fault_answer(fault), None, None), None
        throttled = self._admit(company, record)
        if throttled is not None:
            return throttled, None
        try:
            answer = self._run(company, record, entity, obj_id, body, bad_json, raw)
        except BaseException:
            with self._lock:
                company.in_flight -= 1
            raise
        return answer, company

    @staticmethod
    def _route(method, rest, query, body):
        """``(operation, entity, object id)`` of an API path."""
        parts = rest.split("/")
        name = parts[0].lower()
        entity = _ENTITY_PATHS.get(name)
        if method == "GET":
            if len(parts) == 1 and name in ("query", "cdc"):
                return name, None, None
            if len(parts) == 2 and entity and parts[1]:
                return "read", entity, unquote(parts[1])
        elif method == "POST" and len(parts) == 1:
            if name in ("query", "batch"):
                return name, None, None
            if entity and entity != "CompanyInfo":
                operation = str(query.get("operation") or "").lower()
                if operation == "delete":
                    return "delete", entity, None
                if operation == "void" or (
                    operation == "update" and query.get("include") == "void"
                ):
                    return "void", entity, None
                has_id = isinstance(body, dict) and body.get("Id") not in (None, "")
                if operation == "update" or (operation in ("", "create") and has_id):
                    return "update", entity, None
                if operation in ("", "create"):
                    return "create", entity, None
        return None, None, None

    def _run(self, company, record, entity, obj_id, body, bad_json, raw):
        """``(status, answer, headers, mode)`` of an admitted API request."""
        operation = record["operation"]
        failure = self._take_failure(operation, entity)
        mode = failure["mode"] if failure else None
        if failure and mode not in MODES:
            record["injected"] = mode
            return self._failure_answer(failure) + (None,)
        if mode is None and self._drop_due(operation):
            mode = "drop"
        record["injected"] = mode
        request_id = record["request_id"]
        if request_id and len(request_id) > MAX_REQUEST_ID:
            fault = invalid(f"requestid longer than {MAX_REQUEST_ID} characters")
            return (*self._fault_answer(fault), None, mode)
        with self._lock:
            if request_id and request_id in company.responses:
                self.replays += 1
                record["replay"] = True
                status, answer = company.responses[request_id]
                return status, answer, None, mode
            try:
                if bad_json:
                    raise invalid("the request body is not JSON")
                answer = self._apply(company, record, entity, obj_id, body, raw)
                status, answer = 200, {**answer, "time": self._time()}
            except FakeFault as fault:
                status, answer = self._fault_answer(fault)
            if request_id:
                company.responses[request_id] = (status, answer)
        return status, answer, None, mode

    def _apply(self, company, record, entity, obj_id, body, raw):
        """The answer (without ``time``) of one operation; FakeFault else."""
        operation, query = record["operation"], record["query"]
        if operation == "read":
            return {entity: public(company.read(entity, obj_id))}
        if operation == "query":
            text = query.get("query")
            if text is None:
                text = raw.decode("utf-8", "replace")
            return company.query(text)
        if operation == "cdc":
            return company.cdc(query.get("entities"), query.get("changedSince"))
        if operation == "batch":
            return self._batch(company, body, record["request_id"])
        return {entity: public(self._write(company, operation, entity, body))}

    @staticmethod
    def _write(company, operation, entity, body):
        if not isinstance(body, dict):
            raise invalid(f"the {entity} object is missing")
        if operation == "create":
            return company.create(entity, body)
        return getattr(company, operation)(entity, body)

    def _batch(self, company, body, request_id):
        items = body.get("BatchItemRequest") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise missing("BatchItemRequest")
        if request_id and len(request_id) > BATCH_MAX_REQUEST_ID:
            raise invalid(f"requestid longer than {BATCH_MAX_REQUEST_ID} characters")
        if request_id and any(
            len(str(item.get("bId") or "")) > BATCH_MAX_ITEM_ID
            for item in items
            if isinstance(item, dict)
        ):
            raise invalid(f"bId longer than {BATCH_MAX_ITEM_ID} characters")
        if len(items) > BATCH_MAX_ITEMS:
            raise invalid(
                f"BatchItemRequest has {len(items)} items; at most "
                f"{BATCH_MAX_ITEMS} are allowed"
            )
        return {"BatchItemResponse": [self._batch_item(company, i) for i in items]}

    def _batch_item(self, company, item):
        bid = item.get("bId") if isinstance(item, dict) else None
        result = {"bId": bid}
        try:
            if not bid:
                raise missing("bId")
            if "Query" in item:
                result.update(company.query(item["Query"]))
                return result
            operation = str(item.get("operation") or "").lower()
            names = [name for name in ENTITIES if name in item]
            if operation not in ("create", "update", "delete") or len(names) != 1:
                raise invalid("a batch item holds one operation and one entity")
            entity = names[0]
            obj = self._write(company, operation, entity, item[entity])
            result[entity] = public(obj)
        except FakeFault as fault:
            result["Fault"] = fault.fault()
        return result

"""Clients of Intuit's OAuth 2.0 token endpoint and of the QuickBooks Online
Accounting API (v3), on ``requests``.

``TokenClient`` speaks to the token endpoint (``grant_type=refresh_token`` and
``authorization_code``, client id and secret as HTTP basic auth) and to the
revoke endpoint; it returns Intuit's JSON answer as a dict (reading it is
``oauth.parse_token_response``'s job). ``{"error": "invalid_grant"}`` raises
``oauth.InvalidGrant`` (the user has to reconnect), other refusals
(``invalid_client``...) ``oauth.OAuthError``, 429/5xx ``TransientError``.

``QuickBooksClient`` sends every request to
``{api_url}/v3/company/{realm}/...`` with ``minorversion`` (75 or later),
``Accept`` and ``Content-Type: application/json`` and ``Authorization: Bearer``
with the access token ``token_provider(False)`` gives. On a ``401`` it asks
``token_provider(True)`` for a fresh token and repeats the request once.
``create``/``read``/``update``/``void``/``delete`` return QuickBooks' answer
(``{"Invoice": {...}, "time": ...}``), ``query`` the list of objects, ``cdc``
``{entity: [objects]}`` and ``batch`` the ``BatchItemResponse`` entries. A
``Decimal`` in a payload is sent as the exact JSON number (``100.10``); answers
are plain JSON (amounts as floats). Creates carry a ``requestid``: QuickBooks
answers a repeated ``requestid`` with the first answer, so repeating a create
whose answer was lost never makes a second object.

The clients do not retry otherwise: every failure is raised at once and the job
queue retries later, so that a worker is never held.

Failures:

- timeouts, dropped connections and unreachable hosts raise ``TransientError``;
  its ``maybe_applied`` says whether QuickBooks may have run the request (a read
  timeout or a connection lost after sending): repeat it with the same
  ``requestid``, or read the object again;
- HTTP error answers go through ``errors.error_from_response`` (decided by
  QuickBooks' error code: ``StaleObject`` for 5010, ``DuplicateName`` for 6240,
  ``TransientError`` for 429 and 5xx, ...); a ``Fault`` inside a 200 answer
  counts as a 400. The ``intuit_tid`` response header (for Intuit support) is on
  the error and, after every answer, on the client as ``last_tid``.

Limits: QuickBooks takes at most ``MAX_PER_MINUTE`` requests a minute and
``MAX_CONCURRENT`` at once per company, across every worker. ``limiter``, when
given, is a callable returning a context manager entered around each HTTP
request (Odoo's keeps the requests in the database and waits for a free slot);
``batch_limiter`` likewise around each batch request (``MAX_BATCHES_PER_MINUTE``).

Every call has a timeout (``timeout`` seconds). A client is not shared between
threads.
"""

import contextlib
import hashlib
import json
import re
import uuid
from collections.abc import Mapping
from datetime import datetime, timezone
from decimal import Decimal
from urllib.parse import quote, urlsplit

import requests

if __name__.startswith("odoo.addons."):
    from odoo.addons.distribution_sync.core import errors as core_errors
    from odoo.addons.distribution_sync.core import http, retry
else:
    from distribution_sync.core import errors as core_errors
    from distribution_sync.core import http, retry

from .errors import error_from_response
from .oauth import REVOKE_URL, TOKEN_URL, InvalidGrant, OAuthError

PayloadError = core_errors.PayloadError
ConfigurationError = core_errors.ConfigurationError
TransientError = core_errors.TransientError

DEFAULT_API_URL = "https://quickbooks.api.intuit.com"
SANDBOX_API_URL = "https://sandbox-quickbooks.api.intuit.com"
DEFAULT_TIMEOUT = 20
MINOR_VERSION = 75
BATCH_SIZE = 10
# Per company (realm) and app, whatever the number of workers.
MAX_PER_MINUTE = 500
MAX_CONCURRENT = 10
# Batch requests besides: per company and app.
MAX_BATCHES_PER_MINUTE = 40
MAX_QUERY_RESULTS = 1000
MAX_REQUEST_ID = 50
MAX_BATCH_REQUEST_ID = 36
MAX_BATCH_ITEM_ID = 10
TID_HEADER = "intuit_tid"
REVOKE_PATH = "/v2/oauth2/tokens/revoke"
_TRANSIENT_HINT = "The job is retried later."
_TRANSIENT_OAUTH = ("temporarily_unavailable", "server_error")
_PAGING_RE = re.compile(r"\b(STARTPOSITION|MAXRESULTS)\b", re.IGNORECASE)
_ENTITY_RE = re.compile(r"^[A-Za-z]+$")
_NOUNS = {
    "CreditMemo": "credit memo",
    "PaymentMethod": "payment method",
    "TaxCode": "tax code",
    "SalesReceipt": "sales receipt",
    "RefundReceipt": "refund receipt",
    "CompanyInfo": "company information",
}


# ------------------------------------------------------------------ helpers
def dumps(payload):
    """``payload`` as JSON text; a ``Decimal`` becomes the exact JSON number
    (``Decimal("100.10")`` -> ``100.10``), never a float or a string."""
    marker = f"\ue000{uuid.uuid4().hex}"
    found = []

    def convert(value):
        if isinstance(value, Decimal):
            if not value.is_finite():
                raise PayloadError(f"{value} is not an amount QuickBooks accepts.")
            found.append(True)
            return f"{marker}{format(value, 'f')}{marker}"
        if isinstance(value, Mapping):
            return {str(key): convert(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [convert(item) for item in value]
        return value

    text = json.dumps(convert(payload), ensure_ascii=False)
    if not found:
        return text
    return re.sub(rf'"{marker}(-?[0-9.]+){marker}"', r"\1", text)


def network_error(exc, url, timeout, what):
    """The ``SyncError`` for a ``requests`` exception; ``what`` says what may
    have been applied ("the request", "the token refresh")."""
    return http.network_error(
        exc,
        url,
        service="QuickBooks",
        timeout=timeout,
        applied=f"{what} may have been applied",
        reach_hint="Check the URL on the QuickBooks backend",
        call_hint="Check the URL on the QuickBooks backend.",
        repeat_hint="Repeat it with the same request id, or read the object again",
    )


def _base_url(url, what, default):
    base = str(url or "").strip().rstrip("/")
    if not base:
        raise ConfigurationError(
            f"The QuickBooks {what} is missing.",
            hint=f"Set it on the QuickBooks backend ({default}).",
        )
    if urlsplit(base).scheme not in ("http", "https"):
        raise ConfigurationError(
            f"{url!r} is not an http(s) URL.",
            value=url,
            hint=f"Set the {what} on the QuickBooks backend ({default}).",
        )
    return base


def describe(entity, payload=None, entity_id=None):
    """What a request is about, for messages: ``"invoice INV/2026/0001"``,
    ``"customer Ada Lovelace"``, ``"credit memo 12"``."""
    noun = _NOUNS.get(entity, entity.lower())
    label = None
    if isinstance(payload, Mapping):
        for key in ("DocNumber", "DisplayName", "Name", "Id"):
            if payload.get(key) not in (None, ""):
                label = payload[key]
                break
    label = label if label is not None else entity_id
    return f"{noun} {label}" if label not in (None, "") else noun


def _sent_name(payload):
    for key in ("DisplayName", "Name"):
        if isinstance(payload, Mapping) and payload.get(key):
            return str(payload[key])
    return None


def _tid(response):
    return response.headers.get(TID_HEADER) or None


def batch_item_error(item, intuit_tid=None):
    """The ``SyncError`` of one ``BatchItemResponse`` entry that holds a
    ``Fault`` (each batch item fails on its own), else None."""
    if not isinstance(item, Mapping) or not isinstance(item.get("Fault"), Mapping):
        return None
    headers = {TID_HEADER: intuit_tid} if intuit_tid else None
    what = f"batch item {item.get('bId')}" if item.get("bId") else None
    error = error_from_response(400, {"Fault": item["Fault"]}, headers, entity=what)
    if getattr(error, "intuit_tid", None) is None:
        error.intuit_tid = intuit_tid
    error.batch_id = item.get("bId")
    return error


# ------------------------------------------------------------- token client
class TokenClient:
    """Intuit's OAuth 2.0 token and revoke endpoints; see the module docstring.

    ``revoke_url`` defaults to Intuit's for Intuit's token URL, else to
    ``/v2/oauth2/tokens/revoke`` on the token URL's host (a local server
    answering the same paths).
    """

    def __init__(
        self,
        token_url,
        client_id,
        client_secret,
        timeout=DEFAULT_TIMEOUT,
        session=None,
        revoke_url=None,
    ):
        self.token_url = _base_url(token_url, "token URL", TOKEN_URL)
        if not client_id or not client_secret:
            raise ConfigurationError(
                "The QuickBooks app's client id or client secret is missing.",
                hint="Set both on the QuickBooks backend (from the Intuit "
                "developer portal).",
            )
        if revoke_url:
            self.revoke_url = _base_url(revoke_url, "revoke URL", REVOKE_URL)
        elif self.token_url == TOKEN_URL:
            self.revoke_url = REVOKE_URL
        else:
            parts = urlsplit(self.token_url)
            self.revoke_url = f"{parts.scheme}://{parts.netloc}{REVOKE_PATH}"
        self._auth = (str(client_id), str(client_secret))
        self.timeout = timeout
        self.session = session if session is not None else requests.Session()
        self._own_session = session is None
        self.last_tid = None

    def __repr__(self):
        return f"<TokenClient {self.token_url}>"

    def close(self):
        if self._own_session:
            self.session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def refresh(self, refresh_token):
        """``grant_type=refresh_token``: Intuit's answer (``access_token``,
        ``expires_in``, ``refresh_token`` — possibly a new one, to store at
        once —, ``x_refresh_token_expires_in``)."""
        token = str(refresh_token or "").strip()
        if not token:
            raise InvalidGrant("No QuickBooks refresh token is stored.")
        return self._grant({"grant_type": "refresh_token", "refresh_token": token})

    def exchange(self, code, redirect_uri):
        """``grant_type=authorization_code``: the first tokens after the user
        connected (``code`` from the redirect, the same ``redirect_uri``)."""
        if not code or not redirect_uri:
            raise PayloadError(
                "The authorization code or the redirect URI is missing.",
                hint="Connect to QuickBooks again.",
            )
        return self._grant(
            {
                "grant_type": "authorization_code",
                "code": str(code),
                "redirect_uri": str(redirect_uri),
            }
        )

    def revoke(self, token):
        """Revoke a refresh (or access) token: the connection ends. True."""
        text = str(token or "").strip()
        if not text:
            raise PayloadError("No QuickBooks token to revoke.")
        self._post(self.revoke_url, json_body={"token": text})
        return True

    def _grant(self, form):
        data = self._post(self.token_url, form=form)
        if not isinstance(data, Mapping) or not data.get("access_token"):
            raise PayloadError(
                f"Unexpected answer of the QuickBooks token endpoint: {data!r:.200}",
                hint="Check the token URL on the QuickBooks backend.",
            )
        return dict(data)

    def _post(self, url, *, form=None, json_body=None):
        headers = {"Accept": "application/json"}
        if json_body is not None:
            headers["Content-Type"] = "application/json"
        self.last_tid = None
        what = "the token refresh (a new refresh token)"
        if form is None or form.get("grant_type") != "refresh_token":
            what = "the request"
        try:
            response = self.session.request(
                "POST",
                url,
                data=form if form is not None else dumps(json_body),
                headers=headers,
                auth=self._auth,
                timeout=self.timeout,
            )
        except requests.exceptions.RequestException as exc:
            raise network_error(exc, url, self.timeout, what) from exc
        self.last_tid = _tid(response)
        data = http.loads(response)
        if response.status_code >= 400:
            raise self._error(response, data)
        return data

    def _error(self, response, data):
        status = response.status_code
        code = ""
        description = ""
        if isinstance(data, Mapping):
            code = str(data.get("error") or "").strip()
            description = str(data.get("error_description") or "").strip()
        detail = f"{code}: {description}" if description else code
        detail = detail or (response.text or "").strip()[:200] or f"HTTP {status}"
        if code == "invalid_grant":
            error = InvalidGrant(
                f"QuickBooks refused the stored authorization ({detail}); "
                "reconnect to QuickBooks."
            )
        elif retry.is_transient_http_status(status) or code in _TRANSIENT_OAUTH:
            error = TransientError(
                f"The QuickBooks token endpoint failed (HTTP {status}): {detail}",
                value=status,
                retry_after=retry.retry_after_seconds(
                    response.headers.get("Retry-After")
                ),
                hint=_TRANSIENT_HINT,
            )
        else:
            hint = (
                "Check the app's client id and secret on the QuickBooks backend, "
                "then reconnect."
            )
            error = OAuthError(
                f"QuickBooks refused the token request (HTTP {status}): {detail}",
                value=code or status,
                hint=hint,
            )
        error.status = status
        error.code = code or None
        error.intuit_tid = _tid(response)
        return error


# ----------------------------------------------------------------- API client
class QuickBooksClient:
    """QuickBooks Online Accounting API client; see the module docstring.

    ``token_provider(force_refresh: bool) -> str`` gives the access token; it is
    asked with ``True`` once after a ``401``.
    """

    def __init__(
        self,
        api_url,
        realm_id,
        token_provider,
        minor_version=MINOR_VERSION,
        timeout=DEFAULT_TIMEOUT,
        session=None,
        limiter=None,
        batch_limiter=None,
    ):
        self.api_url = _base_url(api_url, "API URL", DEFAULT_API_URL)
        realm = str(realm_id or "").strip()
        if not realm:
            raise ConfigurationError(
                "The QuickBooks company (realm) id is missing.",
                hint="Connect the backend to QuickBooks.",
            )
        if not callable(token_provider):
            raise PayloadError("No QuickBooks access token provider.")
        try:
            minor = int(minor_version)
        except (TypeError, ValueError):
            minor = 0
        if minor < MINOR_VERSION:
            raise PayloadError(
                f"QuickBooks minor version {minor_version!r} is not supported; "
                f"use {MINOR_VERSION} or later.",
                value=minor_version,
            )
        self.realm_id = realm
        self.minor_version = minor
        self.token_provider = token_provider
        self.timeout = timeout
        self.limiter = limiter or contextlib.nullcontext
        self.batch_limiter = batch_limiter or contextlib.nullcontext
        self.session = session if session is not None else requests.Session()
        self._own_session = session is None
        self.company_url = f"{self.api_url}/v3/company/{quote(realm, safe='')}"
        self.last_tid = None

    def __repr__(self):
        return f"<QuickBooksClient {self.api_url} realm {self.realm_id}>"

    def close(self):
        if self._own_session:
            self.session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    # -------------------------------------------------------------- HTTP
    def _send(self, method, url, params, body, token):
        headers = {
            "Accept": "application/json",
            "Content-Type": "application/json",
            "Authorization": f"Bearer {token}",
        }
        try:
            with self.limiter():
                return self.session.request(
                    method,
                    url,
                    params=params,
                    data=body.encode("utf-8") if body is not None else None,
                    headers=headers,
                    timeout=self.timeout,
                )
        except requests.exceptions.RequestException as exc:
            raise network_error(exc, url, self.timeout, "the request") from exc

    def _token(self, force_refresh):
        token = self.token_provider(force_refresh)
        if not token:
            raise PayloadError(
                "No QuickBooks access token.", hint="Connect to QuickBooks again."
            )
        return str(token)

    def _call(
        self,
        method,
        path,
        *,
        params=None,
        payload=None,
        request_id=None,
        what=None,
        name=None,
    ):
        """One API request (repeated once after a ``401`` with a fresh token);
        the answer's JSON object. ``what`` ("invoice 1043") and ``name`` (the
        name sent) go into the error message."""
        url = f"{self.company_url}/{path}"
        query = dict(params or {})
        query["minorversion"] = self.minor_version
        if request_id is not None:
            query["requestid"] = request_id
        body = dumps(payload) if payload is not None else None
        self.last_tid = None  # no answer, no tid: never an older request's
        response = self._send(method, url, query, body, self._token(False))
        if response.status_code == 401:
            response = self._send(method, url, query, body, self._token(True))
        self.last_tid = _tid(response)
        data = http.loads(response)
        if response.status_code >= 400:
            raise self._error(
                response.status_code, response.content, response, what, name
            )
        if not isinstance(data, Mapping):
            raise PayloadError(
                f"QuickBooks answered HTTP {response.status_code} with something "
                f"that is not a JSON object: {(response.text or '')[:200]!r}",
                hint="Check the API URL on the QuickBooks backend.",
            )
        if isinstance(data.get("Fault"), Mapping):
            raise self._error(400, data, response, what, name)
        return data

    def _error(self, status, body, response, what, name):
        error = error_from_response(
            status, body, response.headers, entity=what, name=name
        )
        if getattr(error, "intuit_tid", None) is None:
            error.intuit_tid = self.last_tid
        return error

    # ------------------------------------------------------------- checks
    @staticmethod
    def _entity(entity):
        name = str(entity or "").strip()
        if not _ENTITY_RE.match(name):
            raise PayloadError(f"{entity!r} is not a QuickBooks entity name.")
        return name

    @staticmethod
    def _request_id(request_id, limit=MAX_REQUEST_ID, required=False):
        if request_id is None and not required:
            return None
        text = str(request_id or "").strip()
        if not text:
            raise PayloadError(
                "A QuickBooks create needs a request id (it makes the create "
                "idempotent).",
            )
        if len(text) > limit:
            raise PayloadError(
                f"The QuickBooks request id {text!r} is longer than {limit} "
                "characters.",
                value=text,
            )
        return text

    @staticmethod
    def _id(value, what="object"):
        text = str(value or "").strip()
        if not text:
            raise PayloadError(f"The QuickBooks {what} id is missing.", value=value)
        return text

    @staticmethod
    def _answer(entity, data):
        """``data`` when it holds the entity object (``{"Invoice": {...},
        "time"}``)."""
        if not isinstance(data.get(entity), Mapping):
            raise PayloadError(
                f"QuickBooks answered without {entity}: {data!r:.200}",
                path=entity,
            )
        return data

    # ----------------------------------------------------------- entities
    def create(self, entity, payload, request_id):  # pylint: disable=method-required-super
        """``POST /{entity}?requestid=...``: the answer, ``{entity: the created
        object (Id, SyncToken "0")}``. The same ``request_id`` answers the same
        object again."""
        name = self._entity(entity)
        if not isinstance(payload, Mapping):
            raise PayloadError(f"A QuickBooks {name} is a JSON object.", value=payload)
        request_id = self._request_id(request_id, required=True)
        data = self._call(
            "POST",
            name.lower(),
            payload=dict(payload),
            request_id=request_id,
            what=describe(name, payload),
            name=_sent_name(payload),
        )
        return self._answer(name, data)

    def read(self, entity, entity_id):  # pylint: disable=method-required-super
        """``GET /{entity}/{id}``: ``{entity: the object as it is now}``."""
        name = self._entity(entity)
        object_id = self._id(entity_id, name)
        path = f"{name.lower()}/{quote(object_id, safe='')}"
        data = self._call("GET", path, what=describe(name, entity_id=object_id))
        return self._answer(name, data)

    def update(self, entity, payload, request_id=None):
        """``POST /{entity}`` with ``Id`` and the current ``SyncToken`` (``sparse:
        true`` changes only the fields given): ``{entity: the object with the
        next SyncToken}``. A stale token raises ``StaleObject``."""
        name = self._entity(entity)
        if not isinstance(payload, Mapping):
            raise PayloadError(f"A QuickBooks {name} is a JSON object.", value=payload)
        self._id(payload.get("Id"), name)
        if payload.get("SyncToken") in (None, ""):
            raise PayloadError(
                f"A QuickBooks {name} update needs its current SyncToken.",
                path="SyncToken",
            )
        data = self._call(
            "POST",
            name.lower(),
            params={"operation": "update"},
            payload=dict(payload),
            request_id=self._request_id(request_id),
            what=describe(name, payload),
            name=_sent_name(payload),
        )
        return self._answer(name, data)

    def void(self, entity, entity_id, sync_token, request_id=None):
        """Void a transaction (amounts zero, kept in the books): ``{entity: the
        voided object}``. A ``Payment`` is voided as QuickBooks wants it
        (``operation=update&include=void``, sparse)."""
        name = self._entity(entity)
        payload = {"Id": self._id(entity_id, name), "SyncToken": str(sync_token)}
        if name == "Payment":
            params = {"operation": "update", "include": "void"}
            payload["sparse"] = True
        else:
            params = {"operation": "void"}
        data = self._call(
            "POST",
            name.lower(),
            params=params,
            payload=payload,
            request_id=self._request_id(request_id),
            what=describe(name, entity_id=payload["Id"]),
        )
        return self._answer(name, data)

    def delete(self, entity, entity_id, sync_token, request_id=None):
        """Delete a transaction: ``{entity: {"Id", "status": "Deleted"}}``."""
        name = self._entity(entity)
        payload = {"Id": self._id(entity_id, name), "SyncToken": str(sync_token)}
        data = self._call(
            "POST",
            name.lower(),
            params={"operation": "delete"},
            payload=payload,
            request_id=self._request_id(request_id),
            what=describe(name, entity_id=payload["Id"]),
        )
        return self._answer(name, data)

    def query(self, statement, start=1, max_results=MAX_QUERY_RESULTS):
        """``GET /query``: the objects of one page of ``statement`` (``SELECT *
        FROM Customer WHERE DisplayName = 'x'``), ``STARTPOSITION start
        MAXRESULTS max_results`` appended; an empty list when nothing matches."""
        text = " ".join(str(statement or "").split())
        if not text.upper().startswith("SELECT "):
            raise PayloadError(f"{statement!r} is not a QuickBooks query.")
        if _PAGING_RE.search(text):
            raise PayloadError(
                "Pass the page as start / max_results, not in the statement.",
                value=text,
            )
        start, max_results = int(start), int(max_results)
        if start < 1 or not 1 <= max_results <= MAX_QUERY_RESULTS:
            raise PayloadError(
                f"A QuickBooks query page starts at 1 and holds 1 to "
                f"{MAX_QUERY_RESULTS} objects (got {start}, {max_results}).",
            )
        full = f"{text} STARTPOSITION {start} MAXRESULTS {max_results}"
        data = self._call("GET", "query", params={"query": full}, what="query")
        answer = data.get("QueryResponse")
        if not isinstance(answer, Mapping):
            raise PayloadError(
                f"QuickBooks answered a query without QueryResponse: {data!r:.200}",
                path="QueryResponse",
            )
        for value in answer.values():
            if isinstance(value, list):
                return value
        return []

    def batch(self, items, request_id=None):
        """``POST /batch`` with ``BatchItemRequest`` items (``{"bId",
        "operation", "<Entity>": {...}}`` or ``{"bId", "Query"}``), sent
        ``BATCH_SIZE`` (10) at a time: the ``BatchItemResponse`` entries in the
        order of ``items``. Each item succeeds or fails on its own: read a
        failed one with ``batch_item_error``. The first call carries
        ``request_id`` (at most 36 characters; item ids then at most 10), the
        next ones an id derived from it."""
        items = list(items or ())
        seen = set()
        for index, item in enumerate(items):
            bid = str(item.get("bId") or "") if isinstance(item, Mapping) else ""
            if not bid or bid in seen:
                raise PayloadError(
                    f"Batch item {index} needs a bId of its own.", path=f"[{index}]"
                )
            seen.add(bid)
        request_id = self._request_id(request_id, MAX_BATCH_REQUEST_ID)
        long_ids = sorted(bid for bid in seen if len(bid) > MAX_BATCH_ITEM_ID)
        if request_id is not None and long_ids:
            raise PayloadError(
                f"With a request id, QuickBooks takes batch item ids of at most "
                f"{MAX_BATCH_ITEM_ID} characters: {', '.join(long_ids[:3])}.",
                value=long_ids[0],
            )
        responses = []
        for number, start in enumerate(range(0, len(items), BATCH_SIZE)):
            chunk = [dict(item) for item in items[start : start + BATCH_SIZE]]
            with self.batch_limiter():
                data = self._call(
                    "POST",
                    "batch",
                    payload={"BatchItemRequest": chunk},
                    request_id=self._chunk_id(request_id, number),
                    what="batch",
                )
            answer = data.get("BatchItemResponse")
            if not isinstance(answer, list):
                raise PayloadError(
                    f"QuickBooks answered a batch without BatchItemResponse: "
                    f"{data!r:.200}",
                    path="BatchItemResponse",
                )
            responses.extend(answer)
        return responses

    @staticmethod
    def _chunk_id(request_id, number):
        """The request id of batch call ``number``: deterministic, so that a
        repeated ``batch`` repeats the same ids."""
        if request_id is None or number == 0:
            return request_id
        digest = hashlib.sha256(f"{request_id}#{number}".encode()).hexdigest()
        return digest[:MAX_BATCH_REQUEST_ID]

    def cdc(self, entities, changed_since):
        """``GET /cdc``: ``{entity: [objects changed since changed_since]}`` for
        every entity asked (deleted ones carry ``"status": "Deleted"``).
        ``changed_since``: a datetime (naive: UTC, as Odoo stores them) or ISO
        text; QuickBooks looks back 30 days at most and answers 1,000 objects at
        most."""
        names = [self._entity(name) for name in entities or ()]
        if not names:
            raise PayloadError("Name the QuickBooks entities to read changes of.")
        if isinstance(changed_since, datetime):
            if changed_since.tzinfo is None:
                changed_since = changed_since.replace(tzinfo=timezone.utc)
            since = changed_since.isoformat(timespec="seconds")
        else:
            since = str(changed_since or "").strip()
            if not since:
                raise PayloadError("changed_since is missing.")
        data = self._call(
            "GET",
            "cdc",
            params={"entities": ",".join(names), "changedSince": since},
            what="change list",
        )
        result = {name: [] for name in names}
        by_lower = {name.lower(): name for name in names}
        for block in data.get("CDCResponse") or []:
            for answer in (block or {}).get("QueryResponse") or []:
                for key, value in (answer or {}).items():
                    if isinstance(value, list):
                        name = by_lower.get(key.lower(), key)
                        result.setdefault(name, []).extend(value)
        return result

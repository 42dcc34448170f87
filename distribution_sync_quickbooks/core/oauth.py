"""Intuit OAuth 2.0, pure: the consent URL, the signed ``state`` that comes
back with it, Intuit's token answers and when to refresh.

An access token lives an hour (``expires_in``); the refresh token about 100
days (``x_refresh_token_expires_in``, rolling) and may change on any refresh:
the newest one is stored before the access token is used. ``invalid_grant``
means the refresh token is dead: only a person reconnecting helps.
"""

import base64
import hashlib
import hmac
import re
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

from .mappers import as_object, invalid, load_json, missing, text

if __name__.startswith("odoo.addons."):
    from odoo.addons.distribution_sync.core import canonical, errors
else:
    from distribution_sync.core import canonical, errors

PayloadError = errors.PayloadError

AUTHORIZE_URL = "https://appcenter.intuit.com/connect/oauth2"
TOKEN_URL = "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer"
REVOKE_URL = "https://developer.api.intuit.com/v2/oauth2/tokens/revoke"
SCOPE = "com.intuit.quickbooks.accounting"

# Defaults when an answer leaves a lifetime out (Intuit's documented ones).
ACCESS_LIFETIME = 3600
# Longer lifetimes are no token's: ten years.
MAX_LIFETIME = 10 * 366 * 24 * 3600
MAX_STATE_LENGTH = 1000
_STATE_RE = re.compile(r"^([0-9]{1,18})\.(.*)\.([A-Za-z0-9_-]{43})$", re.DOTALL)
_TRANSIENT_ERRORS = ("temporarily_unavailable", "server_error")


class InvalidGrant(errors.SyncError):
    """Intuit refused the refresh token (``invalid_grant``): expired (100 days
    unused, 5 years at most) or revoked. Only reconnecting helps."""

    category = "technical"
    severity = "critical"
    default_message = (
        "QuickBooks refused to renew the connection (invalid_grant): the "
        "authorization has expired or was revoked. Reconnect to QuickBooks."
    )
    default_hint = "Reconnect to QuickBooks"

    def __init__(self, message=None, *, value=None, hint=""):
        super().__init__(
            message or self.default_message,
            value=value if value is not None else "invalid_grant",
            hint=hint or self.default_hint,
        )


class OAuthError(errors.SyncError):
    """Another refusal of the token endpoint (``invalid_client``, ...): the
    app's client id or secret, or the connection, needs a person."""

    category = "technical"
    severity = "critical"


def authorize_url(client_id, redirect_uri, state, base=AUTHORIZE_URL) -> str:
    """Intuit's consent page for this app (``response_type=code``, the
    accounting scope); Intuit comes back to ``redirect_uri`` with ``code``,
    ``state`` and ``realmId``."""
    query = urlencode(
        {
            "client_id": client_id,
            "response_type": "code",
            "scope": SCOPE,
            "redirect_uri": redirect_uri,
            "state": state,
        }
    )
    return f"{base}{'&' if '?' in base else '?'}{query}"


def _signature(key, message):
    if not key:
        raise ValueError("A state needs a signing key.")
    key = key.encode("utf-8") if isinstance(key, str) else bytes(key)
    digest = hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def make_state(key: str, backend_id: int, nonce: str) -> str:
    """``<backend id>.<nonce>.<signature>``: HMAC-SHA256 (base64url) keyed with
    ``key`` (a database secret) over the id and the nonce. The same arguments
    give the same state. ``ValueError`` for an empty key or nonce, or an id
    that is not a positive integer."""
    if isinstance(backend_id, bool) or not isinstance(backend_id, int):
        raise ValueError(f"A backend id is an integer, got {backend_id!r}.")
    if not 0 < backend_id < 10**18:
        raise ValueError(f"A backend id is positive, got {backend_id}.")
    if not isinstance(nonce, str) or not nonce.strip():
        raise ValueError("A state needs a nonce.")
    if canonical.unstorable_reason(nonce):
        raise ValueError("A nonce is plain text.")
    message = f"{backend_id}.{nonce}"
    return f"{message}.{_signature(key, message)}"


def read_state(key, state, nonce=None) -> int:
    """The backend id of a ``state`` made by ``make_state`` with ``key`` (and,
    when given, ``nonce``). ``PayloadError`` (path ``state``) for a state
    this key did not sign: forged, changed or from another database."""
    if not isinstance(state, str) or not 0 < len(state) <= MAX_STATE_LENGTH:
        raise invalid("state", "the answer from QuickBooks carries no valid state.")
    match = _STATE_RE.match(state)
    forged = invalid(
        "state",
        "the answer from QuickBooks carries a state this database did not "
        "issue; start the connection again from the backend.",
    )
    if not match or canonical.unstorable_reason(state):
        raise forged
    backend_id, state_nonce, received = match.groups()
    expected = _signature(key, f"{backend_id}.{state_nonce}")
    if not hmac.compare_digest(expected.encode(), received.encode()):
        raise forged
    if nonce is not None and not hmac.compare_digest(
        str(nonce).encode("utf-8", "surrogatepass"),
        state_nonce.encode("utf-8", "surrogatepass"),
    ):
        raise forged
    return int(backend_id)


def _utc(moment, name):
    """An aware UTC datetime; a naive one is UTC (Odoo's datetimes are)."""
    if not isinstance(moment, datetime):
        raise ValueError(f"{name} is a datetime, got {moment!r}.")
    if moment.tzinfo is None or moment.utcoffset() is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def _lifetime(data, key, default):
    value = data.get(key)
    if value is None:
        return default
    seconds = canonical.clean_decimal(value, key)
    if seconds != seconds.to_integral_value() or not 0 < seconds <= MAX_LIFETIME:
        raise invalid(key, f"{value!r} is not a lifetime in seconds.", str(value)[:50])
    return int(seconds)


def _refused(data):
    """The error of an answer ``{"error", "error_description"}``."""
    code = text(data, "error", "", max_length=None) or "error"
    code = " ".join(code.split())[:100]
    description = text(data, "error_description", "", max_length=None)
    description = " ".join(description.split())[:300] if description else None
    detail = f"{code}: {description}" if description else code
    if code == "invalid_grant":
        return InvalidGrant(
            f"QuickBooks refused to renew the connection ({detail}): the "
            "authorization has expired or was revoked. Reconnect to QuickBooks."
        )
    if code in _TRANSIENT_ERRORS:
        return errors.TransientError(
            f"The QuickBooks token endpoint is unavailable ({detail}).",
            value=code,
            hint="It is retried automatically.",
        )
    hint = "Check the app's client id and secret on the backend, then reconnect."
    return OAuthError(
        f"QuickBooks refused the token request ({detail}). {hint}",
        value=code,
        hint=hint,
    )


def parse_token_response(data, now) -> dict:
    """Intuit's token answer (parsed JSON, or its bytes: a BOM is allowed) as
    ``{"access_token", "access_expires_at", "refresh_token",
    "refresh_expires_at"}``: expiries are ``now`` (naive means UTC) plus
    ``expires_in`` (default 3600) and ``x_refresh_token_expires_in`` (None
    when absent), aware UTC. An ``error`` answer raises ``InvalidGrant``
    (``invalid_grant``), ``TransientError`` (``temporarily_unavailable``,
    ``server_error``) or ``OAuthError``; a malformed one ``PayloadError``."""
    now = _utc(now, "now")
    data = as_object(load_json(data, "token answer"), "")
    if data.get("error") is not None:
        raise _refused(data)
    token_type = text(data, "token_type", "")
    if token_type and token_type.lower() != "bearer":
        raise invalid(
            "token_type", f"{token_type!r} is not a bearer token.", token_type
        )
    access_token = text(data, "access_token", "", max_length=None)
    refresh_token = text(data, "refresh_token", "", max_length=None)
    if not access_token:
        raise PayloadError(
            "Missing required field access_token: the token answer holds "
            "neither tokens nor an error.",
            path="access_token",
        )
    if not refresh_token:
        raise missing("refresh_token")
    refresh_lifetime = _lifetime(data, "x_refresh_token_expires_in", None)
    return {
        "access_token": access_token,
        "access_expires_at": now
        + timedelta(seconds=_lifetime(data, "expires_in", ACCESS_LIFETIME)),
        "refresh_token": refresh_token,
        "refresh_expires_at": now + timedelta(seconds=refresh_lifetime)
        if refresh_lifetime
        else None,
    }


def refresh_due(access_expires_at, now, margin=300) -> bool:
    """True when the access token must be refreshed: unknown expiry, or it
    ends within ``margin`` seconds of ``now`` (naive datetimes are UTC)."""
    if not access_expires_at:
        return True
    return _utc(now, "now") + timedelta(seconds=margin) >= _utc(
        access_expires_at, "access_expires_at"
    )


def refresh_token_warning(refresh_expires_at, now, days=14) -> bool:
    """True when the refresh token ends within ``days`` days of ``now`` (time
    to tell a person: once it lapses only reconnecting helps); False when its
    expiry is unknown."""
    if not refresh_expires_at:
        return False
    return _utc(now, "now") + timedelta(days=days) >= _utc(
        refresh_expires_at, "refresh_expires_at"
    )

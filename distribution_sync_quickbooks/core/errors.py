"""QuickBooks Online error answers as sync errors, decided by QuickBooks'
error code, never by its text.

Two envelopes exist: ``{"Fault": {"Error": [{"Message", "Detail", "code",
"element"}], "type"}, "time"}`` (validation and most errors, HTTP 400, also
per item inside a batch answer) and the lowercase ``{"fault": {"error":
[{"message", "detail", "code"}], "type": "AUTHENTICATION"}, "time": <epoch
ms>}`` of a 401. Every error ``error_from_response`` returns carries
``code`` (text, None without one), ``status`` (the HTTP status), ``intuit_tid``
(the ``intuit_tid`` response header, for Intuit support), ``fault_type`` and
``faults`` (every error of the answer: ``code``, ``message``, ``detail``,
``element``).
"""

from .mappers import header, load_json

if __name__.startswith("odoo.addons."):
    from odoo.addons.distribution_sync.core import canonical, retry
    from odoo.addons.distribution_sync.core import errors as core_errors
else:
    from distribution_sync.core import canonical, retry
    from distribution_sync.core import errors as core_errors

SyncError = core_errors.SyncError
PayloadError = core_errors.PayloadError
TransientError = core_errors.TransientError

TID_HEADER = "intuit_tid"
RETRY_AFTER_HEADER = "Retry-After"
# QuickBooks asks to wait a minute after a 429.
THROTTLE_WAIT = 60
MAX_QUOTED = 300

OBJECT_NOT_FOUND = "610"
INVALID_ID = "2030"
STALE_OBJECT = "5010"
COMPANY_INACTIVE = "6190"
DUPLICATE_DOC_NUMBER = "6210"
DUPLICATE_NAME = "6240"
TOKEN_EXPIRED = "3200"


class ObjectNotFound(SyncError):
    """610: something the request refers to (customer, item, account, tax
    code, term) is inactive or deleted in QuickBooks. A person reactivates it
    or fixes the binding or mapping."""

    category = "mapping"


class StaleObject(TransientError):
    """5010: the object changed in QuickBooks since its ``SyncToken`` was
    read. The caller reads it again and retries; left over, it is retried
    later like any transient failure."""


class CompanyInactive(SyncError):
    """6190: the QuickBooks company's subscription ended or is suspended;
    nothing can be written until it is active again."""

    category = "technical"
    severity = "critical"


class DuplicateDocNumber(core_errors.DuplicateDocument):
    """6210: another QuickBooks transaction has this document number."""


class DuplicateName(core_errors.DuplicateDocument):
    """6240: a customer, vendor or employee (or an item) has this name
    already; ``name`` is the name sent, when the caller gave it."""

    def __init__(self, message, *, value=None, hint="", name=None):
        super().__init__(message, value=value, hint=hint)
        self.name = name


class TokenExpired(SyncError):
    """3200 / 401: QuickBooks refused the access token. The caller refreshes
    it and repeats the request once; left over, the connection needs a person."""

    category = "technical"
    severity = "critical"


_HINTS = {
    OBJECT_NOT_FOUND: "Something it refers to (customer, item, account, tax code "
    "or term) is inactive or deleted in QuickBooks: make it active again there, "
    "or fix the binding or mapping in Odoo, then retry.",
    INVALID_ID: "An id sent does not exist in this QuickBooks company: check the "
    "bindings and mappings, then retry.",
    STALE_OBJECT: "Someone changed it in QuickBooks at the same time; it is read "
    "again and retried.",
    COMPANY_INACTIVE: "The QuickBooks company's subscription has ended or is "
    "suspended: reactivate it in QuickBooks, then retry.",
    DUPLICATE_DOC_NUMBER: "If that QuickBooks document is this one, bind it in "
    "Odoo; otherwise renumber one of them (or turn off custom transaction "
    "numbers in QuickBooks), then retry.",
    DUPLICATE_NAME: "Customer, vendor and employee names are unique together in "
    "QuickBooks: bind the existing one in Odoo or rename one of them, then retry.",
    TOKEN_EXPIRED: "The access is renewed automatically; if this persists, "
    "reconnect to QuickBooks.",
}
_DEFAULT_HINT = "Correct the document or the mapping in Odoo, then retry."
_TRANSIENT_HINT = "It is retried automatically."


def _short(value, limit=MAX_QUOTED):
    """Text of a fault field, on one line and cut; None when empty or no text."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    # Quoted in messages and kept on the error: what PostgreSQL cannot store
    # (a NUL, a lone surrogate) is escaped.
    result = core_errors.storable(" ".join(str(value).split()))
    if len(result) > limit:
        result = result[: limit - 1] + "…"
    return result or None


def _code(value):
    """A fault code as text: "003200" and 3200 are "3200"."""
    code = _short(value, 20)
    if code and code.isascii() and code.isdigit():
        return str(int(code))
    return code


def _faults(data):
    """(fault type, [{code, message, detail, element}]) of either envelope."""
    if not isinstance(data, dict):
        return None, []
    fault = data.get("Fault")
    keys = ("Error", "Message", "Detail")
    if not isinstance(fault, dict):
        fault = data.get("fault")
        keys = ("error", "message", "detail")
    if not isinstance(fault, dict):
        return None, []
    items = fault.get(keys[0])
    if isinstance(items, dict):
        items = [items]
    faults = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        faults.append(
            {
                "code": _code(item.get("code")),
                "message": _short(item.get(keys[1]) or item.get(keys[1].lower())),
                "detail": _short(item.get(keys[2]) or item.get(keys[2].lower())),
                "element": _short(item.get("element"), 100),
            }
        )
    return _short(fault.get("type"), 50), faults


def _chosen(faults):
    """The fault that decides: the first of a code this module knows, else
    the first."""
    for fault in faults:
        if fault["code"] in _HINTS:
            return fault
    return faults[0] if faults else None


def _describe(fault):
    """A fault in words: ``Duplicate Name Exists Error (6240): The name ...``."""
    message, detail, code = fault["message"], fault["detail"], fault["code"]
    if detail and message and detail.lower().startswith(message.lower()):
        # QuickBooks repeats the message in the detail: "Stale Object Error : You..."
        detail = detail[len(message) :].lstrip(" :") or None
    if detail and detail.endswith(": null"):
        detail = detail[: -len(": null")].rstrip() or None
    text = message or detail or "Error"
    if code:
        text += f" ({code})"
    if detail and detail != text and message:
        text += f": {detail}"
    if fault["element"]:
        text += f" [{fault['element']}]"
    return text


def _auth_reason(fault):
    """`` (3200: Token expired)`` of an authentication fault: its detail goes on
    with the token itself, which no message may keep."""
    if not fault:
        return ""
    reason = (fault["detail"] or fault["message"] or "").split(":", 1)[0].strip()
    reason = "" if "=" in reason else reason[:100]
    inner = ": ".join(part for part in (fault["code"], reason) if part)
    return f" ({inner})" if inner else ""


def _body_text(body):
    """A non-JSON body, quotable: None for HTML pages or empty bodies."""
    if isinstance(body, (bytes, bytearray, memoryview)):
        body = bytes(body).decode("utf-8", "replace")
    if not isinstance(body, str):
        return None
    body = body.strip()
    if not body or body.startswith("<"):
        return None
    return _short(body, 200)


def _status(status):
    if isinstance(status, bool) or not isinstance(status, int):
        return None
    return status


def error_from_response(
    status: int, body, headers=None, *, entity=None, name=None
) -> SyncError:
    """The sync error of a QuickBooks error answer (HTTP ``status``, ``body``
    as bytes, text or parsed JSON, response ``headers``), decided by code:

    - 610 -> ``ObjectNotFound``; 2030 (invalid id) -> ``PayloadError``;
    - 5010 -> ``StaleObject`` (transient: read again, retry);
    - 6190 -> ``CompanyInactive``; 6210 -> ``DuplicateDocNumber``;
      6240 -> ``DuplicateName`` (``name``: what the caller sent);
    - 3200, or HTTP 401 -> ``TokenExpired`` (refresh once);
    - HTTP 429 -> ``TransientError`` with ``retry_after`` ``Retry-After``, else
      60 s; 5xx and other retryable statuses -> ``TransientError``;
    - anything else -> ``PayloadError``.

    ``entity`` names what was sent ("invoice INV/2026/0001") in the message:
    "QuickBooks refused the invoice INV/2026/0001: Duplicate Document Number
    Error (6210): ...". Never raises."""
    status = _status(status)
    try:
        data = load_json(body)
    except PayloadError:
        data = None
    fault_type, faults = _faults(data)
    fault = _chosen(faults)
    code = fault["code"] if fault else None
    what = _short(entity, 120) or "request"
    tid = header(headers, TID_HEADER)
    tid = _short(tid, 100) if tid and not canonical.unstorable_reason(tid) else None
    if faults:
        described = "; ".join(_describe(item) for item in faults[:5])
    else:
        described = _body_text(body)
    error = _error(status, fault, what, described, headers, _short(name, 500))
    error.code = code
    error.status = status
    error.intuit_tid = tid
    error.fault_type = fault_type
    error.faults = faults
    return error


def _error(status, fault, what, described, headers, name):
    code = fault["code"] if fault else None
    hint = _HINTS.get(code, _DEFAULT_HINT)
    said = f": {described.rstrip('.')}" if described else ""
    http = f" (HTTP {status})" if status and not code else ""
    refused = f"QuickBooks refused the {what}{http}{said}."
    if status == 429:
        wait = retry.retry_after_seconds(header(headers, RETRY_AFTER_HEADER))
        return TransientError(
            f"QuickBooks is limiting requests (HTTP 429); the {what} waits"
            f"{said}. {_TRANSIENT_HINT}",
            value=code or "429",
            hint=_TRANSIENT_HINT,
            retry_after=wait if wait is not None else THROTTLE_WAIT,
        )
    if code == STALE_OBJECT:
        return StaleObject(f"{refused} {hint}", value=code, hint=hint)
    if code == OBJECT_NOT_FOUND:
        return ObjectNotFound(f"{refused} {hint}", value=code, hint=hint)
    if code == COMPANY_INACTIVE:
        return CompanyInactive(f"{refused} {hint}", value=code, hint=hint)
    if code == DUPLICATE_DOC_NUMBER:
        return DuplicateDocNumber(f"{refused} {hint}", value=code, hint=hint)
    if code == DUPLICATE_NAME:
        named = f' "{name}"' if name else ""
        return DuplicateName(
            f"QuickBooks refused the {what}: the name{named} is taken already"
            f"{said}. {hint}",
            value=name or code,
            hint=hint,
            name=name,
        )
    if code == TOKEN_EXPIRED or (status == 401 and code not in _HINTS):
        hint = _HINTS[TOKEN_EXPIRED]
        return TokenExpired(
            f"QuickBooks refused the access token for the {what}"
            f"{_auth_reason(fault)}. {hint}",
            value=code or "401",
            hint=hint,
        )
    if code not in _HINTS and status and retry.is_transient_http_status(status):
        return TransientError(
            f"QuickBooks could not answer the {what} (HTTP {status}){said}. "
            f"{_TRANSIENT_HINT}",
            value=str(status),
            hint=_TRANSIENT_HINT,
        )
    return core_errors.DocumentRefused(
        f"{refused} {hint}",
        value=code or (str(status) if status else None),
        hint=hint,
    )

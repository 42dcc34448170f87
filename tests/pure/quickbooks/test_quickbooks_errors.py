"""QuickBooks error answers: decided by code, readable, carrying code, status
and intuit_tid; genuine samples as golden files."""

import json

import pytest
from quickbooks_samples import expected_json, sample_bytes, sample_json

from distribution_sync.core import retry
from distribution_sync.core.errors import (
    SEVERITY_BY_CATEGORY,
    DocumentRefused,
    DuplicateDocument,
    PayloadError,
    SyncError,
    TransientError,
)
from distribution_sync_quickbooks.core import errors
from distribution_sync_quickbooks.core.errors import (
    CompanyInactive,
    DuplicateDocNumber,
    DuplicateName,
    ObjectNotFound,
    StaleObject,
    TokenExpired,
    error_from_response,
)

TID = {"intuit_tid": "1-5f7d1b2c-0a1b2c3d4e5f60718293a4b5"}


def summary(error):
    return {
        "class": type(error).__name__,
        "category": error.category,
        "severity": getattr(error, "severity", None),
        "code": error.code,
        "status": error.status,
        "intuit_tid": error.intuit_tid,
        "fault_type": error.fault_type,
        "retry_after": getattr(error, "retry_after", None),
        "value": error.value,
        "hint": error.hint,
        "message": str(error),
    }


def fault(code, message="Some Error", detail="Some detail"):
    return {
        "Fault": {
            "Error": [
                {"Message": message, "Detail": detail, "code": code, "element": ""}
            ],
            "type": "ValidationFault",
        },
        "time": "2026-03-02T02:15:00.000-08:00",
    }


# ------------------------------------------------------------------ golden
@pytest.mark.parametrize(
    ("name", "status", "entity", "sent"),
    [
        ("error_400_duplicate_name_6240", 400, "customer", "Jack Moe"),
        ("error_400_invalid_query_4001", 400, "query", None),
        ("error_401_token_expired_3200", 401, "query", None),
    ],
)
def test_golden(name, status, entity, sent):
    error = error_from_response(
        status, sample_bytes(name), TID, entity=entity, name=sent
    )
    assert summary(error) == expected_json(name)


def test_golden_batch_faults():
    """The genuine batch answer: 610 and 5010 per item, beside successes."""
    items = sample_json("batch_response")["BatchItemResponse"]
    found = [
        summary(
            error_from_response(
                400, {"Fault": item["Fault"]}, entity=f"batch item {item['bId']}"
            )
        )
        if "Fault" in item
        else None
        for item in items
    ]
    assert found == expected_json("batch_response")
    assert [entry and entry["class"] for entry in found] == [
        None,
        "ObjectNotFound",
        "StaleObject",
        None,
    ]


# ------------------------------------------------------------ by code
@pytest.mark.parametrize(
    ("code", "status", "cls", "category", "severity"),
    [
        ("610", 400, ObjectNotFound, "mapping", "error"),
        ("2030", 400, DocumentRefused, "validation", "error"),
        ("5010", 400, StaleObject, "transient", "critical"),
        ("6190", 400, CompanyInactive, "technical", "critical"),
        ("6210", 400, DuplicateDocNumber, "duplicate", "warning"),
        ("6240", 400, DuplicateName, "duplicate", "warning"),
        ("3200", 401, TokenExpired, "technical", "critical"),
        ("4001", 400, DocumentRefused, "validation", "error"),
        ("120", 403, DocumentRefused, "validation", "error"),
        ("500", 400, DocumentRefused, "validation", "error"),
        ("6000", 400, DocumentRefused, "validation", "error"),
    ],
)
def test_each_code(code, status, cls, category, severity):
    error = error_from_response(status, fault(code), TID)
    assert type(error) is cls
    assert error.category == category
    # What the inbox opens: the class's severity, else the category's.
    opened = getattr(error, "severity", None) or SEVERITY_BY_CATEGORY[category]
    assert opened == severity
    assert (error.code, error.status, error.intuit_tid) == (
        code,
        status,
        TID["intuit_tid"],
    )
    assert f"({code}" in str(error)
    assert error.hint and error.hint in str(error)


def test_the_classes_fit_the_core():
    assert issubclass(StaleObject, TransientError)
    assert retry.is_transient_exception(error_from_response(400, fault("5010")))
    for cls in (DuplicateDocNumber, DuplicateName):
        assert issubclass(cls, DuplicateDocument)
    for cls in (ObjectNotFound, CompanyInactive, TokenExpired):
        assert issubclass(cls, SyncError)
        assert not issubclass(cls, TransientError)
    assert not retry.is_transient_exception(error_from_response(400, fault("6210")))


def test_code_decides_not_the_text():
    # A message saying one thing with the code of another: the code wins.
    error = error_from_response(400, fault("610", "Stale Object Error"))
    assert type(error) is ObjectNotFound
    error = error_from_response(400, fault("6240", "Duplicate Document Number Error"))
    assert type(error) is DuplicateName
    error = error_from_response(400, fault("6000", "Stale Object Error"))
    assert type(error) is DocumentRefused
    # A code QuickBooks pads: "003200".
    assert error_from_response(400, fault("003200")).code == "3200"
    # The code decides over a 5xx status too.
    assert type(error_from_response(503, fault("6190"))) is CompanyInactive


def test_first_known_code_decides_and_all_are_told():
    body = fault("6000", "Business Validation Error", "Something")
    body["Fault"]["Error"].append(
        {"Message": "Duplicate Document Number Error", "Detail": "x", "code": "6210"}
    )
    error = error_from_response(400, body)
    assert type(error) is DuplicateDocNumber
    assert "Business Validation Error (6000)" in str(error)
    assert "(6210)" in str(error)
    assert [item["code"] for item in error.faults] == ["6000", "6210"]


def test_readable_for_an_accountant():
    error = error_from_response(
        400,
        fault(
            "6210",
            "Duplicate Document Number Error",
            "Duplicate Document Number Error : You must specify a different number. "
            "This number has already been used.",
        ),
        entity="invoice INV/2026/0001",
    )
    assert str(error).startswith(
        "QuickBooks refused the invoice INV/2026/0001: Duplicate Document Number "
        "Error (6210): You must specify a different number. This number has "
        "already been used. "
    )


def test_duplicate_name_carries_the_name():
    error = error_from_response(
        400, sample_bytes("error_400_duplicate_name_6240"), name="Jack Moe"
    )
    assert error.name == "Jack Moe"
    assert '"Jack Moe"' in str(error)
    assert ": null" not in str(error)  # QuickBooks' detail ends with ": null"
    assert error_from_response(400, fault("6240")).name is None


def test_token_never_quoted():
    body = sample_json("error_401_token_expired_3200")
    token = body["fault"]["error"][0]["detail"].split(": ", 1)[1]
    error = error_from_response(401, body)
    assert type(error) is TokenExpired
    assert token not in str(error) and token not in str(error.value)
    assert "Token expired" in str(error)
    assert error.fault_type == "AUTHENTICATION"


@pytest.mark.parametrize("body", [b"", None, b"Unauthorized", {"fault": {}}])
def test_401_without_a_code_is_an_expired_token(body):
    error = error_from_response(401, body)
    assert type(error) is TokenExpired
    assert error.code is None


@pytest.mark.parametrize(
    ("headers", "wait"),
    [({}, 60), (None, 60), ({"Retry-After": "120"}, 120), ({"retry-after": "2.5"}, 3),
     ({"Retry-After": "soon"}, 60), ({"Retry-After": "-5"}, 60)],
)  # fmt: skip
def test_429_waits(headers, wait):
    error = error_from_response(429, b"", headers)
    assert type(error) is TransientError
    assert error.retry_after == wait
    assert retry.is_transient_exception(error)


def test_429_with_a_fault_still_waits():
    error = error_from_response(429, fault("003001", "ThrottleExceeded"))
    assert type(error) is TransientError and error.retry_after == 60


@pytest.mark.parametrize("status", [500, 502, 503, 504, 599, 408])
def test_server_failures_are_transient(status):
    error = error_from_response(status, b"<html><body>Bad Gateway</body></html>")
    assert type(error) is TransientError
    assert f"HTTP {status}" in str(error)
    assert "<html" not in str(error)  # an HTML page is not quoted


@pytest.mark.parametrize("status", [400, 404, 405, 413])
def test_other_client_errors_are_payload_errors(status):
    # Refused documents: fixed in Odoo, sent again (still PayloadErrors).
    error = error_from_response(status, b"nope")
    assert type(error) is DocumentRefused
    assert isinstance(error, PayloadError)
    assert f"(HTTP {status}): nope" in str(error)


@pytest.mark.parametrize(
    "body",
    [
        json.dumps(fault("6210")).encode(),
        "\ufeff" + json.dumps(fault("6210")),
        json.dumps(fault("6210")),
        fault("6210"),
        {"Fault": {"Error": {"code": "6210", "Message": "m"}}},
        {"fault": {"error": [{"code": 6210, "message": "m", "detail": "d"}]}},
    ],
    ids=["bytes", "BOM text", "text", "dict", "one error object", "lowercase"],
)
def test_body_forms(body):
    assert type(error_from_response(400, body)) is DuplicateDocNumber


def test_intuit_tid_header():
    def tid(headers):
        return error_from_response(400, fault("1"), headers).intuit_tid

    assert tid({"INTUIT_TID": " abc "}) == "abc"
    assert tid({}) is None
    assert tid({"intuit_tid": "a\x00b"}) is None


@pytest.mark.parametrize(
    ("status", "body", "headers"),
    [
        (None, None, None),
        ("400", b"\xff\xfe", None),
        (True, [], {}),
        (400, {"Fault": {"Error": [None, 1, {"code": ["x"]}]}}, []),
        (400, {"Fault": {"Error": [{"code": "6240", "Message": "x" * 10**5}]}}, None),
        (400, {"Fault": {"Error": [{"code": "6240", "Detail": "\x00\ud800"}]}}, None),
        (429, "[" * 100_000, {"Retry-After": "1e400"}),
        (401, {"fault": {"error": [{"code": "3200", "detail": "a=b: tok"}]}}, None),
    ],
)
def test_never_raises_and_stays_storable(status, body, headers):
    error = error_from_response(status, body, headers)
    assert isinstance(error, SyncError)
    for text in (str(error), error.value, error.hint):
        if isinstance(text, str):
            text.encode("utf-8")
            assert "\x00" not in text
            assert len(text) < 3000


def test_constants():
    assert errors.TID_HEADER == "intuit_tid"
    assert errors.THROTTLE_WAIT == 60

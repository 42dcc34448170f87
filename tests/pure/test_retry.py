import socket

import pytest
from hypothesis import given
from hypothesis import strategies as st

from distribution_sync.core.errors import (
    MappingMissing,
    PayloadError,
    SyncError,
    TransientError,
)
from distribution_sync.core.retry import (
    TRANSIENT_HTTP_STATUSES,
    RetryPolicy,
    delay_from_pattern,
    is_transient_exception,
    is_transient_http_status,
    retry_after_seconds,
)


def test_default_delays():
    policy = RetryPolicy()
    assert [policy.delay(n) for n in range(1, 6)] == [30, 60, 120, 240, 480]


def test_delay_capped():
    policy = RetryPolicy(base_delay=600, max_delay=3600)
    assert policy.delay(3) == 2400
    assert policy.delay(4) == 3600
    assert policy.delay(10_000) == 3600


def test_delay_rejects_attempt_zero():
    with pytest.raises(ValueError):
        RetryPolicy().delay(0)


def test_exhausted():
    policy = RetryPolicy(max_attempts=3)
    assert not policy.exhausted(2)
    assert policy.exhausted(3)
    assert policy.exhausted(4)


def test_retry_pattern():
    assert RetryPolicy(max_attempts=3, base_delay=10, factor=3).as_retry_pattern() == {
        1: 10,
        2: 30,
        3: 90,
    }


def test_policy_validation():
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(factor=0)


@given(
    base=st.integers(0, 1000),
    factor=st.floats(1, 4),
    cap=st.integers(0, 10_000),
    attempt=st.integers(1, 60),
)
def test_delay_monotonic_and_capped(base, factor, cap, attempt):
    policy = RetryPolicy(base_delay=base, factor=factor, max_delay=cap)
    assert 0 <= policy.delay(attempt) <= cap
    assert policy.delay(attempt) <= policy.delay(attempt + 1)


@pytest.mark.parametrize("status", sorted(TRANSIENT_HTTP_STATUSES) + [501, 599])
def test_transient_statuses(status):
    assert is_transient_http_status(status)


@pytest.mark.parametrize("status", [200, 400, 401, 403, 404, 422, 600, True, "503"])
def test_permanent_statuses(status):
    assert not is_transient_http_status(status)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("120", 120),
        (" 5 ", 5),
        ("1.5", 2),
        ("0", 0),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 7),
        ("-3", 7),
        ("nan", 7),
        ("", 7),
        (None, 7),
    ],
)
def test_retry_after(header, expected):
    assert retry_after_seconds(header, default=7) == expected


def test_retry_after_default_none():
    assert retry_after_seconds("soon") is None


# Stand-ins named like the requests exceptions, to check recognition by name.
class RequestException(OSError):
    pass


class Timeout(RequestException):  # noqa: N818 - mirrors requests' name
    pass


class ReadTimeout(Timeout):  # noqa: N818
    pass


class HTTPError(RequestException):
    def __init__(self, status):
        super().__init__(f"HTTP {status}")
        self.response = type("Response", (), {"status_code": status})()


class ApiError(Exception):
    def __init__(self, status_code):
        super().__init__(status_code)
        self.status_code = status_code


@pytest.mark.parametrize(
    "exc",
    [
        TransientError("busy"),
        TimeoutError(),
        ConnectionResetError(),
        socket.gaierror(),
        ReadTimeout(),
        HTTPError(503),
        HTTPError(429),
        ApiError(502),
    ],
)
def test_transient_exceptions(exc):
    assert is_transient_exception(exc)


class OperationalError(Exception):
    pass


@pytest.mark.parametrize(
    "exc",
    [
        SyncError("x"),
        MappingMissing("uom", "X"),
        PayloadError("bad"),
        HTTPError(404),
        ApiError(400),
        ApiError(True),
        OperationalError("could not serialize access"),
        FileNotFoundError(),
        ValueError("bad"),
        RequestException("generic"),
    ],
)
def test_permanent_exceptions(exc):
    assert not is_transient_exception(exc)


@pytest.mark.parametrize(
    ("attempt", "expected"),
    [(1, 99), (2, 60), (3, 300), (4, 300), (5, 1800), (40, 1800)],
)
def test_delay_from_pattern(attempt, expected):
    pattern = {2: 60, 4: 300, 5: 1800, 3: 300}
    assert delay_from_pattern(pattern, attempt, default=99) == expected


def test_delay_from_pattern_edge_cases():
    assert delay_from_pattern({}, 3, default=7) == 7
    assert delay_from_pattern(None, 3) is None
    assert delay_from_pattern({"1": 10, "3": [20, 40]}, 3) == 40
    assert delay_from_pattern(RetryPolicy().as_retry_pattern(), 2) == 60
    with pytest.raises(ValueError):
        delay_from_pattern({1: 10}, 0, default=5)

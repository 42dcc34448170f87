"""Intuit OAuth: consent URL, signed state, token answers, refresh timing."""

from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
from quickbooks_samples import expected_json, sample_bytes, sample_json

from distribution_sync.core.canonical import to_jsonable
from distribution_sync.core.errors import PayloadError, SyncError, TransientError
from distribution_sync_quickbooks.core import oauth
from distribution_sync_quickbooks.core.oauth import InvalidGrant, OAuthError

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)
KEY = "database-secret-1"
OK = {"access_token": "a", "refresh_token": "r"}


def test_endpoints():
    # Intuit's discovery document (QDN fixture) and the contract.
    assert oauth.AUTHORIZE_URL == "https://appcenter.intuit.com/connect/oauth2"
    assert (
        oauth.TOKEN_URL == "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer"
    )
    assert (
        oauth.REVOKE_URL == "https://developer.api.intuit.com/v2/oauth2/tokens/revoke"
    )
    assert oauth.SCOPE == "com.intuit.quickbooks.accounting"


def test_authorize_url():
    url = oauth.authorize_url(
        "ABcd123", "https://erp.example.com/quickbooks/callback?x=1", "7.n.sig"
    )
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == oauth.AUTHORIZE_URL
    assert parse_qs(parts.query) == {
        "client_id": ["ABcd123"],
        "response_type": ["code"],
        "scope": ["com.intuit.quickbooks.accounting"],
        "redirect_uri": ["https://erp.example.com/quickbooks/callback?x=1"],
        "state": ["7.n.sig"],
    }


def test_authorize_url_on_another_base():
    url = oauth.authorize_url(
        "id", "https://r", "s", base="http://localhost:8080/a?b=1"
    )
    assert url.startswith("http://localhost:8080/a?b=1&client_id=id&")


# -------------------------------------------------------------------- state
def test_state_round_trip():
    state = oauth.make_state(KEY, 42, "n0nce-_x")
    assert state.startswith("42.n0nce-_x.")
    assert oauth.read_state(KEY, state) == 42
    assert oauth.read_state(KEY, state, nonce="n0nce-_x") == 42
    # The same arguments sign the same state (the callback recomputes it).
    assert oauth.make_state(KEY, 42, "n0nce-_x") == state
    assert oauth.make_state(KEY, 42, "other") != state
    assert oauth.make_state("other key", 42, "n0nce-_x") != state


def test_state_with_dots_in_the_nonce():
    state = oauth.make_state(KEY, 3, "a.b.c")
    assert oauth.read_state(KEY, state) == 3


def forgeries():
    state = oauth.make_state(KEY, 42, "nonce")
    backend, nonce, signature = state.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    return {
        "other backend": f"43.{nonce}.{signature}",
        "other nonce": f"{backend}.nonce2.{signature}",
        "other signature": f"{backend}.{nonce}.{flipped}",
        "other key": oauth.make_state("another database", 42, "nonce"),
        "no signature": f"{backend}.{nonce}",
        "short signature": state[:-1],
        "long signature": state + "A",
        "signature of another id": f"43.{nonce}."
        + oauth.make_state(KEY, 42, "nonce").rsplit(".", 1)[1],
        "empty": "",
        "text": "hello",
        "too long": state + "." + "x" * 2000,
        "NUL": state.replace("nonce", "non\x00ce"),
        "negative id": "-" + state,
    }


@pytest.mark.parametrize("name", list(forgeries()))
def test_forged_states_are_refused(name):
    with pytest.raises(PayloadError) as caught:
        oauth.read_state(KEY, forgeries()[name])
    assert caught.value.path == "state"


@pytest.mark.parametrize("state", [None, 42, b"42.n.s", ["42"]])
def test_state_that_is_no_text(state):
    with pytest.raises(PayloadError):
        oauth.read_state(KEY, state)


def test_state_of_another_nonce():
    state = oauth.make_state(KEY, 42, "nonce")
    with pytest.raises(PayloadError):
        oauth.read_state(KEY, state, nonce="other")


@pytest.mark.parametrize(
    ("key", "backend_id", "nonce"),
    [("", 1, "n"), (None, 1, "n"), (KEY, 0, "n"), (KEY, -1, "n"),
     (KEY, True, "n"), (KEY, "1", "n"), (KEY, 1.0, "n"), (KEY, 1, ""),
     (KEY, 1, None), (KEY, 1, "\ud800")],
)  # fmt: skip
def test_make_state_refuses_bad_arguments(key, backend_id, nonce):
    with pytest.raises(ValueError):
        oauth.make_state(key, backend_id, nonce)


# ------------------------------------------------------------------- tokens
@pytest.mark.parametrize(
    "name", ["oauth_token_response", "oauth_refresh_token_response"]
)
def test_golden(name):
    # The SDK's files start with a UTF-8 BOM: read from the bytes as sent.
    assert sample_bytes(name).startswith(b"\xef\xbb\xbf")
    tokens = oauth.parse_token_response(sample_bytes(name), NOW)
    assert to_jsonable(tokens) == expected_json(name)
    assert oauth.parse_token_response(sample_json(name), NOW) == tokens


def test_lifetimes():
    tokens = oauth.parse_token_response(
        sample_json("oauth_refresh_token_response"), NOW
    )
    assert tokens["access_expires_at"] == NOW + timedelta(seconds=3600)
    assert tokens["refresh_expires_at"] == NOW + timedelta(seconds=15552000)
    assert (
        tokens["refresh_token"] == "L311478109728uVoOkDSUCl4s8FDRvjHR6kUKz0RHe3WtZQuBq"
    )
    assert tokens["access_expires_at"].tzinfo is timezone.utc


def test_naive_now_is_utc_and_other_zones_convert():
    data = sample_json("oauth_token_response")
    naive = oauth.parse_token_response(data, NOW.replace(tzinfo=None))
    zoned = oauth.parse_token_response(
        data, NOW.astimezone(timezone(timedelta(hours=-8)))
    )
    assert naive == zoned == oauth.parse_token_response(data, NOW)


def test_defaults_when_lifetimes_are_left_out():
    tokens = oauth.parse_token_response(
        {"access_token": "a", "refresh_token": "r"}, NOW
    )
    assert tokens["access_expires_at"] == NOW + timedelta(hours=1)
    assert tokens["refresh_expires_at"] is None


def test_invalid_grant():
    with pytest.raises(InvalidGrant) as caught:
        oauth.parse_token_response({"error": "invalid_grant"}, NOW)
    error = caught.value
    assert error.category == "technical" and error.severity == "critical"
    assert error.hint == "Reconnect to QuickBooks"
    assert "Reconnect to QuickBooks" in str(error)
    assert isinstance(error, SyncError)


def test_invalid_grant_as_the_callers_make_it():
    assert "invalid_grant" in str(InvalidGrant())
    error = InvalidGrant("No refresh token is stored.", hint="Press Connect.")
    assert (str(error), error.hint) == ("No refresh token is stored.", "Press Connect.")
    assert error.category == "technical" and error.severity == "critical"


def test_other_refusals():
    with pytest.raises(OAuthError) as caught:
        oauth.parse_token_response(sample_bytes("oauth_token_error_response"), NOW)
    assert "error_description" in str(caught.value)
    assert caught.value.severity == "critical"
    with pytest.raises(TransientError):
        oauth.parse_token_response({"error": "temporarily_unavailable"}, NOW)


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ({"refresh_token": "r"}, "access_token"),
        ({"access_token": "a"}, "refresh_token"),
        ({"access_token": "a", "refresh_token": ""}, "refresh_token"),
        ({"access_token": ["a"], "refresh_token": "r"}, "access_token"),
        (dict(OK, expires_in=-1), "expires_in"),
        (dict(OK, expires_in="1h"), "expires_in"),
        (dict(OK, expires_in=1.5), "expires_in"),
        (dict(OK, expires_in=True), "expires_in"),
        (dict(OK, expires_in=10**11), "expires_in"),
        (dict(OK, x_refresh_token_expires_in=0), "x_refresh_token_expires_in"),
        (dict(OK, token_type="mac"), "token_type"),
    ],
)  # fmt: skip
def test_malformed_answers(data, path):
    with pytest.raises(PayloadError) as caught:
        oauth.parse_token_response(data, NOW)
    assert caught.value.path == path


@pytest.mark.parametrize("data", [b"not json", b"[]", "42", None])
def test_answers_that_are_no_object(data):
    with pytest.raises(PayloadError):
        oauth.parse_token_response(data, NOW)


# ------------------------------------------------------------------ timing
@pytest.mark.parametrize(
    ("expires", "due"),
    [
        (None, True),
        (False, True),
        (NOW + timedelta(hours=1), False),
        (NOW + timedelta(seconds=301), False),
        (NOW + timedelta(seconds=300), True),
        (NOW + timedelta(seconds=10), True),
        (NOW - timedelta(days=1), True),
        ((NOW + timedelta(hours=1)).replace(tzinfo=None), False),
    ],
)
def test_refresh_due(expires, due):
    assert oauth.refresh_due(expires, NOW) is due
    assert oauth.refresh_due(expires, NOW.replace(tzinfo=None)) is due


def test_refresh_due_margin():
    expires = NOW + timedelta(seconds=100)
    assert oauth.refresh_due(expires, NOW, margin=60) is False
    assert oauth.refresh_due(expires, NOW, margin=100) is True


@pytest.mark.parametrize(
    ("expires", "warn"),
    [
        (None, False),
        (NOW + timedelta(days=90), False),
        (NOW + timedelta(days=14, seconds=1), False),
        (NOW + timedelta(days=14), True),
        (NOW + timedelta(days=2), True),
        (NOW - timedelta(days=1), True),
    ],
)
def test_refresh_token_warning(expires, warn):
    assert oauth.refresh_token_warning(expires, NOW) is warn
    if expires:
        assert oauth.refresh_token_warning(expires.replace(tzinfo=None), NOW) is warn


def test_refresh_token_warning_days():
    expires = NOW + timedelta(days=20)
    assert oauth.refresh_token_warning(expires, NOW, days=30) is True
    assert oauth.refresh_token_warning(expires, NOW, days=7) is False

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sample_files import sample_bytes

from distribution_sync.core.signature import (
    hmac_sha256_base64,
    hmac_sha256_hex,
    verify_hmac,
)

QB_SECRET = "00faeec4-08d0-4996-bb37-698ae19f0149"
QB_SIGNATURE = "6q+xGyMirJupwKTh2/WBl2NcdxzxqdIbk3sneKTxLWM="
EP_HEADER = (
    "hmac-sha256-hex=38f3f53c103713df81616a0a186d77141957323ec21d5fe9363db93840f527db"
)
EP_PREFIX = "hmac-sha256-hex="


@pytest.fixture
def qb_body():
    return sample_bytes("quickbooks/webhook_legacy_dotnet_sdk_test.json")


@pytest.fixture
def ep_body():
    body = sample_bytes("easypost/webhook_event_tracker_updated_fedex.json")
    assert body.endswith(b"\n")
    return body[:-1]


@pytest.fixture
def ep_secret():
    return unicodedata.normalize("NFKD", "sécret")


def test_quickbooks_vector_digest(qb_body):
    assert hmac_sha256_base64(QB_SECRET, qb_body) == QB_SIGNATURE


def test_quickbooks_vector_verifies(qb_body):
    assert verify_hmac(QB_SECRET, qb_body, QB_SIGNATURE)


def test_easypost_vector_digest(ep_body, ep_secret):
    assert len(ep_body) == 3550
    assert hmac_sha256_hex(ep_secret, ep_body) == EP_HEADER[len(EP_PREFIX) :]


def test_easypost_vector_verifies(ep_body, ep_secret):
    assert verify_hmac(ep_secret, ep_body, EP_HEADER, encoding="hex", prefix=EP_PREFIX)


def test_easypost_hex_is_case_insensitive(ep_body, ep_secret):
    assert verify_hmac(
        ep_secret, ep_body, EP_HEADER.upper(), encoding="hex", prefix=EP_PREFIX
    )


def test_easypost_needs_nfkd_secret(ep_body):
    composed = unicodedata.normalize("NFC", "sécret")
    assert not verify_hmac(
        composed, ep_body, EP_HEADER, encoding="hex", prefix=EP_PREFIX
    )


def test_easypost_trailing_newline_breaks_signature(ep_body, ep_secret):
    assert not verify_hmac(
        ep_secret, ep_body + b"\n", EP_HEADER, encoding="hex", prefix=EP_PREFIX
    )


def test_tampered_body_fails(qb_body):
    tampered = qb_body.replace(b'"id":"40"', b'"id":"41"')
    assert tampered != qb_body
    assert not verify_hmac(QB_SECRET, tampered, QB_SIGNATURE)


def test_wrong_secret_fails(qb_body):
    assert not verify_hmac(QB_SECRET + "x", qb_body, QB_SIGNATURE)


@pytest.mark.parametrize("received", [None, "", "   "])
def test_missing_header_fails(qb_body, received):
    assert not verify_hmac(QB_SECRET, qb_body, received)


@pytest.mark.parametrize("secret", [None, "", b""])
def test_empty_secret_fails(secret):
    body = b"{}"
    # Even a signature computed with the empty key must not pass.
    assert not verify_hmac(secret, body, hmac_sha256_base64(b"", body))


def test_base64_is_case_sensitive(qb_body):
    assert not verify_hmac(QB_SECRET, qb_body, QB_SIGNATURE.lower())


def test_hex_signature_rejected_as_base64(ep_body, ep_secret):
    assert not verify_hmac(ep_secret, ep_body, EP_HEADER[len(EP_PREFIX) :])


def test_prefix_only_header_fails(ep_body, ep_secret):
    assert not verify_hmac(
        ep_secret, ep_body, EP_PREFIX, encoding="hex", prefix=EP_PREFIX
    )


def test_non_ascii_header_does_not_crash(qb_body):
    assert not verify_hmac(QB_SECRET, qb_body, "é" * 44)


def test_unknown_encoding_raises():
    with pytest.raises(ValueError):
        verify_hmac("s", b"", "x", encoding="base32")


def test_bytes_and_str_secret_agree():
    assert hmac_sha256_hex("clé", b"x") == hmac_sha256_hex("clé".encode(), b"x")


@given(secret=st.text(min_size=1), body=st.binary())
def test_roundtrip_property(secret, body):
    assert verify_hmac(secret, body, hmac_sha256_base64(secret, body))
    assert verify_hmac(
        secret,
        body,
        "sha256=" + hmac_sha256_hex(secret, body),
        encoding="hex",
        prefix="sha256=",
    )
    assert not verify_hmac(secret, body + b"!", hmac_sha256_base64(secret, body))

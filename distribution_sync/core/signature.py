"""Webhook signature checks (HMAC-SHA256 over the raw request body)."""

import base64
import hashlib
import hmac


def _key(secret) -> bytes:
    return secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)


def _digest(secret, body: bytes) -> bytes:
    return hmac.new(_key(secret), body, hashlib.sha256).digest()


def hmac_sha256_base64(secret: str | bytes, body: bytes) -> str:
    """Base64 HMAC-SHA256 of ``body`` (Shopify, QuickBooks style)."""
    return base64.b64encode(_digest(secret, body)).decode("ascii")


def hmac_sha256_hex(secret: str | bytes, body: bytes) -> str:
    """Lower-case hex HMAC-SHA256 of ``body`` (EasyPost, reference channel style)."""
    return _digest(secret, body).hex()


def verify_hmac(
    secret,
    body: bytes,
    received: str | None,
    *,
    encoding: str = "base64",
    prefix: str = "",
) -> bool:
    """Check a received signature in constant time.

    False when ``secret`` or ``received`` is empty. ``prefix`` (e.g.
    ``"hmac-sha256-hex="``) is stripped from ``received`` when present; a missing
    prefix is tolerated because the digest itself still has to match. ``encoding`` is
    ``"base64"`` (case-sensitive) or ``"hex"`` (case-insensitive).
    """
    if encoding not in ("base64", "hex"):
        raise ValueError(f"Unsupported signature encoding {encoding!r}.")
    if not secret or not received:
        return False
    received = received.strip()
    if prefix and received.lower().startswith(prefix.lower()):
        received = received[len(prefix) :]
    if not received:
        return False
    if encoding == "hex":
        expected = hmac_sha256_hex(secret, body)
        received = received.lower()
    else:
        expected = hmac_sha256_base64(secret, body)
    # Bytes on both sides: compare_digest rejects non-ASCII str input with TypeError.
    return hmac.compare_digest(expected.encode("ascii"), received.encode("utf-8"))

"""Stable keys and digests used to recognise a message seen before."""

import hashlib
import json
import zlib
from datetime import date, datetime
from decimal import Decimal

MAX_KEY_LENGTH = 180


def _json_default(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def canonical_json(data) -> str:
    """JSON with sorted keys and no spaces; ``Decimal`` is written as a string."""
    return json.dumps(
        data,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=_json_default,
    )


def sha256_hex(data: bytes | str) -> str:
    """SHA-256 hex of bytes or UTF-8 text."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def payload_digest(payload: bytes | str | dict | list) -> str:
    """SHA-256 hex of a payload.

    Bytes are digested as-is, text as UTF-8, dicts and lists via ``canonical_json`` so
    that key order does not change the digest.
    """
    if isinstance(payload, (bytes, bytearray, memoryview)):
        return hashlib.sha256(bytes(payload)).hexdigest()
    if isinstance(payload, str):
        return sha256_hex(payload)
    if isinstance(payload, (dict, list)):
        return sha256_hex(canonical_json(payload))
    raise TypeError(f"Cannot digest a {type(payload).__name__}.")


def message_key(*parts) -> str:
    """Join the usable parts with ":"; keys longer than 180 characters are hashed.

    ``None`` and parts whose ``str()`` is empty are skipped. ``ValueError`` when no
    part is usable, because an empty key would make unrelated messages collide.
    """
    usable = [str(part) for part in parts if part is not None and str(part) != ""]
    if not usable:
        raise ValueError("An idempotency key needs at least one non-empty part.")
    key = ":".join(usable)
    if len(key) > MAX_KEY_LENGTH:
        return "sha256:" + sha256_hex(key)
    return key


def body_key(body: bytes) -> str:
    """Fallback idempotency key for channels that send no event id."""
    return "body:" + hashlib.sha256(body).hexdigest()


def lock_key(text: str) -> int:
    """A signed 32-bit key for PostgreSQL's ``(int4, int4)`` advisory locks,
    the same on every worker (crc32 of the text)."""
    key = zlib.crc32(text.encode())
    return key - 2**32 if key >= 2**31 else key

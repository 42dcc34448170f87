import hashlib
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from distribution_sync.core.idempotency import (
    body_key,
    canonical_json,
    lock_key,
    message_key,
    payload_digest,
)


def test_canonical_json_sorted_compact_unicode_decimal():
    data = {"b": Decimal("1.10"), "a": ["é", 1]}
    assert canonical_json(data) == '{"a":["é",1],"b":"1.10"}'


def test_canonical_json_rejects_unknown_types():
    with pytest.raises(TypeError):
        canonical_json({"a": object()})


def test_payload_digest_bytes_and_str():
    assert payload_digest(b"abc") == hashlib.sha256(b"abc").hexdigest()
    assert payload_digest("é") == hashlib.sha256("é".encode()).hexdigest()


def test_payload_digest_ignores_key_order():
    assert payload_digest({"a": 1, "b": {"c": 2, "d": 3}}) == payload_digest(
        {"b": {"d": 3, "c": 2}, "a": 1}
    )


def test_payload_digest_differs_on_value():
    assert payload_digest({"a": 1}) != payload_digest({"a": 2})
    assert payload_digest([1, 2]) != payload_digest([2, 1])


def test_payload_digest_rejects_other_types():
    with pytest.raises(TypeError):
        payload_digest(12)


def test_message_key_joins_usable_parts():
    assert message_key("shopify", None, "", 123, "orders/create") == (
        "shopify:123:orders/create"
    )


def test_message_key_requires_a_part():
    with pytest.raises(ValueError):
        message_key(None, "")
    with pytest.raises(ValueError):
        message_key()


def test_message_key_hashes_long_keys():
    key = message_key("x" * 181)
    assert key == "sha256:" + hashlib.sha256(("x" * 181).encode()).hexdigest()
    assert message_key("x" * 180) == "x" * 180


def test_body_key():
    assert body_key(b"{}") == "body:" + hashlib.sha256(b"{}").hexdigest()
    assert body_key(b"{}") != body_key(b"{ }")


@given(st.lists(st.text(), max_size=6))
def test_message_key_length_bound(parts):
    if not any(parts):
        with pytest.raises(ValueError):
            message_key(*parts)
        return
    joined = ":".join(part for part in parts if part)
    key = message_key(*parts)
    if len(joined) <= 180:
        assert key == joined
    else:
        assert key == "sha256:" + hashlib.sha256(joined.encode()).hexdigest()


@given(
    st.dictionaries(
        st.text(max_size=5),
        st.one_of(st.integers(), st.text(max_size=5), st.none()),
        max_size=6,
    )
)
def test_digest_stable_under_reordering(data):
    reordered = dict(reversed(list(data.items())))
    assert payload_digest(data) == payload_digest(reordered)


def test_lock_key_is_a_stable_signed_int4():
    assert lock_key("1:order:42") == lock_key("1:order:42")
    assert lock_key("1:order:42") != lock_key("1:order:43")
    keys = [lock_key(f"backend:{n}") for n in range(2000)]
    assert all(-(2**31) <= key < 2**31 for key in keys)
    assert any(key < 0 for key in keys)

import pytest
from cryptography.fernet import Fernet

from distribution_sync.core.crypto import (
    PREFIX,
    SecretBox,
    SecretDecryptError,
    SecretKeyInvalid,
    SecretKeyMissing,
    generate_key,
)

PLAIN = "shpat_0123456789abcdef"


@pytest.fixture
def key():
    return generate_key()


def test_generate_key_is_a_fernet_key(key):
    Fernet(key)
    assert key != generate_key()


def test_roundtrip(key):
    box = SecretBox(key)
    stored = box.encrypt(PLAIN)
    assert stored.startswith(PREFIX)
    assert PLAIN not in stored
    assert box.decrypt(stored) == PLAIN


def test_unicode_roundtrip(key):
    box = SecretBox([key])
    assert box.decrypt(box.encrypt("sécret ✓")) == "sécret ✓"


def test_encryption_is_randomised(key):
    box = SecretBox(key)
    assert box.encrypt(PLAIN) != box.encrypt(PLAIN)


def test_rotation(key):
    old_box = SecretBox(key)
    stored = old_box.encrypt(PLAIN)
    new_key = generate_key()
    rotating_box = SecretBox(f"{new_key}, {key}")
    assert rotating_box.decrypt(stored) == PLAIN
    rotated = rotating_box.rotate(stored)
    assert rotated.startswith(PREFIX)
    assert PLAIN not in rotated
    assert SecretBox(new_key).decrypt(rotated) == PLAIN
    with pytest.raises(SecretDecryptError):
        SecretBox(new_key).decrypt(stored)
    with pytest.raises(SecretDecryptError):
        old_box.decrypt(rotated)


def test_new_values_use_first_key(key):
    other = generate_key()
    stored = SecretBox([other, key]).encrypt(PLAIN)
    assert SecretBox(other).decrypt(stored) == PLAIN
    with pytest.raises(SecretDecryptError):
        SecretBox(key).decrypt(stored)


def test_keys_separated_by_commas_and_whitespace(key):
    other = generate_key()
    box = SecretBox(f"  {key},\n {other} ")
    assert box.keys == [key, other]
    assert box.fingerprints == [
        SecretBox.fingerprint(key),
        SecretBox.fingerprint(other),
    ]


def test_wrong_key_fails(key):
    stored = SecretBox(key).encrypt(PLAIN)
    with pytest.raises(SecretDecryptError) as info:
        SecretBox(generate_key()).decrypt(stored)
    assert "distribution_sync_secret_keys" in str(info.value)
    with pytest.raises(SecretDecryptError):
        SecretBox(generate_key()).rotate(stored)


def test_tampered_token_fails(key):
    box = SecretBox(key)
    stored = box.encrypt(PLAIN)
    tampered = stored[:-5] + ("A" if stored[-5] != "A" else "B") + stored[-4:]
    with pytest.raises(SecretDecryptError):
        box.decrypt(tampered)


@pytest.mark.parametrize(
    "stored", [PLAIN, "", None, "enc:v2:abc", "enc:v1:not-a-token"]
)
def test_unencrypted_values_refused(key, stored):
    with pytest.raises(SecretDecryptError):
        SecretBox(key).decrypt(stored)


@pytest.mark.parametrize("keys", ["", "  , ,", [], None, ["", " "]])
def test_missing_key_message(keys):
    with pytest.raises(SecretKeyMissing) as info:
        SecretBox(keys)
    message = str(info.value)
    assert "distribution_sync_secret_keys" in message
    assert "configuration file" in message


def test_invalid_key_never_shows_the_key():
    bad = "definitely-not-a-valid-fernet-key"
    with pytest.raises(SecretKeyInvalid) as info:
        SecretBox(bad)
    assert isinstance(info.value, SecretKeyMissing)
    assert bad not in str(info.value)
    assert SecretBox.fingerprint(bad) in str(info.value)


def test_is_encrypted():
    assert SecretBox.is_encrypted(PREFIX + "x")
    assert not SecretBox.is_encrypted(PLAIN)
    assert not SecretBox.is_encrypted(None)


def test_fingerprint(key):
    fingerprint = SecretBox.fingerprint(key)
    assert len(fingerprint) == 8
    assert int(fingerprint, 16) >= 0
    assert fingerprint == SecretBox.fingerprint(f" {key}\n")
    assert fingerprint != SecretBox.fingerprint(generate_key())
    assert fingerprint not in key


def test_encrypt_requires_text(key):
    with pytest.raises(TypeError):
        SecretBox(key).encrypt(b"bytes")

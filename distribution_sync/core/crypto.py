"""Encryption of secrets at rest (API tokens, webhook secrets) with key rotation."""

import hashlib
import re
from collections.abc import Iterable

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

PREFIX = "enc:v1:"
CONFIG_KEY = "distribution_sync_secret_keys"


class SecretKeyMissing(Exception):
    """No usable encryption key is configured."""


class SecretKeyInvalid(SecretKeyMissing):
    """A configured key is not a valid Fernet key."""


class SecretDecryptError(Exception):
    """A stored secret cannot be decrypted with the configured keys."""


def generate_key() -> str:
    """A new random Fernet key (URL-safe base64 text)."""
    return Fernet.generate_key().decode("ascii")


def _split_keys(keys) -> list[str]:
    if keys is None:
        return []
    if isinstance(keys, (str, bytes)):
        keys = [keys]
    result = []
    for entry in keys:
        if isinstance(entry, bytes):
            entry = entry.decode("ascii")
        result.extend(part for part in re.split(r"[\s,]+", entry or "") if part)
    return result


class SecretBox:
    """Encrypts with the first key; decrypts with any configured key.

    Rotation: put a new key first and keep the old ones after it until every stored
    value has been passed through ``rotate``.
    """

    def __init__(self, keys: str | Iterable[str]):
        self.keys = _split_keys(keys)
        if not self.keys:
            raise SecretKeyMissing(
                f"No encryption key configured: set {CONFIG_KEY} in the Odoo server "
                "configuration file (comma-separated Fernet keys, the first one "
                "encrypts), then restart the server."
            )
        fernets = []
        for position, key in enumerate(self.keys, start=1):
            try:
                fernets.append(Fernet(key))
            except (ValueError, TypeError):
                # Name the key by position and fingerprint, never by its value.
                raise SecretKeyInvalid(
                    f"Key #{position} ({self.fingerprint(key)}) in {CONFIG_KEY} is "
                    "not a valid Fernet key (32 url-safe base64-encoded bytes)."
                ) from None
        self._fernet = MultiFernet(fernets)

    @staticmethod
    def fingerprint(key: str) -> str:
        """Short, non-secret identifier of a key for display (8 hex characters)."""
        if isinstance(key, bytes):
            key = key.decode("ascii")
        return hashlib.sha256(key.strip().encode("utf-8")).hexdigest()[:8]

    @property
    def fingerprints(self) -> list[str]:
        """Fingerprints of the configured keys, current key first."""
        return [self.fingerprint(key) for key in self.keys]

    @staticmethod
    def is_encrypted(stored) -> bool:
        """True when ``stored`` looks like a value produced by ``encrypt``."""
        return isinstance(stored, str) and stored.startswith(PREFIX)

    def encrypt(self, plain: str) -> str:
        """Encrypt with the current key; returns ``PREFIX`` + Fernet token."""
        if not isinstance(plain, str):
            raise TypeError("Only text secrets can be encrypted.")
        token = self._fernet.encrypt(plain.encode("utf-8"))
        return PREFIX + token.decode("ascii")

    def _token(self, stored) -> bytes:
        if not self.is_encrypted(stored):
            raise SecretDecryptError(
                "The stored value is not an encrypted secret; enter the secret again."
            )
        return stored[len(PREFIX) :].encode("ascii")

    def decrypt(self, stored: str) -> str:
        """Plain text of an encrypted value; ``SecretDecryptError`` if no key fits."""
        try:
            return self._fernet.decrypt(self._token(stored)).decode("utf-8")
        except (InvalidToken, UnicodeError):
            raise SecretDecryptError(self._no_key_message()) from None

    def rotate(self, stored: str) -> str:
        """Re-encrypt an encrypted value with the current key."""
        try:
            return PREFIX + self._fernet.rotate(self._token(stored)).decode("ascii")
        except (InvalidToken, UnicodeError):
            raise SecretDecryptError(self._no_key_message()) from None

    def _no_key_message(self) -> str:
        return (
            f"None of the keys in {CONFIG_KEY} ({', '.join(self.fingerprints)}) can "
            "decrypt this secret: restore the key it was encrypted with, or enter "
            "the secret again."
        )

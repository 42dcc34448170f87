# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
import os

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import config, ormcache

from ..core.crypto import SecretBox, SecretDecryptError, SecretKeyMissing

CONFIG_KEY = "distribution_sync_secret_keys"
ENV_KEY = "DISTRIBUTION_SYNC_SECRET_KEYS"


class DistributionSyncSecret(models.Model):
    """Encrypted credentials of a backend.

    Values are Fernet tokens made with the keys of the server configuration
    (``distribution_sync_secret_keys``, first key encrypts, all keys decrypt),
    never with anything stored in the database. Only the code reads them, through
    ``_get``; no group but the administrators can even read the ciphertext.
    """

    _name = "distribution.sync.secret"
    _description = "Distribution Sync Secret"
    _rec_name = "key"

    backend_id = fields.Many2one(
        "distribution.sync.backend", required=True, ondelete="cascade", index=True
    )
    key = fields.Char(required=True)
    value = fields.Char(string="Encrypted value", required=True)

    _sql_constraints = [
        (
            "backend_key_uniq",
            "unique(backend_id, key)",
            "A backend stores each secret once.",
        )
    ]

    @api.model
    def _configured_keys(self):
        return config.get(CONFIG_KEY) or os.environ.get(ENV_KEY) or ""

    @api.model
    def _secret_box(self, keys=None):
        keys = self._configured_keys() if keys is None else keys
        try:
            return SecretBox(keys)
        except SecretKeyMissing as exc:
            raise UserError(
                self.env._(
                    "Secrets cannot be stored: set %(option)s (comma-separated "
                    "Fernet keys) in the Odoo server configuration file.",
                    option=CONFIG_KEY,
                )
            ) from exc

    @api.model
    def _set(self, backend, key, plain):
        """Store ``plain`` encrypted for ``backend`` (falsy ``plain`` removes it)."""
        existing = self.sudo().search(
            [("backend_id", "=", backend.id), ("key", "=", key)]
        )
        if not plain:
            existing.unlink()
            self.env.registry.clear_cache()
            return
        token = self._secret_box().encrypt(plain)
        if existing:
            existing.value = token
        else:
            self.sudo().create({"backend_id": backend.id, "key": key, "value": token})
        self.env.registry.clear_cache()

    @api.model
    def _get(self, backend, key):
        """Return the plain secret or ``None`` (missing, or no key can decrypt)."""
        return self._get_cached(backend.id, key, self._configured_keys())

    @api.model
    def _get_fresh(self, backend, key):
        """The plain secret as this transaction reads it now, past the cache of
        this worker: for secrets another worker may just have replaced (a
        rotated refresh token), read under a lock."""
        return self._read(backend.id, key, self._configured_keys())

    @api.model
    @ormcache("backend_id", "key", "keys")
    def _get_cached(self, backend_id, key, keys):
        # Cached per worker and key set (webhooks verify on every request);
        # every change clears the registry cache, which other workers see on
        # their next request.
        return self._read(backend_id, key, keys)

    @api.model
    def _read(self, backend_id, key, keys):
        stored = self.sudo().search(
            [("backend_id", "=", backend_id), ("key", "=", key)], limit=1
        )
        if not stored:
            return None
        try:
            return self._secret_box(keys).decrypt(stored.value)
        except (UserError, SecretDecryptError):
            return None

    @api.model
    def _rotate_all(self):
        """Re-encrypt every secret with the current (first) key.

        Returns the secrets no configured key can decrypt (left untouched, so
        one lost key does not stop the rotation of the others).
        """
        box = self._secret_box()
        lost = self.browse()
        for secret in self.sudo().search([("value", "!=", False)]):
            try:
                secret.value = box.rotate(secret.value)
            except SecretDecryptError:
                lost |= secret
        self.env.registry.clear_cache()
        return lost

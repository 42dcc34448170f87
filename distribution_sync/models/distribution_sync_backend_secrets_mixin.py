# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from odoo import fields, models
from odoo.exceptions import UserError

SECRET_FIELDS = ("webhook_secret",)


class DistributionSyncBackendSecretsMixin(models.AbstractModel):
    """Write-only secret fields of a backend, stored encrypted in
    ``distribution.sync.secret``.

    A channel adds a secret as a computed ``Char`` field (compute
    ``_compute_secret_fields``, inverse calling ``_inverse_secret(name)``)
    and extends ``_secret_fields``; the code reads it with ``_get_secret``.
    A Boolean ``<name>_set`` field with the same compute, when the model has
    one, tells whether a value is stored (the form shows it next to the
    secret, whose value is never shown).
    """

    _name = "distribution.sync.backend.secrets.mixin"
    _description = "Distribution Sync Backend: secrets"

    webhook_secret = fields.Char(
        compute="_compute_secret_fields",
        inverse="_inverse_webhook_secret",
        help="Key that verifies inbound webhook signatures. It is stored "
        "encrypted and never shown again: type a new value to replace it.",
    )
    webhook_secret_set = fields.Boolean(
        compute="_compute_secret_fields", string="Webhook secret is set"
    )

    def _secret_fields(self):
        """Names of the write-only secret fields; channel addons extend it."""
        return list(SECRET_FIELDS)

    def _secret_set_fields(self):
        """``{secret field: its "is set" field}`` for the secrets that have one."""
        return {
            fname: f"{fname}_set"
            for fname in self._secret_fields()
            if f"{fname}_set" in self._fields
        }

    def _compute_secret_fields(self):
        set_fields = self._secret_set_fields()
        ids = [backend_id for backend_id in self._origin.ids if backend_id]
        stored = set()
        if ids and set_fields:
            rows = (
                self.env["distribution.sync.secret"]
                .sudo()
                .search_read(
                    [("backend_id", "in", ids), ("key", "in", list(set_fields))],
                    ["backend_id", "key"],
                )
            )
            stored = {(row["backend_id"][0], row["key"]) for row in rows}
        for backend in self:
            # Write-only: the plain value is never sent to any client.
            for fname in backend._secret_fields():
                backend[fname] = False
            for fname, set_field in set_fields.items():
                backend[set_field] = (backend._origin.id, fname) in stored

    def _secret_dependents(self):
        """Fields computed from which secrets are stored."""
        return list(self._secret_set_fields().values()) + [
            fname for fname in ("credentials_set",) if fname in self._fields
        ]

    def _inverse_secret(self, fname):
        for backend in self:
            value = backend[fname]
            if value:
                self.env["distribution.sync.secret"]._set(backend, fname, value)
                backend._audit("secret", note=fname)
        self.invalidate_recordset(self._secret_dependents())

    def _inverse_webhook_secret(self):
        self._inverse_secret("webhook_secret")

    def _get_secret(self, fname):
        """Plain value of a secret field for the code (never for display)."""
        self.ensure_one()
        return self.env["distribution.sync.secret"]._get(self, fname)

    def action_clear_secret(self):
        # Secrets live in a table nobody reads: the right to configure the
        # backend is what allows to wipe them.
        self.check_access("write")
        fname = self.env.context.get("secret_field", "webhook_secret")
        if fname not in self._secret_fields():
            raise UserError(self.env._("Unknown secret %s.", fname))
        for backend in self:
            self.env["distribution.sync.secret"]._set(backend, fname, False)
            backend._audit("secret", note=f"{fname} cleared")
        self.invalidate_recordset(self._secret_dependents())
        return True

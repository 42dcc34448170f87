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

    def _compute_secret_fields(self):
        secrets = self.env["distribution.sync.secret"].sudo()
        for backend in self:
            # Write-only: the plain value is never sent to any client.
            for fname in backend._secret_fields():
                backend[fname] = False
            backend.webhook_secret_set = bool(
                backend.id
                and secrets.search_count(
                    [("backend_id", "=", backend.id), ("key", "=", "webhook_secret")]
                )
            )

    def _inverse_secret(self, fname):
        for backend in self:
            value = backend[fname]
            if value:
                self.env["distribution.sync.secret"]._set(backend, fname, value)
                backend._audit("secret", note=fname)

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
        return True

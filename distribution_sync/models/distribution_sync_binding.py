# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import mute_logger

from ..core.canonical import is_stale
from ..core.errors import BindingConflict
from .distribution_sync_record_link_mixin import linked_display_names


class DistributionSyncBinding(models.Model):
    """One outside record ↔ one Odoo record, for one backend.

    Both directions are unique in the database, so two workers binding the
    same outside id at once end with one binding (the second one fails and
    its job is retried, then finds the binding).
    """

    _name = "distribution.sync.binding"
    _description = "Distribution Sync Binding"
    _order = "sync_date desc, id desc"

    backend_id = fields.Many2one(
        "distribution.sync.backend", required=True, ondelete="cascade", index=True
    )
    # Precomputed: part of the INSERT rather than an UPDATE after it.
    company_id = fields.Many2one(
        related="backend_id.company_id", store=True, index=True, precompute=True
    )
    res_model = fields.Char(string="Odoo model", required=True, index=True)
    res_id = fields.Many2oneReference(
        model_field="res_model", string="Odoo record ID", required=True, index=True
    )
    external_id = fields.Char(required=True, index=True)
    external_name = fields.Char(help="Number or name in the outside system.")
    sync_date = fields.Datetime(string="Last sync", readonly=True)
    remote_updated_at = fields.Datetime(
        readonly=True, help="Last change in the outside system that was applied."
    )
    payload_digest = fields.Char(
        readonly=True, help="Digest of the last applied payload (unchanged = skip)."
    )
    record_name = fields.Char(compute="_compute_record_name", string="Odoo record")
    # What the outside system last told us about the record, for the
    # reconciliation queries (amounts in the record's currency).
    remote_amount = fields.Float(
        string="Total outside",
        digits=(16, 4),
        readonly=True,
        help="The total the outside system last reported.",
    )
    remote_residual = fields.Float(
        string="Open balance outside",
        digits=(16, 4),
        readonly=True,
        help="The amount still open in the outside system (invoices).",
    )
    remote_state = fields.Char(
        string="Status outside",
        readonly=True,
        help="The status the outside system last reported (e.g. cancelled).",
    )

    _sql_constraints = [
        (
            "external_uniq",
            "unique(backend_id, res_model, external_id)",
            "This outside record is already bound to an Odoo record.",
        ),
        (
            "record_uniq",
            "unique(backend_id, res_model, res_id)",
            "This Odoo record is already bound for this backend.",
        ),
    ]

    # What the sync applied last: it decides what a later delivery skips.
    _code_only_fields = frozenset(
        {
            "sync_date",
            "remote_updated_at",
            "payload_digest",
            "remote_amount",
            "remote_residual",
            "remote_state",
        }
    )

    def write(self, vals):
        refused = self._code_only_fields & set(vals)
        if refused and not self.env.su:
            raise AccessError(
                self.env._(
                    "%(fields)s of a binding are set by the synchronisation itself.",
                    fields=", ".join(sorted(refused)),
                )
            )
        res = super().write(vals)
        if not self.env.su:
            # Record rules are checked before a write, not after it: nobody
            # moves a binding into a company they do not work in.
            self.check_access("write")
        return res

    def _compute_record_name(self):
        names = linked_display_names(self)
        for binding in self:
            binding.record_name = names.get(binding.id, False)

    def _record(self):
        self.ensure_one()
        if self.res_model not in self.env:
            return None
        return self.env[self.res_model].browse(self.res_id).exists() or None

    @api.model
    def _find(self, backend, res_model, external_id):
        return self.sudo().search(
            [
                ("backend_id", "=", backend.id),
                ("res_model", "=", res_model),
                ("external_id", "=", str(external_id)),
            ],
            limit=1,
        )

    @api.model
    def _find_record(self, backend, res_model, external_id):
        """The bound Odoo record, or an empty recordset."""
        binding = self._find(backend, res_model, external_id)
        record = binding and binding._record()
        return record or self.env[res_model]

    @api.model
    def _for_record(self, backend, record):
        return self.sudo().search(
            [
                ("backend_id", "=", backend.id),
                ("res_model", "=", record._name),
                ("res_id", "=", record.id),
            ],
            limit=1,
        )

    def _is_unchanged(self, digest):
        """True when this exact payload was applied already."""
        return bool(self) and bool(digest) and self.payload_digest == digest

    def _is_stale(self, updated_at):
        """True when ``updated_at`` is older than what was applied."""
        return bool(self) and is_stale(
            updated_at and updated_at.replace(tzinfo=None),
            self.remote_updated_at,
        )

    def _skip_reason(self, updated_at, digest, label):
        """Why an inbound version of the bound record need not be applied
        (``None`` when it must be): older than what was applied, or the very
        payload applied last time. ``label`` names the record for people."""
        if self._is_stale(updated_at):
            return f"Stale: a newer version of this {label} was applied."
        if self._is_unchanged(digest):
            return "Unchanged since the last import."
        return None

    @api.model
    def _prepare_binding_vals(
        self,
        backend,
        record,
        external_id,
        *,
        updated_at=None,
        digest=None,
        external_name=None,
        remote_amount=None,
        remote_residual=None,
        remote_state=None,
    ):
        vals = {
            "backend_id": backend.id,
            "res_model": record._name,
            "res_id": record.id,
            "external_id": str(external_id),
            "sync_date": fields.Datetime.now(),
        }
        if updated_at:
            vals["remote_updated_at"] = updated_at.replace(tzinfo=None)
        if digest:
            vals["payload_digest"] = digest
        if external_name:
            vals["external_name"] = external_name
        for name, value in (
            ("remote_amount", remote_amount),
            ("remote_residual", remote_residual),
        ):
            if value is not None:
                vals[name] = float(value)
        if remote_state:
            vals["remote_state"] = remote_state
        return vals

    @api.model
    def _bind(
        self, backend, record, external_id, *, binding=None, rebind=False, **values
    ):
        """Create or refresh the binding of ``record`` to ``external_id``.

        ``values``: ``updated_at``, ``digest``, ``external_name`` and what
        the outside system reports, ``remote_amount``, ``remote_residual``,
        ``remote_state`` (see ``_prepare_binding_vals``; another name is an
        error, never dropped).

        ``binding``: what ``_find`` gave for ``external_id`` earlier in this
        transaction (an empty recordset when nothing), so that it is not
        searched again; the transaction sees the same rows until it writes one
        (repeatable read). A concurrent creation of the same binding raises the
        database's unique violation: the caller's job is retried and then
        sees it.

        An outside record bound to another live record already (seen by this
        transaction, so not a concurrent job's doing) raises
        ``BindingConflict``: waiting would not change it. With ``rebind`` the
        binding moves to ``record`` instead (the channel says it moved, e.g. a
        SKU now on another variant).
        """
        if binding is None:
            binding = self._find(backend, record._name, external_id)
        vals = self._prepare_binding_vals(backend, record, external_id, **values)
        if binding:
            bound = binding._record()
            if bound and bound != record and not rebind:
                raise BindingConflict(record._name, external_id, bound.display_name)
            binding.sudo().write(vals)
            return binding
        # The savepoint keeps the transaction usable for the caller's error
        # handling; the unique violation itself is the concurrency signal.
        with mute_logger("odoo.sql_db"), self.env.cr.savepoint():
            return self.sudo().create(vals)

    def action_unbind_reimport(self):
        """Forget a binding whose Odoo record was deleted, and re-import it.

        The last inbound message that produced a record of that model from
        that outside record is replayed, so the record is created again from
        the channel's data; when there is none, the binding is only removed
        and a notification says so.
        """
        # It deletes bindings (with sudo): the right to delete them allows it.
        self.check_access("unlink")
        messages = self.env["distribution.sync.message"]
        nothing_to_replay = []
        for binding in self:
            if binding._record():
                raise UserError(
                    self.env._(
                        "%(name)s still exists in Odoo: archive or delete it first.",
                        name=binding.record_name,
                    )
                )
            last = messages.search(
                [
                    ("backend_id", "=", binding.backend_id.id),
                    ("direction", "=", "inbound"),
                    ("external_id", "=", binding.external_id),
                    ("res_model", "=", binding.res_model),
                ],
                limit=1,
            )
            external_id = binding.external_id
            binding.backend_id._audit(
                "unbind", note=f"{binding.res_model},{external_id}"
            )
            binding.sudo().unlink()
            if last:
                last.with_context(distribution_sync_force=True)._process_now()
            else:
                nothing_to_replay.append(external_id)
        if not nothing_to_replay:
            return True
        return self.env["distribution.sync.backend"]._notification(
            self.env._("Nothing to re-import"),
            self.env._(
                "No message from the channel produced %s: the binding is "
                "removed; the record comes back with the channel's next "
                "change (or fetch changes now).",
                ", ".join(nothing_to_replay),
            ),
            kind="warning",
        )

# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
import hashlib

import psycopg2

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import mute_logger

from ..core import sla as core_sla
from ..core.errors import (
    CATEGORIES,
    NOT_RETRYABLE_CATEGORIES,
    SEVERITY_BY_CATEGORY,
    problem_summary,
    storable,
)


class DistributionSyncException(models.Model):
    """The inbox people work in: one open record per problem.

    The same problem raised again (same work, category and value) updates the
    open record instead of adding one; a unique index on the open problems
    keeps that true under concurrency. A later success of the same work
    resolves it on its own, and a message that fails again for another reason
    replaces its open exception (``_supersede``): one problem, one record.
    The deadline runs on the company's working calendar.
    """

    _name = "distribution.sync.exception"
    _description = "Distribution Sync Exception"
    _inherit = [
        "mail.thread",
        "mail.activity.mixin",
        "distribution.sync.record.link.mixin",
    ]
    _order = "state, sla_deadline, id desc"

    name = fields.Char(required=True, tracking=True)
    summary = fields.Char(
        compute="_compute_summary",
        string="Problem",
        help="What is wrong, without the instruction (shown apart).",
    )
    backend_id = fields.Many2one(
        "distribution.sync.backend", required=True, ondelete="cascade", index=True
    )
    # Precomputed: part of the INSERT rather than an UPDATE after it.
    company_id = fields.Many2one(
        related="backend_id.company_id", store=True, index=True, precompute=True
    )
    message_id = fields.Many2one(
        "distribution.sync.message", ondelete="set null", index=True
    )
    category = fields.Selection(
        list(CATEGORIES), required=True, index=True, tracking=True
    )
    severity = fields.Selection(
        [
            ("info", "Info"),
            ("warning", "Warning"),
            ("error", "Error"),
            ("critical", "Critical"),
        ],
        required=True,
        default="error",
    )
    state = fields.Selection(
        [("open", "Open"), ("resolved", "Resolved"), ("ignored", "Ignored")],
        required=True,
        default="open",
        index=True,
        tracking=True,
    )
    value = fields.Char(help="The value that caused the problem.")
    mapping_type = fields.Char(help="Kind of mapping that is missing, if any.")
    hint = fields.Text(string="What to do")
    retryable = fields.Boolean(
        default=True,
        readonly=True,
        help="Running the work again can help (not for data received malformed, "
        "nor for a setting to fix: the next run after the fix resolves those).",
    )
    work_key = fields.Char(index=True)
    problem_key = fields.Char(required=True, index=True)
    occurrence_count = fields.Integer(string="Occurrences", default=1)
    last_seen = fields.Datetime(default=fields.Datetime.now)
    sla_deadline = fields.Datetime(
        string="Due",
        index=True,
        help="When the exception is overdue: the backend's exception SLA on the "
        "company's working days.",
    )
    sla_status = fields.Selection(
        core_sla.SLA_STATUSES, compute="_compute_sla", string="SLA status"
    )
    age_hours = fields.Float(compute="_compute_sla", string="Age (hours)")
    resolved_by_id = fields.Many2one("res.users", readonly=True)
    resolved_date = fields.Datetime(readonly=True)
    resolution_note = fields.Text()
    error_details = fields.Text(
        readonly=True,
        groups="base.group_system",
        help="Trace of an unexpected error, for the integrator (the message's "
        "own trace when the exception has a message).",
    )
    # Differences found by reconciliation runs: the check and both sides.
    reconciliation_check = fields.Char(readonly=True, index=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    amount_odoo = fields.Monetary(string="Amount in Odoo", readonly=True)
    amount_channel = fields.Monetary(string="Amount outside", readonly=True)
    amount_difference = fields.Monetary(string="Difference", readonly=True)

    # Fields a person may change directly. The rest is the sync's record of the
    # problem, which its actions (Retry, Mark resolved, Ignore, Reopen) change
    # and the audit trail records.
    _user_writable_fields = frozenset({"resolution_note", "severity"})

    def write(self, vals):
        refused = set(vals) - self._user_writable_fields
        if refused and not self.env.su:
            raise AccessError(
                self.env._(
                    "%(fields)s of an exception cannot be changed by hand: use "
                    "Retry, Mark resolved, Ignore or Reopen.",
                    fields=", ".join(sorted(refused)),
                )
            )
        return super().write(vals)

    @api.model_create_multi
    def create(self, vals_list):
        # The deadline when the exception opens (a repeat keeps its own):
        # the backend's SLA on the company's working days.
        for vals in vals_list:
            if not vals.get("sla_deadline") and vals.get("backend_id"):
                backend = self.env["distribution.sync.backend"].browse(
                    vals["backend_id"]
                )
                vals["sla_deadline"] = backend.company_id._distribution_sync_due_at(
                    fields.Datetime.now(), backend.exception_sla_hours or 24
                )
        return super().create(vals_list)

    def init(self):
        # One open exception per problem, enforced where concurrency is decided.
        self.env.cr.execute(
            """CREATE UNIQUE INDEX IF NOT EXISTS
               distribution_sync_exception_open_problem_uniq
               ON distribution_sync_exception (problem_key) WHERE state = 'open'"""
        )

    @api.depends("name", "hint")
    def _compute_summary(self):
        for exc in self:
            exc.summary = problem_summary(exc.name, exc.hint)

    @api.depends("create_date", "sla_deadline", "state")
    def _compute_sla(self):
        now = fields.Datetime.now()
        for exc in self:
            created = exc.create_date or now
            exc.age_hours = core_sla.age_hours(created, now)
            if exc.state != "open" or not exc.sla_deadline:
                exc.sla_status = "on_time"
            else:
                # The deadline set at creation decides (working days
                # included); "due soon" past 75 % of the time it allowed.
                exc.sla_status = core_sla.deadline_status(
                    created, now, exc.sla_deadline
                )

    # ------------------------------------------------------------------ opening
    @api.model
    def _problem_key(self, backend, category, work_key, value, name):
        basis = f"{backend.id}|{category}|{work_key or ''}|{value or name}"
        return hashlib.sha256(basis.encode()).hexdigest()

    @api.model
    def _prepare_exception_vals(self, backend, category, name, **kw):
        message = kw.get("message")
        record = kw.get("record")
        work_key = kw.get("work_key") or (message and message.work_key) or False
        value = kw.get("value")
        retryable = kw.get("retryable")
        if retryable is None:
            # What came in malformed stays malformed; a failed send is built
            # again from Odoo's data, so it may pass once that is fixed.
            retryable = bool(message) and (
                category not in NOT_RETRYABLE_CATEGORIES
                or message.direction == "outbound"
            )
        # Names and values quote payloads: what PostgreSQL cannot store is
        # escaped.
        name = storable(name)
        value = storable(str(value)) if value not in (None, False, "") else value
        vals = {
            "name": name,
            "backend_id": backend.id,
            "category": category,
            "severity": kw.get("severity")
            or SEVERITY_BY_CATEGORY.get(category, "error"),
            "message_id": message.id if message else False,
            "value": str(value)[:250] if value not in (None, False, "") else False,
            "hint": kw.get("hint") or False,
            "mapping_type": kw.get("mapping_type") or False,
            "work_key": work_key,
            "retryable": retryable,
            "problem_key": self._problem_key(backend, category, work_key, value, name),
        }
        if record:
            vals.update(res_model=record._name, res_id=record.id)
        return vals

    @api.model
    def _open(self, backend, category, name, **kw):
        """Open (or refresh) the exception for one problem and return it."""
        vals = self._prepare_exception_vals(backend, category, name, **kw)
        exceptions = self.sudo()
        existing = exceptions.search(
            [("problem_key", "=", vals["problem_key"]), ("state", "=", "open")],
            limit=1,
        )
        if not existing:
            try:
                with mute_logger("odoo.sql_db"), self.env.cr.savepoint():
                    exc = exceptions.with_context(
                        mail_create_nolog=True, tracking_disable=True
                    ).create(vals)
                exc._schedule_owner_activity()
                return exc
            except psycopg2.errors.UniqueViolation:
                existing = exceptions.search(
                    [("problem_key", "=", vals["problem_key"]), ("state", "=", "open")],
                    limit=1,
                )
        existing.write(
            {
                "occurrence_count": existing.occurrence_count + 1,
                "last_seen": fields.Datetime.now(),
                "message_id": vals["message_id"] or existing.message_id.id,
                "name": vals["name"],
            }
        )
        return existing

    def _schedule_owner_activity(self):
        for exc in self:
            owner = exc.backend_id.responsible_user_id
            if not owner or not owner.active or owner.share:
                continue
            # No e-mail per exception: the owner works the inbox and the
            # activity shows in Odoo; a busy channel would flood a mailbox.
            exc.with_context(mail_activity_quick_update=True).activity_schedule(
                "mail.mail_activity_data_todo",
                date_deadline=fields.Date.context_today(exc),
                summary=exc.name[:100],
                user_id=owner.id,
            )

    @api.model
    def _auto_resolve(self, message):
        """The work of ``message`` succeeded: close what it had raised."""
        domain = [("state", "=", "open"), ("backend_id", "=", message.backend_id.id)]
        # A skipped message (stale or unchanged) applied nothing: it closes its
        # own exceptions, not those of a newer version of the same work.
        if message.work_key and message.state == "done":
            domain += [
                "|",
                ("message_id", "=", message.id),
                ("work_key", "=", message.work_key),
            ]
        else:
            domain.append(("message_id", "=", message.id))
        exceptions = self.sudo().search(domain)
        exceptions._close(
            "resolved", note=self.env._("Resolved automatically: the work succeeded.")
        )
        exceptions._link_document(message)
        return exceptions

    def _link_document(self, message):
        """Point exceptions raised before their document existed (a missing
        product stops an order's creation) at what the work made since: the
        person who fixed it goes on to the order from there."""
        if message.res_model and message.res_id:
            self.filtered(lambda e: not e.res_id).sudo().write(
                {"res_model": message.res_model, "res_id": message.res_id}
            )

    @api.model
    def _supersede(self, message, previous):
        """The work of ``message`` ran again and stopped elsewhere, or got
        past: close its exceptions that were open before (``previous``,
        ``{id: occurrence count}``) and that this run did not raise again."""
        if not previous:
            return self.browse()
        stale = (
            self.sudo()
            .browse(list(previous))
            .filtered(
                lambda e: (
                    e.state == "open"
                    and e.message_id == message
                    and e.occurrence_count == previous[e.id]
                )
            )
        )
        stale._close(
            "resolved",
            note=self.env._(
                "Resolved automatically: the work ran again and got past this "
                "problem (%s).",
                message.last_error or message.state,
            ),
        )
        stale._link_document(message)
        return stale

    def _close(self, state, note=None):
        if not self:
            return
        self.check_access("write")
        self.sudo().write(
            {
                "state": state,
                "resolved_by_id": self.env.user.id,
                "resolved_date": fields.Datetime.now(),
                "resolution_note": note or False,
            }
        )
        self.activity_ids.sudo().action_feedback(feedback=note or state)

    # ------------------------------------------------------------------ actions
    def action_retry(self):
        """Re-run the failed work of the linked message.

        Runs at once in this transaction: a success resolves the exception
        (and every open exception of the same work); a new failure replaces
        it with the new reason. Answers with a notification saying how it
        went, then reloads the view.
        """
        messages = self.env["distribution.sync.message"]
        for exc in self:
            if exc.state != "open":
                continue
            message = exc.message_id
            if not message or not exc.retryable:
                raise UserError(
                    self.env._(
                        "%(problem)s cannot be solved by running it again: %(what)s",
                        problem=exc.summary,
                        what=exc.hint
                        or self.env._("fix the cause, then mark it resolved."),
                    )
                )
            exc.backend_id._audit("retry", record=exc, note=message.display_name)
            message.sudo().with_context(distribution_sync_force=True)._process_now()
            messages |= message
        return messages._outcome_notification()

    def action_resolve(self):
        for exc in self:
            exc.backend_id._audit("resolve", record=exc, note=exc.resolution_note)
        self.filtered(lambda e: e.state == "open")._close(
            "resolved", note=self.env._("Resolved by %s.", self.env.user.name)
        )
        return True

    def action_ignore(self):
        for exc in self:
            exc.backend_id._audit("ignore", record=exc, note=exc.resolution_note)
        self.filtered(lambda e: e.state == "open")._close(
            "ignored", note=self.env._("Ignored by %s.", self.env.user.name)
        )
        return True

    def action_reopen(self):
        self.check_access("write")
        for exc in self.filtered(lambda e: e.state != "open"):
            exc.backend_id._audit("reopen", record=exc)
            exc.sudo().write(
                {"state": "open", "resolved_by_id": False, "resolved_date": False}
            )
        return True

    def action_create_mapping(self):
        """Open a new mapping for the missing value, ready to fill in."""
        self.env["distribution.sync.mapping"].check_access("create")
        self.ensure_one()
        mapping_type = self.mapping_type or "product"
        return {
            "type": "ir.actions.act_window",
            "res_model": "distribution.sync.mapping",
            "view_mode": "form",
            "views": [
                (
                    self.env.ref(
                        "distribution_sync.distribution_sync_mapping_view_form_retry"
                    ).id,
                    "form",
                )
            ],
            "name": self.env._("Create mapping and retry"),
            "target": "new",
            "context": {
                "default_backend_id": self.backend_id.id,
                "default_external_code": self.value,
                "default_mapping_type": mapping_type,
                "distribution_sync_exception_id": self.id,
            },
        }

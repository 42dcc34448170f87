# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from datetime import timedelta

from odoo import fields, models

from ..core import states as core_states


class DistributionSyncBackendDashboardMixin(models.AbstractModel):
    """Figures of a backend's dashboard card and the lists they open."""

    _name = "distribution.sync.backend.dashboard.mixin"
    _description = "Distribution Sync Backend: dashboard"

    count_pending = fields.Integer(compute="_compute_dashboard")
    count_error = fields.Integer(compute="_compute_dashboard")
    count_dead = fields.Integer(compute="_compute_dashboard")
    count_blocked = fields.Integer(compute="_compute_dashboard")
    count_open_exceptions = fields.Integer(compute="_compute_dashboard")
    count_overdue_exceptions = fields.Integer(compute="_compute_dashboard")
    count_done_24h = fields.Integer(
        compute="_compute_dashboard", string="Processed (24 h)"
    )
    last_success_date = fields.Datetime(
        compute="_compute_dashboard", string="Last successful sync"
    )
    exception_summary = fields.Char(compute="_compute_dashboard")
    health_error_rate = fields.Float(
        string="Error rate (24 h, %)",
        compute="_compute_health",
        digits=(5, 1),
        help="Messages of the last 24 hours that failed, of all processed.",
    )
    health_token_expires_at = fields.Datetime(
        string="Access expires",
        compute="_compute_health",
        help="When the channel's authorisation ends unless it is renewed.",
    )
    health_api_end = fields.Date(
        string="API version supported until", compute="_compute_health"
    )

    def _compute_dashboard(self):
        messages = self.env["distribution.sync.message"]
        exceptions = self.env["distribution.sync.exception"]
        since = fields.Datetime.now() - timedelta(hours=24)
        ids = self.ids
        by_state = {
            (backend.id, state): count
            for backend, state, count in messages._read_group(
                [("backend_id", "in", ids)], ["backend_id", "state"], ["__count"]
            )
        }
        done_24h = self._ids_dict(
            messages._read_group(
                [
                    ("backend_id", "in", ids),
                    ("state", "=", "done"),
                    ("processed_at", ">=", since),
                ],
                ["backend_id"],
                ["__count"],
            )
        )
        last_done = self._ids_dict(
            messages._read_group(
                [("backend_id", "in", ids), ("state", "=", "done")],
                ["backend_id"],
                ["processed_at:max"],
            )
        )
        open_by_cat = {}
        for backend, category, count in exceptions._read_group(
            [("backend_id", "in", ids), ("state", "=", "open")],
            ["backend_id", "category"],
            ["__count"],
        ):
            open_by_cat.setdefault(backend.id, {})[category] = count
        overdue = self._ids_dict(
            exceptions._read_group(
                [
                    ("backend_id", "in", ids),
                    ("state", "=", "open"),
                    ("sla_deadline", "<", fields.Datetime.now()),
                ],
                ["backend_id"],
                ["__count"],
            )
        )
        labels = dict(exceptions._fields["category"]._description_selection(self.env))
        for backend in self:
            key = backend.id
            backend.count_pending = sum(
                by_state.get((key, s), 0) for s in core_states.OPEN_STATES
            )
            backend.count_error = by_state.get((key, "error"), 0)
            backend.count_dead = by_state.get((key, "dead"), 0)
            backend.count_blocked = by_state.get((key, "blocked"), 0)
            cats = open_by_cat.get(key, {})
            backend.count_open_exceptions = sum(cats.values())
            backend.count_overdue_exceptions = overdue.get(key, 0)
            backend.count_done_24h = done_24h.get(key, 0)
            backend.last_success_date = last_done.get(key)
            backend.exception_summary = ", ".join(
                f"{labels.get(cat, cat)}: {count}"
                for cat, count in sorted(cats.items())
            )

    def _compute_health(self):
        messages = self.env["distribution.sync.message"]
        since = fields.Datetime.now() - timedelta(hours=24)
        by_state = {}
        for backend, state, count in messages._read_group(
            [
                ("backend_id", "in", self.ids),
                ("state", "in", ("done", "error", "dead", "blocked")),
                ("processed_at", ">=", since),
            ],
            ["backend_id", "state"],
            ["__count"],
        ):
            by_state.setdefault(backend.id, {})[state] = count
        for backend in self:
            counts = by_state.get(backend.id, {})
            total = sum(counts.values())
            failed = counts.get("error", 0) + counts.get("dead", 0)
            backend.health_error_rate = 100.0 * failed / total if total else 0.0
            health = backend._call("health") if backend.backend_type else {}
            backend.health_token_expires_at = health.get("token_expires_at")
            backend.health_api_end = health.get("api_support_end")

    def _default_health(self):
        """Channel verb ``health``: ``token_expires_at``, ``api_support_end``
        when the channel has them."""
        return {}

    @staticmethod
    def _ids_dict(groups):
        return {record.id: value for record, value in groups}

    def _action_open(self, model, domain, name, context=None):
        return {
            "type": "ir.actions.act_window",
            "name": name,
            "res_model": model,
            "view_mode": "list,form",
            "domain": domain,
            "context": dict(context or {}),
        }

    def action_open_messages(self):
        self.check_access("read")
        self.ensure_one()
        states = self.env.context.get("message_states")
        domain = [("backend_id", "=", self.id)]
        if states:
            domain.append(("state", "in", states))
        return self._action_open(
            "distribution.sync.message", domain, self.env._("Messages")
        )

    def action_open_blocked_documents(self):
        """The documents the backend's blocked messages hold (e.g. quotations
        left unconfirmed by a rule), in their own list; the messages when
        some have no document yet (a mapping missing before creation)."""
        self.check_access("read")
        self.ensure_one()
        messages = self.env["distribution.sync.message"].search(
            [("backend_id", "=", self.id), ("state", "=", "blocked")]
        )
        models_ = set(messages.mapped("res_model"))
        if len(models_) == 1 and all(messages.mapped("res_id")):
            model = models_.pop()
            documents = self.env[model].browse(messages.mapped("res_id")).exists()
            return self._action_open(
                model,
                [("id", "in", documents.ids)],
                self.env._("Held by %s", self.name),
            )
        return self.with_context(message_states=["blocked"]).action_open_messages()

    def action_open_exceptions(self):
        self.check_access("read")
        self.ensure_one()
        domain = [("backend_id", "=", self.id), ("state", "=", "open")]
        if self.env.context.get("overdue"):
            domain.append(("sla_deadline", "<", fields.Datetime.now()))
        return self._action_open(
            "distribution.sync.exception",
            domain,
            self.env._("Open exceptions"),
        )

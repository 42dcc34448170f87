# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
import hashlib
import logging
import time

from odoo import api, fields, models
from odoo.exceptions import AccessError

_logger = logging.getLogger(__name__)

FOUND_TABLE = "tmp_dsync_reconcile_found"
WORK_KEY_PREFIX = "reconcile:"

# An amount in SQL as people read it: rounded to its currency's decimals.
AMOUNT_SQL = (
    "round(({0})::numeric, greatest(0, ceil(-log(10, ({1})::numeric)))::int)::text"
)


def amount_sql(amount, rounding="cur.rounding"):
    """SQL of ``amount`` as text, with its currency's decimals."""
    return AMOUNT_SQL.format(amount, rounding)


def differs_sql(left, right, rounding="cur.rounding"):
    """Two amounts differ by at least the currency's rounding unit."""
    return (
        f"round(({left})::numeric / ({rounding})::numeric)"
        f" <> round(({right})::numeric / ({rounding})::numeric)"
    )


def sql_template(text, *names):
    """A message with named placeholders (``%(order)s``, as translations
    want them) as a template for PostgreSQL's ``format()``: the placeholder
    of the n-th of ``names`` becomes ``%n$s`` (as often as it appears)."""
    for position, name in enumerate(names, 1):
        text = text.replace(f"%({name})s", f"%{position}$s")
    return text


def amount_check(code, name, hint, template, **sql):
    """A check comparing an amount of bound documents with what the outside
    system last reported for each (a field of its binding), to the currency's
    rounding. ``template``: the translated message, with the placeholders
    ``document``, ``outside``, ``currency`` and ``odoo``. ``sql``: ``model``,
    ``table`` and ``alias`` of the documents, ``odoo`` and ``remote`` (the
    binding's field) amounts, ``label`` (the document's name), optional
    ``joins`` and ``where`` (more conditions, ``AND ...``)."""
    model, alias = sql["model"], sql["alias"]
    remote = f"b.{sql['remote']}"
    bound = f"""b.backend_id = ANY(%(backend_ids)s)
                       AND b.res_model = '{model}' AND {remote} IS NOT NULL"""
    return {
        "code": code,
        "name": name,
        "query": f"""
                    SELECT b.backend_id, '{model}', {alias}.id, {alias}.id::text,
                           COALESCE(b.external_name, b.external_id),
                           format(%(tpl_amount)s, {sql["label"]},
                                  {amount_sql(remote)}, cur.name,
                                  {amount_sql(sql["odoo"])}),
                           {sql["odoo"]}, {remote}, cur.id, NULL::int
                      FROM distribution_sync_binding b
                      JOIN {sql["table"]} {alias} ON {alias}.id = b.res_id
                      JOIN res_currency cur ON cur.id = {alias}.currency_id
                      {sql.get("joins", "")}
                     WHERE {bound} {sql.get("where", "")}
                       AND {differs_sql(sql["odoo"], remote)}""",
        "count_query": f"""
                    SELECT count(*) FROM distribution_sync_binding b
                     WHERE {bound}""",
        "hint": hint,
        "params": {
            "tpl_amount": sql_template(
                template, "document", "outside", "currency", "odoo"
            )
        },
    }


def problem_key(backend_id, work_key):
    """The exception key of one difference (``PROBLEM_KEY_SQL`` in SQL)."""
    basis = f"{backend_id}|reconciliation|{work_key}|"
    return hashlib.sha256(basis.encode()).hexdigest()


# The posted invoices and credit notes behind bindings, for ``amount_check``.
POSTED_MOVES = {
    "model": "account.move",
    "table": "account_move",
    "alias": "am",
    "label": "am.name",
    "where": """AND am.state = 'posted'
                       AND COALESCE(b.remote_state, 'posted') = 'posted'""",
}

PROBLEM_KEY_SQL = (
    "encode(sha256(convert_to(f.backend_id::text || '|reconciliation|' "
    "|| f.work_key || '|', 'UTF8')), 'hex')"
)


class DistributionSyncReconciliation(models.Model):
    """One reconciliation run: the shop, Odoo, the carrier and the accounting
    system compared set-wise.

    Each check (``_reconciliation_checks``, extended by the channel addons)
    is one query over bindings and documents: it selects the differences of
    the run's backends, with what the channel last told us (kept on the
    bindings) next to Odoo's figures. Every difference is one open
    ``reconciliation`` exception on its document, kept single across runs by
    its key (check + document); an open one the run no longer finds is
    resolved, an ignored one is not raised again.
    """

    _name = "distribution.sync.reconciliation"
    _description = "Reconciliation run"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "id desc"
    _found_table = FOUND_TABLE
    _problem_key_sql = PROBLEM_KEY_SQL

    name = fields.Char(
        required=True,
        readonly=True,
        default=lambda self: self.env._("Reconciliation %s", fields.Datetime.now()),
    )
    company_id = fields.Many2one(
        "res.company",
        required=True,
        readonly=True,
        index=True,
        default=lambda self: self.env.company,
    )
    backend_ids = fields.Many2many(
        "distribution.sync.backend",
        string="Backends",
        domain="[('company_id', '=', company_id)]",
        help="The backends compared; empty: every active backend of the company.",
    )
    state = fields.Selection(
        [("draft", "Not run"), ("done", "Done")],
        default="draft",
        required=True,
        readonly=True,
        tracking=True,
    )
    run_at = fields.Datetime(readonly=True)
    checked_count = fields.Integer(
        readonly=True, help="Documents and records compared, all checks together."
    )
    discrepancy_count = fields.Integer(
        string="Differences", readonly=True, help="Differences found by this run."
    )
    new_count = fields.Integer(
        string="New differences", readonly=True, help="Not open before this run."
    )
    resolved_count = fields.Integer(
        string="Resolved",
        readonly=True,
        help="Open differences this run no longer found.",
    )
    duration_ms = fields.Integer(string="Duration (ms)", readonly=True)
    line_ids = fields.One2many(
        "distribution.sync.reconciliation.line", "reconciliation_id", readonly=True
    )

    # A person chooses the backends; the rest is the run's own record.
    _user_writable_fields = frozenset({"backend_ids"})

    def write(self, vals):
        refused = set(vals) - self._user_writable_fields
        if refused and not self.env.su:
            raise AccessError(
                self.env._(
                    "%(fields)s of a reconciliation run are set by the run itself.",
                    fields=", ".join(sorted(refused)),
                )
            )
        return super().write(vals)

    # ------------------------------------------------------------------- checks
    @api.model
    def _reconciliation_checks(self):
        """The checks, each a dict:

        - ``code``: stable identifier (part of each difference's key);
        - ``name``: what it compares, for people;
        - ``query``: SQL selecting the differences of the backends
          ``%(backend_ids)s`` as ``backend_id, res_model, res_id, ref, value,
          name, amount_odoo, amount_channel, currency_id, message_id``; ``ref``
          identifies the document for the check (same document, same ref);
        - ``count_query``: SQL counting what the check compared;
        - ``hint``: what to do about a difference;
        - ``params``: more query parameters (e.g. translated templates).

        Channel addons add theirs with ``super()``.
        """
        return [
            {
                "code": "document_missing",
                "name": self.env._("Channel record without its Odoo document"),
                "query": """
                    SELECT b.backend_id, NULL, NULL,
                           b.res_model || ':' || b.external_id,
                           COALESCE(b.external_name, b.external_id),
                           format(%(tpl_missing)s, b.external_id,
                                  COALESCE(b.external_name, ''), b.res_model),
                           NULL, b.remote_amount, NULL::int, NULL::int
                      FROM distribution_sync_binding b
                      LEFT JOIN sale_order so
                        ON b.res_model = 'sale.order' AND so.id = b.res_id
                      LEFT JOIN account_move am
                        ON b.res_model = 'account.move' AND am.id = b.res_id
                     WHERE b.backend_id = ANY(%(backend_ids)s)
                       AND b.res_model IN ('sale.order', 'account.move')
                       AND so.id IS NULL AND am.id IS NULL""",
                "count_query": """
                    SELECT count(*) FROM distribution_sync_binding b
                     WHERE b.backend_id = ANY(%(backend_ids)s)
                       AND b.res_model IN ('sale.order', 'account.move')""",
                "hint": self.env._(
                    "The Odoo document was deleted: re-import it from the "
                    "binding (Unbind and re-import) or delete it outside too."
                ),
                "params": {
                    "tpl_missing": sql_template(
                        self.env._(
                            "Outside record %(id)s (%(name)s) has no %(model)s in Odoo "
                            "any more."
                        ),
                        "id",
                        "name",
                        "model",
                    )
                },
            },
            amount_check(
                "order_total",
                self.env._("Order total: channel vs Odoo"),
                self.env._(
                    "Compare the order lines with the channel's order (a price, "
                    "a discount, shipping or a tax mapping); correct the order "
                    "in Odoo or in the channel."
                ),
                self.env._(
                    "Order %(document)s: total %(outside)s %(currency)s in the "
                    "channel, %(odoo)s %(currency)s in Odoo."
                ),
                model="sale.order",
                table="sale_order",
                alias="so",
                odoo="so.amount_total",
                remote="remote_amount",
                label="so.name",
                where="""AND so.state != 'cancel'
                       AND COALESCE(b.remote_state, '') != 'cancelled'""",
            ),
            {
                "code": "order_state",
                "name": self.env._("Order cancellation: channel vs Odoo"),
                "query": """
                    SELECT b.backend_id, 'sale.order', so.id, so.id::text,
                           COALESCE(b.external_name, b.external_id),
                           CASE WHEN so.state = 'cancel'
                                THEN format(%(tpl_open)s, so.name)
                                ELSE format(%(tpl_cancelled)s, so.name) END,
                           so.amount_total, b.remote_amount, so.currency_id,
                           NULL::int
                      FROM distribution_sync_binding b
                      JOIN sale_order so ON so.id = b.res_id
                     WHERE b.backend_id = ANY(%(backend_ids)s)
                       AND b.res_model = 'sale.order'
                       AND b.remote_state IS NOT NULL
                       AND (b.remote_state = 'cancelled') <> (so.state = 'cancel')""",
                "count_query": """
                    SELECT count(*) FROM distribution_sync_binding b
                     WHERE b.backend_id = ANY(%(backend_ids)s)
                       AND b.res_model = 'sale.order'
                       AND b.remote_state IS NOT NULL""",
                "hint": self.env._(
                    "Cancel the order on the side where it is still open, or "
                    "restore it where it was cancelled by mistake."
                ),
                "params": {
                    "tpl_open": sql_template(
                        self.env._(
                            "Order %(order)s is cancelled in Odoo, open in the channel."
                        ),
                        "order",
                    ),
                    "tpl_cancelled": sql_template(
                        self.env._(
                            "Order %(order)s is cancelled in the channel, open in Odoo."
                        ),
                        "order",
                    ),
                },
            },
            {
                "code": "order_not_imported",
                "name": self.env._("Channel orders never imported"),
                "query": """
                    SELECT m.backend_id, NULL, NULL, m.external_id, m.external_id,
                           format(%(tpl_never)s, m.external_id, count(*)),
                           NULL, NULL, NULL::int, max(m.id)
                      FROM distribution_sync_message m
                     WHERE m.backend_id = ANY(%(backend_ids)s)
                       AND m.direction = 'inbound'
                       AND m.work_key LIKE 'order:%%'
                       AND m.external_id IS NOT NULL
                       AND m.state NOT IN ('received', 'queued', 'error')
                       AND m.create_date < %(settled)s
                       AND NOT EXISTS (
                         SELECT 1 FROM distribution_sync_binding b
                          WHERE b.backend_id = m.backend_id
                            AND b.res_model = 'sale.order'
                            AND b.external_id = m.external_id)
                     GROUP BY m.backend_id, m.external_id""",
                "count_query": """
                    SELECT count(DISTINCT (m.backend_id, m.external_id))
                      FROM distribution_sync_message m
                     WHERE m.backend_id = ANY(%(backend_ids)s)
                       AND m.direction = 'inbound'
                       AND m.work_key LIKE 'order:%%'""",
                "hint": self.env._(
                    "Open the message: its exception says why the order was not "
                    "imported; fix that and retry it."
                ),
                "params": {
                    "tpl_never": sql_template(
                        self.env._(
                            "Channel order %(order)s was received (%(count)s messages) "
                            "but never imported."
                        ),
                        "order",
                        "count",
                    )
                },
            },
            amount_check(
                "move_total",
                self.env._("Invoice and credit note totals: outside vs Odoo"),
                self.env._(
                    "Compare the lines and taxes on both sides; correct the "
                    "document where it is wrong (a credit note in Odoo)."
                ),
                self.env._(
                    "%(document)s: total %(outside)s %(currency)s outside, "
                    "%(odoo)s %(currency)s in Odoo."
                ),
                **POSTED_MOVES,
                odoo="am.amount_total",
                remote="remote_amount",
            ),
            {
                "code": "move_state",
                "name": self.env._("Invoice cancellation: outside vs Odoo"),
                "query": """
                    SELECT b.backend_id, 'account.move', am.id, am.id::text,
                           COALESCE(b.external_name, b.external_id),
                           CASE WHEN am.state = 'cancel'
                                THEN format(%(tpl_open)s, am.name)
                                ELSE format(%(tpl_gone)s, am.name, b.remote_state)
                           END,
                           am.amount_total, b.remote_amount, am.currency_id,
                           NULL::int
                      FROM distribution_sync_binding b
                      JOIN account_move am ON am.id = b.res_id
                     WHERE b.backend_id = ANY(%(backend_ids)s)
                       AND b.res_model = 'account.move'
                       AND b.remote_state IS NOT NULL
                       AND am.state IN ('posted', 'cancel')
                       AND (b.remote_state IN ('voided', 'deleted'))
                           <> (am.state = 'cancel')""",
                "count_query": """
                    SELECT count(*) FROM distribution_sync_binding b
                     WHERE b.backend_id = ANY(%(backend_ids)s)
                       AND b.res_model = 'account.move'
                       AND b.remote_state IS NOT NULL""",
                "hint": self.env._(
                    "Cancel the document on the side where it is still valid, "
                    "or send it again where it was removed by mistake."
                ),
                "params": {
                    "tpl_open": sql_template(
                        self.env._("%(move)s is cancelled in Odoo but valid outside."),
                        "move",
                    ),
                    "tpl_gone": sql_template(
                        self.env._("%(move)s is posted in Odoo but %(state)s outside."),
                        "move",
                        "state",
                    ),
                },
            },
            amount_check(
                "move_balance",
                self.env._("Open balance: outside vs Odoo"),
                self.env._(
                    "A payment is recorded on one side only: record it on the "
                    "other, or remove the wrong one."
                ),
                self.env._(
                    "%(document)s: open balance %(outside)s %(currency)s "
                    "outside, %(odoo)s %(currency)s in Odoo."
                ),
                **POSTED_MOVES,
                odoo="am.amount_residual",
                remote="remote_residual",
            ),
            amount_check(
                "payment_amount",
                self.env._("Payments: outside vs Odoo"),
                self.env._(
                    "Correct the payment where it was recorded wrong (amount, "
                    "invoice it settles)."
                ),
                self.env._(
                    "Payment %(document)s: %(outside)s %(currency)s outside, "
                    "%(odoo)s %(currency)s in Odoo."
                ),
                model="account.payment",
                table="account_payment",
                alias="p",
                odoo="p.amount",
                remote="remote_amount",
                label="COALESCE(pm.name, p.id::text)",
                joins="LEFT JOIN account_move pm ON pm.id = p.move_id",
                where="AND p.state NOT IN ('draft', 'canceled', 'rejected')",
            ),
        ]

    # ---------------------------------------------------------------------- run
    @api.model
    def _cron_run(self):
        """One run per company with active backends."""
        backends = self.env["distribution.sync.backend"].search([("active", "=", True)])
        for company in backends.company_id:
            self.create({"company_id": company.id}).action_run()

    def action_run(self):
        """Run every check for the run's backends (all active ones when
        none is chosen); see the class."""
        self.check_access("write")
        for run in self:
            run._run()
        return True

    def _backends(self):
        if self.backend_ids:
            return self.backend_ids.filtered(
                lambda b: b.active and b.company_id == self.company_id
            )
        return (
            self.env["distribution.sync.backend"]
            .sudo()
            .search([("active", "=", True), ("company_id", "=", self.company_id.id)])
        )

    def _run(self):
        self.ensure_one()
        started = time.monotonic()
        self.env.flush_all()
        cr = self.env.cr
        backends = self._backends()
        cr.execute(f"DROP TABLE IF EXISTS {self._found_table}")
        cr.execute(
            f"""CREATE TEMP TABLE {self._found_table} (
                    check_code varchar, backend_id int, res_model varchar,
                    res_id int, ref varchar, value varchar, name text,
                    amount_odoo numeric, amount_channel numeric, currency_id int,
                    message_id int, work_key varchar, problem_key varchar
                ) ON COMMIT DROP"""
        )
        base_params = {
            "backend_ids": backends.ids,
            "settled": fields.Datetime.subtract(fields.Datetime.now(), hours=1),
        }
        lines = []
        checked = 0
        checks = self._reconciliation_checks()
        for check in checks:
            check_started = time.monotonic()
            params = dict(base_params, **check.get("params", {}))
            cr.execute(
                f"""INSERT INTO {self._found_table}
                        (check_code, backend_id, res_model, res_id, ref, value,
                         name, amount_odoo, amount_channel, currency_id,
                         message_id)
                    SELECT %(check_code)s, q.backend_id, q.res_model::varchar,
                           q.res_id::int, q.ref::varchar, q.value::varchar,
                           q.name::text, q.amount_odoo::numeric,
                           q.amount_channel::numeric, q.currency_id::int,
                           q.message_id::int
                      FROM ({check["query"]}) AS q(backend_id, res_model, res_id,
                           ref, value, name, amount_odoo, amount_channel,
                           currency_id, message_id)""",
                dict(params, check_code=check["code"]),
            )
            found = cr.rowcount
            cr.execute(check["count_query"], params)
            count = cr.fetchone()[0]
            checked += count
            lines.append(
                {
                    "check_code": check["code"],
                    "name": check["name"],
                    "checked_count": count,
                    "discrepancy_count": found,
                    "duration_ms": round((time.monotonic() - check_started) * 1000),
                }
            )
        new_ids, found_count = self._apply_found(
            {check["code"]: check["hint"] for check in checks}
        )
        resolved = self._resolve_missing(backends)
        duration = round((time.monotonic() - started) * 1000)
        self.sudo().write(
            self._prepare_run_vals(
                lines, checked, found_count, new_ids, resolved, duration
            )
        )
        if new_ids:
            self._notify_owners(new_ids)
        _logger.info(
            "Reconciliation %s: %s checked, %s differences (%s new, %s resolved) "
            "in %s ms",
            self.id,
            checked,
            found_count,
            len(new_ids),
            resolved,
            duration,
        )

    def _prepare_run_vals(self, lines, checked, found, new_ids, resolved, duration):
        return {
            "state": "done",
            "run_at": fields.Datetime.now(),
            "checked_count": checked,
            "discrepancy_count": found,
            "new_count": len(new_ids),
            "resolved_count": resolved,
            "duration_ms": duration,
            "line_ids": [(5, 0, 0)] + [(0, 0, vals) for vals in lines],
        }

    def _apply_found(self, hints):
        """Open (or refresh) one exception per difference found; the ids of
        those opened now, and the number of differences."""
        cr = self.env.cr
        cr.execute(
            f"""UPDATE {self._found_table} f
                   SET work_key = %s || f.check_code || ':' || f.ref"""
            f""", problem_key = NULL""",
            (WORK_KEY_PREFIX,),
        )
        cr.execute(
            f"UPDATE {self._found_table} f SET problem_key = {self._problem_key_sql}"
        )
        # A difference someone chose to ignore stays ignored.
        cr.execute(
            f"""DELETE FROM {self._found_table} f
                 USING distribution_sync_exception e
                 WHERE e.problem_key = f.problem_key AND e.state = 'ignored'"""
        )
        cr.execute(f"SELECT count(*) FROM {self._found_table}")
        found = cr.fetchone()[0]
        now = fields.Datetime.now()
        # Deadlines as every exception has them: the backend's SLA on its
        # company's working days (one per backend, not per row).
        cr.execute(f"SELECT DISTINCT backend_id FROM {self._found_table}")
        backends = self.env["distribution.sync.backend"].browse(
            [row[0] for row in cr.fetchall()]
        )
        due = {
            backend.id: backend.company_id._distribution_sync_due_at(
                now, backend.exception_sla_hours or 24
            )
            for backend in backends
        }
        cr.execute(
            f"""INSERT INTO distribution_sync_exception AS e
                    (name, backend_id, company_id, message_id, category, severity,
                     state, value, hint, work_key, problem_key, occurrence_count,
                     last_seen, sla_deadline, retryable, res_model, res_id,
                     reconciliation_check, amount_odoo, amount_channel,
                     amount_difference, currency_id,
                     create_uid, create_date, write_uid, write_date)
                SELECT left(f.name, 1000), f.backend_id, be.company_id,
                       f.message_id, 'reconciliation', 'error', 'open',
                       left(f.value, 250), h.hint, f.work_key, f.problem_key, 1,
                       %(now)s, d.due, f.message_id IS NOT NULL,
                       f.res_model, f.res_id, f.check_code, f.amount_odoo,
                       f.amount_channel,
                       abs(COALESCE(f.amount_odoo, 0) - COALESCE(f.amount_channel, 0)),
                       f.currency_id, %(uid)s, %(now)s, %(uid)s, %(now)s
                  FROM {self._found_table} f
                  JOIN distribution_sync_backend be ON be.id = f.backend_id
                  JOIN unnest(%(codes)s::varchar[], %(hints)s::text[])
                       AS h(code, hint) ON h.code = f.check_code
                  JOIN unnest(%(due_backends)s::int[], %(due_at)s::timestamp[])
                       AS d(backend_id, due) ON d.backend_id = f.backend_id
                ON CONFLICT (problem_key) WHERE state = 'open' DO UPDATE
                   SET name = EXCLUDED.name,
                       occurrence_count = e.occurrence_count + 1,
                       amount_odoo = EXCLUDED.amount_odoo,
                       amount_channel = EXCLUDED.amount_channel,
                       amount_difference = EXCLUDED.amount_difference,
                       message_id = COALESCE(EXCLUDED.message_id, e.message_id),
                       last_seen = EXCLUDED.last_seen,
                       write_uid = EXCLUDED.write_uid,
                       write_date = EXCLUDED.write_date
             RETURNING id, xmax = 0""",
            {
                "now": now,
                "uid": self.env.uid,
                "codes": list(hints),
                "hints": list(hints.values()),
                "due_backends": list(due),
                "due_at": list(due.values()),
            },
        )
        new_ids = [row[0] for row in cr.fetchall() if row[1]]
        self.env["distribution.sync.exception"].invalidate_model()
        return new_ids, found

    def _resolve_missing(self, backends):
        """Resolve the open differences of ``backends`` this run did not find."""
        cr = self.env.cr
        now = fields.Datetime.now()
        cr.execute(
            f"""UPDATE distribution_sync_exception e
                   SET state = 'resolved', resolved_date = %(now)s,
                       resolved_by_id = %(uid)s, resolution_note = %(note)s,
                       write_uid = %(uid)s, write_date = %(now)s
                 WHERE e.state = 'open' AND e.category = 'reconciliation'
                   AND e.backend_id = ANY(%(backend_ids)s)
                   AND e.work_key LIKE %(prefix)s
                   AND NOT EXISTS (SELECT 1 FROM {self._found_table} f
                                    WHERE f.problem_key = e.problem_key)
             RETURNING e.id""",
            {
                "now": now,
                "uid": self.env.uid,
                "backend_ids": backends.ids,
                "prefix": WORK_KEY_PREFIX + "%",
                "note": self.env._(
                    "Resolved automatically: %s no longer finds the difference.",
                    self.name,
                ),
            },
        )
        resolved_ids = [row[0] for row in cr.fetchall()]
        exceptions = self.env["distribution.sync.exception"]
        exceptions.invalidate_model()
        # Differences raised one by one (``_open``) may carry a to-do.
        activities = (
            self.env["mail.activity"]
            .sudo()
            .search(
                [
                    ("res_model", "=", exceptions._name),
                    ("res_id", "in", resolved_ids),
                ]
            )
        )
        activities.action_feedback(feedback=self.env._("Difference resolved."))
        return len(resolved_ids)

    def _notify_owners(self, new_ids):
        """One to-do per backend owner and run, not one per difference: a
        first run on a busy database finds hundreds at once."""
        cr = self.env.cr
        cr.execute(
            """SELECT backend_id, count(*) FROM distribution_sync_exception
                WHERE id = ANY(%s) GROUP BY backend_id""",
            (new_ids,),
        )
        counts = dict(cr.fetchall())
        backends = self.env["distribution.sync.backend"].sudo().browse(list(counts))
        for owner in backends.responsible_user_id:
            if not owner.active or owner.share:
                continue
            count = sum(
                counts[b.id] for b in backends if b.responsible_user_id == owner
            )
            self.with_context(mail_activity_quick_update=True).activity_schedule(
                "mail.mail_activity_data_todo",
                date_deadline=fields.Date.context_today(self),
                summary=self.env._("%s new reconciliation differences", count),
                user_id=owner.id,
            )

    # ------------------------------------------------------------------ actions
    def action_open_differences(self):
        self.check_access("read")
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "distribution_sync.action_distribution_sync_exception"
        )
        action["domain"] = [
            ("category", "=", "reconciliation"),
            ("work_key", "=like", WORK_KEY_PREFIX + "%"),
        ]
        action["context"] = {"search_default_open": 1}
        return action

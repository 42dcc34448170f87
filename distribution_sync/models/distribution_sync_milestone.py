# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
import logging
import math
import time
from collections import defaultdict
from datetime import timedelta

from odoo import api, fields, models

from ..core import milestones as core_milestones
from ..core import workdays

_logger = logging.getLogger(__name__)

# The temporary tables a refresh works in (dropped with its transaction).
ORDERS_TABLE = "tmp_dsync_milestone_order"
REACHED_TABLE = "tmp_dsync_milestone_reached"
DAYS_TABLE = "tmp_dsync_workday"
# Memory for the joins of one refresh (transaction-local).
WORK_MEM = "128MB"


class DistributionSyncMilestone(models.Model):
    """One step of a channel order's life: when it was reached, when it was
    due (the backend's SLA for the step, counted on the company's working
    days from the step's anchor, ``core.milestones``) and whether it is late.

    Kept by ``_refresh``, a handful of set-based statements whatever the
    number of orders. Each step is proved by a query (``_milestone_sources``),
    which channel addons extend for the steps only they can prove (the carrier
    for ``delivered``, the accounting channel for ``accounted``); a step
    nobody can prove is not tracked.
    """

    _name = "distribution.sync.milestone"
    _description = "Order milestone"
    _order = "due_at, id"
    _rec_name = "step"
    # Written by the refresh only, hundreds of thousands at once: who and
    # when would be the refresh itself, and two more foreign keys to check.
    _log_access = False
    _orders_table = ORDERS_TABLE
    _reached_table = REACHED_TABLE
    _days_table = DAYS_TABLE

    sale_order_id = fields.Many2one(
        "sale.order", string="Order", required=True, ondelete="cascade", index=True
    )
    backend_id = fields.Many2one(
        "distribution.sync.backend", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one("res.company", required=True, index=True)
    partner_id = fields.Many2one(related="sale_order_id.partner_id", string="Customer")
    step = fields.Selection(core_milestones.STEP_SELECTION, required=True, index=True)
    sequence = fields.Integer(help="Position of the step in an order's life.")
    anchor_at = fields.Datetime(
        string="Clock started", help="When the step its SLA counts from was reached."
    )
    due_at = fields.Datetime(string="Due", index=True)
    reached_at = fields.Datetime(string="Reached")
    state = fields.Selection(
        core_milestones.STATES, required=True, default="pending", index=True
    )
    lead_time_hours = fields.Float(
        string="Lead time (hours)",
        aggregator="avg",
        help="From the clock's start to the step (calendar hours).",
    )
    on_time_rate = fields.Float(
        string="On time (%)",
        aggregator="avg",
        help="100 for a step reached on time, 0 for a late one: its average is "
        "the share on time.",
    )
    activity_id = fields.Many2one(
        "mail.activity",
        string="Late activity",
        ondelete="set null",
        help="The to-do given to the order's owner when the step became late.",
    )

    _sql_constraints = [
        (
            "order_step_uniq",
            "unique(sale_order_id, step)",
            "An order has one milestone per step.",
        )
    ]

    # ------------------------------------------------------------------ sources
    @api.model
    def _milestone_sources(self):
        """``{step: SQL}``: for the orders of the table ``tmp_dsync_milestone_order``
        (``order_id``, ``backend_id``, ``company_id``), the rows
        ``(order_id, reached_at)`` of the orders that reached the step. An
        addon adds the steps it can prove."""
        return {
            # The first time the channel's order reached Odoo.
            "received": f"""
                SELECT t.order_id, b.create_date
                  FROM {self._orders_table} t
                  JOIN distribution_sync_binding b
                    ON b.res_model = 'sale.order' AND b.res_id = t.order_id
                   AND b.backend_id = t.backend_id""",
            # When it was confirmed (a channel's order keeps the channel's
            # order date; orders confirmed before that was kept: the date).
            "confirmed": f"""
                SELECT t.order_id,
                       COALESCE(so.distribution_sync_confirmed_at, so.date_order)
                  FROM {self._orders_table} t JOIN sale_order so ON so.id = t.order_id
                 WHERE so.state = 'sale'""",
            # Every delivery out of the warehouse done (none left to do).
            "shipped": f"""
                SELECT t.order_id, max(p.date_done)
                  FROM {self._orders_table} t
                  JOIN stock_picking p ON p.sale_id = t.order_id
                  JOIN stock_picking_type pt ON pt.id = p.picking_type_id
                 WHERE pt.code = 'outgoing'
                 GROUP BY t.order_id
                HAVING bool_and(p.state IN ('done', 'cancel'))
                   AND bool_or(p.state = 'done')""",
            # The first customer invoice posted.
            "invoiced": f"""
                SELECT inv.order_id, min(inv.create_date)
                  FROM ({self._order_invoices_sql()}) inv
                 GROUP BY inv.order_id""",
            # Every posted invoice paid: when its last payment was matched.
            "paid": f"""
                SELECT inv.order_id, max(COALESCE(pay.matched_at, inv.write_date))
                  FROM ({self._order_invoices_sql()}) inv
                  LEFT JOIN LATERAL (
                    SELECT max(apr.create_date) AS matched_at
                      FROM account_move_line rl
                      JOIN account_partial_reconcile apr
                        ON apr.debit_move_id = rl.id
                     WHERE rl.move_id = inv.move_id
                  ) pay ON true
                 GROUP BY inv.order_id
                HAVING bool_and(inv.payment_state IN ('paid', 'in_payment'))""",
        }

    def _order_invoices_sql(self):
        """SQL of the posted customer invoices of the collected orders:
        ``order_id, move_id, payment_state, create_date, write_date``."""
        return f"""
            SELECT DISTINCT t.order_id, am.id AS move_id, am.payment_state,
                   am.create_date, am.write_date
              FROM {self._orders_table} t
              JOIN sale_order_line sol ON sol.order_id = t.order_id
              JOIN sale_order_line_invoice_rel rel ON rel.order_line_id = sol.id
              JOIN account_move_line aml ON aml.id = rel.invoice_line_id
              JOIN account_move am ON am.id = aml.move_id
             WHERE am.move_type = 'out_invoice' AND am.state = 'posted'"""

    # ------------------------------------------------------------------ refresh
    @api.model
    def _cron_refresh(self):
        self._refresh()

    @api.model
    def _refresh(self, order_ids=None):
        """Bring the milestones of channel orders up to date, set-wise.

        ``order_ids``: only these orders; else every order bound to a backend
        that still has a step to reach (a finished order is not read again).
        Cancelled orders keep the steps they reached and lose the others, as
        do steps the backend stops tracking (their to-dos are marked done).
        Returns ``{"orders": n, "seconds": s, "late": newly late}``."""
        started = time.monotonic()
        self.env.flush_all()
        cr = self.env.cr
        sources = self._milestone_sources()
        steps = [code for code, *_rest in core_milestones.STEPS if code in sources]
        self._collect_orders(order_ids, steps)
        self._drop_unwanted()
        cr.execute(f"SELECT count(*) FROM {self._orders_table}")
        orders = cr.fetchone()[0]
        self._collect_reached(steps, sources)
        calendars = self._calendars()
        self._fill_days(calendars)
        late_ids = self._upsert(steps, calendars)
        self.invalidate_model()
        self._notify_late(late_ids)
        self._close_reached_activities()
        seconds = time.monotonic() - started
        _logger.info(
            "Milestones of %s orders refreshed in %.2f s (%s newly late)",
            orders,
            seconds,
            len(late_ids),
        )
        return {"orders": orders, "seconds": seconds, "late": len(late_ids)}

    def _collect_orders(self, order_ids, steps):
        cr = self.env.cr
        cr.execute(f"DROP TABLE IF EXISTS {self._orders_table}")
        params = {"steps": list(steps), "all": len(steps)}
        if order_ids is not None:
            joins = ""
            where = "AND b.res_id = ANY(%(orders)s)"
            params["orders"] = list(order_ids)
        else:
            # Finished: every step tracked for the backend reached (a
            # cancelled order only comes back for what it must lose).
            joins = """
                  LEFT JOIN (
                    SELECT sale_order_id, count(*) AS n_rows,
                           bool_or(reached_at IS NULL) AS has_open
                      FROM distribution_sync_milestone GROUP BY sale_order_id
                  ) ms ON ms.sale_order_id = b.res_id
                  LEFT JOIN (
                    SELECT sla.backend_id,
                           %(all)s - count(*) FILTER (
                             WHERE NOT sla.tracked
                               AND sla.step = ANY(%(steps)s::varchar[])) AS tracked
                      FROM distribution_sync_milestone_sla sla
                     GROUP BY sla.backend_id
                  ) ex ON ex.backend_id = b.backend_id"""
            where = """AND (ms.has_open
                OR so.state != 'cancel'
                   AND COALESCE(ms.n_rows, 0) < COALESCE(ex.tracked, %(all)s))"""
        cr.execute(
            f"""CREATE TEMP TABLE {self._orders_table} ON COMMIT DROP AS
                SELECT DISTINCT ON (b.res_id) b.res_id AS order_id,
                       b.backend_id, so.company_id, so.state
                  FROM distribution_sync_binding b
                  JOIN sale_order so ON so.id = b.res_id
                  JOIN distribution_sync_backend be ON be.id = b.backend_id{joins}
                 WHERE b.res_model = 'sale.order' AND be.active {where}
                 ORDER BY b.res_id, b.id""",
            params,
        )
        cr.execute(f"CREATE INDEX ON {self._orders_table} (order_id)")
        cr.execute(f"ANALYZE {self._orders_table}")

    def _drop_unwanted(self):
        """Steps no longer wanted, unless reached: those of cancelled orders
        and those the backend's SLA stopped tracking; their to-dos are done."""
        self.env.cr.execute(
            f"""DELETE FROM distribution_sync_milestone m
                 USING {self._orders_table} t
                 WHERE m.sale_order_id = t.order_id AND m.reached_at IS NULL
                   AND (t.state = 'cancel' OR EXISTS (
                        SELECT 1 FROM distribution_sync_milestone_sla sla
                         WHERE sla.backend_id = m.backend_id
                           AND sla.step = m.step AND NOT sla.tracked))
             RETURNING m.activity_id"""
        )
        activity_ids = [row[0] for row in self.env.cr.fetchall() if row[0]]
        self.env.cr.execute(f"DELETE FROM {self._orders_table} WHERE state = 'cancel'")
        self.invalidate_model()
        if activity_ids:
            self.env["mail.activity"].sudo().browse(
                activity_ids
            ).exists().action_feedback(
                feedback=self.env._("The step is no longer followed.")
            )

    def _collect_reached(self, steps, sources):
        """``tmp_dsync_milestone_reached``: ``(order_id, step, reached_at)`` of
        every step the collected orders reached, one query per step."""
        cr = self.env.cr
        cr.execute(f"DROP TABLE IF EXISTS {self._reached_table}")
        cr.execute(
            f"""CREATE TEMP TABLE {self._reached_table} (order_id int,
                step varchar, reached_at timestamp) ON COMMIT DROP"""
        )
        for step in steps:
            cr.execute(
                f"""INSERT INTO {self._reached_table}
                    SELECT src.order_id, %s, src.reached_at
                      FROM ({sources[step]}) AS src(order_id, reached_at)
                     WHERE src.reached_at IS NOT NULL""",
                (step,),
            )
        cr.execute(f"CREATE INDEX ON {self._reached_table} (order_id, step)")
        cr.execute(f"ANALYZE {self._reached_table}")

    # ---------------------------------------------------------------- due dates
    def _calendars(self):
        """``{company id: (key, tz, weekdays, holidays)}`` of the companies of
        the orders: their working calendar (every day works without one)."""
        cr = self.env.cr
        cr.execute(f"SELECT DISTINCT company_id FROM {self._orders_table}")
        companies = self.env["res.company"].browse([r[0] for r in cr.fetchall()])
        result = {}
        for company in companies:
            tz_name, weekdays, holidays = company._distribution_sync_workdays()
            result[company.id] = (company.id, tz_name, weekdays, holidays)
        return result

    def _fill_days(self, calendars):
        cr = self.env.cr
        cr.execute(
            f"""SELECT min(reached_at)::date, max(reached_at)::date
                  FROM {self._reached_table}"""
        )
        first, last = cr.fetchone()
        cr.execute(f"DROP TABLE IF EXISTS {self._days_table}")
        cr.execute(
            f"""CREATE TEMP TABLE {self._days_table} (company_id int, day date,
                working boolean, before_hours float8) ON COMMIT DROP"""
        )
        if not first:
            return
        cr.execute(
            "SELECT COALESCE(max(hours), 0) FROM distribution_sync_milestone_sla"
        )
        longest = max([cr.fetchone()[0], *core_milestones.DEFAULT_SLA_HOURS.values()])
        # The longest SLA in working days, as calendar days with weekends and
        # a margin for holidays; a day on each side for the time zones.
        span = math.ceil(longest / workdays.DAY_HOURS * 7 / 5) + 31
        first -= timedelta(days=1)
        last += timedelta(days=span)
        for company_id, (_key, _tz, weekdays, holidays) in calendars.items():
            rows = workdays.day_table(first, last, weekdays, holidays)
            cr.execute(
                f"""INSERT INTO {self._days_table}
                    SELECT %s, * FROM unnest(%s::date[], %s::bool[], %s::float8[])""",
                (
                    company_id,
                    [row[0] for row in rows],
                    [row[1] for row in rows],
                    [row[2] for row in rows],
                ),
            )
        cr.execute(f"CREATE INDEX ON {self._days_table} (company_id, day)")
        cr.execute(f"CREATE INDEX ON {self._days_table} (company_id, before_hours)")
        cr.execute(f"ANALYZE {self._days_table}")

    def _upsert(self, steps, calendars):
        """Compute every row of the collected orders in one query and write
        those that changed (one INSERT … ON CONFLICT: a row is written at
        most once per refresh, an unchanged one not at all). ``anchor_at``
        comes from the anchor step, ``due_at`` is that many working hours
        later in the company's time zone (``core.workdays``: the working day
        whose hours before it are the whole days of the target), the state
        is ``core.milestones.state``. Returns the ids of the steps that
        became late without being reached (someone must act on them)."""
        codes = [code for code, *_rest in core_milestones.STEPS]
        wanted = [code for code in codes if code in steps]
        zones = {key: tz for key, tz, _weekdays, _holidays in calendars.values()}
        # Its joins hold every row of the orders at once: in memory, not on disk.
        self.env.cr.execute("SHOW work_mem")
        work_mem = self.env.cr.fetchone()[0]
        self.env.cr.execute("SELECT set_config('work_mem', %s, true)", (WORK_MEM,))
        self.env.cr.execute(
            f"""WITH wanted AS (
                  SELECT t.order_id, t.backend_id, t.company_id, s.step, s.seq,
                         s.anchor, COALESCE(sla.hours, s.hours) AS hours, z.tz
                    FROM {self._orders_table} t
                   CROSS JOIN unnest(%(steps)s::varchar[], %(seqs)s::int[],
                                     %(anchors)s::varchar[], %(hours)s::float8[])
                         AS s(step, seq, anchor, hours)
                    LEFT JOIN distribution_sync_milestone_sla sla
                      ON sla.backend_id = t.backend_id AND sla.step = s.step
                    LEFT JOIN unnest(%(companies)s::int[], %(zones)s::varchar[])
                         AS z(company_id, tz) ON z.company_id = t.company_id
                   WHERE COALESCE(sla.tracked, true)
                ), timed AS (
                  SELECT w.*, r.reached_at, a.reached_at AS anchor_at,
                         (a.reached_at AT TIME ZONE 'UTC')
                           AT TIME ZONE COALESCE(w.tz, 'UTC') AS local_anchor
                    FROM wanted w
                    LEFT JOIN {self._reached_table} r
                      ON r.order_id = w.order_id AND r.step = w.step
                    LEFT JOIN {self._reached_table} a
                      ON a.order_id = w.order_id AND a.step = w.anchor
                ), target AS (
                  SELECT tm.*,
                         CASE WHEN tm.anchor_at IS NOT NULL AND tm.hours > 0 THEN
                           d.before_hours + tm.hours
                           + CASE WHEN d.working THEN extract(epoch FROM
                               tm.local_anchor - tm.local_anchor::date) / 3600.0
                             ELSE 0 END
                         END AS target_hours
                    FROM timed tm
                    LEFT JOIN {self._days_table} d
                      ON d.company_id = tm.company_id
                     AND d.day = tm.local_anchor::date
                ), computed AS (
                  SELECT tg.order_id, tg.backend_id, tg.company_id, tg.step, tg.seq,
                         tg.reached_at, tg.anchor_at,
                         ((d.day + (tg.target_hours - d.before_hours)
                                   * interval '1 hour')
                           AT TIME ZONE COALESCE(tg.tz, 'UTC')) AT TIME ZONE 'UTC'
                           AS due_at
                    FROM target tg
                    LEFT JOIN {self._days_table} d
                      ON d.company_id = tg.company_id AND d.working
                     AND d.before_hours = floor(tg.target_hours / 24.0) * 24.0
                ), stated AS (
                  SELECT c.*,
                         CASE WHEN c.reached_at IS NOT NULL THEN
                                CASE WHEN c.due_at IS NOT NULL
                                      AND c.reached_at > c.due_at
                                     THEN 'late' ELSE 'on_time' END
                              WHEN c.due_at IS NOT NULL AND %(now)s > c.due_at
                              THEN 'late'
                              ELSE 'pending' END AS state,
                         (extract(epoch FROM c.reached_at - c.anchor_at)
                          / 3600.0)::float8 AS lead_time
                    FROM computed c
                )
                INSERT INTO distribution_sync_milestone AS m
                       (sale_order_id, backend_id, company_id, step, sequence,
                        reached_at, anchor_at, due_at, state, lead_time_hours,
                        on_time_rate)
                SELECT st.order_id, st.backend_id, st.company_id, st.step, st.seq,
                       st.reached_at, st.anchor_at, st.due_at, st.state, st.lead_time,
                       CASE WHEN st.reached_at IS NULL THEN NULL
                            WHEN st.state = 'on_time' THEN 100.0 ELSE 0.0 END
                  FROM stated st
                ON CONFLICT (sale_order_id, step) DO UPDATE
                   SET backend_id = EXCLUDED.backend_id,
                       reached_at = EXCLUDED.reached_at,
                       anchor_at = EXCLUDED.anchor_at,
                       due_at = EXCLUDED.due_at,
                       state = EXCLUDED.state,
                       lead_time_hours = EXCLUDED.lead_time_hours,
                       on_time_rate = EXCLUDED.on_time_rate
                 WHERE (m.backend_id, m.reached_at, m.anchor_at, m.due_at, m.state,
                        m.lead_time_hours, m.on_time_rate)
                       IS DISTINCT FROM
                       (EXCLUDED.backend_id, EXCLUDED.reached_at, EXCLUDED.anchor_at,
                        EXCLUDED.due_at, EXCLUDED.state, EXCLUDED.lead_time_hours,
                        EXCLUDED.on_time_rate)
             RETURNING m.id, m.state = 'late' AND m.reached_at IS NULL
                       AND m.activity_id IS NULL""",
            {
                "steps": wanted,
                "seqs": [codes.index(code) for code in wanted],
                "anchors": [core_milestones.ANCHORS[code] for code in wanted],
                "hours": [
                    float(core_milestones.DEFAULT_SLA_HOURS.get(code, 0))
                    for code in wanted
                ],
                "companies": list(zones),
                "zones": list(zones.values()),
                "now": fields.Datetime.now(),
            },
        )
        late = [row[0] for row in self.env.cr.fetchall() if row[1]]
        self.env.cr.execute("SELECT set_config('work_mem', %s, true)", (work_mem,))
        return late

    # --------------------------------------------------------------- activities
    def _late_owner(self):
        """Who acts on a late step: the order's salesperson, else the
        backend's responsible user."""
        self.ensure_one()
        for user in (self.sale_order_id.user_id, self.backend_id.responsible_user_id):
            if user and user.active and not user.share:
                return user
        return None

    def _prepare_late_activity_vals(self, activity_type, model_id):
        self.ensure_one()
        owner = self._late_owner()
        if not owner:
            return None
        step = dict(self._fields["step"]._description_selection(self.env))[self.step]
        return {
            "res_model_id": model_id,
            "res_id": self.sale_order_id.id,
            "activity_type_id": activity_type.id,
            "user_id": owner.id,
            "date_deadline": fields.Date.context_today(self),
            "summary": self.env._(
                "%(order)s: %(step)s is late (due %(due)s)",
                order=self.sale_order_id.name,
                step=step,
                due=fields.Datetime.to_string(self.due_at)[:16],
            ),
        }

    @api.model
    def _notify_late(self, milestone_ids):
        """A to-do on the order for each step that just became late."""
        if not milestone_ids:
            return
        milestones = self.browse(milestone_ids)
        activity_type = self.env.ref("mail.mail_activity_data_todo")
        model_id = self.env["ir.model"]._get_id("sale.order")
        pairs = [
            (milestone, milestone._prepare_late_activity_vals(activity_type, model_id))
            for milestone in milestones
        ]
        pairs = [(milestone, vals) for milestone, vals in pairs if vals]
        # Subscribed first, once per order and owner: the batch create below
        # would subscribe an owner twice to an order with two late steps.
        orders_by_owner = defaultdict(set)
        for _milestone, vals in pairs:
            orders_by_owner[vals["user_id"]].add(vals["res_id"])
        for user_id, order_ids in orders_by_owner.items():
            self.env["sale.order"].sudo().browse(order_ids).message_subscribe(
                partner_ids=self.env["res.users"].browse(user_id).partner_id.ids
            )
        activities = (
            self.env["mail.activity"]
            .sudo()
            .with_context(mail_activity_quick_update=True)
            .create([vals for _milestone, vals in pairs])
        )
        for (milestone, _vals), activity in zip(pairs, activities, strict=True):
            milestone.activity_id = activity

    @api.model
    def _close_reached_activities(self):
        """The to-do of a late step is done once the step is reached."""
        done = self.search([("activity_id", "!=", False), ("reached_at", "!=", False)])
        if not done:
            return
        activities = done.activity_id
        done.write({"activity_id": False})
        activities.sudo().action_feedback(feedback=self.env._("The step was reached."))

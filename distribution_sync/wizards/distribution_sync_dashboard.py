# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from odoo import api, fields, models

# The milestone steps whose lateness is a late delivery.
DELIVERY_STEPS = ("shipped", "delivered")


class DistributionSyncDashboard(models.TransientModel):
    """The first screen of the app: the state of the business in figures,
    each opening the documents behind it (held quotations, late deliveries,
    unmatched payments, differences), and the health of every backend.

    Figures are read when the screen opens, each one query
    (``_dashboard_figures``, which channel addons extend with their own
    fields and buttons).
    """

    _name = "distribution.sync.dashboard"
    _description = "Distribution Sync Dashboard"
    # People keep the screen open for a working day.
    _transient_max_hours = 12.0

    name = fields.Char(default=lambda self: self.env._("Overview"))
    orders_waiting_count = fields.Integer(
        string="Orders waiting to sync", compute="_compute_figures"
    )
    orders_held_count = fields.Integer(string="Orders held", compute="_compute_figures")
    orders_held_reasons = fields.Char(string="Why held", compute="_compute_figures")
    orders_not_imported_count = fields.Integer(
        string="Orders stopped before import", compute="_compute_figures"
    )
    late_delivery_count = fields.Integer(
        string="Late deliveries", compute="_compute_figures"
    )
    late_step_count = fields.Integer(
        string="Late order steps", compute="_compute_figures"
    )
    payments_unmatched_count = fields.Integer(
        string="Payments not matched", compute="_compute_figures"
    )
    difference_count = fields.Integer(
        string="Reconciliation differences", compute="_compute_figures"
    )
    difference_amount = fields.Monetary(
        string="Amount in question", compute="_compute_figures"
    )
    difference_oldest = fields.Datetime(
        string="Oldest difference since", compute="_compute_figures"
    )
    last_reconciliation_at = fields.Datetime(
        string="Last reconciliation", compute="_compute_figures"
    )
    currency_id = fields.Many2one(
        "res.currency", default=lambda self: self.env.company.currency_id
    )
    backend_ids = fields.Many2many(
        "distribution.sync.backend", compute="_compute_figures", string="Backends"
    )

    # ------------------------------------------------------------------ figures
    def _company_ids(self):
        return self.env.companies.ids

    def _held_order_ids(self):
        """Channel orders kept as quotations by an open exception."""
        self.env.cr.execute(
            """SELECT DISTINCT so.id
                 FROM distribution_sync_binding b
                 JOIN sale_order so ON so.id = b.res_id
                 JOIN distribution_sync_exception e
                   ON e.res_model = 'sale.order' AND e.res_id = so.id
                  AND e.state = 'open'
                WHERE b.res_model = 'sale.order'
                  AND so.state IN ('draft', 'sent')
                  AND so.company_id = ANY(%s)""",
            (self._company_ids(),),
        )
        return [row[0] for row in self.env.cr.fetchall()]

    def _late_picking_ids(self):
        """Deliveries of orders whose shipping or delivery step is late and
        not reached yet."""
        self.env.cr.execute(
            """SELECT DISTINCT p.id
                 FROM distribution_sync_milestone m
                 JOIN stock_picking p ON p.sale_id = m.sale_order_id
                 JOIN stock_picking_type pt ON pt.id = p.picking_type_id
                WHERE m.state = 'late' AND m.reached_at IS NULL
                  AND m.step = ANY(%s) AND pt.code = 'outgoing'
                  AND p.state != 'cancel'
                  AND (m.step = 'delivered' OR p.state != 'done')
                  AND m.company_id = ANY(%s)""",
            (list(DELIVERY_STEPS), self._company_ids()),
        )
        return [row[0] for row in self.env.cr.fetchall()]

    def _waiting_order_domain(self):
        return [
            ("direction", "=", "inbound"),
            ("work_key", "=like", "order:%"),
            ("state", "in", ("received", "queued", "error")),
        ]

    def _not_imported_domain(self):
        return [
            ("category", "=", "reconciliation"),
            ("state", "=", "open"),
            ("reconciliation_check", "=", "order_not_imported"),
        ]

    def _unmatched_payment_domain(self):
        return [
            ("partner_type", "=", "customer"),
            ("payment_type", "=", "inbound"),
            ("state", "in", ("in_process", "paid")),
            ("is_reconciled", "=", False),
            ("company_id", "in", self._company_ids()),
        ]

    def _difference_domain(self):
        return [
            ("category", "=", "reconciliation"),
            ("state", "=", "open"),
        ]

    @api.model
    def _dashboard_figures(self):
        """``{field: value}`` of the figures; channel addons add theirs."""
        messages = self.env["distribution.sync.message"]
        exceptions = self.env["distribution.sync.exception"]
        held = self._held_order_ids()
        reasons = exceptions._read_group(
            [
                ("res_model", "=", "sale.order"),
                ("res_id", "in", held),
                ("state", "=", "open"),
            ],
            ["category"],
            ["__count"],
        )
        labels = dict(exceptions._fields["category"]._description_selection(self.env))
        [(count, oldest)] = exceptions._read_group(
            self._difference_domain(), [], ["__count", "create_date:min"]
        )
        amount = 0.0
        company = self.env.company
        for currency, total in exceptions._read_group(
            self._difference_domain(), ["currency_id"], ["amount_difference:sum"]
        ):
            if currency and currency != company.currency_id:
                total = currency._convert(
                    total, company.currency_id, company, fields.Date.today()
                )
            amount += total

        def readable(model):
            # A figure of documents the user may not open is not shown.
            return self.env[model].has_access("read")

        last_run = self.env["distribution.sync.reconciliation"].search(
            [("state", "=", "done")], order="run_at desc", limit=1
        )
        waiting = messages._read_group(
            self._waiting_order_domain(), [], ["external_id:count_distinct"]
        )[0][0]
        return {
            "orders_waiting_count": waiting,
            "orders_held_count": len(held) if readable("sale.order") else 0,
            "orders_held_reasons": ", ".join(
                f"{labels.get(category, category)}: {n}"
                for category, n in sorted(reasons, key=lambda r: -r[1])
            ),
            "orders_not_imported_count": exceptions.search_count(
                self._not_imported_domain()
            ),
            "late_delivery_count": len(self._late_picking_ids())
            if readable("stock.picking")
            else 0,
            "late_step_count": self.env["distribution.sync.milestone"].search_count(
                [("state", "=", "late"), ("reached_at", "=", False)]
            ),
            "payments_unmatched_count": self.env["account.payment"].search_count(
                self._unmatched_payment_domain()
            )
            if readable("account.payment")
            else 0,
            "difference_count": count,
            "difference_amount": amount,
            "difference_oldest": oldest,
            "last_reconciliation_at": last_run.run_at,
            "backend_ids": self.env["distribution.sync.backend"]
            .search([("active", "=", True)])
            .ids,
        }

    def _compute_figures(self):
        figures = self._dashboard_figures()
        for dashboard in self:
            dashboard.update(figures)

    # ------------------------------------------------------------------ actions
    def _open_list(self, model, domain, name, context=None, views=None):
        self.check_access("read")
        return {
            "type": "ir.actions.act_window",
            "name": name,
            "res_model": model,
            "view_mode": "list,form",
            "views": views or [(False, "list"), (False, "form")],
            "domain": domain,
            "context": dict(context or {}, create=False),
            "target": "current",
        }

    def action_open_orders_waiting(self):
        return self._open_list(
            "distribution.sync.message",
            self._waiting_order_domain(),
            self.env._("Orders waiting to sync"),
        )

    def action_open_orders_held(self):
        return self._open_list(
            "sale.order",
            [("id", "in", self._held_order_ids())],
            self.env._("Orders held"),
        )

    def action_open_orders_not_imported(self):
        return self._open_list(
            "distribution.sync.exception",
            self._not_imported_domain(),
            self.env._("Orders stopped before import"),
        )

    def action_open_late_deliveries(self):
        return self._open_list(
            "stock.picking",
            [("id", "in", self._late_picking_ids())],
            self.env._("Late deliveries"),
        )

    def action_open_late_steps(self):
        return self._open_list(
            "distribution.sync.milestone",
            [("state", "=", "late"), ("reached_at", "=", False)],
            self.env._("Late order steps"),
        )

    def action_open_payments_unmatched(self):
        return self._open_list(
            "account.payment",
            self._unmatched_payment_domain(),
            self.env._("Payments not matched"),
        )

    def action_open_differences(self):
        return self._open_list(
            "distribution.sync.exception",
            self._difference_domain(),
            self.env._("Reconciliation differences"),
            {"group_by": "reconciliation_check"},
        )

    @api.model
    def _action_overview(self):
        """The overview, as a saved record: its buttons work at once."""
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Overview"),
            "res_model": self._name,
            "res_id": self.create({}).id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "current",
        }

    def action_refresh(self):
        """Bring milestones up to date and show the figures again."""
        self.check_access("read")
        self.env["distribution.sync.milestone"].sudo()._refresh()
        return self._action_overview()

    def action_reconcile_now(self):
        self.env["distribution.sync.reconciliation"].create({}).action_run()
        return self.action_refresh()

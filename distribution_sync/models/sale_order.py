# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from odoo import api, fields, models
from odoo.exceptions import UserError

from .distribution_sync_backend_rules_mixin import JOB_CACHE_KEY


class SaleOrder(models.Model):
    _name = "sale.order"
    _inherit = ["sale.order", "distribution.sync.document.mixin"]

    distribution_sync_milestone_ids = fields.One2many(
        "distribution.sync.milestone",
        "sale_order_id",
        string="Sync milestones",
        groups="distribution_sync.group_distribution_sync_user",
    )
    distribution_sync_confirmed_at = fields.Datetime(
        string="Confirmed on",
        readonly=True,
        copy=False,
        help="When the order was confirmed: a channel's order keeps the "
        "channel's order date, the order steps count from this.",
    )
    distribution_sync_hold_reason = fields.Text(
        compute="_compute_distribution_sync_hold_reason",
        string="Held by",
        groups="base.group_user",
        help="The checks of the sync that keep this channel order a quotation.",
    )
    distribution_sync_channel_order = fields.Boolean(
        compute="_compute_distribution_sync_channel",
        string="Channel order",
        help="The order came from a sales channel (it is bound to one).",
    )
    distribution_sync_channel_name = fields.Char(
        compute="_compute_distribution_sync_channel",
        string="Channel",
        groups="base.group_user",
    )
    distribution_sync_channel_url = fields.Char(
        compute="_compute_distribution_sync_channel",
        string="Order in the channel",
        groups="base.group_user",
        help="The order's page in the channel's admin, when the channel has one.",
    )
    distribution_sync_held_checks = fields.Char(
        string="Held by checks",
        copy=False,
        readonly=True,
        groups="base.group_user",
        help="Codes of the checks that last held the imported order as a "
        "quotation (its chatter says so once per hold).",
    )

    def _compute_distribution_sync_channel(self):
        """From the order's binding (the first one): the channel's name and the
        order's page there, as the channel's ``_<type>_document_url``
        gives it. Read as superuser: an order desk user may not read bindings
        or backends."""
        ids = [order_id for order_id in self._origin.ids if order_id]
        bindings = (
            self.env["distribution.sync.binding"]
            .sudo()
            .search(
                [("res_model", "=", self._name), ("res_id", "in", ids)],
                order="id",
            )
            if ids
            else self.env["distribution.sync.binding"]
        )
        first = {}
        for binding in bindings:
            first.setdefault(binding.res_id, binding)
        for order in self:
            binding = first.get(order._origin.id)
            backend = binding and binding.backend_id
            order.distribution_sync_channel_order = bool(binding)
            order.distribution_sync_channel_name = (
                backend
                and dict(
                    backend._fields["backend_type"]._description_selection(self.env)
                ).get(backend.backend_type)
            ) or False
            order.distribution_sync_channel_url = (
                binding
                and backend._call("document_url", order._origin, binding.external_id)
            ) or False

    def action_distribution_sync_open_channel(self):
        """Open the order's page in the channel's admin in a new tab (nothing
        when the channel has none; the page is for the shop's staff, never
        for portal users)."""
        self.check_access("read")
        self.ensure_one()
        url = self.env.user._is_internal() and (
            self.sudo().distribution_sync_channel_url
        )
        if not url:
            return False
        return {"type": "ir.actions.act_url", "url": url, "target": "new"}

    def _prepare_confirmation_values(self):
        """A channel's order keeps the channel's order date when confirmed (by
        the import or later by a person), where Odoo would date it now. A
        confirmation of channel and other orders at once dates them all now."""
        values = super()._prepare_confirmation_values()
        keep = self.env.context.get("distribution_sync_keep_date_order") or (
            self and all(self.sudo().mapped("distribution_sync_channel_order"))
        )
        if keep:
            values.pop("date_order", None)
        return values

    # ----------------------------------------------------------- held orders
    def _distribution_sync_holds(self):
        """The open exceptions of checks that hold these quotations."""
        return (
            self.env["distribution.sync.exception"]
            .sudo()
            .search(
                [
                    ("res_model", "=", self._name),
                    ("res_id", "in", self.ids),
                    ("state", "=", "open"),
                    ("category", "=", "validation"),
                    ("severity", "!=", "warning"),
                ]
            )
        )

    @api.depends("state")
    def _compute_distribution_sync_hold_reason(self):
        quotations = self.filtered(lambda o: o.id and o.state in ("draft", "sent"))
        holds = quotations._distribution_sync_holds()
        for order in self:
            mine = holds.filtered(lambda e, order=order: e.res_id == order.id)
            order.distribution_sync_hold_reason = (
                "\n".join(mine.mapped("summary")) if mine else False
            )

    def _action_confirm(self):
        res = super()._action_confirm()
        self.write({"distribution_sync_confirmed_at": fields.Datetime.now()})
        # A person confirming a held order releases it (the sync's own
        # confirmation of an order that passed its checks holds nothing).
        if JOB_CACHE_KEY not in self.env.cr.cache:
            self._distribution_sync_release_holds()
        return res

    def _distribution_sync_release_holds(self):
        """Resolve the checks that held these orders, in the name of the
        person who confirmed them; the order's chatter, the blocked messages
        and the audit trail say so."""
        holds = self._distribution_sync_holds()
        for order in self:
            mine = holds.filtered(lambda e, order=order: e.res_id == order.id)
            if not mine:
                continue
            note = self.env._(
                "Released by %(user)s: confirmed despite %(checks)s",
                user=self.env.user.name,
                checks="; ".join(mine.mapped("summary")),
            )
            mine._close("resolved", note=note)
            for backend in mine.backend_id:
                backend._audit("release", record=order, note=note)
            messages = (
                self.env["distribution.sync.message"]
                .sudo()
                .search(
                    [
                        ("res_model", "=", self._name),
                        ("res_id", "=", order.id),
                        ("state", "=", "blocked"),
                    ]
                )
            )
            messages.write({"state": "done", "result_summary": note[:250]})
            order.message_post(body=note, subtype_xmlid="mail.mt_note")

    def action_distribution_sync_release(self):
        """Confirm channel quotations held by the sync's checks (the button
        of the order desk); answers with a notification."""
        self.check_access("write")
        held = self.filtered("distribution_sync_hold_reason")
        if not held:
            raise UserError(
                self.env._(
                    "Only a quotation held by the sync's checks can be released."
                )
            )
        count = len(held._distribution_sync_holds())
        held.action_confirm()
        return self.env["distribution.sync.backend"]._notification(
            self.env._("Released"),
            self.env._(
                "%(orders)s released: confirmed despite %(count)s check(s).",
                orders=", ".join(held.mapped("name")),
                count=count,
            ),
            next={"type": "ir.actions.client", "tag": "soft_reload"},
        )

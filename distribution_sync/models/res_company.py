# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from datetime import timedelta

import pytz

from odoo import models

from ..core import workdays


class ResCompany(models.Model):
    _inherit = "res.company"

    def _distribution_sync_workdays(self):
        """``(time zone name, working weekdays, holidays)`` of the company's
        working calendar, for the clocks of ``core.workdays`` (order steps,
        exception deadlines). Without a calendar every day works."""
        self.ensure_one()
        calendar = self.resource_calendar_id
        weekdays = {int(a.dayofweek) for a in calendar.attendance_ids}
        leaves = (
            self.env["resource.calendar.leaves"]
            .sudo()
            .search(
                [
                    ("resource_id", "=", False),
                    ("company_id", "in", [self.id, False]),
                    ("calendar_id", "in", [calendar.id, False]),
                ]
            )
        )
        tz_name = calendar.tz or self.partner_id.tz or "UTC"
        zone = pytz.timezone(tz_name)
        holidays = set()
        for leave in leaves:
            # Leaves are stored in UTC; the days off are the calendar's.
            day = pytz.utc.localize(leave.date_from).astimezone(zone).date()
            last = pytz.utc.localize(leave.date_to).astimezone(zone).date()
            while day <= last:
                holidays.add(day)
                day += timedelta(days=1)
        return tz_name, weekdays, holidays

    def _distribution_sync_due_at(self, start, hours):
        """UTC (naive, as Odoo stores it) of ``hours`` working-day hours after
        ``start`` (naive UTC) on the company's calendar."""
        self.ensure_one()
        tz_name, weekdays, holidays = self._distribution_sync_workdays()
        zone = pytz.timezone(tz_name)
        local = pytz.utc.localize(start).astimezone(zone).replace(tzinfo=None)
        due = workdays.due_at(local, hours, weekdays, holidays)
        return zone.localize(due).astimezone(pytz.utc).replace(tzinfo=None)

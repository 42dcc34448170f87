# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from odoo import models


class AccountMove(models.Model):
    _name = "account.move"
    _inherit = ["account.move", "distribution.sync.document.mixin"]

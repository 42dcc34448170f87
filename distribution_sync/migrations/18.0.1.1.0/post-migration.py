# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from odoo.addons.distribution_sync.upgrade import keep_tuning_on_upgrade


def migrate(cr, version):
    keep_tuning_on_upgrade(cr, "distribution_sync")

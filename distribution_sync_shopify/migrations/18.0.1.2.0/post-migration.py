# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    """ "Import orders since…" runs as the core's paged fetch job now: its own
    job function (kept by ``noupdate``) names a method that is gone."""
    env = api.Environment(cr, SUPERUSER_ID, {})
    function = env.ref(
        "distribution_sync_shopify.job_function_shopify_import_orders",
        raise_if_not_found=False,
    )
    if function:
        function.unlink()

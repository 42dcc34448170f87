# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from odoo import SUPERUSER_ID, api
from odoo.tools.sql import column_exists, create_column

OLD_METHOD = "_shopify_push_stock_job"
NEW_METHOD = "_push_stock_job"


def migrate(cr, version):
    """The stock push moved to the core (every channel's): its checkpoint is
    the core's ``stock_checkpoint``, its job the core's ``_push_stock_job``.

    The old column is still there (Odoo drops it at the end of the upgrade):
    its value is kept, so that the next push goes on from where the last one
    was. The job function is the core's now: Shopify's own record (kept by
    ``noupdate``) goes; the jobs queued before the upgrade name the new
    method."""
    table = "distribution_sync_backend"
    if column_exists(cr, table, "shopify_stock_checkpoint"):
        if not column_exists(cr, table, "stock_checkpoint"):
            # The core was not upgraded in the same run: its column comes
            # first, the core's upgrade finds it.
            create_column(cr, table, "stock_checkpoint", "timestamp")
        cr.execute(
            "UPDATE distribution_sync_backend "
            "SET stock_checkpoint = shopify_stock_checkpoint "
            "WHERE stock_checkpoint IS NULL"
        )
    env = api.Environment(cr, SUPERUSER_ID, {})
    function = env.ref(
        "distribution_sync_shopify.job_function_shopify_push_stock",
        raise_if_not_found=False,
    )
    if function:
        function.unlink()
    cr.execute(
        "UPDATE queue_job SET method_name = %s, identity_key = replace(identity_key, "
        "'distribution_sync:shopify:stock:', 'distribution_sync:stock:') "
        "WHERE model_name = 'distribution.sync.backend' AND method_name = %s "
        "AND state NOT IN ('done', 'cancelled', 'failed')",
        (NEW_METHOD, OLD_METHOD),
    )

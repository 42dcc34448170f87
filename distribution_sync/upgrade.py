# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
"""Helpers of the addons' migration scripts."""

# Records an administrator tunes: crons (interval, active) and queue_job
# settings (channels, retry patterns).
TUNED_MODELS = ("ir.cron", "queue.job.function", "queue.job.channel")


def keep_tuning_on_upgrade(cr, module):
    """Mark the tuned records of ``module`` noupdate, as its data files now
    declare them: databases installed before keep what was tuned on later
    upgrades too (Odoo does not change the flag of existing records)."""
    cr.execute(
        "UPDATE ir_model_data SET noupdate = true "
        "WHERE module = %s AND model IN %s AND NOT noupdate",
        (module, TUNED_MODELS),
    )
    return cr.rowcount

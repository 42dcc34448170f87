# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from odoo.tests import TransactionCase, tagged

from ..upgrade import TUNED_MODELS, keep_tuning_on_upgrade


@tagged("post_install", "-at_install")
class TestDataSurvivesUpgrades(TransactionCase):
    """What an administrator tunes is not reset when the addons are upgraded."""

    def test_crons_and_job_settings_are_noupdate(self):
        rows = self.env["ir.model.data"].search(
            [
                ("module", "=like", "distribution\\_sync%"),
                ("model", "in", TUNED_MODELS),
            ]
        )
        models = set(rows.mapped("model"))
        self.assertEqual(models, set(TUNED_MODELS))
        updated = rows.filtered(lambda row: not row.noupdate)
        self.assertFalse(
            updated,
            "reset at every upgrade: "
            + ", ".join(f"{row.module}.{row.name}" for row in updated),
        )

    def test_upgrade_of_an_older_database_keeps_the_tuning(self):
        data = self.env["ir.model.data"]
        cron = data.search(
            [
                ("module", "=", "distribution_sync"),
                ("name", "=", "ir_cron_purge_messages"),
            ]
        )
        # As a database installed before the data files said noupdate.
        cron.noupdate = False
        self.env.flush_all()
        self.assertGreaterEqual(
            keep_tuning_on_upgrade(self.env.cr, "distribution_sync"), 1
        )
        cron.invalidate_recordset()
        self.assertTrue(cron.noupdate)

# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from .common import DistributionSyncCase


class TestListQueries(DistributionSyncCase):
    """What a list view computes per row costs the same for 3 rows or 30."""

    def setUp(self):
        super().setUp()
        self.partners = self.env["res.partner"].create(
            [{"name": f"Linked {n}"} for n in range(30)]
        )

    def queries(self, records, fname):
        """SQL statements run to read ``fname`` on fresh ``records``."""
        self.env.invalidate_all()
        fresh = records.browse(records.ids)
        before = self.env.cr.sql_log_count
        fresh.mapped(fname)
        return self.env.cr.sql_log_count - before

    def test_message_document_names(self):
        messages = self.env["distribution.sync.message"]
        for partner in self.partners:
            message, _new = messages._intake(
                self.backend,
                "outbound",
                "partner/upsert",
                f"list:{partner.id}",
                "{}",
                res_model="res.partner",
                res_id=partner.id,
            )
            messages |= message
        self.partners[-1].unlink()  # a row whose document is gone
        self.assertEqual(
            self.queries(messages[:3], "document_name"),
            self.queries(messages, "document_name"),
        )
        self.assertEqual(messages[0].document_name, self.partners[0].display_name)
        self.assertFalse(messages[-1].document_name)

    def test_binding_record_names(self):
        bindings = self.env["distribution.sync.binding"].create(
            [
                {
                    "backend_id": self.backend.id,
                    "res_model": "res.partner",
                    "res_id": partner.id,
                    "external_id": f"LIST-{partner.id}",
                }
                for partner in self.partners
            ]
        )
        self.assertEqual(
            self.queries(bindings[:3], "record_name"),
            self.queries(bindings, "record_name"),
        )
        self.assertEqual(bindings[0].record_name, self.partners[0].display_name)

# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
"""The Messages screens as a person reads them: topics in words, list columns
that fit, one action per state on the form, the mappings stamp in words and
JSON bodies shown by a code editor mode Odoo ships."""

import itertools
import json
import re
from datetime import datetime
from unittest.mock import patch

from lxml import etree

from odoo.tests import HttpCase, tagged
from odoo.tools.misc import file_open, file_path
from odoo.tools.safe_eval import safe_eval

from ..core import states as core_states
from .common import DistributionSyncCase

MESSAGE = "distribution.sync.message"
STATES = [state for state, _label in core_states.MESSAGE_STATES]
CODE_EDITOR = "web/static/src/core/code_editor/code_editor.js"
KEYS = itertools.count()


def arch_of(env, model, view_type, view_id=False):
    views = env[model].get_views([(view_id, view_type)])
    return etree.fromstring(views["views"][view_type]["arch"])


def code_fields(arch):
    """The fields of ``arch`` shown by Odoo's code editor (ace)."""
    return arch.xpath("//field[@widget='ace' or @widget='code']")


def editor_modes():
    """The ace modes Odoo's code editor accepts (its ``MODES``)."""
    with file_open(CODE_EDITOR) as source:
        found = re.search(r"static MODES = \[([^\]]*)\]", source.read())
    return set(re.findall(r'"(\w+)"', found.group(1)))


def widget_mode(field):
    mode = safe_eval(field.get("options") or "{}").get("mode") or "qweb"
    # The ace field reads "xml" as "qweb".
    return "qweb" if mode == "xml" else mode


@tagged("post_install", "-at_install")
class TestMessageUx(DistributionSyncCase):
    def message(self, topic="order/upsert", direction="inbound", **vals):
        return (
            self.messages.sudo()
            .create(
                dict(
                    {
                        "backend_id": self.backend.id,
                        "direction": direction,
                        "topic": topic,
                        "idempotency_key": f"ux:{next(KEYS)}",
                    },
                    **vals,
                )
            )
            .sudo(False)
        )

    # ------------------------------------------------------------ topic labels
    def test_topic_reads_in_words(self):
        self.assertEqual(self.message().topic_label, "Order created or updated")
        # A topic no table has reads as its words.
        self.assertEqual(
            self.message(topic="customers/merge_all").topic_label,
            "Customers merge all",
        )

    def test_channel_labels_come_first_and_may_depend_on_direction(self):
        labels = {
            "order/upsert": "Shop order changed",
            ("outbound", "stock/push"): "Stock sent",
        }
        backend_class = type(self.backend)
        with patch.object(
            backend_class, "_generic_topic_labels", create=True, return_value=labels
        ):
            inbound = self.message()
            outbound = self.message(topic="stock/push", direction="outbound")
            other_way = self.message(topic="stock/push")
            self.assertEqual(inbound.topic_label, "Shop order changed")
            self.assertEqual(outbound.topic_label, "Stock sent")
            self.assertEqual(other_way.topic_label, "Stock push")

    def test_list_and_form_show_the_label_and_keep_the_topic(self):
        list_arch = arch_of(self.env, MESSAGE, "list")
        label = list_arch.xpath("//field[@name='topic_label']")
        self.assertTrue(label)
        self.assertNotEqual(label[0].get("optional"), "hide")
        self.assertEqual(
            list_arch.xpath("//field[@name='topic']")[0].get("optional"), "hide"
        )
        form_arch = arch_of(self.env, MESSAGE, "form")
        self.assertTrue(form_arch.xpath("//sheet//field[@name='topic_label']"))
        self.assertTrue(form_arch.xpath("//sheet//field[@name='topic']"))
        search_arch = arch_of(self.env, MESSAGE, "search")
        self.assertTrue(search_arch.xpath("//field[@name='topic']"))

    # ------------------------------------------------------------- list width
    def test_list_columns_fit(self):
        arch = arch_of(self.env, MESSAGE, "list")
        shown = [
            field.get("name")
            for field in arch.xpath("/list/field")
            if field.get("optional") != "hide"
            and field.get("column_invisible") not in ("1", "True")
        ]
        # What a 1400 px screen shows with room for the state badges.
        self.assertLessEqual(len(shown), 8, shown)
        self.assertIn("state", shown)
        state = arch.xpath("/list/field[@name='state']")[0]
        self.assertEqual(state.get("widget"), "badge")
        self.assertTrue(state.get("width"), "the state badge keeps its width")
        # Long texts are there on demand.
        for name in ("last_error", "result_summary", "topic"):
            self.assertEqual(
                arch.xpath(f"/list/field[@name='{name}']")[0].get("optional"),
                "hide",
                name,
            )

    # ---------------------------------------------------------- header actions
    def visible_header_buttons(self, arch, state, direction):
        values = {"state": state, "direction": direction, "id": 1}
        return [
            button
            for button in arch.xpath("//header/button")
            if not safe_eval(button.get("invisible") or "False", dict(values))
        ]

    def test_one_action_per_state_on_the_form(self):
        arch = arch_of(self.env, MESSAGE, "form")
        for state in STATES:
            for direction in ("inbound", "outbound"):
                with self.subTest(state=state, direction=direction):
                    buttons = self.visible_header_buttons(arch, state, direction)
                    names = [button.get("name") for button in buttons]
                    primary = [
                        b for b in buttons if "btn-primary" in (b.get("class") or "")
                    ]
                    self.assertLessEqual(len(primary), 1, names)
                    self.assertLessEqual(len(buttons), 3, names)
                    # Retry and Replay do the same on a failed message.
                    self.assertEqual(len(names), len(set(names)), names)
                    self.assertFalse(
                        {"action_retry", "action_replay"} <= set(names), names
                    )
                    self.assertNotIn("action_requeue", names)
                    if "action_skip" in names:
                        core_states.check_transition(state, "skipped")
                        self.assertNotIn(state, core_states.OPEN_STATES)
                    if "action_retry" in names:
                        self.assertIn(
                            state,
                            core_states.RETRYABLE_STATES | core_states.OPEN_STATES,
                        )
                    if "action_replay" in names:
                        self.assertIn(state, core_states.FINAL_STATES)
                    if "action_dry_run" in names:
                        self.assertEqual(direction, "inbound")

    def test_each_state_offers_its_action(self):
        arch = arch_of(self.env, MESSAGE, "form")
        expected = {
            "received": "action_retry",
            "queued": "action_retry",
            "error": "action_retry",
            "dead": "action_retry",
            "blocked": "action_retry",
            "done": "action_replay",
            "skipped": "action_replay",
        }
        for state, action in expected.items():
            names = [
                b.get("name")
                for b in self.visible_header_buttons(arch, state, "inbound")
                if "btn-primary" in (b.get("class") or "")
            ]
            self.assertEqual(names, [action], state)
        # A delivered outbound message is not sent twice.
        names = [
            b.get("name") for b in self.visible_header_buttons(arch, "done", "outbound")
        ]
        self.assertNotIn("action_replay", names)

    def test_requeue_and_skip_are_in_the_action_menu(self):
        views = self.env[MESSAGE].get_views([(False, "form")], {"toolbar": True})
        actions = views["views"]["form"]["toolbar"]["action"]
        xmlids = {
            "distribution_sync.action_distribution_sync_message_requeue",
            "distribution_sync.action_distribution_sync_message_skip",
        }
        found = {
            self.env["ir.actions.server"].browse(a["id"]).get_external_id()[a["id"]]
            for a in actions
        }
        self.assertLessEqual(xmlids, found)

    def test_requeue_from_the_menu_leaves_processed_messages(self):
        done = self.message(state="done")
        failed = self.message(topic="order/cancel", state="error")
        action = self.env.ref(
            "distribution_sync.action_distribution_sync_message_requeue"
        )
        action.with_context(
            active_model=MESSAGE, active_ids=(done | failed).ids
        ).with_user(self.sync_user).run()
        self.assertEqual(done.state, "done")
        self.assertEqual(failed.state, "queued")

    # --------------------------------------------------------- mappings stamp
    def test_no_mapping_no_stamp(self):
        self.env["distribution.sync.mapping"].sudo().with_context(
            active_test=False
        ).search([("backend_id", "in", [self.backend.id, False])]).unlink()
        self.assertFalse(self.backend._read_mapping_version())

    def test_mappings_stamp_in_words(self):
        self.env.user.tz = "Europe/Brussels"
        stamp = "3@2026-12-01T14:03:00"
        self.assertEqual(
            self.message(mapping_version=stamp).mapping_version_label,
            "Mappings as of 2026-12-01 15:03 (3 in force)",
        )
        self.assertEqual(
            self.message(
                topic="y", mapping_version="0@2026-12-01T14:03:00"
            ).mapping_version_label,
            "No mapping in force (last change 2026-12-01 15:03)",
        )
        # What a message processed without any mapping recorded says nothing.
        self.assertFalse(self.message(mapping_version="0@-").mapping_version_label)
        self.assertFalse(self.message().mapping_version_label)

    def test_stamp_follows_the_mappings(self):
        mapping = self.env["distribution.sync.mapping"].create(
            {
                "backend_id": self.backend.id,
                "mapping_type": "uom",
                "external_code": "UX-BOX",
                "factor": 6,
            }
        )
        count, when = self.backend._read_mapping_version().split("@")
        self.assertGreaterEqual(int(count), 1)
        self.assertEqual(
            datetime.fromisoformat(when), mapping.write_date.replace(microsecond=0)
        )

    def test_form_shows_the_stamp_in_words_only(self):
        arch = arch_of(self.env, MESSAGE, "form")
        label = arch.xpath(
            "//page[@name='trace']//field[@name='mapping_version_label']"
        )
        self.assertTrue(label)
        self.assertEqual(label[0].get("invisible"), "not mapping_version_label")
        self.assertFalse(
            arch.xpath("//page[@name='trace']//field[@name='mapping_version']")
        )

    # ------------------------------------------------------------ JSON bodies
    def test_json_bodies_use_a_mode_odoo_ships(self):
        modes = editor_modes()
        self.assertIn("javascript", modes)
        arches = [
            arch_of(self.env, MESSAGE, "form"),
            arch_of(self.env, "distribution.sync.message.dry.run", "form"),
        ]
        fields = [field for arch in arches for field in code_fields(arch)]
        self.assertTrue(fields)
        for field in fields:
            mode = widget_mode(field)
            with self.subTest(field=field.get("name"), mode=mode):
                self.assertIn(mode, modes)
                self.assertTrue(file_path(f"web/static/lib/ace/mode-{mode}.js"))

    def test_payload_shown_indented(self):
        body = {"id": 7, "lines": [{"sku": "A", "qty": 2}]}
        message = self.message(payload=json.dumps(body), headers='{"X-A": "1"}')
        self.assertEqual(message.payload_pretty, json.dumps(body, indent=2))
        self.assertEqual(message.headers_pretty, '{\n  "X-A": "1"\n}')
        # A body that is no JSON is shown as received.
        self.assertEqual(self.message(payload="not json").payload_pretty, "not json")
        arch = arch_of(self.env, MESSAGE, "form")
        shown = {field.get("name") for field in code_fields(arch)}
        self.assertLessEqual(
            {"payload_pretty", "headers_pretty", "canonical", "odoo_values"}, shown
        )


@tagged("post_install", "-at_install")
class TestMessageCodeModes(HttpCase):
    def test_every_code_mode_of_the_forms_is_served(self):
        """The browser loads ``mode-<mode>.js`` for each code field: none 404s."""
        modes = {
            widget_mode(field)
            for model in (MESSAGE, "distribution.sync.message.dry.run")
            for field in code_fields(arch_of(self.env, model, "form"))
        }
        self.assertTrue(modes)
        for mode in modes:
            response = self.url_open(f"/web/static/lib/ace/mode-{mode}.js")
            self.assertEqual(response.status_code, 200, mode)

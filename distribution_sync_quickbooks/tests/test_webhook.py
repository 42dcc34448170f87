# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from odoo.tests import HttpCase, tagged

from .common import QuickbooksCase

OTHER_REALM = "4620816365170370999"


@tagged("post_install", "-at_install")
class TestWebhookIntake(QuickbooksCase):
    """Deliveries in both shapes, fanned out by company, stored once."""

    def _second_backend(self):
        self.fake.add_realm(OTHER_REALM)
        return self.env["distribution.sync.backend"].create(
            {
                "name": "QuickBooks second company",
                "backend_type": "quickbooks",
                "api_url": self.fake.api_url,
                "quickbooks_token_url": self.fake.token_url,
                "quickbooks_realm_id": OTHER_REALM,
                "webhook_secret": self.fake.verifier_token,
            }
        )

    def test_legacy_shape_one_message_per_entity(self):
        messages = self.notify(
            [("Customer", "58", "Create"), ("Invoice", "130", "Update")],
            shape="legacy_event",
            process=False,
        )
        self.assertEqual(len(messages), 2)
        self.assertEqual(
            messages.mapped("topic"), ["customer/create", "invoice/update"]
        )
        self.assertEqual(messages.mapped("external_id"), ["58", "130"])
        self.assertEqual(messages.backend_id, self.qb)
        change = self.payload_of(messages[1])
        self.assertEqual(change["realm_id"], self.fake.realm_id)
        self.assertEqual(change["entity"], "Invoice")

    def test_cloudevents_shape(self):
        messages = self.notify([("Payment", "77", "Create")], process=False)
        self.assertEqual(messages.topic, "payment/create")
        self.assertEqual(messages.external_id, "77")
        self.assertEqual(self.payload_of(messages)["operation"], "Create")

    def test_several_companies_in_one_post(self):
        second = self._second_backend()
        body, headers = self.fake.cloudevents(
            [
                (self.fake.realm_id, "Invoice", "1", "Update"),
                (OTHER_REALM, "Invoice", "2", "Update"),
                (OTHER_REALM, "Payment", "3", "Create"),
            ]
        )
        messages = self.deliver(body, headers)
        self.assertEqual(len(messages), 3)
        mine = messages.filtered(lambda m: m.backend_id == self.qb)
        theirs = messages.filtered(lambda m: m.backend_id == second)
        self.assertEqual(mine.mapped("external_id"), ["1"])
        self.assertEqual(sorted(theirs.mapped("external_id")), ["2", "3"])

    def test_legacy_several_companies(self):
        second = self._second_backend()
        body, headers = self.fake.legacy_event(
            [
                (self.fake.realm_id, "Payment", "5", "Create"),
                (OTHER_REALM, "Payment", "6", "Create"),
            ]
        )
        messages = self.deliver(body, headers)
        self.assertEqual(
            {m.external_id: m.backend_id for m in messages},
            {"5": self.qb, "6": second},
        )

    def test_unfollowed_realm_is_stored_as_skipped(self):
        body, headers = self.fake.cloudevents(
            [("1111222233334444", "Invoice", "9", "Update")]
        )
        messages = self.deliver(body, headers)
        self.assertEqual(len(messages), 1)
        self.assertEqual(messages.state, "skipped")
        self.assertIn("1111222233334444", messages.result_summary)

    def test_duplicate_delivery(self):
        body, headers = self.fake.cloudevents([("Invoice", "12", "Update")])
        self.deliver(body, headers)
        self.assertEqual(self.qb._webhook_intake(body, headers), (200, "duplicate"))
        self.assertEqual(len(self.qb_messages(topic="invoice/update")), 1)

    def test_not_a_change_notice_is_an_error(self):
        body = b'{"hello": "world"}'
        headers = {"intuit-signature": self.fake.sign(body)}
        status = self.qb._webhook_intake(body, headers)
        self.assertEqual(status[0], 200)
        message = self.qb_messages(topic="invalid")
        self.assertEqual(len(message), 1)
        self.assertEqual(message.state, "error")


@tagged("post_install", "-at_install")
class TestWebhookRoute(QuickbooksCase, HttpCase):
    """The real route checks ``intuit-signature`` before storing anything."""

    def _post(self, body, headers):
        return self.url_open(
            f"/distribution_sync/webhook/{self.qb.id}", data=body, headers=headers
        )

    def test_bad_signature_is_401(self):
        body, headers = self.fake.cloudevents([("Invoice", "12", "Update")])
        headers["intuit-signature"] = self.fake.sign(b"something else")
        response = self._post(body, headers)
        self.assertEqual(response.status_code, 401)
        self.assertFalse(self.qb_messages())

    def test_signed_delivery_is_stored_once(self):
        body, headers = self.fake.legacy_event(
            [("Invoice", "12", "Update"), ("Payment", "13", "Create")]
        )
        response = self._post(body, headers)
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(len(self.qb_messages()), 2)
        again = self._post(body, headers)
        self.assertEqual(again.status_code, 200)
        self.assertEqual(again.json()["status"], "duplicate")
        self.assertEqual(len(self.qb_messages()), 2)


@tagged("post_install", "-at_install")
class TestWebhookBodies(QuickbooksCase):
    """Bodies that are no change notice are kept, never lost."""

    def test_body_not_json_is_stored_with_error(self):
        body = b"not json at all"
        status = self.qb._webhook_intake(
            body, {"intuit-signature": self.fake.sign(body)}
        )
        self.assertEqual(status, (200, "stored with error: body is not JSON"))
        message = self.qb_messages()
        self.assertEqual(len(message), 1)
        self.assertEqual(message.state, "error")
        self.assertTrue(self.qb_exceptions())

    def test_signature_check(self):
        body, headers = self.fake.cloudevents([("Invoice", "1", "Update")])
        self.assertTrue(self.qb._quickbooks_webhook_verify(body, headers))
        headers["intuit-signature"] = self.fake.sign(body + b" ")
        self.assertFalse(self.qb._quickbooks_webhook_verify(body, headers))

# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.distribution_sync.core.crypto import PREFIX

from .common import EASYPOST_KEY, CarrierCase, closed_port_url


@tagged("post_install", "-at_install")
class TestCarrierBackend(CarrierCase):
    """A carrier backend made from the contract fields works at once, keeps
    its key secret and has none of the order settings of shop channels."""

    def new_backend(self, **values):
        return self.env["distribution.sync.backend"].create(
            dict(
                {
                    "name": "EasyPost (new)",
                    "backend_type": "easypost",
                    "easypost_api_key": EASYPOST_KEY,
                },
                **values,
            )
        )

    def test_key_set_indicator_and_buttons_wait_for_it(self):
        backend = self.new_backend(easypost_api_key=False)
        self.assertFalse(backend.easypost_api_key_set)
        self.assertFalse(backend.credentials_set, "the API URL alone calls nothing")
        backend.easypost_api_key = EASYPOST_KEY
        self.assertTrue(backend.easypost_api_key_set)
        self.assertTrue(backend.credentials_set)
        shippo = self.new_backend(backend_type="shippo", easypost_api_key=False)
        self.assertFalse(shippo.credentials_set)
        shippo.shippo_api_token = "shippo_test_token"
        self.assertTrue(shippo.shippo_api_token_set)
        self.assertTrue(shippo.credentials_set)

    def test_easypost_backend_defaults(self):
        backend = self.new_backend(webhook_secret="whsec-new")
        self.assertEqual(backend.api_url, "https://api.easypost.com/v2")
        self.assertTrue(backend.user_id.active)
        self.assertEqual(backend.channel_id.name, "easypost")
        self.assertEqual(backend.carrier_label_format, "PDF")
        self.assertEqual(backend.carrier_scan_hours, 24)
        self.assertFalse(backend.carrier_invoice_on_delivery)
        # No order settings: a carrier brings no sales orders.
        self.assertFalse(backend.order_channel)
        self.assertFalse(backend.shipping_product_id)
        self.assertFalse(backend.validation_rule_ids)
        # Odoo owns every document; the carrier only reports.
        self.assertTrue(backend.ownership_ids)
        self.assertEqual(set(backend.ownership_ids.mapped("owner")), {"odoo"})
        self.assertEqual(self.fake_requests(), [], "creating calls nothing")

    def test_given_api_url_is_kept(self):
        backend = self.new_backend(api_url=self.fake.url)
        self.assertEqual(backend.api_url, self.fake.url)
        self.assertEqual(self.fake_requests(), [])

    def test_shippo_backend_default_url(self):
        backend = self.env["distribution.sync.backend"].create(
            {"name": "Shippo (new)", "backend_type": "shippo"}
        )
        self.assertEqual(backend.api_url, "https://api.goshippo.com")
        self.assertFalse(backend.order_channel)
        self.assertEqual(set(backend.ownership_ids.mapped("owner")), {"odoo"})

    def test_api_key_is_write_only_and_encrypted(self):
        backend = self.new_backend()
        self.assertFalse(backend.easypost_api_key)
        self.assertIs(backend.read(["easypost_api_key"])[0]["easypost_api_key"], False)
        stored = self.env["distribution.sync.secret"].search(
            [("backend_id", "=", backend.id), ("key", "=", "easypost_api_key")]
        )
        self.assertEqual(len(stored), 1)
        self.assertTrue(stored.value.startswith(PREFIX))
        self.assertNotIn(EASYPOST_KEY, stored.value)
        self.assertEqual(backend._get_secret("easypost_api_key"), EASYPOST_KEY)
        # Read by a sync user: still nothing.
        self.assertFalse(backend.with_user(self.sync_user).easypost_api_key)

    def test_connection_success(self):
        action = self.carrier_backend.action_test_connection()
        self.assertEqual(action["params"]["type"], "success")
        self.assertIn("EasyPost", action["params"]["message"])
        [request] = self.fake_requests()
        self.assertEqual(request["operation"], "list_trackers")
        self.assertTrue(request["auth_ok"], "the key as basic-auth user name")

    def test_connection_with_a_wrong_key(self):
        self.carrier_backend.easypost_api_key = "EZTKnot-the-right-key"
        with self.assertRaises(UserError) as caught:
            self.carrier_backend.action_test_connection()
        self.assertIn("401", str(caught.exception))
        self.assertIn("APIKEY.INACTIVE", str(caught.exception))

    def test_connection_to_nobody(self):
        self.carrier_backend.api_url = closed_port_url()
        with self.assertRaises(UserError) as caught:
            self.carrier_backend.action_test_connection()
        self.assertIn("EasyPost", str(caught.exception))

    def test_tracking_link_is_the_carrier_page(self):
        picking = self.ship_and_label()
        shipment = picking.distribution_sync_shipment_ids
        self.assertTrue(shipment.public_url.startswith("https://track.easypost.com/"))
        self.assertEqual(picking.carrier_tracking_url, shipment.public_url)

    def test_send_to_shipper_without_active_backend_is_a_readable_error(self):
        order = self.sell()
        picking = self.validate(self.delivery_of(order))
        self.carrier_backend.active = False
        with self.assertRaises(UserError) as caught:
            picking.send_to_shipper()
        self.assertIn(self.delivery_method.name, str(caught.exception))

    def test_validating_with_an_archived_backend_is_a_readable_error(self):
        picking = self.delivery_of(self.sell())
        self.carrier_backend.active = False
        # Odoo asks for the label when the delivery is validated.
        self.assertTrue(picking.picking_type_id.print_label)
        with self.assertRaises(UserError) as caught:
            self.validate(picking)
        self.assertIn("no active carrier backend", str(caught.exception))
        self.assertFalse(self.carrier_messages(picking))

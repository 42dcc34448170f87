# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from odoo import fields
from odoo.tests import tagged

from .common import CarrierCase, closed_port_url


@tagged("post_install", "-at_install")
class TestRates(CarrierCase):
    """The sale order's "get rate": the carrier's price of the method's
    service, in the company's currency; a readable error otherwise, and never
    a label bought."""

    def quote(self, partner=None, product=None, quantity=2):
        """A quotation (not confirmed) to rate."""
        return self.env["sale.order"].create(
            {
                "partner_id": (partner or self.customer).id,
                "order_line": [
                    (
                        0,
                        0,
                        {
                            "product_id": (product or self.heavy).id,
                            "product_uom_qty": quantity,
                        },
                    )
                ],
            }
        )

    def assertRateError(self, result, *words):
        self.assertFalse(result["success"])
        self.assertEqual(result["price"], 0.0)
        self.assertTrue(result["error_message"])
        self.assertNotIn("Traceback", result["error_message"])
        for word in words:
            self.assertIn(word, result["error_message"])
        self.assertEqual(self.fake_count("buy"), 0)

    def test_rate_is_the_price_of_the_service(self):
        result = self.delivery_method.rate_shipment(self.quote())
        self.assertTrue(result["success"], result.get("error_message"))
        self.assertAlmostEqual(result["price"], 9.10)
        self.assertEqual(self.fake_count("create_shipment"), 1)
        self.assertEqual(self.fake_count("buy"), 0, "rating buys nothing")
        sent = self.fake_requests("create_shipment")[0]["json"]["shipment"]
        # The order's weight (2 x 2.5 kg) to its delivery address.
        self.assertEqual(sent["parcel"]["weight"], 176.4)
        self.assertEqual(sent["to_address"]["zip"], "90277")
        self.assertEqual(sent["from_address"]["zip"], "94104")

    def test_rate_of_another_service(self):
        result = self.make_method("USPS/First").rate_shipment(self.quote())
        self.assertTrue(result["success"], result.get("error_message"))
        self.assertAlmostEqual(result["price"], 4.50)

    def test_rate_in_the_company_currency(self):
        company_currency = self.env.company.currency_id
        foreign = self.env.ref("base.EUR")
        if foreign == company_currency:
            foreign = self.env.ref("base.USD")
        today = fields.Date.context_today(self.env.user)
        self.env["res.currency.rate"].create(
            {
                "currency_id": foreign.id,
                "name": today,
                "rate": 0.8 * company_currency.rate,
                "company_id": self.env.company.id,
            }
        )
        self.patch_fake(
            rate_table=[
                {
                    "carrier": "UPS",
                    "service": "Ground",
                    "rate": "10.00",
                    "currency": foreign.name,
                    "delivery_days": 5,
                }
            ]
        )
        result = self.delivery_method.rate_shipment(self.quote())
        self.assertTrue(result["success"], result.get("error_message"))
        expected = foreign._convert(10.0, company_currency, self.env.company, today)
        self.assertAlmostEqual(result["price"], expected, places=2)
        self.assertNotAlmostEqual(result["price"], 10.0, places=2)

    def test_rate_from_the_order_wizard(self):
        order = self.quote()
        action = order.action_open_delivery_wizard()
        wizard = (
            self.env[action["res_model"]]
            .with_context(**action["context"])
            .create({"carrier_id": self.delivery_method.id})
        )
        wizard.update_price()
        self.assertAlmostEqual(wizard.delivery_price, 9.10)
        wizard.button_confirm()
        line = order.order_line.filtered("is_delivery")
        self.assertEqual(line.product_id, self.ship_product)
        self.assertAlmostEqual(line.price_unit, 9.10)
        self.assertEqual(self.fake_count("buy"), 0)

    def test_rate_for_an_address_the_carrier_refuses(self):
        customer = self.make_customer(zip="00000")
        result = self.delivery_method.rate_shipment(self.quote(partner=customer))
        self.assertRateError(result, "zip", "00000")

    def test_rate_for_an_incomplete_address(self):
        customer = self.make_customer(street=False)
        result = self.delivery_method.rate_shipment(self.quote(partner=customer))
        self.assertRateError(result, "street")
        self.assertEqual(self.fake_requests(), [], "checked before calling")

    def test_rate_without_weight(self):
        feather = self.weighed_product("Feather", weight=0.0)
        result = self.delivery_method.rate_shipment(self.quote(product=feather))
        self.assertRateError(result, "weight")
        self.assertEqual(self.fake_requests(), [])

    def test_rate_when_the_carrier_is_unreachable(self):
        self.carrier_backend.api_url = closed_port_url()
        result = self.delivery_method.rate_shipment(self.quote())
        self.assertRateError(result, "EasyPost")

    def test_rate_of_a_service_not_offered(self):
        method = self.make_method("FedEx/Overnight")
        result = method.rate_shipment(self.quote())
        self.assertRateError(result, "FedEx/Overnight", "UPS/Ground")

    def test_rate_with_an_archived_backend(self):
        self.carrier_backend.active = False
        result = self.delivery_method.rate_shipment(self.quote())
        self.assertRateError(result, self.delivery_method.name)
        self.assertEqual(self.fake_requests(), [])

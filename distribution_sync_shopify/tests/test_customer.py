# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from .common import ShopifyCase, sample

# Shopify's sample customer: "id" lost precision, the GraphQL id did not.
CUSTOMER_ID = "706405506930370084"


class TestShopifyCustomer(ShopifyCase):
    """customers/create and customers/update under the ownership rules."""

    def updated(self, **changes):
        customer = sample("webhook_customers_create.json")
        customer.update(
            {
                "updated_at": "2022-01-05T10:00:00-05:00",
                "phone": "+15135550123",
                "email": "bob.biller@example.com",
                "default_address": {
                    "address1": "5 Invoice Lane",
                    "city": "Cincinnati",
                    "zip": "45202",
                    "province_code": "OH",
                    "country_code": "US",
                },
            }
        )
        customer.update(changes)
        return customer

    def partner(self):
        return self.bindings._find_record(self.shop, "res.partner", CUSTOMER_ID)

    def test_customer_created(self):
        message = self.receive("customers/create", "webhook_customers_create.json")
        self.assertEqual(message.state, "done", message.last_error)
        partner = self.partner()
        self.assertTrue(partner)
        self.assertEqual(
            (message.res_model, message.res_id), ("res.partner", partner.id)
        )
        self.assertEqual(partner.name, "Bob Biller")
        self.assertEqual(partner.email, "bob@biller.com")
        self.assertEqual(partner.customer_rank, 1)
        self.assertFalse(partner.company_id)

    def test_customer_updated(self):
        self.receive("customers/create", "webhook_customers_create.json")
        partner = self.partner()
        message = self.receive("customers/update", self.updated())
        self.assertEqual(message.state, "done", message.last_error)
        self.assertEqual(self.partner(), partner)
        self.assertEqual(partner.email, "bob.biller@example.com")
        self.assertEqual(partner.phone, "+15135550123")
        self.assertEqual(partner.street, "5 Invoice Lane")
        self.assertEqual(partner.city, "Cincinnati")
        self.assertEqual(partner.state_id.code, "OH")
        self.assertEqual(partner.country_id, self.env.ref("base.us"))
        # Keys the update does not carry are left alone.
        message = self.receive(
            "customers/update",
            {
                "id": 706405506930370084,
                "admin_graphql_api_id": f"gid://shopify/Customer/{CUSTOMER_ID}",
                "updated_at": "2022-01-06T10:00:00-05:00",
                "first_name": "Robert",
                "last_name": "Biller",
            },
        )
        self.assertEqual(message.state, "done", message.last_error)
        self.assertEqual(partner.name, "Robert Biller")
        self.assertEqual(partner.email, "bob.biller@example.com")
        self.assertEqual(partner.street, "5 Invoice Lane")

    def test_email_owned_by_odoo_is_a_conflict(self):
        self.receive("customers/create", "webhook_customers_create.json")
        partner = self.partner()
        self.assertEqual(partner.email, "bob@biller.com")
        self.env["distribution.sync.ownership"].create(
            {
                "backend_id": self.shop.id,
                "entity": "customer",
                "field_name": "email",
                "owner": "odoo",
            }
        )
        message = self.receive("customers/update", self.updated())
        # The rest of the update is applied; the email is not.
        self.assertEqual(partner.email, "bob@biller.com")
        self.assertEqual(partner.phone, "+15135550123")
        self.assertEqual(partner.street, "5 Invoice Lane")
        # Applied as far as allowed; the conflict is opened beside it.
        self.assertEqual(message.state, "done", message.last_error)
        exception = self.open_exceptions(message)
        self.assertEqual(len(exception), 1)
        self.assertEqual(exception.category, "conflict")
        self.assertEqual(
            (exception.res_model, exception.res_id), ("res.partner", partner.id)
        )
        self.assertIn("email", exception.name)

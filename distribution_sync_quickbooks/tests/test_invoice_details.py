# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from decimal import Decimal

from odoo.tests import tagged

from .common import QuickbooksCase


@tagged("post_install", "-at_install")
class TestInvoiceDetails(QuickbooksCase):
    """Customers, items, taxes and totals of the invoices sent to QuickBooks."""

    def _lines(self, move):
        invoice = self.fake.get("Invoice", self.qb_id(move))
        return [
            line
            for line in invoice["Line"]
            if line.get("DetailType") == "SalesItemLineDetail"
        ]

    def test_customer_found_by_display_name_is_not_created(self):
        existing = self.fake.add("Customer", {"DisplayName": self.customer.name})
        move = self.sync_invoice()
        self.assertEqual(self.qb_id(self.customer), existing["Id"])
        self.assertFalse(self.fake.created.get("Customer"))
        invoice = self.fake.get("Invoice", self.qb_id(move))
        self.assertEqual(invoice["CustomerRef"]["value"], existing["Id"])

    def test_new_customer_is_created_and_bound_once(self):
        self.sync_invoice()
        self.sync_invoice()
        self.assertEqual(self.fake.created.get("Customer"), 1)
        customer = self.fake.get("Customer", self.qb_id(self.customer))
        self.assertEqual(customer["DisplayName"], self.customer.name)

    def test_display_name_taken_renames_the_customer(self):
        # 6240 on create although no customer of that name is found: the
        # name belongs to a vendor or an employee in a real company.
        self.fake.fail_next(
            "create:Customer",
            400,
            body={
                "Fault": {
                    "Error": [
                        {
                            "Message": "Duplicate Name Exists Error",
                            "Detail": "The name supplied already exists. : "
                            "Another customer, vendor or employee is already "
                            "using this name.",
                            "code": "6240",
                        }
                    ],
                    "type": "ValidationFault",
                },
                "time": "2026-01-10T10:00:00.000-07:00",
            },
        )
        move = self.sync_invoice()
        customer = self.fake.get("Customer", self.qb_id(self.customer))
        self.assertEqual(
            customer["DisplayName"], f"{self.customer.name} ({self.customer.id})"
        )
        self.assertEqual(
            self.fake.get("Invoice", self.qb_id(move))["CustomerRef"]["value"],
            customer["Id"],
        )

    def test_item_found_by_sku(self):
        item = self.fake.add(
            "Item",
            {
                "Name": "Widget under another name",
                "Sku": self.product.default_code,
                "Type": "Service",
                "IncomeAccountRef": {"value": self.qb.quickbooks_income_account_ref},
            },
        )
        move = self.sync_invoice()
        self.assertEqual(self.qb_id(self.product), item["Id"])
        self.assertFalse(self.fake.created.get("Item"))
        self.assertEqual(
            self._lines(move)[0]["SalesItemLineDetail"]["ItemRef"]["value"], item["Id"]
        )

    def test_item_found_by_name(self):
        product = self.env["product.product"].create(
            {"name": "Nameless gadget", "type": "service", "list_price": 5.0}
        )
        item = self.fake.add(
            "Item",
            {
                "Name": product.display_name,
                "Type": "Service",
                "IncomeAccountRef": {"value": self.qb.quickbooks_income_account_ref},
            },
        )
        self.sync_invoice([(product, 1, 5.0, None)])
        self.assertEqual(self.qb_id(product), item["Id"])
        self.assertFalse(self.fake.created.get("Item"))

    def test_item_created_with_type_and_accounts(self):
        service = self.env["product.product"].create(
            {"name": "Installation", "default_code": "DS-SRV", "type": "service"}
        )
        storable = self.env["product.product"].create(
            {
                "name": "Stocked crate",
                "default_code": "DS-STK",
                "type": "consu",
                "is_storable": True,
            }
        )
        self.sync_invoice(
            [
                (self.product, 1, 10.0, None),
                (service, 1, 50.0, None),
                (storable, 1, 7.0, None),
            ]
        )
        self.assertEqual(self.fake.created.get("Item"), 3)
        kinds = {
            product: self.fake.get("Item", self.qb_id(product))
            for product in (self.product, service, storable)
        }
        self.assertEqual(kinds[self.product]["Type"], "NonInventory")
        self.assertEqual(kinds[service]["Type"], "Service")
        self.assertEqual(kinds[storable]["Type"], "Inventory")
        self.assertEqual(kinds[service]["Sku"], "DS-SRV")
        income = self.qb.quickbooks_income_account_ref
        for item in kinds.values():
            self.assertEqual(item["IncomeAccountRef"]["value"], income)
        self.assertEqual(
            kinds[storable]["AssetAccountRef"]["value"],
            self.qb.quickbooks_asset_account_ref,
        )
        self.assertEqual(
            kinds[storable]["ExpenseAccountRef"]["value"],
            self.qb.quickbooks_expense_account_ref,
        )

    def test_line_without_product_uses_default_item(self):
        move = self.sync_invoice([(None, 1, 12.5, None)])
        lines = self._lines(move)
        self.assertEqual(len(lines), 1)
        self.assertEqual(
            lines[0]["SalesItemLineDetail"]["ItemRef"]["value"],
            self.qb.quickbooks_default_item_ref,
        )
        self.assertEqual(Decimal(str(lines[0]["Amount"])), Decimal("12.50"))

    def test_line_without_product_and_no_default_item_is_a_mapping_exception(self):
        self.qb.quickbooks_default_item_ref = False
        move = self.make_invoice([(None, 1, 12.5, None)])
        message = self.run_qb_jobs(move)
        self.assertEqual(message.state, "blocked", message.last_error)
        exception = self.qb_exceptions(category="mapping")
        self.assertEqual(len(exception), 1)
        self.assertIn("item for lines without product", exception.hint)
        self.assertFalse(self.fake.created.get("Invoice"))

    def test_mapped_tax_is_sent_as_tax_code(self):
        move = self.sync_invoice()
        invoice = self.fake.get("Invoice", self.qb_id(move))
        tax_code = (
            invoice.get("TxnTaxDetail", {}).get("TxnTaxCodeRef", {}).get("value")
            or self._lines(move)[0]["SalesItemLineDetail"]["TaxCodeRef"]["value"]
        )
        self.assertEqual(tax_code, "TAX")
        self.assertEqual(
            Decimal(str(invoice["TxnTaxDetail"]["TotalTax"])), Decimal("1.60")
        )

    def test_totals_are_equal(self):
        move = self.sync_invoice(
            [(self.product, 3, 19.99, self.tax), (None, 2, 4.25, None)]
        )
        invoice = self.fake.get("Invoice", self.qb_id(move))
        self.assertEqual(
            Decimal(str(invoice["TotalAmt"])), Decimal(str(move.amount_total))
        )
        self.assertFalse(self.qb_exceptions())

    def test_total_computed_otherwise_is_a_validation_exception(self):
        self.use_fake(tax_rates={"TAX": 10})
        move = self.make_invoice()
        message = self.run_qb_jobs(move)
        self.assertEqual(message.state, "done", message.last_error)
        invoice = self.fake.get("Invoice", self.qb_id(move))
        self.assertEqual(Decimal(str(invoice["TotalAmt"])), Decimal("22.00"))
        exception = self.qb_exceptions(move, category="validation")
        self.assertEqual(len(exception), 1, self.qb_exceptions().mapped("name"))
        self.assertIn("more by 0.4", exception.name)
        self.assertIn("21.6", exception.name)
        self.assertIn("tax mapping", exception.hint)

    def test_foreign_currency_invoice_carries_currency_and_rate(self):
        eur = self.env.ref("base.EUR")
        eur.active = True
        company_currency = self.qb.company_id.currency_id
        self.assertNotEqual(company_currency, eur)
        self.env["res.currency.rate"].create(
            {
                "currency_id": eur.id,
                "company_id": self.qb.company_id.id,
                "name": "2020-01-01",
                # Rates are per unit of the company's currency.
                "rate": 0.8 * company_currency.rate,
            }
        )
        move = self.make_invoice(post=False)
        move.currency_id = eur
        move.action_post()
        self.run_qb_jobs(move)
        invoice = self.fake.get("Invoice", self.qb_id(move))
        self.assertEqual(invoice["CurrencyRef"]["value"], "EUR")
        # QuickBooks' rate is home currency per unit of the invoice's.
        self.assertAlmostEqual(float(invoice["ExchangeRate"]), 1.25, places=4)
        self.assertEqual(f"{invoice['TotalAmt']:.2f}", f"{move.amount_total:.2f}")
        self.assertFalse(self.qb_exceptions())

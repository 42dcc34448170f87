# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
import hashlib
import hmac
from datetime import date
from unittest.mock import patch

import requests
from freezegun import freeze_time

from odoo.tests import new_test_user

from ..core import versions
from .common import (
    SHOP_DOMAIN,
    SHOPIFY_SECRET,
    SHOPIFY_TOKEN,
    ShopifyCase,
    sample_bytes,
    shopify_hmac,
)

CONTRACT_VALUES = {
    "name": "Integrator shop",
    "backend_type": "shopify",
    "shopify_shop_domain": "integrator-shop.myshopify.com",
    "shopify_access_token": "shpat_integrator_token",
    "shopify_api_version": "2025-07",
    "webhook_secret": "integrator-secret",
}


class TestShopifyBackend(ShopifyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(
            cls.env,
            login="shopify_sync_manager",
            groups="base.group_user,distribution_sync.group_distribution_sync_manager",
        )

    def _create_as_integrator(self, **values):
        """Create a backend as a sync manager would over XML-RPC."""
        backends = self.env["distribution.sync.backend"].with_user(self.manager)
        return backends.create(dict(CONTRACT_VALUES, **values)).sudo()

    def test_contract_fields_are_enough(self):
        backend = self._create_as_integrator()
        self.assertEqual(backend.api_url, "https://integrator-shop.myshopify.com")
        self.assertEqual(backend.api_version, "2025-07")
        self.assertEqual(backend.environment, "sandbox")
        self.assertTrue(backend.active)
        self.assertEqual(backend.company_id, self.env.company)
        # Its technical user: active, internal, of the backend's company, and
        # a sync user but not a sync manager.
        user = backend.user_id
        self.assertTrue(user)
        self.assertTrue(user.active)
        self.assertFalse(user.share)
        self.assertEqual(user.company_id, backend.company_id)
        self.assertTrue(
            user.has_group("distribution_sync.group_distribution_sync_user")
        )
        self.assertFalse(
            user.has_group("distribution_sync.group_distribution_sync_manager")
        )
        self.assertNotEqual(user, self.shop.user_id)
        # Its job channel is the Shopify one.
        self.assertEqual(
            backend.channel_id.complete_name, "root.distribution_sync.shopify"
        )
        self.assertEqual(
            backend.channel_id,
            self.env.ref("distribution_sync_shopify.channel_distribution_sync_shopify"),
        )
        self.assertEqual(backend._job_channel(), "root.distribution_sync.shopify")
        # Shipping lines and validation rules are ready.
        self.assertTrue(backend.shipping_product_id)
        self.assertEqual(backend.shipping_product_id.type, "service")
        self.assertIn(
            "total_tolerance", backend.validation_rule_ids.mapped("rule_type")
        )
        # It verifies a webhook signed with the secret at once.
        body = sample_bytes("demo_order_1001.json")
        self.assertTrue(
            backend._call(
                "webhook_verify",
                body,
                {"X-Shopify-Hmac-Sha256": shopify_hmac(body, "integrator-secret")},
            )
        )

    def test_ownership_defaults(self):
        backend = self._create_as_integrator()
        owners = {
            row.entity: row.owner for row in backend.ownership_ids if not row.field_name
        }
        self.assertEqual(owners.pop("order"), "channel")
        self.assertEqual(owners.pop("customer"), "channel")
        self.assertTrue(owners, "the other entities have a rule too")
        self.assertEqual(set(owners.values()), {"odoo"})
        matrix = backend._ownership_matrix()
        self.assertTrue(matrix.may_push("product"))
        self.assertFalse(matrix.may_push("order"))

    def test_secrets_are_write_only(self):
        backend = self._create_as_integrator()
        # Nobody reads them back, not even the manager who typed them.
        as_manager = backend.with_user(self.manager)
        values = as_manager.read(["shopify_access_token", "webhook_secret"])[0]
        self.assertFalse(values["shopify_access_token"])
        self.assertFalse(values["webhook_secret"])
        self.assertFalse(backend.shopify_access_token)
        self.assertTrue(backend.webhook_secret_set)
        # The code gets them.
        self.assertEqual(
            backend._get_secret("shopify_access_token"), "shpat_integrator_token"
        )
        self.assertEqual(backend._get_secret("webhook_secret"), "integrator-secret")
        self.assertEqual(self.shop._get_secret("shopify_access_token"), SHOPIFY_TOKEN)
        # Not stored in clear anywhere in the secret table.
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT count(*) FROM distribution_sync_secret WHERE backend_id = %s",
            (backend.id,),
        )
        self.assertEqual(self.env.cr.fetchone()[0], 2)
        self.env.cr.execute(
            "SELECT row_to_json(s)::text FROM distribution_sync_secret s "
            "WHERE backend_id = %s",
            (backend.id,),
        )
        stored = " ".join(row[0] for row in self.env.cr.fetchall())
        self.assertNotIn("shpat_integrator_token", stored)
        self.assertNotIn("integrator-secret", stored)
        # Typing a new token replaces it; saving without one keeps it.
        backend.shopify_access_token = "shpat_rotated"
        backend.name = "Renamed"
        self.assertEqual(backend._get_secret("shopify_access_token"), "shpat_rotated")

    def test_creating_never_calls_shopify(self):
        with (
            patch.object(requests.Session, "send") as send,
            patch.object(requests, "request") as request,
        ):
            backend = self._create_as_integrator()
            backend.write({"shopify_api_version": "2025-10", "name": "Saved"})
        send.assert_not_called()
        request.assert_not_called()

    def test_api_url_given_is_kept(self):
        backend = self._create_as_integrator(api_url="http://127.0.0.1:8999")
        self.assertEqual(backend.api_url, "http://127.0.0.1:8999")
        # Without a domain there is nothing to derive the URL from.
        backend = self._create_as_integrator(
            shopify_shop_domain=False, name="No domain yet"
        )
        self.assertFalse(backend.api_url)

    def test_api_url_follows_an_edited_shop_domain(self):
        backend = self._create_as_integrator()
        domain = backend.shopify_shop_domain
        self.assertEqual(backend.api_url, f"https://{domain}")
        backend.write({"shopify_shop_domain": "renamed-shop.myshopify.com"})
        self.assertEqual(backend.api_url, "https://renamed-shop.myshopify.com")
        self.assertEqual(
            backend._shopify_client().base_url, "https://renamed-shop.myshopify.com"
        )
        # A URL set on purpose (a proxy, a test server) stays.
        backend.api_url = "http://127.0.0.1:8999"
        backend.write({"shopify_shop_domain": "third-shop.myshopify.com"})
        self.assertEqual(backend.api_url, "http://127.0.0.1:8999")
        # A backend created without a domain gets its URL with the domain.
        later = self._create_as_integrator(
            shopify_shop_domain=False, name="No domain yet"
        )
        later.write({"shopify_shop_domain": "late-shop.myshopify.com"})
        self.assertEqual(later.api_url, "https://late-shop.myshopify.com")

    def test_uninstalling_the_addon_keeps_backends_and_bindings(self):
        backend = self._create_as_integrator()
        partner = self.env["res.partner"].create({"name": "Bound customer"})
        binding = self.env["distribution.sync.binding"]._bind(
            backend, partner, "7700000000001"
        )
        # What Odoo applies to the records of a selection value whose addon is
        # uninstalled.
        policy = type(backend)._fields["backend_type"].ondelete["shopify"]
        self.assertTrue(callable(policy))
        policy(backend)
        self.assertTrue(backend.exists())
        self.assertFalse(backend.active)
        self.assertEqual(backend.backend_type, "generic")
        self.assertTrue(binding.exists())
        self.assertEqual(binding._record(), partner)

    def test_webhook_verify_base64_only(self):
        body = sample_bytes("demo_order_1001.json")
        good = shopify_hmac(body)
        self.assertTrue(
            self.shop._call("webhook_verify", body, {"X-Shopify-Hmac-Sha256": good})
        )
        # Headers are case-insensitive.
        self.assertTrue(
            self.shop._call("webhook_verify", body, {"x-shopify-hmac-sha256": good})
        )
        hex_digest = hmac.new(SHOPIFY_SECRET.encode(), body, hashlib.sha256).hexdigest()
        for refused in (hex_digest, shopify_hmac(body + b" "), "", good.lower()):
            with self.subTest(signature=refused):
                self.assertFalse(
                    self.shop._call(
                        "webhook_verify", body, {"X-Shopify-Hmac-Sha256": refused}
                    )
                )
        self.assertFalse(self.shop._call("webhook_verify", body, {}))
        # A backend without a secret accepts nothing, not even an empty HMAC.
        no_secret = self._create_as_integrator(webhook_secret=False, name="No secret")
        self.assertFalse(
            no_secret._call(
                "webhook_verify",
                body,
                {"X-Shopify-Hmac-Sha256": shopify_hmac(body, "")},
            )
        )

    # ---------------------------------------------------------- API versions
    def _warning(self, backend, today):
        with freeze_time(today):
            backend.invalidate_recordset(["shopify_api_version_warning"])
            return backend.shopify_api_version_warning

    def test_api_version_near_support_end_warns(self):
        self.shop.shopify_api_version = "2025-07"
        end = versions.support_end("2025-07")
        self.assertEqual(end, date(2026, 7, 1))
        # 61 days before the end, and after it: warned, with the date.
        for today in ("2026-05-01", "2026-08-15"):
            with self.subTest(today=today):
                warning = self._warning(self.shop, today)
                self.assertTrue(warning)
                self.assertIn("2025-07", warning)
                self.assertIn(str(end), warning)

    def test_current_api_version_does_not_warn(self):
        self.shop.shopify_api_version = "2025-07"
        self.assertFalse(self._warning(self.shop, "2025-09-01"))
        # Moving to a newer version clears the warning.
        self.assertTrue(self._warning(self.shop, "2026-06-01"))
        self.shop.shopify_api_version = "2026-04"
        self.assertFalse(self._warning(self.shop, "2026-06-01"))

    def test_malformed_api_version_warns(self):
        self.shop.shopify_api_version = "2025-05"
        warning = self._warning(self.shop, "2025-06-01")
        self.assertIn("2025-05", warning)
        self.assertIn("not a Shopify API version", warning)
        # Not a Shopify backend: no warning at all.
        self.assertFalse(self._warning(self.backend, "2030-01-01"))
        self.assertEqual(self.shop.shopify_shop_domain, SHOP_DOMAIN)

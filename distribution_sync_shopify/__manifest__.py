# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
{
    "name": "Distribution Sync: Shopify",
    "summary": "Shopify order-to-cash without re-keying: orders, cancellations, "
    "refunds and customers, exactly once",
    "version": "18.0.1.4.0",
    "category": "Sales/Sales",
    "website": "https://github.com/distribution-sync/distribution_sync",
    "author": "distribution_sync maintainers",
    "maintainers": ["distribution-sync"],
    "license": "LGPL-3",
    "development_status": "Alpha",
    "installable": True,
    "depends": ["distribution_sync", "sale_stock"],
    "external_dependencies": {"python": ["requests"]},
    "data": [
        "security/ir.model.access.csv",
        "security/distribution_sync_shopify_security.xml",
        "data/queue_job_data.xml",
        "views/distribution_sync_backend_views.xml",
        "wizards/distribution_sync_shopify_import_wizard_views.xml",
    ],
    "demo": ["demo/distribution_sync_shopify_demo.xml"],
    "assets": {
        "web.assets_tests": ["distribution_sync_shopify/static/tests/tours/*.js"],
    },
}

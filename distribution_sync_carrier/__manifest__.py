# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
{
    "name": "Distribution Sync: Carriers",
    "summary": "Labels bought at delivery validation, carrier tracking on the "
    "picking and in the shop, failed deliveries in the exception inbox",
    "version": "18.0.1.1.0",
    "category": "Inventory/Delivery",
    "website": "https://github.com/distribution-sync/distribution_sync",
    "author": "distribution_sync maintainers",
    "maintainers": ["distribution-sync"],
    "license": "LGPL-3",
    "development_status": "Alpha",
    "installable": True,
    "depends": ["distribution_sync", "stock_delivery", "sale_stock"],
    "external_dependencies": {"python": ["requests"]},
    "data": [
        "security/ir.model.access.csv",
        "security/distribution_sync_carrier_security.xml",
        "data/queue_job_data.xml",
        "views/distribution_sync_backend_views.xml",
        "views/delivery_carrier_views.xml",
        "views/distribution_sync_shipment_views.xml",
        "views/distribution_sync_tracking_event_views.xml",
        "views/stock_picking_views.xml",
        "wizards/distribution_sync_dashboard_views.xml",
    ],
    "demo": ["demo/distribution_sync_carrier_demo.xml"],
}

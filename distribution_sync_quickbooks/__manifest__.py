# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
{
    "name": "Distribution Sync: QuickBooks Online",
    "summary": "Invoices and credit notes in QuickBooks exactly once, payments "
    "recorded there settling the Odoo invoices, every difference an exception",
    "version": "18.0.1.2.0",
    "category": "Accounting/Accounting",
    "website": "https://github.com/distribution-sync/distribution_sync",
    "author": "distribution_sync maintainers",
    "maintainers": ["distribution-sync"],
    "license": "LGPL-3",
    "development_status": "Alpha",
    "installable": True,
    "depends": ["distribution_sync", "account"],
    "external_dependencies": {"python": ["requests"]},
    "data": [
        "security/ir.model.access.csv",
        "data/queue_job_data.xml",
        "data/ir_cron_data.xml",
        "views/distribution_sync_backend_views.xml",
        "wizards/distribution_sync_dashboard_views.xml",
    ],
    "demo": ["demo/distribution_sync_quickbooks_demo.xml"],
}

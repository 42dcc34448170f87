"""Pure QuickBooks Online logic (webhooks, errors, OAuth, documents, rate
limits); never imports odoo."""

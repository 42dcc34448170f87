"""Pure Shopify logic (webhooks, mappers, API versions); never imports odoo."""

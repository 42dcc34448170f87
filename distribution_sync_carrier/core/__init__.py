"""Pure carrier logic (EasyPost, Shippo): webhooks, tracking, shipments; never
imports odoo."""

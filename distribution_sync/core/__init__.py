"""Pure decision logic, never imports odoo."""

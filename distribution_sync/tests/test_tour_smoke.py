# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from odoo.tests import HttpCase, tagged

from .browser import BrowserTourMixin


@tagged("post_install", "-at_install")
class TestTourSmoke(BrowserTourMixin, HttpCase):
    """The web client in a real browser: the Sync app's menus lead to its views."""

    def test_menus_lead_to_the_backends_list(self):
        self.run_tour(
            "/odoo", "distribution_sync_smoke_tour", login="admin", screenshot="smoke"
        )

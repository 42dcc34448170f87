# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from werkzeug.exceptions import BadRequest

from odoo import http
from odoo.exceptions import UserError
from odoo.http import request

from odoo.addons.distribution_sync.core.errors import SyncError


class QuickbooksConnect(http.Controller):
    """Intuit's consent page sends the person back here with a ``code``, the
    ``state`` this database signed and the company's ``realmId``."""

    @http.route(
        "/distribution_sync/quickbooks/oauth/callback",
        type="http",
        auth="user",
        methods=["GET"],
    )
    def callback(self, code=None, state=None, realmId=None, error=None, **kwargs):
        if error or not code or not state or not realmId:
            raise BadRequest(error or "The QuickBooks answer is incomplete.")
        backends = request.env["distribution.sync.backend"]
        try:
            backend = backends._quickbooks_connect_callback(code, state, realmId)
        except (UserError, SyncError) as exc:
            raise BadRequest(str(exc)) from exc
        return request.redirect(
            f"/odoo/action-distribution_sync.action_distribution_sync_backend/{backend.id}"
        )

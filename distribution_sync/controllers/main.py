# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
import json
import logging

from odoo import http
from odoo.http import request

_logger = logging.getLogger(__name__)

MAX_BODY_PARAM = "distribution_sync.webhook_max_bytes"
DEFAULT_MAX_BODY = 5 * 1024 * 1024


class DistributionSyncWebhook(http.Controller):
    """Webhook intake: check, store once, enqueue, answer.

    Nothing heavy runs here: the body is stored exactly as received, its job
    is queued, and the transaction is committed by the framework before the
    answer leaves, so a ``200`` always means the event is safe in the
    database.
    """

    @http.route(
        "/distribution_sync/webhook/<int:backend_id>",
        type="http",
        auth="public",
        methods=["POST"],
        csrf=False,
        save_session=False,
    )
    def webhook(self, backend_id, **kwargs):
        env = request.env(su=True)
        backend = env["distribution.sync.backend"].browse(backend_id).exists()
        if not backend or not backend.active:
            return self._answer(404, "unknown backend")
        limit = int(
            env["ir.config_parameter"].get_param(MAX_BODY_PARAM, DEFAULT_MAX_BODY)
        )
        httprequest = request.httprequest
        if (httprequest.content_length or 0) > limit:
            return self._answer(413, "payload too large")
        # Kept on the request: Odoo runs the route again after a serialization
        # failure, and the stream can be read only once.
        body = httprequest.get_data()
        if len(body) > limit:
            return self._answer(413, "payload too large")
        headers = dict(httprequest.headers)
        query = httprequest.args.to_dict()
        if not backend._call("webhook_verify", body, headers, query):
            _logger.info("Webhook for backend %s refused: bad signature", backend_id)
            return self._answer(401, "invalid signature")
        return self._answer(*backend._webhook_intake(body, headers))

    @staticmethod
    def _answer(status, text):
        return request.make_response(
            json.dumps({"status": text}),
            headers=[("Content-Type", "application/json")],
            status=status,
        )

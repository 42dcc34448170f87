# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
import json

import requests

from odoo import models

from ..core.errors import DocumentRefused, PayloadError, SyncError, TransientError
from ..core.idempotency import message_key, payload_digest
from ..core.retry import is_transient_http_status, retry_after_seconds


class DistributionSyncBackendPushMixin(models.AbstractModel):
    """What goes out: outbound messages queued for what Odoo owns, and the
    HTTP call to the channel's API with its error classes."""

    _name = "distribution.sync.backend.push.mixin"
    _description = "Distribution Sync Backend: outbound"

    def _http(self, method, path, *, json_body=None, params=None, headers=None):
        """Call the backend's API; return the decoded JSON (or ``{}``).

        Network failures, throttling and 5xx raise ``TransientError`` (the
        message is retried); other 4xx raise ``PayloadError`` (a retry would
        not help, an exception is opened).
        """
        self.ensure_one()
        if not self.api_url:
            raise SyncError(
                self.env._("The backend %s has no API URL.", self.name),
                hint=self.env._("Set the API URL on the backend, then retry."),
            )
        url = f"{self.api_url.rstrip('/')}/{path.lstrip('/')}"
        try:
            response = requests.request(
                method,
                url,
                json=json_body,
                params=params,
                headers=headers,
                timeout=self.request_timeout or 20,
            )
        except (requests.Timeout, requests.ConnectionError) as exc:
            raise TransientError(f"{method} {url}: {exc}") from exc
        if is_transient_http_status(response.status_code):
            raise TransientError(
                f"{method} {url} answered {response.status_code}",
                retry_after=retry_after_seconds(response.headers.get("Retry-After")),
            )
        if response.status_code >= 400:
            raise DocumentRefused(
                f"{method} {url} refused the request ({response.status_code}): "
                f"{response.text[:500]}",
                value=response.status_code,
            )
        if not response.content:
            return {}
        try:
            return response.json()
        except ValueError as exc:
            raise PayloadError(f"{method} {url} did not answer JSON.") from exc

    def _push(
        self, record, topic, payload, entity, key=None, work_key=None, enqueue=True
    ):
        """Queue one outbound message for ``record`` unless the channel owns
        ``entity``. Pushing the same content twice makes one message (the
        default key is the record, the topic and the content's digest).
        ``enqueue=False`` only stores it: the caller queues it (e.g. in a
        job shared with others)."""
        self.ensure_one()
        if not self._ownership_matrix().may_push(entity):
            return self.env["distribution.sync.message"]
        body = json.dumps(payload, sort_keys=True, default=str)
        key = key or message_key(record._name, record.id, topic, payload_digest(body))
        message, is_new = self.env["distribution.sync.message"]._intake(
            self,
            "outbound",
            topic,
            key,
            body,
            res_model=record._name,
            res_id=record.id,
            work_key=work_key or f"{record._name}:{record.id}",
        )
        if is_new and enqueue:
            message._enqueue()
        return message

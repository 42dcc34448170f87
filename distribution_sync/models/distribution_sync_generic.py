# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
import json

from odoo import models

from ..core import reference
from ..core.canonical import parse_datetime
from ..core.errors import PayloadError
from ..core.idempotency import message_key, payload_digest
from ..core.signature import hmac_sha256_hex


class DistributionSyncBackend(models.Model):
    """The reference channel, ``generic``: JSON webhooks signed with a hex
    HMAC-SHA256 (``X-Sync-Signature``), topics ``partner/upsert``,
    ``order/upsert``, ``order/cancel`` and ``refund/create`` (a canonical
    refund: a credit note, see ``core.reference``), a REST API
    at ``api_url`` (``GET /ping``, ``GET /events?since=``, ``POST /<topic>``).

    It is what the core's tests drive end to end and the model for channel
    addons; it also fits any system able to send signed JSON.
    """

    _inherit = "distribution.sync.backend"

    # ----------------------------------------------------------------- generic
    def _generic_order_channel(self):
        return True

    def _generic_webhook_verify(self, body, headers, query=None):
        secret = self._get_secret("webhook_secret")
        return bool(secret) and reference.verify(secret, body, headers)

    def _generic_webhook_identity(self, body, headers, data):
        topic, key = reference.event_identity(headers, body)
        external_id = None
        if isinstance(data, dict) and data.get("external_id") not in (None, ""):
            external_id = str(data["external_id"])
        entity = (topic or "").split("/", 1)[0] or "event"
        return {
            "topic": topic,
            "idempotency_key": key,
            "external_id": external_id,
            "work_key": external_id and f"{entity}:{external_id}",
        }

    def _generic_process_message(self, message):
        try:
            data = json.loads(message.payload or "")
        except ValueError as exc:
            raise PayloadError(
                self.env._("The message body is not valid JSON: %s", exc)
            ) from exc
        try:
            parsed = reference.parse(message.topic, data)
        except reference.UnknownTopic as exc:
            return {"state": "skipped", "summary": str(exc)}
        importer = self.env["distribution.sync.importer"]
        if parsed["entity"] == "order":
            if parsed.get("action") == "cancel":
                return importer._cancel_sale_order(self, parsed["external_id"], message)
            return importer._import_sale_order(self, parsed["order"], message)
        if parsed["entity"] == "refund":
            return importer._import_credit_note(self, parsed["refund"], message)
        return self._generic_import_customer(parsed, message)

    def _generic_import_customer(self, parsed, message):
        binding = self.env["distribution.sync.binding"]._find(
            self, "res.partner", parsed["external_id"]
        )
        result = {"res_model": "res.partner", "canonical": parsed}
        force = self.env.context.get("distribution_sync_force")
        reason = (
            binding
            and binding._record()
            and not force
            and binding._skip_reason(
                parsed.get("updated_at"), message.payload_digest, "customer"
            )
        )
        if reason:
            return dict(result, res_id=binding.res_id, state="skipped", summary=reason)
        customer = dict(parsed["values"], external_id=parsed["external_id"])
        partner, problems = self.env["distribution.sync.importer"]._import_customer(
            self,
            customer,
            updated_at=parsed.get("updated_at"),
            digest=message.payload_digest,
        )
        return dict(
            result,
            res_id=partner.id,
            problems=problems,
            summary=partner.display_name,
            odoo_values=customer,
        )

    def _generic_push_record(self, message):
        secret = self._get_secret("webhook_secret") or ""
        body = (message.payload or "").encode()
        answer = self._http(
            "POST",
            message.topic,
            json_body=json.loads(message.payload or "{}"),
            headers={
                reference.EVENT_ID_HEADER: message.idempotency_key,
                reference.SIGNATURE_HEADER: reference.SIGNATURE_PREFIX
                + hmac_sha256_hex(secret, body),
            },
        )
        external_id = answer.get("id") if isinstance(answer, dict) else None
        return {
            "external_id": external_id and str(external_id),
            "summary": f"Sent, remote id {external_id}" if external_id else "Sent",
        }

    def _generic_fetch_changes(self, since, cursor=None):
        """``GET events?since=&cursor=``: one page of events, and the
        ``next_cursor`` of the answer when there are more."""
        params = {"since": since.isoformat()} if since else {}
        if cursor:
            params["cursor"] = cursor
        answer = self._http("GET", "events", params=params)
        events = []
        for event in answer.get("events", []):
            data = event.get("data") or {}
            body = json.dumps(data, sort_keys=True)
            external_id = data.get("external_id")
            entity = (event.get("topic") or "").split("/", 1)[0]
            events.append(
                {
                    "topic": event.get("topic"),
                    "idempotency_key": f"event:{event['id']}"
                    if event.get("id")
                    else message_key("fetch", payload_digest(body)),
                    "external_id": external_id and str(external_id),
                    "work_key": external_id and f"{entity}:{external_id}",
                    "payload": body,
                    "updated_at": event.get("updated_at")
                    and parse_datetime(event["updated_at"]),
                }
            )
        return events, answer.get("next_cursor") or None

    def _generic_test_connection(self):
        answer = self._http("GET", "ping")
        return self.env._(
            "Connected to %(url)s (%(answer)s).", url=self.api_url, answer=answer
        )

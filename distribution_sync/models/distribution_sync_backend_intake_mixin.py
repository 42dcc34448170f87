# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
import json
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError

from odoo.addons.queue_job.exception import RetryableJobError

from ..core.errors import PayloadError, TransientError


class DistributionSyncBackendIntakeMixin(models.AbstractModel):
    """What comes in: verified webhooks and fetched changes, stored once per
    idempotency key and queued, whatever the channel."""

    _name = "distribution.sync.backend.intake.mixin"
    _description = "Distribution Sync Backend: intake"

    fetch_overlap_minutes = fields.Integer(
        default=10,
        help="Changes are re-fetched from this many minutes before the last "
        "checkpoint so that nothing falls between two runs.",
    )
    fetch_checkpoint = fields.Datetime(copy=False, readonly=True)

    def _default_webhook_identity(self, body, headers, data):
        raise UserError(self.env._("This channel does not receive webhooks."))

    def _store_webhook(self, body, headers, data):
        """Store one verified webhook once, identified by its channel's
        ``webhook_identity``; return ``(message, is_new)``."""
        self.ensure_one()
        identity = self._call("webhook_identity", body, headers, data)
        return self.env["distribution.sync.message"]._intake(
            self,
            "inbound",
            identity.get("topic"),
            identity["idempotency_key"],
            body,
            headers=headers,
            external_id=identity.get("external_id"),
            api_version=identity.get("api_version"),
            work_key=identity.get("work_key"),
        )

    def _webhook_intake(self, body, headers):
        """Store a verified webhook once and queue its job.

        Returns ``(http_status, text)``. A body that is not JSON is stored in
        ``error`` with a validation exception and still answered ``200``: a
        redelivery would not fix it.
        """
        self.ensure_one()
        try:
            # JSON between systems is UTF-8 (RFC 8259): a body in another
            # encoding, or with a byte order mark, is no JSON here. Deep
            # nesting raises RecursionError, which is no ValueError.
            data, invalid = json.loads(body.decode("utf-8")), None
        except (ValueError, RecursionError) as exc:
            data, invalid = None, exc
        message, is_new = self._store_webhook(body, headers, data)
        if not is_new:
            return 200, "duplicate"
        if invalid is not None:
            message._record_failure(
                PayloadError(
                    self.env._("The webhook body is not valid JSON (%s).", invalid),
                    hint=self.env._(
                        "Ask the sender to fix its payload; this delivery cannot "
                        "be processed."
                    ),
                ),
                attempt=1,
            )
            return 200, "stored with error: body is not JSON"
        message._enqueue()
        return 200, "accepted"

    # --------------------------------------------------------- fetched changes
    def action_fetch_changes(self):
        """Queue the fetch of what changed since the checkpoint (with overlap);
        while one is pending for a backend, asking again queues nothing."""
        self.check_access("write")
        for backend in self:
            backend._queue_fetch()
        return True

    def _fetch_identity_key(self, since, move_checkpoint):
        """One pending fetch per backend, and one per backend and start for
        the fetches that leave the checkpoint alone (backfills)."""
        if move_checkpoint:
            return f"distribution_sync:fetch:{self.id}"
        return f"distribution_sync:import:{self.id}:{since}"

    def _queue_fetch(
        self, since=None, cursor=None, started=None, move_checkpoint=True, **options
    ):
        """Queue one part of a fetch (see ``_fetch_changes_job``); every part of
        one fetch has the same identity key, so a second fetch asked for while
        a part is pending is not queued. ``options`` go to ``with_delay``."""
        self.ensure_one()
        options.setdefault(
            "description",
            self.env._("Fetch changes from %s", self.name)
            if cursor is None
            else self.env._("Fetch changes from %s (next page)", self.name),
        )
        return (
            self._with_technical_user()
            .with_delay(
                channel=self._job_channel(),
                identity_key=self._fetch_identity_key(since, move_checkpoint),
                **options,
            )
            ._fetch_changes_job(
                since=since,
                cursor=cursor,
                started=started,
                move_checkpoint=move_checkpoint,
            )
        )

    def _fetch_events(self, since, cursor=None):
        """The backend's ``fetch_changes`` in a job: ``(events, next_cursor)``.
        A channel that cannot be reached now is retried later by queue_job
        (pattern of the job function, or the wait the channel asked for),
        checkpoint untouched."""
        try:
            return self._call("fetch_changes", since, cursor)
        except TransientError as exc:
            raise RetryableJobError(str(exc), seconds=exc.retry_after) from exc

    def _fetch_changes_job(
        self, since=None, cursor=None, started=None, move_checkpoint=True
    ):
        """Bring in one page of what changed since ``since`` (UTC text; by
        default the checkpoint minus the overlap), from ``cursor``.

        A job does one page, so that a large backlog never holds a worker
        beyond its time limit: the events of the page are committed with the
        job, which queues the next page. The checkpoint moves to when the
        first page started once the last page is in (``move_checkpoint``):
        a fetch broken on the way starts again from the old checkpoint, and
        what was already stored is not stored twice (idempotency keys).
        """
        self.ensure_one()
        if cursor is None and since is None and move_checkpoint:
            started = fields.Datetime.to_string(fields.Datetime.now())
            if self.fetch_checkpoint:
                since = fields.Datetime.to_string(
                    self.fetch_checkpoint
                    - timedelta(minutes=self.fetch_overlap_minutes)
                )
        events, next_cursor = self._fetch_events(
            since and fields.Datetime.to_datetime(since), cursor
        )
        created = self._intake_fetched(events)
        if next_cursor:
            self._queue_fetch(since, next_cursor, started, move_checkpoint)
        elif move_checkpoint and started:
            self.sudo().fetch_checkpoint = fields.Datetime.to_datetime(started)
        return self.env._(
            "%(events)s events fetched, %(new)s new%(more)s",
            events=len(events),
            new=len(created),
            more=self.env._("; next page queued") if next_cursor else "",
        )

    def _intake_fetched(self, events):
        """Store fetched events as webhooks are stored (once per idempotency
        key) and queue the new ones; return the new messages."""
        self.ensure_one()
        created = self.env["distribution.sync.message"]
        for event in events:
            message, is_new = self.env["distribution.sync.message"]._intake(
                self,
                "inbound",
                event["topic"],
                event["idempotency_key"],
                event["payload"],
                external_id=event.get("external_id"),
                work_key=event.get("work_key"),
            )
            if is_new:
                created |= message
        created._enqueue()
        return created

    @api.model
    def _cron_fetch_changes(self):
        backends = self.search([("api_url", "!=", False)])
        for backend in backends:
            if hasattr(backend, f"_{backend.backend_type}_fetch_changes"):
                backend.action_fetch_changes()
        return True

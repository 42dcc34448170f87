# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
import json
import traceback
from datetime import timedelta

import psycopg2

from odoo import api, fields, models
from odoo.exceptions import UserError

from odoo.addons.queue_job.exception import RetryableJobError

from ..core.errors import PayloadError, SyncError, TransientError, storable


class FetchFailed(Exception):
    """A fetch of changes that will not succeed by being retried now."""

    def __init__(self, error):
        super().__init__(str(error))
        self.error = error


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

    def _default_webhook_events(self, body, headers, data):
        """One delivery, one event: the channel's ``webhook_identity``."""
        return [self._call("webhook_identity", body, headers, data)]

    def _store_webhook(self, body, headers, data):
        """Store a verified webhook of one event once, identified by its
        channel's ``webhook_identity``; return ``(message, is_new)``."""
        self.ensure_one()
        identity = self._call("webhook_identity", body, headers, data)
        return self._store_webhook_event(identity, body, headers)

    def _store_webhook_event(self, event, body, headers):
        """Store one event of a delivery on the backend it is routed to (this
        one unless ``event["backend"]`` says otherwise): its own ``payload``
        when the channel split the delivery, else the whole body."""
        backend = event.get("backend") or self
        payload = event.get("payload")
        if payload is None:
            payload = body
        return self.env["distribution.sync.message"]._intake(
            backend,
            "inbound",
            event.get("topic"),
            event["idempotency_key"],
            payload,
            headers=headers,
            external_id=event.get("external_id"),
            api_version=event.get("api_version"),
            work_key=event.get("work_key"),
        )

    def _webhook_events(self, body, headers, data):
        """The events of one delivery (``webhook_events`` of the channel).
        An event routed to a backend that is not an active one of this
        channel stays on this backend with a ``problem``: stored, never lost."""
        self.ensure_one()
        events = []
        for event in self._call("webhook_events", body, headers, data):
            target = event.get("backend")
            if target and (
                target.backend_type != self.backend_type or not target.active
            ):
                event = dict(
                    event,
                    backend=self,
                    problem=self.env._(
                        "This event is for %(target)s, which is not an active "
                        "%(type)s backend.",
                        target=target.display_name,
                        type=self.backend_type,
                    ),
                )
            events.append(event)
        return events

    def _webhook_intake(self, body, headers):
        """Store each event of a verified webhook once and queue its job.

        Returns ``(http_status, text)``. A body that is not JSON is stored in
        ``error`` with a validation exception and still answered ``200``: a
        redelivery would not fix it; so is an event the channel could not
        route (its ``problem``); an event the channel says is not for
        anybody here (its ``skip``) is stored as skipped.
        """
        self.ensure_one()
        try:
            # JSON between systems is UTF-8 (RFC 8259): a body in another
            # encoding, or with a byte order mark, is no JSON here. Deep
            # nesting raises RecursionError, which is no ValueError.
            data, invalid = json.loads(body.decode("utf-8")), None
        except (ValueError, RecursionError) as exc:
            data, invalid = None, exc
        events = self._webhook_events(body, headers, data)
        created = self.env["distribution.sync.message"]
        problems = skipped = 0
        for event in events:
            message, is_new = self._store_webhook_event(event, body, headers)
            if not is_new:
                continue
            if event.get("skip") and invalid is None:
                # Kept for the record, nothing to do (e.g. an account no
                # backend here follows).
                message._record_success(
                    {"state": "skipped", "summary": event["skip"]}, attempt=1
                )
                skipped += 1
                continue
            problem = event.get("problem")
            if invalid is not None:
                problem = self.env._(
                    "The webhook body is not valid JSON (%s).", invalid
                )
            if problem:
                problems += 1
                error = PayloadError(
                    problem,
                    hint=self.env._(
                        "Ask the sender to fix its payload, or set up the "
                        "backend it is meant for; this delivery cannot be "
                        "processed as it is."
                    ),
                )
                if invalid is not None:
                    # A body that is no JSON is a "validation" exception (the
                    # webhook contract); running it again cannot help.
                    error.category, error.retryable = "validation", False
                message._record_failure(error, attempt=1)
            else:
                created |= message
        created._enqueue()
        if invalid is not None and problems:
            return 200, "stored with error: body is not JSON"
        if not created and not problems and not skipped:
            return 200, "duplicate"
        if len(events) == 1:
            return 200, (
                "stored with error"
                if problems
                else "stored, nothing to do"
                if skipped
                else "accepted"
            )
        return 200, f"accepted {len(created)} of {len(events)} events"

    # --------------------------------------------------------- fetched changes
    def action_fetch_changes(self):
        """Queue the fetch of what changed since the checkpoint (with overlap);
        while one is pending for a backend, asking again queues nothing.
        Backends whose credentials are missing are left out (their fetch could
        only fail). Answers a notification; a failure (e.g. when jobs run at
        once) is a ``UserError`` with its reason."""
        self.check_access("write")
        queued = self.filtered("credentials_set")
        for backend in queued:
            with backend._outside_errors_as_user_errors():
                backend._queue_fetch()
        missing = self - queued
        if missing:
            return self._notification(
                self.env._("Nothing fetched"),
                self.env._(
                    "Fill in the connection settings (address and credentials) "
                    "of %s first.",
                    ", ".join(missing.mapped("name")),
                ),
                kind="warning",
            )
        return self._notification(
            self.env._("Fetch queued"),
            self.env._(
                "What changed in %s is fetched in the background: new records "
                "appear under Messages within a few minutes.",
                ", ".join(queued.mapped("name")),
            ),
        )

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
        checkpoint untouched; its last retry, and any other failure, raises
        ``FetchFailed`` for the inbox."""
        try:
            return self._call("fetch_changes", since, cursor)
        except TransientError as exc:
            if self._job_retries_left():
                raise RetryableJobError(str(exc), seconds=exc.retry_after) from exc
            raise FetchFailed(exc) from exc
        except (psycopg2.Error, RetryableJobError):
            raise
        except Exception as exc:  # a scheduled job's failure must reach a person
            raise FetchFailed(exc) from exc

    @api.model
    def _current_job(self):
        """The ``queue.job`` this code runs in (empty outside a job)."""
        job_uuid = self.env.context.get("job_uuid")
        if not job_uuid:
            return self.env["queue.job"]
        return self.env["queue.job"].sudo().search([("uuid", "=", job_uuid)], limit=1)

    def _job_retries_left(self):
        """Whether queue_job will run the current job again after a
        ``RetryableJobError`` (always, outside a job)."""
        job = self._current_job()
        return not job or not job.max_retries or job.retry + 1 < job.max_retries

    def _fetch_work_key(self):
        return f"fetch:{self.id}"

    def _fetch_problem(self, error):
        """Open (or refresh) the inbox's record of a failed fetch; it replaces
        the record of an earlier failure for another reason."""
        self.ensure_one()
        if isinstance(error, SyncError):
            category, hint = error.category, error.hint
            if category == "validation":
                category = "payload"
        else:
            category, hint = "technical", ""
        exc = self._open_exception(
            category,
            self.env._(
                "The scheduled fetch of changes from %(backend)s failed: %(error)s",
                backend=self.name,
                error=error,
            ),
            work_key=self._fetch_work_key(),
            hint=hint
            or self.env._(
                "Fix the cause on the backend; the next scheduled fetch resolves "
                "this (or use Fetch changes now)."
            ),
            record=self,
            retryable=False,
        )
        self._resolve_fetch_problems(keep=exc)
        # A crash (only): its trace for the technical page of the exception.
        exc.sudo().error_details = (
            storable("".join(traceback.format_exception(error)))
            if category == "technical"
            else False
        )
        return exc

    def _resolve_fetch_problems(self, keep=None):
        exceptions = self.env["distribution.sync.exception"].sudo()
        stale = exceptions.search(
            [
                ("backend_id", "=", self.id),
                ("work_key", "=", self._fetch_work_key()),
                ("state", "=", "open"),
                ("id", "!=", keep.id if keep else False),
            ]
        )
        stale._close(
            "resolved",
            note=self.env._("Resolved automatically: the fetch ran again."),
        )

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
        try:
            events, next_cursor = self._fetch_events(
                since and fields.Datetime.to_datetime(since), cursor
            )
        except FetchFailed as failed:
            # The job ends well (queue_job would keep the failure to itself):
            # the inbox says what to fix, the checkpoint stays.
            self._fetch_problem(failed.error)
            return self.env._("Fetch failed: %s", failed.error)
        self._resolve_fetch_problems()
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
                # Queued even without credentials: the job's failure puts the
                # missing setting in the inbox, where somebody sees it.
                backend._queue_fetch()
        return True

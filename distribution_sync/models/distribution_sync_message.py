# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
import collections
import json
import logging
import time
import traceback
from datetime import timedelta

import psycopg2
from psycopg2 import errorcodes

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.service.model import PG_CONCURRENCY_ERRORS_TO_RETRY
from odoo.tools import format_datetime, mute_logger

from odoo.addons.queue_job.exception import RetryableJobError

from ..core import states as core_states
from ..core import topics as core_topics
from ..core.canonical import to_jsonable
from ..core.display import parse_mapping_stamp, pretty_json
from ..core.errors import PayloadError, SyncError, TransientError, storable
from ..core.idempotency import lock_key, payload_digest
from ..core.retry import is_transient_exception

_logger = logging.getLogger(__name__)

# Headers that may carry credentials are never stored.
UNSAFE_HEADER_WORDS = ("authorization", "cookie", "token", "secret", "password", "key")
SIGNATURE_HEADER_WORDS = ("hmac", "signature")


def _indexable(value):
    """``value`` as text when an indexed column can hold it, else None: an id
    out of a malformed body (a NUL, an unpaired surrogate, thousands of
    characters) must not stop the body from being stored; its mapping then
    says what is wrong."""
    if value in (None, False, ""):
        return None
    value = str(value)
    if len(value) > 255 or storable(value) != value:
        return None
    return value


def safe_headers(headers):
    """The headers worth keeping for support, without credentials or signatures."""
    kept = {}
    for name, value in (headers or {}).items():
        lname = name.lower()
        if any(word in lname for word in UNSAFE_HEADER_WORDS + SIGNATURE_HEADER_WORDS):
            continue
        kept[name] = value
    return kept


class DistributionSyncMessage(models.Model):
    """Every inbound or outbound event, kept as received or sent.

    The state machine lives in ``core.states``; this model persists it. One
    message is processed by one job at a time (an advisory lock on its work
    key), is idempotent (a processed message is not processed again unless it
    is replayed) and ends in a state a person can read: done, skipped, blocked
    (a rule or mapping stopped it, an exception says what to do), error or
    dead (retries exhausted).
    """

    _name = "distribution.sync.message"
    _description = "Distribution Sync Message"
    _inherit = ["distribution.sync.record.link.mixin"]
    _order = "id desc"

    backend_id = fields.Many2one(
        "distribution.sync.backend", required=True, ondelete="cascade", index=True
    )
    # Precomputed: part of the INSERT rather than an UPDATE after it.
    company_id = fields.Many2one(
        related="backend_id.company_id", store=True, index=True, precompute=True
    )
    backend_type = fields.Selection(related="backend_id.backend_type")
    direction = fields.Selection(
        [("inbound", "Inbound"), ("outbound", "Outbound")],
        required=True,
        default="inbound",
        index=True,
    )
    topic = fields.Char(index=True)
    external_id = fields.Char(index=True)
    idempotency_key = fields.Char(required=True)
    work_key = fields.Char(
        index=True,
        help="Identifies the piece of work (e.g. one order) across its messages; "
        "a success resolves the open exceptions of the same work.",
    )
    state = fields.Selection(
        core_states.MESSAGE_STATES, required=True, default="received", index=True
    )
    payload = fields.Text(help="The raw body exactly as received or sent.")
    headers = fields.Text(help="Headers kept for support (never credentials).")
    api_version = fields.Char(string="API version")
    payload_digest = fields.Char(index=True)
    attempt_count = fields.Integer(string="Attempts", default=0, readonly=True)
    next_retry_at = fields.Datetime(string="Next retry", readonly=True)
    processed_at = fields.Datetime(readonly=True, index=True)
    last_error = fields.Text(readonly=True)
    error_details = fields.Text(readonly=True, groups="base.group_system")
    result_summary = fields.Char(readonly=True)
    job_uuid = fields.Char(readonly=True, index=True, copy=False)
    canonical = fields.Text(
        string="Canonical form", readonly=True, help="The mapped, channel-neutral form."
    )
    odoo_values = fields.Text(
        string="Odoo values", readonly=True, help="The values written to Odoo."
    )
    mapping_version = fields.Char(readonly=True)
    exception_ids = fields.One2many("distribution.sync.exception", "message_id")
    exception_count = fields.Integer(compute="_compute_exception_count")

    _sql_constraints = [
        (
            "idempotency_uniq",
            "unique(backend_id, direction, idempotency_key)",
            "This event was already received.",
        )
    ]

    # Fields a person may change directly (none: what was received or sent,
    # and how far its processing went, is written by the sync itself; people
    # act through Retry, Replay, Requeue and Skip).
    _user_writable_fields = frozenset()

    def write(self, vals):
        refused = set(vals) - self._user_writable_fields
        if refused and not self.env.su:
            raise AccessError(
                self.env._(
                    "Messages are kept as received or sent: %(fields)s cannot be "
                    "changed. Use Retry, Replay, Requeue or Skip.",
                    fields=", ".join(sorted(refused)),
                )
            )
        return super().write(vals)

    # How a message reads on screen (nothing stored: the raw fields stay the
    # contract and the record of what was received or sent).
    topic_label = fields.Char(
        string="Event",
        compute="_compute_topic_label",
        help="The topic in words; the channel's own name is in Topic.",
    )
    mapping_version_label = fields.Char(
        string="Mappings",
        compute="_compute_mapping_version_label",
        help="The mappings in force when the message was processed.",
    )
    payload_pretty = fields.Text(string="Body", compute="_compute_pretty_json")
    headers_pretty = fields.Text(string="Headers kept", compute="_compute_pretty_json")

    @api.depends("topic", "external_id", "direction")
    def _compute_display_name(self):
        for message in self:
            arrow = "←" if message.direction == "inbound" else "→"
            message.display_name = " ".join(
                part for part in (arrow, message.topic, message.external_id) if part
            )

    def _topic_label_tables(self):
        """Label tables of this message's channel, in the user's language,
        the first one read first: the channel's ``_<type>_topic_labels()``
        (``{topic or (direction, topic): label}``, none by default), then the
        core's generic topics."""
        self.ensure_one()
        backend = self.backend_id
        core = {
            key: self.env._(label) for key, label in core_topics.TOPIC_LABELS.items()
        }
        return (backend._call("topic_labels") if backend else {}), core

    @api.depends("topic", "direction", "backend_id.backend_type")
    @api.depends_context("lang")
    def _compute_topic_label(self):
        tables = {}
        for message in self:
            backend_type = message.backend_id.backend_type
            if backend_type not in tables:
                tables[backend_type] = message._topic_label_tables()
            message.topic_label = core_topics.topic_label(
                message.topic, *tables[backend_type], direction=message.direction
            )

    @api.depends("mapping_version")
    @api.depends_context("lang", "tz")
    def _compute_mapping_version_label(self):
        for message in self:
            stamp = parse_mapping_stamp(message.mapping_version)
            if not stamp:
                message.mapping_version_label = False
                continue
            count, last_change = stamp
            when = (
                format_datetime(self.env, last_change, dt_format="yyyy-MM-dd HH:mm")
                if last_change
                else ""
            )
            if not count:
                message.mapping_version_label = self.env._(
                    "No mapping in force (last change %s)", when
                )
            else:
                message.mapping_version_label = self.env._(
                    "Mappings as of %(date)s (%(count)s in force)",
                    date=when,
                    count=count,
                )

    @api.depends("payload", "headers")
    def _compute_pretty_json(self):
        for message in self:
            message.payload_pretty = pretty_json(message.payload)
            message.headers_pretty = pretty_json(message.headers)

    def _compute_exception_count(self):
        counts = dict(
            self.env["distribution.sync.exception"]._read_group(
                [("message_id", "in", self.ids), ("state", "=", "open")],
                ["message_id"],
                ["__count"],
            )
        )
        for message in self:
            message.exception_count = counts.get(message, 0)

    # ------------------------------------------------------------------ intake
    @api.model
    def _prepare_intake_vals(self, backend, direction, topic, key, payload, **extra):
        if isinstance(payload, bytes):
            payload = payload.decode("utf-8", errors="replace")
        if payload and "\x00" in payload:
            # A text column holds no NUL: such a body (no valid JSON as sent)
            # is kept with U+FFFD in its place.
            payload = payload.replace("\x00", "\ufffd")
        extra = dict(
            extra,
            external_id=_indexable(extra.get("external_id")),
            work_key=_indexable(extra.get("work_key")),
        )
        vals = {
            "backend_id": backend.id,
            "direction": direction,
            "topic": topic,
            "idempotency_key": key,
            "payload": payload,
            "payload_digest": payload_digest(payload or ""),
            "api_version": extra.get("api_version") or backend.api_version,
            "external_id": extra.get("external_id"),
            "work_key": extra.get("work_key")
            or (extra.get("external_id") and f"{topic}:{extra['external_id']}"),
            "headers": json.dumps(safe_headers(extra.get("headers")), sort_keys=True)
            if extra.get("headers")
            else False,
            "state": extra.get("state", "received"),
        }
        if extra.get("res_model"):
            vals.update(res_model=extra["res_model"], res_id=extra.get("res_id"))
        return vals

    @api.model
    def _intake(self, backend, direction, topic, key, payload, **extra):
        """Store one event exactly once; return ``(message, is_new)``.

        Safe under concurrency: two transactions inserting the same key end
        with one row and the loser gets ``is_new = False``; its message is the
        existing one, or empty when that row was committed after the loser's
        snapshot began (PostgreSQL repeatable read: not visible to it).
        """
        messages = self.sudo()
        domain = [
            ("backend_id", "=", backend.id),
            ("direction", "=", direction),
            ("idempotency_key", "=", key),
        ]
        # A redelivery is looked for first, with a plain read: inserting its
        # key again would wait for the job that is processing the message
        # (its transaction holds the row), and the sender, waiting for the
        # answer, would deliver it once more.
        existing = messages.search(domain, limit=1)
        if existing:
            return existing, False
        vals = self._prepare_intake_vals(
            backend, direction, topic, key, payload, **extra
        )
        # The unique key tells a duplicate a concurrent delivery committed
        # after the read above.
        try:
            with mute_logger("odoo.sql_db"), self.env.cr.savepoint():
                message = messages.create(vals)
        except psycopg2.errors.UniqueViolation:
            return messages.search(domain, limit=1), False
        return message, True

    # --------------------------------------------------------------- enqueueing
    def _job_method(self):
        """Name of the job method of this message (by direction)."""
        return "_process_job" if self.direction == "inbound" else "_send_job"

    def _delayed(self, backend, description, identity_key, eta=None):
        """These messages, ready to queue a job of ``backend``: as its technical
        user and company, in its channel, with a deterministic identity key."""
        return (
            self.with_user(backend.user_id or self.env.user)
            .with_company(backend.company_id)
            # queue.job is a mail.thread: no chatter work on the hot path.
            .with_context(
                tracking_disable=True,
                mail_create_nolog=True,
                mail_create_nosubscribe=True,
            )
            .with_delay(
                channel=backend._job_channel(),
                eta=eta,
                description=description,
                identity_key=identity_key,
                max_retries=0,
            )
        )

    def _mark_queued(self, job):
        for message in self:
            if message.state != "queued":
                core_states.check_transition(message.state, "queued")
            message.sudo().write(
                {
                    "state": "queued",
                    "job_uuid": getattr(job, "uuid", None) or message.job_uuid,
                }
            )

    def _enqueue(self, eta=None):
        """Queue the processing (or sending) job of each message, once."""
        for message in self:
            backend = message.backend_id
            attempt = message.attempt_count + 1
            delayed = message._delayed(
                backend,
                self.env._(
                    "%(backend)s: %(message)s (attempt %(attempt)s)",
                    backend=backend.name,
                    message=message.display_name,
                    attempt=attempt,
                ),
                f"distribution_sync:{message.id}:{attempt}",
                eta=eta,
            )
            message._mark_queued(getattr(delayed, message._job_method())())
        return True

    def _enqueue_batch(self, size=50):
        """Queue inbound messages in shared jobs of at most ``size`` messages.

        One job per backend and chunk, with an identity key made of the
        sorted message ids (the same chunk is not queued twice). Outbound
        messages keep one job each.
        """
        inbound = self.filtered(lambda m: m.direction == "inbound")
        (self - inbound)._enqueue()
        for backend in inbound.backend_id:
            ids = sorted(inbound.filtered(lambda m, b=backend: m.backend_id == b).ids)
            for start in range(0, len(ids), size):
                chunk = self.browse(ids[start : start + size])
                delayed = chunk._delayed(
                    backend,
                    self.env._(
                        "%(backend)s: %(count)s messages",
                        backend=backend.name,
                        count=len(chunk),
                    ),
                    "distribution_sync:batch:" + ",".join(str(i) for i in chunk.ids),
                )
                chunk._mark_queued(delayed._process_batch_job())
        return True

    # --------------------------------------------------------------- processing
    def _lock_work(self):
        """Serialise the work on one business object across workers."""
        key = lock_key(f"{self.backend_id.id}:{self.work_key or self.idempotency_key}")
        self.env.cr.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", (7919, key))
        return self.env.cr.fetchone()[0]

    def _do_work(self):
        """The backend's verb for this message: process it (inbound) or send
        it (outbound)."""
        verb = "process_message" if self.direction == "inbound" else "push_record"
        # The technical user does not follow what it creates (customers,
        # addresses, deliveries...): nobody reads its inbox, and each order
        # would add follower rows. Chatter logging and tracking stay.
        backend = self.backend_id.with_context(mail_create_nosubscribe=True)
        return backend._call(verb, self)

    def _job(self):
        """Body of a single-message job: open messages only, one worker per
        piece of work (idempotent)."""
        self.ensure_one()
        if self.state not in core_states.OPEN_STATES:
            return f"Nothing to do: message is {self.state}."
        if not self._lock_work():
            raise RetryableJobError(
                "Another worker is on the same object.", seconds=2, ignore_retry=True
            )
        with self.env["distribution.sync.backend"]._job_scope():
            return self._run(self._do_work)

    def _process_job(self):
        """queue_job entry point of an inbound message (idempotent).

        Run by the job runner, the job then goes on with the backlog of its
        backend (``_drain_backlog``): a lone webhook is processed at once, a
        burst of them shares a few jobs.
        """
        summary = self._job()
        job_uuid = self.env.context.get("job_uuid")
        if job_uuid and self.direction == "inbound":
            drained = self._drain_backlog(job_uuid)
            if drained:
                summary = f"{summary} Backlog: {drained}."
        return summary

    def _work_in_shared_job(self):
        """Process this message inside a job shared with others (advisory
        lock, its own savepoint, outcome on the message); return its state,
        or ``left open`` when another worker holds its work or a concurrent
        update hit it (its own job, or the stuck-message cron, takes it)."""
        if self.state not in core_states.OPEN_STATES:
            return "unchanged"
        if not self._lock_work():
            return "left open"
        try:
            self._run(self._do_work)
        except RetryableJobError:
            return "left open"
        return self.state

    def _process_batch_job(self):
        """queue_job entry point of several inbound messages sharing one job.

        Each open message is processed as ``_process_job`` does, so the
        failure of one does not affect the others (``_work_in_shared_job``).
        """
        # Mapping, product, country... lookups are shared by the messages.
        with self.env["distribution.sync.backend"]._job_scope():
            states = [message._work_in_shared_job() for message in self]
        return self._states_summary(states)

    @staticmethod
    def _states_summary(states):
        """``done: 3, left open: 1``: how many messages of a shared job ended
        in each state."""
        counts = collections.Counter(states)
        return ", ".join(f"{state}: {n}" for state, n in sorted(counts.items()))

    # How much of its backend's backlog one job takes over (see _drain_backlog).
    _drain_size = 50
    _drain_seconds = 30

    def _backlog_jobs(self, limit):
        """``(message id, queue job id)`` of this backend's inbound messages
        whose own job waits to start; their job rows are locked (rows another
        transaction holds are skipped), so no two jobs take the same message.

        Newest first: the runner starts the oldest, and a row it changed
        since this transaction began cannot be locked here (serialization
        failure): then there is no backlog to take this time.
        """
        try:
            with mute_logger("odoo.sql_db"), self.env.cr.savepoint():
                return self._lock_backlog_jobs(limit)
        except psycopg2.errors.SerializationFailure:
            return []

    def _lock_backlog_jobs(self, limit):
        self.env.cr.execute(
            """
            SELECT message.id, job.id
              FROM distribution_sync_message message
              JOIN queue_job job ON job.uuid = message.job_uuid
             WHERE message.backend_id = %s
               AND message.direction = 'inbound'
               AND message.state = 'queued'
               AND message.id != %s
               AND job.state = 'pending'
               AND job.method_name = '_process_job'
               AND (job.eta IS NULL OR job.eta <= (now() AT TIME ZONE 'utc'))
             ORDER BY job.id DESC
             LIMIT %s
               FOR UPDATE OF job SKIP LOCKED
            """,
            (self.backend_id.id, self.id, limit),
        )
        return self.env.cr.fetchall()

    def _drain_backlog(self, job_uuid):
        """Process the backend's waiting messages in this job, at most
        ``_drain_size`` of them within ``_drain_seconds``.

        Each one is processed as in a shared job; the queue job of each one
        processed is marked done here (same transaction), so the runner does
        not start it. Should the runner start it all the same, it finds the
        message done and does nothing. Returns a summary, empty when there
        was no backlog.
        """
        rows = self._backlog_jobs(self._drain_size)
        if not rows:
            return ""
        deadline = time.monotonic() + self._drain_seconds
        states, done_jobs = [], []
        with self.env["distribution.sync.backend"]._job_scope():
            for message_id, job_id in rows:
                if time.monotonic() > deadline:
                    break
                state = self.browse(message_id)._work_in_shared_job()
                states.append(state)
                if state != "left open":
                    done_jobs.append(job_id)
        if done_jobs:
            self.env["queue.job"].sudo().browse(done_jobs).with_context(
                tracking_disable=True
            ).write(
                {
                    "state": "done",
                    "date_done": fields.Datetime.now(),
                    "result": self.env._(
                        "Processed by job %(uuid)s with the backlog.", uuid=job_uuid
                    ),
                }
            )
        return self._states_summary(states)

    def _send_job(self):
        """queue_job entry point of an outbound message (idempotent)."""
        return self._job()

    def _run(self, work):
        """Run ``work`` in a savepoint and record the outcome on the message.

        Business errors and transient failures are caught and recorded (the
        job itself ends well, so nothing is lost and nothing is logged as a
        crash). Database concurrency errors are re-raised as retryable so
        that queue_job restarts the job in a fresh transaction.
        """
        self.ensure_one()
        attempt = self.attempt_count + 1
        # One problem, one exception: what this run does not raise again is
        # closed once its outcome is recorded (see ``_supersede``).
        previous = self._open_exception_counts()
        try:
            with self.env.cr.savepoint():
                result = work() or {}
        except psycopg2.Error as exc:
            concurrent = exc.pgcode in PG_CONCURRENCY_ERRORS_TO_RETRY or (
                exc.pgcode == errorcodes.UNIQUE_VIOLATION
            )
            if concurrent and self._may_retry_concurrency():
                raise RetryableJobError(
                    f"Concurrent update ({exc.pgcode}), retrying.", seconds=2
                ) from exc
            self._record_failure(exc, attempt)
            self._supersede_exceptions(previous)
            return f"Error: {exc}"
        except RetryableJobError:
            raise
        except Exception as exc:  # every failure must end on the message
            self._record_failure(exc, attempt)
            self._supersede_exceptions(previous)
            return f"{self.state}: {self.last_error}"
        self._record_success(result, attempt)
        self._supersede_exceptions(previous)
        return self.result_summary or self.state

    def _open_exception_counts(self):
        """``{id: occurrence count}`` of the open exceptions of the message."""
        self.ensure_one()
        exceptions = (
            self.env["distribution.sync.exception"]
            .sudo()
            .search([("message_id", "=", self.id), ("state", "=", "open")])
        )
        return {exc.id: exc.occurrence_count for exc in exceptions}

    def _supersede_exceptions(self, previous):
        # A retry planned for later has not run the work past anything yet.
        if self.state != "queued":
            self.env["distribution.sync.exception"]._supersede(self, previous)

    # Retries of one job after a concurrent update or a unique violation: a
    # race is over after a few; a conflict that is still there is not a race
    # (e.g. a unique key of another record) and becomes an exception.
    _concurrency_retries = 5

    def _may_retry_concurrency(self):
        """Whether the current job may be retried for a concurrency error
        (outside a queue job nothing counts the retries: it may)."""
        job = self.env["distribution.sync.backend"]._current_job()
        return not job or job.retry < self._concurrency_retries

    def _record_success(self, result, attempt):
        """Record a finished piece of work.

        ``result["state"]`` may be ``blocked`` when the work was kept (e.g. an
        order created but left unconfirmed) while ``result["problems"]`` (a
        list of ``SyncError``) says what a person must fix.
        """
        state = result.get("state", "done")
        core_states.check_transition(self.state, state)
        vals = {
            "state": state,
            "attempt_count": attempt,
            "processed_at": fields.Datetime.now(),
            "next_retry_at": False,
            "last_error": "; ".join(str(p) for p in result.get("problems", ()))
            or False,
            "result_summary": (result.get("summary") or "")[:250] or False,
            "mapping_version": self.backend_id._mapping_version(),
        }
        if result.get("res_model"):
            vals.update(res_model=result["res_model"], res_id=result.get("res_id"))
        for key in ("canonical", "odoo_values"):
            if key in result:
                vals[key] = json.dumps(to_jsonable(result[key]), indent=1, default=str)
        if result.get("external_id") and not self.external_id:
            vals["external_id"] = result["external_id"]
        self.sudo().write(vals)
        self.sudo().error_details = False
        if state in core_states.FINAL_STATES:
            self.env["distribution.sync.exception"]._auto_resolve(self)
        for problem in result.get("problems", ()):
            self._open_exception_for(problem)

    def _failure_state(self, exc, attempt):
        """Message state after ``exc``: queued (retry), dead, blocked or error."""
        if is_transient_exception(exc):
            return core_states.state_after_failure(
                True, attempt, self.backend_id._retry_policy()
            )
        if isinstance(exc, SyncError) and not isinstance(exc, PayloadError):
            # Stopped by a mapping, a rule or the ownership matrix: fixable.
            return "blocked"
        return "error"

    def _record_failure(self, exc, attempt):
        """Record a failure; a transient one is retried with backoff."""
        state = self._failure_state(exc, attempt)
        core_states.check_transition(self.state, state)
        vals = {
            "state": state,
            "attempt_count": attempt,
            "last_error": storable(str(exc) or exc.__class__.__name__),
            "processed_at": fields.Datetime.now(),
            "next_retry_at": False,
        }
        delay = 0
        if state == "queued":
            delay = self.backend_id._retry_delay(attempt, self._job_method())
            # A longer wait asked by the channel (Retry-After) is honoured.
            delay = max(delay or 0, getattr(exc, "retry_after", None) or 0)
            vals["next_retry_at"] = fields.Datetime.now() + timedelta(seconds=delay)
        self.sudo().write(vals)
        # A traceback helps only with a crash: a known problem (a mapping, a
        # rule, the channel's answer) is said in words on the message.
        self.sudo().error_details = (
            False
            if isinstance(exc, SyncError)
            else storable("".join(traceback.format_exception(exc)))
        )
        if state == "queued":
            self._enqueue(eta=delay)
        else:
            self._open_exception_for(exc, dead=state == "dead")

    def _open_exception_for(self, exc, dead=False):
        if isinstance(exc, SyncError):
            category = "transient" if dead else exc.category
            name = str(exc)
            value = exc.value
            hint = exc.hint
        elif dead or isinstance(exc, TransientError) or is_transient_exception(exc):
            category, value, hint = "transient", None, ""
            name = self.env._(
                "The channel could not be reached after %(count)s attempts: "
                "%(error)s. Check the connection, then retry.",
                count=self.attempt_count,
                error=exc,
            )
        else:
            category, value = "technical", exc.__class__.__name__
            name = self.env._(
                "Unexpected error while processing: %(error)s. Retry; if it "
                "persists, send the message to your integrator.",
                error=exc,
            )
            hint = ""
        if dead and isinstance(exc, SyncError):
            name = self.env._(
                "Given up after %(count)s attempts: %(error)s",
                count=self.attempt_count,
                error=exc,
            )
        document = self._document()
        record = getattr(exc, "record", None) or document
        return self.backend_id._open_exception(
            category,
            name,
            message=self,
            record=record,
            value=value,
            hint=hint,
            mapping_type=getattr(exc, "mapping_type", None),
            severity=getattr(exc, "severity", None),
            retryable=getattr(exc, "retryable", None),
        )

    # ------------------------------------------------------------------ actions
    def _process_now(self):
        """Process in the current transaction, as the technical user, under
        the same lock as the jobs: a person's Retry or Replay never runs the
        work of an object a job is on."""
        with self.env["distribution.sync.backend"]._job_scope():
            for message in self:
                backend = message.backend_id
                if not message._lock_work():
                    raise UserError(
                        self.env._(
                            "A job is processing %s right now: try again in a moment.",
                            message.display_name,
                        )
                    )
                if message.state not in core_states.OPEN_STATES:
                    core_states.check_transition(message.state, "queued")
                    message.sudo().state = "queued"
                runner = message.with_user(
                    backend.user_id or self.env.user
                ).with_company(backend.company_id)
                runner._run(runner._do_work)
        return True

    def action_retry(self):
        """Retry now with the current mappings and rules; answers with a
        notification of the outcome."""
        retryable = self.filtered(
            lambda m: m.state in core_states.RETRYABLE_STATES | core_states.OPEN_STATES
        )
        if not retryable:
            raise UserError(
                self.env._("Only failed or pending messages can be retried.")
            )
        for message in retryable:
            message._audit("retry")
        retryable._process_now()
        return retryable._outcome_notification()

    def _outcome_text(self):
        """One sentence saying where the message stands after a run."""
        self.ensure_one()
        summary = self.result_summary or self.display_name
        if self.state == "done":
            return self.env._("%s: done.", summary)
        if self.state == "skipped":
            return self.env._("%s: nothing to do.", summary)
        if self.state == "blocked" and self.res_id:
            held = self.exception_ids.filtered(
                lambda e: e.state == "open" and e.severity != "warning"
            )
            return self.env._(
                "%(document)s, held by %(count)s check(s): %(reasons)s",
                document=summary,
                count=len(held) or 1,
                reasons=self.last_error,
            )
        if self.state == "queued":
            return self.env._(
                "%(message)s: the channel could not be reached (%(error)s); "
                "tried again automatically.",
                message=self.display_name,
                error=self.last_error,
            )
        return self.env._("Still failing: %s", self.last_error)

    def _outcome_notification(self):
        """A notification of how the last run of the messages went, then a
        reload of the view (the states and exceptions changed)."""
        if not self:
            return True
        states = set(self.mapped("state"))
        if states <= {"done", "skipped"}:
            kind = "success"
        elif states & {"error", "dead"}:
            kind = "danger"
        else:
            kind = "warning"
        text = "\n".join(message._outcome_text() for message in self[:5])
        if len(self) > 5:
            text += "\n" + self.env._("… and %s more.", len(self) - 5)
        return self.env["distribution.sync.backend"]._notification(
            self.env._("Retry"),
            text,
            kind=kind,
            sticky=kind == "danger",
            next={"type": "ir.actions.client", "tag": "soft_reload"},
        )

    def action_replay(self):
        """Re-run a message (even a processed one) with the current mappings."""
        for message in self:
            if message.state not in core_states.REPLAYABLE_STATES:
                raise UserError(
                    self.env._(
                        "Message %s cannot be replayed now.", message.display_name
                    )
                )
            if message.direction == "outbound" and message.state == "done":
                # The channel has it: sending it again could duplicate it there.
                raise UserError(
                    self.env._(
                        "Message %s was delivered already: it is not sent twice. "
                        "To send the current state again, push the record anew.",
                        message.display_name,
                    )
                )
            message._audit("replay")
            # A replay must re-apply even an unchanged payload.
            message.with_context(distribution_sync_force=True)._process_now()
        return True

    def action_requeue(self):
        """Hand the message back to the job queue."""
        for message in self:
            message._audit("requeue")
        self.filtered(lambda m: m.state != "queued")._enqueue()
        return True

    def action_skip(self):
        for message in self:
            try:
                core_states.check_transition(message.state, "skipped")
            except core_states.InvalidTransition as exc:
                raise UserError(str(exc)) from exc
            message._audit("skip")
        self.sudo().write({"state": "skipped", "result_summary": "Skipped by hand"})
        return True

    def action_dry_run(self):
        """Show what a replay would change, without writing anything."""
        self.ensure_one()
        report = self._dry_run()
        wizard = self.env["distribution.sync.message.dry.run"].create(
            {"message_id": self.id, "report": report}
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": wizard._name,
            "res_id": wizard.id,
            "view_mode": "form",
            "target": "new",
            "name": self.env._("Dry run"),
        }

    def _dry_run(self):
        """Run the processing in a savepoint that is always rolled back."""
        self.ensure_one()
        report = {}
        backend = self.backend_id
        runner = (
            self.with_user(backend.user_id or self.env.user)
            .with_company(backend.company_id)
            .with_context(distribution_sync_force=True, distribution_sync_dry_run=True)
        )

        savepoint = self.env.cr.savepoint()
        try:
            result = backend.with_env(runner.env)._call("process_message", runner)
            report = {"outcome": "ok", "result": to_jsonable(result or {})}
        except Exception as exc:  # reported to the user, then rolled back
            report = {
                "outcome": "failure",
                "error": str(exc),
                "category": getattr(exc, "category", "technical"),
            }
        finally:
            savepoint.close(rollback=True)
        self.env.invalidate_all()
        return json.dumps(report, indent=2, default=str, ensure_ascii=False)

    def action_open_exceptions(self):
        self.check_access("read")
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Exceptions"),
            "res_model": "distribution.sync.exception",
            "view_mode": "list,form",
            "domain": [("message_id", "=", self.id)],
        }

    def _audit(self, action, note=None):
        self.env["distribution.sync.audit"]._log(
            action, backend=self.backend_id, record=self, note=note
        )

    # -------------------------------------------------------------------- crons
    @api.model
    def _cron_requeue_stuck(self, minutes=30):
        """Requeue messages whose job vanished, failed or hangs.

        Jobs ``enqueued`` or ``started`` are queue_job's: its runner puts
        them back to pending once their worker is gone (the job lock is
        free). This covers the messages whose job vanished (a database
        restore), was cancelled by hand, failed or ended without processing
        them.
        """
        limit = fields.Datetime.now() - timedelta(minutes=minutes)
        candidates = self.sudo().search(
            [
                ("state", "in", tuple(core_states.OPEN_STATES)),
                ("write_date", "<", limit),
                "|",
                ("next_retry_at", "=", False),
                ("next_retry_at", "<", limit),
            ],
            limit=500,
        )
        if not candidates:
            return 0
        jobs = (
            self.env["queue.job"]
            .sudo()
            .search([("uuid", "in", [m.job_uuid for m in candidates if m.job_uuid])])
        )
        by_uuid = {job.uuid: job for job in jobs}
        stuck = self.browse()
        for message in candidates:
            job = by_uuid.get(message.job_uuid)
            if job and job.state in (
                "pending",
                "wait_dependencies",
                "enqueued",
                "started",
            ):
                # queue.job.requeue() only acts on failed, done and
                # cancelled jobs; the runner requeues dead started ones.
                continue
            stuck |= message
        stuck._enqueue()
        return len(candidates)

    @api.model
    def _purge_domain(self, backend):
        limit = fields.Datetime.now() - timedelta(days=backend.retention_days)
        return [
            ("backend_id", "=", backend.id),
            ("state", "in", tuple(core_states.FINAL_STATES)),
            ("create_date", "<", limit),
            # Messages behind an exception stay for the audit trail.
            ("exception_ids", "=", False),
        ]

    @api.model
    def _cron_purge(self, batch_size=1000):
        """Delete processed messages past their backend's retention, by batch.

        Failed, blocked and dead messages are never purged. The cron runs
        again at once while batches remain (``ir.cron`` progress).
        """
        backends = (
            self.env["distribution.sync.backend"]
            .with_context(active_test=False)
            .search([("retention_days", ">", 0)])
        )
        purged = remaining = 0
        for backend in backends:
            old = self.sudo().search(self._purge_domain(backend), limit=batch_size)
            purged += len(old)
            old.unlink()
            remaining += self.sudo().search_count(self._purge_domain(backend))
        self.env["ir.cron"]._notify_progress(done=purged, remaining=remaining)
        return purged

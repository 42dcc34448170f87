# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
import contextlib
import time
from datetime import timedelta

from odoo import api, fields, models

from ..core import limits
from ..core.errors import TransientError

# First key of the advisory lock that serialises the slots of one backend.
LOCK_NAMESPACE = 0x44535253  # "DSRS"
# A worker waits this long at most for a slot, then its job is retried later.
MAX_WAIT = 60.0
# A request never released (its worker died) stops counting as under way
# this long after the backend's request timeout.
LEASE_MARGIN = 10
# A slot is taken a moment before the outside system counts the request: the
# window is kept this much longer, so that jitter on the way never puts one
# request too many in the system's own window.
ARRIVAL_MARGIN = 0.5


class DistributionSyncRequestSlot(models.Model):
    """One request sent to an outside system, kept while it counts against
    the system's limits: its start for the rate window, its end for the
    number under way (``core.limits`` decides).

    Shared by every worker and server: a slot is taken in a transaction of
    its own, under an advisory lock on the backend, and committed before the
    request goes; it is released, also committed, when the answer is in.
    Rows older than the window are removed as new ones are taken."""

    _name = "distribution.sync.request.slot"
    _description = "Distribution Sync: request slot"
    _log_access = False
    _order = "id"

    backend_id = fields.Many2one(
        "distribution.sync.backend", required=True, ondelete="cascade"
    )
    bucket = fields.Char(
        required=True,
        default="api",
        help="Requests limited together (e.g. QuickBooks' batch requests have "
        "a limit of their own besides the company's).",
    )
    started_at = fields.Datetime(required=True)
    released_at = fields.Datetime()

    def init(self):
        self.env.cr.execute(
            "CREATE INDEX IF NOT EXISTS distribution_sync_request_slot_bucket_start"
            " ON distribution_sync_request_slot (backend_id, bucket, started_at)"
        )

    @api.model
    def _acquire(
        self, backend, per_window, window, max_concurrent, lease, bucket="api"
    ):
        """Wait for a free slot of ``backend`` in ``bucket`` and take it: its
        id. Raises ``TransientError`` (the job is retried later) after
        ``MAX_WAIT``."""
        deadline = time.monotonic() + MAX_WAIT
        while True:
            with self.env.registry.cursor() as cr:
                if not self.env.registry.in_test_mode():
                    # The count after the lock must see the slots the worker
                    # that held it committed.
                    cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
                cr.execute(
                    "SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, backend.id]
                )
                # The database's clock: the same for every server.
                cr.execute("SELECT clock_timestamp() AT TIME ZONE 'UTC'")
                now = cr.fetchone()[0]
                cr.execute(
                    "DELETE FROM distribution_sync_request_slot"
                    " WHERE backend_id = %s AND bucket = %s AND started_at < %s",
                    [
                        backend.id,
                        bucket,
                        now - timedelta(seconds=max(window + ARRIVAL_MARGIN, lease)),
                    ],
                )
                cr.execute(
                    "SELECT started_at, released_at IS NULL"
                    " FROM distribution_sync_request_slot"
                    " WHERE backend_id = %s AND bucket = %s",
                    [backend.id, bucket],
                )
                rows = cr.fetchall()
                running = sum(
                    1
                    for started, open_ in rows
                    if open_ and (now - started).total_seconds() < lease
                )
                wait = limits.wait_before_request(
                    [row[0] for row in rows],
                    running,
                    now,
                    per_window,
                    window + ARRIVAL_MARGIN,
                    max_concurrent,
                )
                if not wait:
                    cr.execute(
                        "INSERT INTO distribution_sync_request_slot"
                        " (backend_id, bucket, started_at) VALUES (%s, %s, %s)"
                        " RETURNING id",
                        [backend.id, bucket, now],
                    )
                    # Leaving the block commits: other workers count it.
                    return cr.fetchone()[0]
            if time.monotonic() + wait > deadline:
                raise TransientError(
                    self.env._(
                        "%(backend)s: as many requests as the outside system "
                        "allows were sent in the last %(window)s s; the work goes "
                        "on in %(seconds)s s.",
                        backend=backend.name,
                        window=round(window),
                        seconds=round(wait),
                    ),
                    retry_after=wait,
                )
            time.sleep(wait)

    @api.model
    def _release(self, slot_id):
        with self.env.registry.cursor() as cr:
            cr.execute(
                "UPDATE distribution_sync_request_slot"
                " SET released_at = clock_timestamp() AT TIME ZONE 'UTC'"
                " WHERE id = %s",
                [slot_id],
            )

    @api.model
    def _limiter(self, backend, bucket="api", limits=None):
        """A context manager factory for a client: each request holds a slot
        of ``backend`` in ``bucket``; ``limits`` ``(per_window, window,
        at_once)``, by default ``backend._request_limits()``; none: no slot
        at all."""
        per_window, window, max_concurrent = limits or backend._request_limits()
        lease = (backend.request_timeout or 20) + LEASE_MARGIN

        @contextlib.contextmanager
        def slot():
            if not per_window and not max_concurrent:
                yield
                return
            slot_id = self._acquire(
                backend, per_window, window, max_concurrent, lease, bucket
            )
            try:
                yield
            finally:
                self._release(slot_id)

        return slot

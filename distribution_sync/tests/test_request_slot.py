# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
import contextlib
from unittest.mock import patch

from ..core.errors import TransientError
from ..models import distribution_sync_request_slot as slot_module
from .common import DistributionSyncCase


class TestRequestSlot(DistributionSyncCase):
    """Request limits kept in the database: slots are taken and released in
    transactions of their own (the registry's test mode stands for them)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.share_own_cursors()
        cls.slots = cls.env["distribution.sync.request.slot"].sudo()

    def _rows(self):
        return self.slots.search([("backend_id", "=", self.backend.id)])

    def _take(self, per_window=None, window=60, at_once=None, lease=30, bucket="api"):
        return self.slots._acquire(
            self.backend, per_window, window, at_once, lease, bucket
        )

    def test_channel_limits_and_backend_settings(self):
        self.assertEqual(self.backend._request_limits(), (None, 60, None))
        self.backend.write({"request_limit": 50, "request_limit_window": 6})
        self.assertEqual(self.backend._request_limits(), (50, 6, None))
        self.backend.request_limit_concurrent = 3
        self.assertEqual(self.backend._request_limits(), (50, 6, 3))

    def test_no_limit_takes_no_slot(self):
        with self.backend._request_limiter()():
            pass
        self.assertFalse(self._rows())

    def test_each_request_holds_a_slot_until_its_answer(self):
        self.backend.request_limit = 10
        limiter = self.backend._request_limiter()
        with limiter():
            held = self._rows()
            self.assertEqual(len(held), 1)
            self.assertFalse(held.released_at)
        held.invalidate_recordset()
        self.assertTrue(held.released_at)
        # Not assertRaises: it rolls back what happened inside it.
        with contextlib.suppress(ValueError), limiter():
            raise ValueError("the request failed")
        self.assertEqual(len(self._rows()), 2)
        self.assertTrue(all(self._rows().mapped("released_at")))

    def test_rate_window_full_waits_then_gives_up(self):
        for _ in range(3):
            self._take(per_window=3)
        with (
            patch.object(slot_module, "MAX_WAIT", 0.2),
            self.assertRaises(TransientError) as caught,
        ):
            self._take(per_window=3)
        # The oldest of the three leaves the window in about a minute.
        self.assertAlmostEqual(caught.exception.retry_after, 60, delta=2)
        self.assertEqual(len(self._rows()), 3)

    def test_window_frees_as_requests_age(self):
        for _ in range(2):
            self._take(per_window=2, window=0.3)
        # Waits about 0.3 s for the oldest to leave the window, then goes.
        self._take(per_window=2, window=0.3)
        self.assertEqual(len(self._rows()), 3)

    def test_requests_at_once(self):
        first = self._take(at_once=2)
        self._take(at_once=2)
        with (
            patch.object(slot_module, "MAX_WAIT", 0.2),
            self.assertRaises(TransientError),
        ):
            self._take(at_once=2)
        self.slots._release(first)
        self._take(at_once=2)
        self.assertEqual(len(self._rows()), 3)

    def test_a_slot_never_released_stops_counting_after_its_lease(self):
        self.env.cr.execute(
            "INSERT INTO distribution_sync_request_slot"
            " (backend_id, bucket, started_at)"
            " VALUES (%s, 'api', (clock_timestamp() AT TIME ZONE 'UTC')"
            " - interval '45 seconds')",
            [self.backend.id],
        )
        # Its worker died 45 s ago: with a 30 s lease it is no longer under
        # way, but it still counts in the minute's rate.
        self._take(at_once=1, lease=30)
        with (
            patch.object(slot_module, "MAX_WAIT", 0.2),
            self.assertRaises(TransientError),
        ):
            self._take(per_window=2)

    def test_old_slots_are_removed(self):
        self.env.cr.execute(
            "INSERT INTO distribution_sync_request_slot"
            " (backend_id, bucket, started_at)"
            " VALUES (%s, 'api', (clock_timestamp() AT TIME ZONE 'UTC')"
            " - interval '2 hours')",
            [self.backend.id],
        )
        self._take(per_window=5)
        self.assertEqual(len(self._rows()), 1)

    def test_buckets_are_limited_apart(self):
        for _ in range(2):
            self._take(per_window=2)
        # Another kind of request, limited on its own.
        self._take(per_window=2, bucket="batch")
        with (
            patch.object(slot_module, "MAX_WAIT", 0.2),
            self.assertRaises(TransientError),
        ):
            self._take(per_window=2)
        self.assertEqual(sorted(self._rows().mapped("bucket")), ["api", "api", "batch"])

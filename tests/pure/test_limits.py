"""Request limits: N requests in any sliding window, M at once (QuickBooks:
500 a minute, 10 at once)."""

import random
from datetime import datetime, timedelta, timezone

import pytest

from distribution_sync.core import limits

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)


def seconds_ago(*values):
    return [NOW - timedelta(seconds=value) for value in values]


def test_default_window_is_a_minute():
    assert limits.WINDOW_SECONDS == 60


def test_free_window():
    assert limits.next_slot([], NOW) == 0.0
    assert limits.next_slot(None, NOW) == 0.0
    assert limits.next_slot(seconds_ago(*range(499)), NOW) == 0.0


def test_full_window_waits_for_the_oldest_to_leave():
    # 500 requests, the oldest 50 s ago: the next may go in 10 s.
    sent = seconds_ago(*[50 - index * 0.1 for index in range(500)])
    assert limits.next_slot(sent, NOW) == pytest.approx(10.0)


def test_order_does_not_matter():
    sent = seconds_ago(*[index * 0.1 for index in range(500)])
    shuffled = list(sent)
    random.Random(7).shuffle(shuffled)
    assert limits.next_slot(shuffled, NOW) == limits.next_slot(sent, NOW)
    assert limits.next_slot(sent, NOW) == pytest.approx(60 - 49.9)


def test_requests_older_than_a_minute_do_not_count():
    sent = seconds_ago(*([61] * 300 + [60] * 100 + [1] * 400))
    # 60 s exactly has left the window: 400 count.
    assert limits.next_slot(sent, NOW) == 0.0
    assert len(limits.in_window(sent, NOW)) == 400


def test_over_full_window():
    # 510 in the window (another worker raced): wait until 11 have left.
    sent = seconds_ago(*[50 - index * 0.05 for index in range(510)])
    counted = sorted(sent)
    expected = (counted[10] - NOW).total_seconds() + 60
    assert limits.next_slot(sent, NOW) == pytest.approx(expected)


def test_per_minute():
    sent = seconds_ago(30, 20, 10)
    assert limits.next_slot(sent, NOW, per_minute=4) == 0.0
    assert limits.next_slot(sent, NOW, per_minute=3) == pytest.approx(30.0)
    assert limits.next_slot(sent, NOW, per_minute=1) == pytest.approx(50.0)


def test_future_times_count():
    # A slot reserved 5 s ahead (or a worker whose clock runs ahead).
    sent = [NOW + timedelta(seconds=5)]
    assert limits.next_slot(sent, NOW, per_minute=1) == pytest.approx(65.0)


def test_naive_times_are_utc():
    sent = [moment.replace(tzinfo=None) for moment in seconds_ago(30, 20, 10)]
    assert limits.next_slot(sent, NOW, per_minute=3) == pytest.approx(30.0)
    other_zone = NOW.astimezone(timezone(timedelta(hours=5)))
    assert limits.next_slot(sent, other_zone, per_minute=3) == pytest.approx(30.0)


@pytest.mark.parametrize("per_minute", [0, -1, True, 1.5, "500"])
def test_bad_per_minute(per_minute):
    with pytest.raises((TypeError, ValueError)):
        limits.next_slot([], NOW, per_minute=per_minute)


def test_a_schedule_by_next_slot_uses_the_whole_rate_and_never_exceeds_it():
    """2,000 requests, each sent as early as ``next_slot`` allows (a request
    takes a random 0-10 ms): never more than 500 in a 60 s window, and no
    time lost: each goes when it is ready or, when 500 went in the last
    minute, the moment the oldest of them leaves the window."""
    rng = random.Random(3)
    minute = timedelta(seconds=60)
    clock, sent, ready = NOW, [], []
    for _ in range(2000):
        ready.append(clock)
        clock += timedelta(seconds=limits.next_slot(sent[-600:], clock))
        sent.append(clock)
        clock += timedelta(seconds=rng.uniform(0, 0.01))
    left = 0
    for right, moment in enumerate(sent):
        while moment - sent[left] >= minute:
            left += 1
        assert right - left + 1 <= 500
    for index, moment in enumerate(sent):
        earliest = ready[index]
        if index >= 500:
            earliest = max(earliest, sent[index - 500] + minute)
        assert moment == earliest
    # 500 at once, then 500 a minute: 2,000 in three minutes.
    assert (sent[-1] - NOW).total_seconds() == pytest.approx(180, abs=6)


def test_concurrency():
    assert limits.concurrency_free(0)
    assert limits.concurrency_free(9)
    assert not limits.concurrency_free(10)
    assert not limits.concurrency_free(3, max_concurrent=3)


def test_window_of_other_length():
    # 50 in any 6 s: the same rate as 500 a minute, on a shorter clock.
    sent = seconds_ago(*[5 - index * 0.1 for index in range(50)])
    assert limits.next_slot(sent, NOW, per_minute=50, window=6) == pytest.approx(1.0)
    assert limits.next_slot(sent, NOW, per_minute=51, window=6) == 0.0
    assert len(limits.in_window(seconds_ago(7, 5, 1), NOW, window=6)) == 2


@pytest.mark.parametrize("window", [0, -1, True, "60"])
def test_bad_window(window):
    with pytest.raises((TypeError, ValueError)):
        limits.next_slot([], NOW, window=window)


def test_wait_before_request():
    full = seconds_ago(*[30 - index * 0.01 for index in range(500)])
    # The rate decides first: wait for the oldest to leave.
    assert limits.wait_before_request(full, 0, NOW, 500, 60, 10) == pytest.approx(30)
    # Room in the window, ten under way: look again shortly.
    wait = limits.wait_before_request(full[:10], 10, NOW, 500, 60, 10)
    assert wait == limits.CONCURRENCY_POLL
    assert limits.wait_before_request(full[:10], 9, NOW, 500, 60, 10) == 0.0
    # No limits set: go.
    assert limits.wait_before_request(full, 99, NOW, None, 60, None) == 0.0
    assert limits.wait_before_request(full, 99, NOW, 0, 60, 0) == 0.0

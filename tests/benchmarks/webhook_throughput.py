#!/usr/bin/env python3
"""Webhook intake throughput of distribution_sync, against a trivial route as baseline.

Not a pytest test (the name does not start with ``test_``). Run it by hand::

    python tests/benchmarks/webhook_throughput.py [--requests 2000] [--concurrency 8]

It finds Odoo like the test tier (the provisioned runtime, or ODOO_BIN),
creates a fresh database with distribution_sync installed (no demo data), serves it on
127.0.0.1 with ``--workers=2 --max-cron-threads=0`` and the queue_job runner, creates a
generic backend over XML-RPC, then sends the same number of requests to two trivial
routes, ``GET /web/health`` and ``GET /web/health?db_server_status=1`` (which opens a
database cursor: the baseline of the goal), and to
``POST /distribution_sync/webhook/<id>`` (signed, one new event each). It prints
accepted requests/s, p50/p95/p99 latency and non-200 answers for each, then stops the
server and drops the database. See README.md beside it.
"""

import argparse
import collections
import itertools
import json
import math
import threading
import time
import uuid
from http.client import HTTPConnection

from bench_common import ot, run_benchmark, served_database

SECRET = "bench-secret"
SKU = "BENCH-SKU"
# against the trivial route that opens a database cursor
GOAL_RATIO = 0.8
GOAL_P99_MS = 250.0
REQUEST_TIMEOUT = 10.0
PHASE_CAP_SECONDS = 900


class Phase:
    """Results of one batch of requests against one route."""

    def __init__(self, label):
        self.label = label
        self.latencies_ms = []
        self.statuses = collections.Counter()
        self.seconds = 0.0
        self.lock = threading.Lock()

    def add(self, status, millis):
        with self.lock:
            self.statuses[status] += 1
            self.latencies_ms.append(millis)

    @property
    def accepted(self):
        return self.statuses.get(200, 0)

    @property
    def rate(self):
        return self.accepted / self.seconds if self.seconds else 0.0

    @property
    def non_200(self):
        return sum(n for status, n in self.statuses.items() if status != 200)

    def percentile(self, pct):
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def make_webhook(backend_id, reference, valid=True):
    body = json.dumps(ot.sample_order(reference, SKU)).encode()
    signature = ot.sign_body(SECRET if valid else "wrong-secret", body)
    headers = {
        "Content-Type": "application/json",
        "X-Sync-Topic": "order/upsert",
        "X-Sync-Event-Id": reference,
        "X-Sync-Signature": signature,
    }
    return "POST", f"/distribution_sync/webhook/{backend_id}", body, headers


def make_health():
    return "GET", "/web/health", None, {}


def make_health_db():
    return "GET", "/web/health?db_server_status=1", None, {}


def run_phase(label, port, count, concurrency, build):
    """Send ``count`` requests from ``concurrency`` threads; ``build(i)`` makes one."""
    phase = Phase(label)
    numbers = itertools.count()
    numbers_lock = threading.Lock()
    deadline = time.monotonic() + PHASE_CAP_SECONDS

    def client():
        conn = HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
        while time.monotonic() < deadline:
            with numbers_lock:
                number = next(numbers)
            if number >= count:
                break
            method, path, body, headers = build(number)
            start = time.perf_counter()
            try:
                # Odoo answers HTTP/1.0 and closes: http.client reconnects by itself
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, ValueError) as exc:
                status = type(exc).__name__
                conn.close()
            phase.add(status, (time.perf_counter() - start) * 1000)
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    t0 = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    phase.seconds = time.perf_counter() - t0
    return phase


def row(phase):
    return (
        f"{phase.label:<34}{phase.rate:>10.1f}{phase.percentile(50):>9.1f}"
        f"{phase.percentile(95):>9.1f}{phase.percentile(99):>9.1f}{phase.non_200:>9}"
    )


def report(args, odoo, runner, health, health_db, hook, stored, jobs):
    ratio = hook.rate / health_db.rate if health_db.rate else 0.0
    ratio_plain = hook.rate / health.rate if health.rate else 0.0
    p99 = hook.percentile(99)
    ok_ratio, ok_p99 = ratio >= GOAL_RATIO, p99 <= GOAL_P99_MS
    line = "-" * 79
    ot.say(line)
    ot.say("webhook intake benchmark (distribution_sync)")
    ot.say(
        f"  Odoo {odoo.version}: --workers={args.workers} --max-cron-threads=0, "
        f"queue job runner {runner}"
    )
    ot.say(
        f"  {args.requests} requests per route, {args.concurrency} client threads, "
        f"timeout {REQUEST_TIMEOUT:.0f} s; Odoo closes the connection after each "
        "answer (HTTP/1.0), so every request opens a TCP connection"
    )
    ot.say(line)
    heads = ("accepted/s", "p50 ms", "p95 ms", "p99 ms", "non-200")
    ot.say(f"{'route':<34}{heads[0]:>10}" + "".join(f"{h:>9}" for h in heads[1:]))
    ot.say(row(health))
    ot.say(row(health_db))
    ot.say(row(hook))
    ot.say(line)
    ot.say(
        f"ratio webhook/health with a cursor  {ratio:6.2f}    goal >= {GOAL_RATIO}  "
        f"{'met' if ok_ratio else 'NOT MET'}"
    )
    ot.say(f"ratio webhook/health (no cursor)   {ratio_plain:6.2f}")
    ot.say(
        f"webhook p99         {p99:8.1f} ms goal <= {GOAL_P99_MS:.0f} ms  "
        f"{'met' if ok_p99 else 'NOT MET'}"
    )
    for phase in (health, health_db, hook):
        bad = {k: v for k, v in phase.statuses.items() if k != 200}
        if bad:
            ot.say(f"non-200 answers of {phase.label}: {dict(bad)}")
    ot.say(f"messages stored: {stored} for {hook.accepted} accepted webhooks")
    if jobs is not None:
        ot.say(f"queue jobs when the run ended: {jobs}")
    ot.say(
        f"wall time: {health.seconds:.1f} s (health), {health_db.seconds:.1f} s "
        f"(health with a cursor), {hook.seconds:.1f} s (webhook)"
    )
    return ok_ratio and ok_p99


def job_states(rpc):
    groups = rpc("queue.job", "read_group", [], ["state"], ["state"], lazy=False)
    return {group["state"]: group["__count"] for group in groups}


def benchmark(args, odoo, pg, workdir):
    channels = "root:1" if args.runner else "root:0"
    runner = (
        f"ON (channels {channels}: jobs run in the same HTTP workers, as in production)"
        if args.runner
        else "OFF (--no-runner: jobs stay pending)"
    )
    with served_database(
        odoo,
        pg,
        workdir,
        [ot.MAIN_ADDON],
        workers=args.workers,
        channels=channels,
        port=args.port,
    ) as served:
        rpc, port = served.rpc, served.port
        backend_id = rpc(
            "distribution.sync.backend",
            "create",
            {"name": "bench", "backend_type": "generic", "webhook_secret": SECRET},
        )
        rpc("product.product", "create", {"name": "Bench widget", "default_code": SKU})
        ot.say(f"bench: server on {served.base_url}, backend {backend_id}; warming up")
        warm = 10 * args.workers
        # wrong signature on purpose: loads the registry in every worker, stores nothing
        run_phase("warm-up", port, warm, args.concurrency, lambda i: make_health())
        run_phase(
            "warm-up",
            port,
            warm,
            args.concurrency,
            lambda i: make_webhook(backend_id, f"warm-{i}", valid=False),
        )
        ot.say(f"bench: {args.requests} x GET /web/health")
        health = run_phase(
            "GET /web/health",
            port,
            args.requests,
            args.concurrency,
            lambda i: make_health(),
        )
        ot.say(f"bench: {args.requests} x GET /web/health?db_server_status=1")
        health_db = run_phase(
            "GET /web/health (db cursor)",
            port,
            args.requests,
            args.concurrency,
            lambda i: make_health_db(),
        )
        run_id = uuid.uuid4().hex[:8]
        ot.say(f"bench: {args.requests} x POST /distribution_sync/webhook/{backend_id}")
        hook = run_phase(
            "POST /distribution_sync/webhook",
            port,
            args.requests,
            args.concurrency,
            lambda i: make_webhook(backend_id, f"bench-{run_id}-{i}"),
        )
        stored = rpc(
            "distribution.sync.message",
            "search_count",
            [("backend_id", "=", backend_id)],
        )
        jobs = job_states(rpc)
        return report(args, odoo, runner, health, health_db, hook, stored, jobs)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="per route")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads")
    parser.add_argument("--workers", type=int, default=2, help="Odoo HTTP workers")
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument(
        "--no-runner",
        dest="runner",
        action="store_false",
        help="do not run the queue job runner (jobs stay pending)",
    )
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 when a goal is not met"
    )
    args = parser.parse_args()

    def bench(odoo, pg, workdir):
        met = benchmark(args, odoo, pg, workdir)
        return 1 if args.strict and not met else 0

    return run_benchmark(bench)


if __name__ == "__main__":
    raise SystemExit(main())

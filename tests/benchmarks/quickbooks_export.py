#!/usr/bin/env python3
"""QuickBooks invoice export against QuickBooks' request limits, through the runner.

Not a pytest test (the name does not start with ``test_``). Run it by hand::

    python tests/benchmarks/quickbooks_export.py [--invoices 2000] [--window 60]

It creates a fresh database with distribution_sync_quickbooks (no demo data), serves
it on 127.0.0.1 with ``--workers`` HTTP workers and the queue_job runner, starts the
fake QuickBooks (``distribution_sync_quickbooks/tests/fake_quickbooks.py``) in this
process, enforcing QuickBooks' documented limits (500 requests a minute, 10 at once,
per company; ``--window`` scales the window down at the same rate), and creates over
XML-RPC a QuickBooks backend connected to the fake, with the same limits, and an 8 %
tax mapped to the fake's ``TAX`` code. Then, in one ``odoo shell`` transaction,
``--customers`` customers, ``--products`` products and ``--invoices`` posted
customer invoices (each posting queues one outbound message and its job); the
runner sends them once that transaction commits.

It prints what the fake saw (requests, the rate achieved against the allowed one
over the whole run and over its steady part, 429 answers, requests at once, the
QuickBooks invoices against the Odoo ones), what Odoo recorded (message states, open
exceptions, jobs and their execution times) and where the time went (the server
log's SQL per job run, database sessions sampled by a second ``odoo shell``, the
CPU used, and ``--profile`` more invoices sent one by one in ``odoo shell`` with the
time of each step); then stops the server and drops the database. See README.md
beside it.
"""

import argparse
import importlib.util
import json
import os
import re
import resource
import statistics
import threading
import time
from collections import Counter
from pathlib import Path

from bench_common import ot, run_benchmark, served_database

ADDON = "distribution_sync_quickbooks"
FAKE_PATH = ot.REPO_ROOT / ADDON / "tests" / "fake_quickbooks.py"
CHANNEL = "root.distribution_sync.quickbooks"
# QuickBooks' documented limits, per company.
PER_MINUTE = 500
AT_ONCE = 10
TAX_RATE = 8.0
TAX_CODE = "TAX"  # the fake's taxable code; it computes the tax itself
GOAL_RATE = 0.85
GOAL_THROTTLED = 0.01
POLL_SECONDS = 1.0
PROGRESS_SECONDS = 30.0
OBSERVER_INTERVAL = 0.1
PROFILE = 100
PROFILE_LABELS = (
    "message lock",
    "export (_push)",
    "refusals",
    "client",
    "canonical invoice",
    "references",
    "binding look-ups",
    "slot acquire",
    "HTTP",
    "slot release",
    "bind",
    "record outcome",
    "commit",
)
# Odoo's request log line: SQL statements, seconds in SQL, other seconds.
RUNJOB_RE = re.compile(
    r'GET /queue_job/runjob\S* HTTP/[\d.]+" \d+ - (\d+) ([\d.]+) ([\d.]+)'
)
MARK = "BENCH "

# Run by ``odoo shell`` (``env`` is given, superuser): customers, products and
# posted invoices in one transaction, so that the runner finds every job at once.
SHELL_SCRIPT = r"""
import json
import time

P = json.loads(PARAMS)
env = env(context=dict(env.context, tracking_disable=True, mail_create_nolog=True,
                       mail_notrack=True, mail_create_nosubscribe=True))
t0 = time.perf_counter()
customers = env["res.partner"].create([
    {"name": f"QB bench customer {n:04d}", "email": f"qbb{n}@example.com"}
    for n in range(P["customers"])
])
# Prices of quarters: 8 % of each line is whole cents, so Odoo's tax per line
# and the fake's tax on the taxable total are the same.
products = env["product.product"].create([
    {"name": f"QB bench product {n:03d}", "default_code": f"QBB-{n:03d}",
     "type": "consu", "list_price": 5 + 0.25 * n, "taxes_id": [(5, 0, 0)]}
    for n in range(P["products"])
])
Move = env["account.move"]
names = []
for start in range(0, P["invoices"], P["chunk"]):
    values = []
    for number in range(start, min(start + P["chunk"], P["invoices"])):
        lines = []
        for index in range(1 + number % 3):
            product = products[(number + 7 * index) % len(products)]
            lines.append((0, 0, {
                "product_id": product.id,
                "quantity": 1 + (number + index) % 4,
                "price_unit": product.list_price,
                "tax_ids": [(6, 0, [P["tax_id"]] if index % 2 == 0 else [])],
            }))
        values.append({
            "move_type": "out_invoice",
            "partner_id": customers[number % len(customers)].id,
            "invoice_line_ids": lines,
        })
    moves = Move.create(values)
    moves.action_post()
    names += moves.mapped("name")
    env.flush_all()
    env.invalidate_all()
queued = env["distribution.sync.message"].search_count(
    [("backend_id", "=", P["backend_id"]), ("direction", "=", "outbound")])
setup_seconds = time.perf_counter() - t0
env.cr.commit()
print("BENCH " + json.dumps({"committed": time.time(), "names": names,
                             "queued": queued, "setup_seconds": setup_seconds}),
      flush=True)
"""

# Run by ``odoo shell`` beside the server until the stop file appears: samples
# what the database's other sessions do, the jobs waiting for a slot of the
# runner, and keeps the request slots the limiter takes (it deletes the old).
OBSERVER_SCRIPT = r"""
import json
import os
import time
from collections import Counter

P = json.loads(PARAMS)
cr = env.cr
samples, slots, turn = [], {}, 0
open(P["ready"], "w").close()
while not os.path.exists(P["stop"]):
    cr.execute(
        "SELECT state, wait_event_type, wait_event FROM pg_stat_activity"
        " WHERE datname = current_database() AND pid != pg_backend_pid()"
        " AND backend_type = 'client backend'"
    )
    states = Counter()
    for state, kind, event in cr.fetchall():
        if state == "active" and kind == "Lock":
            states[f"lock:{event}"] += 1
        elif state in ("active", "idle in transaction"):
            states[state] += 1
    sample = {"t": time.time(), "states": states}
    if turn % 5 == 0:
        cr.execute(
            "SELECT count(*) FROM queue_job WHERE channel = %s AND state = 'pending'"
            " AND (eta IS NULL OR eta <= now() AT TIME ZONE 'UTC')",
            [P["channel"]],
        )
        sample["pending"] = cr.fetchone()[0]
        cr.execute(
            "SELECT id, extract(epoch FROM started_at AT TIME ZONE 'UTC')"
            " FROM distribution_sync_request_slot WHERE bucket = 'api'"
        )
        slots.update((str(i), float(t)) for i, t in cr.fetchall())
    samples.append(sample)
    turn += 1
    # A new snapshot for the next look (repeatable read).
    cr.rollback()
    time.sleep(P["interval"])
print("BENCH " + json.dumps({"samples": samples, "slots": slots}), flush=True)
"""

# Run by ``odoo shell`` after the run: ``profile`` more invoices sent one by one
# in this process (``_send_job`` and a commit each, as the runner's jobs do, their
# queued jobs set aside), with the time of the main steps.
PROFILE_SCRIPT = r"""
import json
import time
from collections import Counter

import requests

P = json.loads(PARAMS)
env = env(context=dict(env.context, tracking_disable=True, mail_create_nolog=True,
                       mail_notrack=True, mail_create_nosubscribe=True))
backend = env["distribution.sync.backend"].browse(P["backend_id"])
customers = env["res.partner"].search([("name", "=like", "QB bench customer %")])
products = env["product.product"].search([("default_code", "=like", "QBB-%")])
values = []
for number in range(P["profile"]):
    product = products[number % len(products)]
    values.append({
        "move_type": "out_invoice",
        "partner_id": customers[number % len(customers)].id,
        "invoice_line_ids": [(0, 0, {
            "product_id": product.id, "quantity": 1 + number % 3,
            "price_unit": product.list_price,
            "tax_ids": [(6, 0, [P["tax_id"]])],
        })],
    })
moves = env["account.move"].create(values)
moves.action_post()
messages = env["distribution.sync.message"].search([
    ("backend_id", "=", backend.id), ("direction", "=", "outbound"),
    ("res_model", "=", "account.move"), ("res_id", "in", moves.ids)])
env["queue.job"].search([("uuid", "in", messages.mapped("job_uuid"))]).write(
    {"state": "done"})
env.cr.commit()

spent = Counter()


def timed(owner, name, label):
    function = getattr(owner, name)

    def wrapper(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent[label] += time.perf_counter() - t0

    setattr(owner, name, wrapper)


registry = env.registry
for model, name, label in (
    ("distribution.sync.message", "_lock_work", "message lock"),
    ("distribution.sync.quickbooks.exporter", "_push", "export (_push)"),
    ("distribution.sync.quickbooks.exporter", "_refusals", "refusals"),
    ("distribution.sync.backend", "_quickbooks_client", "client"),
    ("account.move", "_prepare_distribution_sync_invoice", "canonical invoice"),
    ("distribution.sync.quickbooks.exporter", "_prepare_refs", "references"),
    ("distribution.sync.quickbooks.exporter", "_binding_of", "binding look-ups"),
    ("distribution.sync.request.slot", "_acquire", "slot acquire"),
    ("distribution.sync.request.slot", "_release", "slot release"),
    ("distribution.sync.binding", "_bind", "bind"),
    ("distribution.sync.message", "_record_success", "record outcome"),
):
    timed(registry[model], name, label)
timed(requests.Session, "request", "HTTP")

worker = env(user=backend.user_id.id, context=dict(
    env.context, allowed_company_ids=[backend.company_id.id]))
Message = worker["distribution.sync.message"]
env.invalidate_all()
q0 = env.cr.sql_log_count
t0 = time.perf_counter()
for message_id in messages.ids:
    Message.browse(message_id)._send_job()
    c0 = time.perf_counter()
    env.cr.commit()
    spent["commit"] += time.perf_counter() - c0
seconds = time.perf_counter() - t0
queries = env.cr.sql_log_count - q0
messages.invalidate_recordset()
print("BENCH " + json.dumps({
    "jobs": len(messages), "seconds": seconds, "queries": queries,
    "states": Counter(messages.mapped("state")),
    "errors": Counter(m.last_error for m in messages if m.last_error).most_common(2),
    "spent": spent,
}), flush=True)
"""


def load_fake():
    """The fake QuickBooks module, and a subclass of its server that stamps
    each API request with the moment it met the limits (``at``) and the
    moment its answer was sent (``end``), in ``time.time()`` seconds."""
    spec = importlib.util.spec_from_file_location("fake_quickbooks", FAKE_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    class TimedFake(module.FakeQuickBooks):
        def _admit(self, company, record):
            record["at"] = time.time()
            return super()._admit(company, record)

        def _send(self, handler, record, *args):
            try:
                return super()._send(handler, record, *args)
            finally:
                record["end"] = time.time()

    return module, TimedFake


def per_window(window):
    """Requests allowed in ``window`` seconds at 500 a minute (None: not a
    whole number)."""
    allowed = PER_MINUTE * window / 60
    return int(allowed) if allowed == int(allowed) else None


def create_backend(rpc, fake, limit, window):
    """The QuickBooks backend connected to the fake, with the fake's limits,
    and an 8 % tax mapped to the fake's ``TAX`` code: ``(backend, tax)``."""
    company_id = rpc("res.users", "read", [rpc.uid], ["company_id"])[0]["company_id"]
    tax_id = rpc(
        "account.tax",
        "create",
        {
            "name": f"QB bench {TAX_RATE:g}%",
            "amount": TAX_RATE,
            "amount_type": "percent",
            "type_tax_use": "sale",
            "price_include_override": "tax_excluded",
            "company_id": company_id[0],
        },
    )

    def account(name):
        return fake.find("Account", Name=name)[0]["Id"]

    backend_id = rpc(
        "distribution.sync.backend",
        "create",
        {
            "name": "QuickBooks bench",
            "backend_type": "quickbooks",
            "environment": "sandbox",
            "api_url": fake.api_url,
            "quickbooks_token_url": fake.token_url,
            "quickbooks_realm_id": fake.realm_id,
            "quickbooks_client_id": fake.client_id,
            "quickbooks_client_secret": fake.client_secret,
            "quickbooks_refresh_token": fake.refresh_token,
            "webhook_secret": fake.verifier_token,
            "quickbooks_default_item_ref": fake.find("Item", Name="Services")[0]["Id"],
            "quickbooks_income_account_ref": account("Sales of Product Income"),
            "quickbooks_expense_account_ref": account("Cost of Goods Sold"),
            "quickbooks_asset_account_ref": account("Inventory Asset"),
            # The fake's limits (with a 60 s window, QuickBooks' own, which
            # the backend applies when these are 0).
            "request_limit": limit,
            "request_limit_window": window,
            "request_limit_concurrent": AT_ONCE,
            "request_timeout": 20,
        },
    )
    rpc(
        "distribution.sync.mapping",
        "create",
        {
            "backend_id": backend_id,
            "mapping_type": "tax",
            "external_code": TAX_CODE,
            "tax_id": tax_id,
        },
    )
    return backend_id, tax_id


class Observer:
    """``OBSERVER_SCRIPT`` in an ``odoo shell`` of its own, in a thread."""

    def __init__(self, served, workdir):
        self.served, self.workdir = served, Path(workdir)
        self.ready = self.workdir / "observer.ready"
        self.stop_file = self.workdir / "observer.stop"
        self.result, self.error = None, None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        params = {
            "ready": str(self.ready),
            "stop": str(self.stop_file),
            "channel": CHANNEL,
            "interval": OBSERVER_INTERVAL,
        }
        script = f"PARAMS = {json.dumps(json.dumps(params))}\n" + OBSERVER_SCRIPT
        try:
            for text in self.served.shell(script, self.workdir, "observer"):
                if text.startswith(MARK):
                    self.result = json.loads(text[len(MARK) :])
        except ot.TierError as exc:
            self.error = exc

    def start(self, timeout=300):
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.ready.exists():
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise ot.TierError(f"the observer did not start: {self.error}")
            time.sleep(0.2)

    def stop(self):
        self.stop_file.touch()
        self.thread.join(300)
        return self.result or {"samples": [], "slots": {}}


def wait_final(rpc, backend_id, count, fake, cap_seconds):
    """When (``time.time()``) ``count`` outbound messages of the backend were
    seen final (None on the cap), and the load averages seen meanwhile;
    prints progress now and then."""
    domain = [
        ("backend_id", "=", backend_id),
        ("direction", "=", "outbound"),
        ("state", "in", list(ot.MESSAGE_FINAL_STATES)),
    ]
    started = time.monotonic()
    shown = started
    loads = []
    while time.monotonic() - started < cap_seconds:
        loads.append(os.getloadavg()[0])
        final = rpc("distribution.sync.message", "search_count", domain)
        if final >= count:
            return time.time(), loads
        if time.monotonic() - shown >= PROGRESS_SECONDS:
            shown = time.monotonic()
            ot.say(
                f"bench: {final}/{count} messages final, "
                f"{fake.created['Invoice']} invoices in the fake, "
                f"{len(fake.requests)} requests, {fake.throttled} answered 429"
            )
        time.sleep(POLL_SECONDS)
    return None, loads


def cpu_snapshot(db):
    """CPU seconds (user + system) used so far: by each process of the server
    and each PostgreSQL session of ``db`` (pid -> (kind, seconds)), by this
    process (the fake runs in it), and by the whole machine (busy time of
    every CPU, from ``/proc/stat``)."""
    ticks = os.sysconf("SC_CLK_TCK")
    processes = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            stat = (entry / "stat").read_text()
        except (OSError, UnicodeDecodeError):
            continue
        if db not in command or " shell " in command:
            continue
        kind = "postgres" if command.startswith("postgres:") else "odoo"
        fields = stat.rsplit(")", 1)[1].split()
        processes[int(entry.name)] = (kind, (int(fields[11]) + int(fields[12])) / ticks)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    with open("/proc/stat") as handle:
        cpu = [int(x) for x in handle.readline().split()[1:]]
    idle = cpu[3] + cpu[4]
    return {
        "processes": processes,
        "self": usage.ru_utime + usage.ru_stime,
        "machine": (sum(cpu[:8]) - idle) / ticks,
        "wall": time.time(),
    }


def cpu_figures(before, after):
    """CPU seconds between two snapshots: the server's processes, the
    database's sessions, this process, the rest of the machine; and the
    wall seconds between them."""
    used = Counter()
    for pid, (kind, seconds) in after["processes"].items():
        start = before["processes"].get(pid, (kind, 0.0))[1]
        used[kind] += seconds - start
    used["bench"] = after["self"] - before["self"]
    used["machine"] = after["machine"] - before["machine"]
    used["other"] = used["machine"] - used["odoo"] - used["postgres"] - used["bench"]
    used["wall"] = after["wall"] - before["wall"]
    return dict(used)


def sliding_counts(stamps, window):
    """For each of the (sorted) moments, how many of them are in the window
    of ``window`` seconds ending there, counted as the fake counts: a moment
    leaves the window ``window`` seconds later."""
    counts, low = [], 0
    for high, moment in enumerate(stamps):
        while stamps[low] <= moment - window:
            low += 1
        counts.append(high - low + 1)
    return counts


def sliding_max(stamps, window):
    """The most of the (sorted) moments in any ``window`` seconds."""
    return max(sliding_counts(stamps, window), default=0)


def rate_figures(stamps, limit, window, steady_end):
    """What the admitted requests' moments (sorted) say about the rate.

    Consecutive windows of ``window`` seconds from the first request: the
    first holds the initial burst (the limit starts empty); the steady part
    is the complete windows after it that end before ``steady_end`` (when
    the runner stopped having jobs waiting for a slot; the last request when
    None): after that, only the retries' tail is left."""
    first, last = stamps[0], stamps[-1]
    span = last - first
    end = min(last, steady_end) if steady_end else last
    counts = Counter(int((t - first) // window) for t in stamps)
    complete = int((end - first) // window)  # windows 0 .. complete-1
    steady = [counts.get(k, 0) for k in range(1, complete)]
    return {
        "span": span,
        "steady_end": end - first,
        "whole": len(stamps) / span / (limit / window) if span else 0.0,
        "windows": [counts.get(k, 0) for k in range(int(span // window) + 1)],
        "steady_windows": len(steady),
        "steady": sum(steady) / (limit * len(steady)) if steady else None,
        "sliding_max": sliding_max(stamps, window),
    }


def attempted_max(fake, window):
    """The most API requests the fake got in any window, refused ones too
    (it admits at most its limit by construction)."""
    return sliding_max(sorted(r["at"] for r in fake.requests if "at" in r), window)


def steady_end_of(samples, after):
    """The first moment after ``after`` when no job of the channel waited for
    a slot of the runner (None when never seen)."""
    seen_waiting = False
    for sample in samples:
        if sample["t"] < after or "pending" not in sample:
            continue
        if sample["pending"]:
            seen_waiting = True
        elif seen_waiting:
            return sample["t"]
    return None


def fake_figures(fake, module, names, limit, window, steady_end):
    api = [r for r in fake.requests if "at" in r]
    admitted = [r for r in api if not r["throttle"]]
    throttled = [r for r in api if r["throttle"]]
    tokens = [r for r in fake.requests if r["path"] == module.TOKEN_PATH]
    refused = [
        r for r in fake.requests if "at" not in r and r["path"] != module.TOKEN_PATH
    ]
    invoices = list(fake.objects["Invoice"].values())
    numbers = Counter(invoice.get("DocNumber") for invoice in invoices)
    durations = sorted(r["end"] - r["at"] for r in admitted if "end" in r)
    stamps = sorted(r["at"] for r in admitted)
    return {
        "requests": len(api),
        "admitted": len(admitted),
        "throttled": len(throttled),
        "throttle_kinds": dict(Counter(r["throttle"] for r in throttled)),
        "by_operation": dict(
            Counter(f"{r['operation']} {r['entity'] or ''}".strip() for r in api)
        ),
        "token_requests": len(tokens),
        "other_refused": dict(Counter(r["status"] for r in refused)),
        "replays": fake.replays,
        "peak_concurrency": fake.peak_concurrency,
        "answer_ms_p50": 1000 * statistics.median(durations) if durations else 0,
        "answer_ms_p99": 1000 * durations[int(0.99 * (len(durations) - 1))]
        if durations
        else 0,
        "invoices": len(invoices),
        "repeated_numbers": sum(n - 1 for n in numbers.values() if n > 1),
        "missing_numbers": len(set(names) - set(numbers)),
        "customers_created": fake.created["Customer"],
        # A name taken already gets the partner's id appended (exporter).
        "customers_renamed": sum(
            1
            for customer in fake.objects["Customer"].values()
            if str(customer.get("DisplayName", "")).endswith(")")
        ),
        "items_created": fake.created["Item"],
        "fake_errors": len(fake.errors),
        "attempted_max": attempted_max(fake, window),
        "first": stamps[0] if stamps else None,
        "last": stamps[-1] if stamps else None,
        "rate": rate_figures(stamps, limit, window, steady_end)
        if len(stamps) > 1
        else None,
    }


def odoo_figures(rpc, backend_id):
    messages = rpc(
        "distribution.sync.message",
        "search_read",
        [("backend_id", "=", backend_id), ("direction", "=", "outbound")],
        fields=["state", "attempt_count", "last_error"],
    )
    exceptions = rpc(
        "distribution.sync.exception",
        "search_read",
        [("backend_id", "=", backend_id), ("state", "=", "open")],
        fields=["category", "name"],
    )
    jobs = rpc(
        "queue.job",
        "search_read",
        [("channel", "=", CHANNEL)],
        fields=["state", "exec_time", "retry"],
    )
    times = sorted(job["exec_time"] for job in jobs if job["state"] == "done")
    errors = Counter(m["last_error"] for m in messages if m["last_error"])
    return {
        "message_states": dict(Counter(m["state"] for m in messages)),
        "attempts": dict(Counter(m["attempt_count"] for m in messages)),
        "errors": errors.most_common(3),
        "open_exceptions": len(exceptions),
        "exception_kinds": Counter(
            f"{e['category']}: {e['name'][:90]}" for e in exceptions
        ).most_common(3),
        "jobs": len(jobs),
        "job_states": dict(Counter(job["state"] for job in jobs)),
        # queue_job counts every run of a job in ``retry`` (1: ran once).
        "job_reruns": sum(max(0, (job["retry"] or 0) - 1) for job in jobs),
        "job_seconds": sum(times),
        "job_ms_mean": 1000 * statistics.mean(times) if times else 0,
        "job_ms_p50": 1000 * statistics.median(times) if times else 0,
        "job_ms_p95": 1000 * times[int(0.95 * (len(times) - 1))] if times else 0,
    }


def runjob_figures(log_path):
    """Per ``/queue_job/runjob`` request of the server log (one per job run):
    SQL statements, seconds in SQL (waits for locks included) and the rest
    of the request's seconds, as Odoo logs them; with the retry reasons."""
    rows, conflicts = [], Counter()
    for text in Path(log_path).read_text(errors="replace").splitlines():
        match = RUNJOB_RE.search(text)
        if match:
            rows.append(tuple(float(x) for x in match.groups()))
        elif "could not serialize access" in text:
            conflicts[text.split("ERROR:", 1)[-1].strip()] += 1
    if not rows:
        return {"runs": 0, "conflicts": dict(conflicts)}
    return {
        "runs": len(rows),
        "queries": statistics.mean(r[0] for r in rows),
        "sql_ms": 1000 * statistics.mean(r[1] for r in rows),
        "other_ms": 1000 * statistics.mean(r[2] for r in rows),
        "conflicts": dict(conflicts),
    }


def observer_figures(observed, first, last, limit, window):
    """Mean database sessions per state between the first and the last API
    request, and the limiter's own record of its slots (database clock)."""
    samples = [s for s in observed["samples"] if first <= s["t"] <= last]
    means = Counter()
    for sample in samples:
        means.update(sample["states"])
    count = len(samples) or 1
    starts = sorted(observed["slots"].values())
    counts = sliding_counts(starts, window)
    return {
        "samples": len(samples),
        "means": {state: n / count for state, n in means.items()},
        "slots": len(starts),
        "slots_sliding_max": max(counts, default=0),
        # Slots taken while the limiter's own record held the limit already.
        "slots_over": sum(1 for n in counts if n > limit),
    }


def verdict(ok):
    return "met" if ok else "NOT MET"


def report(args, odoo, limit, run):
    """Print the figures; True when every goal is met."""
    setup, fig, odoo_fig = run["setup"], run["fake"], run["odoo"]
    line = "-" * 79
    rate = fig["rate"] or {}
    span = rate.get("span") or 0.0
    loads = run["loads"] or [0.0]
    ot.say(line)
    ot.say("QuickBooks invoice export benchmark (distribution_sync_quickbooks)")
    ot.say(
        f"  Odoo {odoo.version}; {args.invoices} posted invoices of "
        f"{args.customers} customers and {args.products} products; "
        f"--workers={args.workers}, queue_job channels {args.channels}"
    )
    ot.say(
        f"  limits (fake and backend alike): {limit} requests per {args.window} s "
        f"(= {60 * limit / args.window:g}/min), {AT_ONCE} at once; load average "
        f"during the run {statistics.mean(loads):.2f} (max {max(loads):.2f}) on "
        f"{os.cpu_count()} CPUs"
    )
    ot.say(line)
    ot.say(
        f"setup (odoo shell, one transaction): {setup['setup_seconds']:.1f} s; "
        f"{setup['queued']} messages queued"
    )
    done = run["done_seconds"]
    ot.say(f"commit -> every message final: {f'{done:.1f} s' if done else 'cap hit'}")
    ot.say(
        f"first -> last API request: {span:.1f} s; {fig['requests']} API requests "
        f"({fig['admitted']} admitted), {fig['token_requests']} token requests"
    )
    ot.say(f"  by operation: {fig['by_operation']}")
    if fig["other_refused"]:
        ot.say(f"  refused before the limits (HTTP status): {fig['other_refused']}")
    per_minute = fig["admitted"] / span * 60 if span else 0.0
    ot.say(
        f"achieved rate, whole run: {rate.get('whole', 0) * 100:.1f} % of the "
        f"allowed ({per_minute:.0f} requests/min)"
    )
    steady = rate.get("steady")
    if steady is None:
        ot.say("achieved rate, steady part: no complete window after the first")
    else:
        ot.say(
            f"achieved rate, steady part ({rate['steady_windows']} windows, "
            f"{args.window} s to {rate['steady_end']:.0f} s): {steady * 100:.1f} % "
            f"of the allowed   goal >= {GOAL_RATE * 100:.0f} %   "
            f"{verdict(steady >= GOAL_RATE)}"
        )
    windows = rate.get("windows") or [0]
    if len(windows) <= 12:
        ot.say(f"  admitted per window of {args.window} s: {windows} (limit {limit})")
    else:
        steady_windows = windows[1 : 1 + rate["steady_windows"]] or [0]
        after = windows[1 + rate["steady_windows"] :]
        ot.say(
            f"  admitted per window of {args.window} s (limit {limit}): first "
            f"{windows[0]}; steady part min {min(steady_windows)}, median "
            f"{statistics.median(steady_windows):g}, max {max(steady_windows)}; "
            f"after it {after}"
        )
    observed = run["observer"]
    ot.say(
        f"  most in any sliding window of {args.window} s: {fig['attempted_max']} "
        f"requests sent to the fake (refused ones too); by the limiter's own "
        f"record (database clock) {observed['slots_sliding_max']} slots, "
        f"{observed['slots_over']} of the {observed['slots']} slots taken over "
        f"the limit of {limit}"
    )
    share = fig["throttled"] / fig["requests"] if fig["requests"] else 0.0
    ot.say(
        f"429 answers: {fig['throttled']} = {share * 100:.2f} % of requests "
        f"{fig['throttle_kinds'] or ''}  goal <= {GOAL_THROTTLED * 100:.0f} %   "
        f"{verdict(share <= GOAL_THROTTLED)}"
    )
    ot.say(
        f"peak requests at once (fake): {fig['peak_concurrency']} (limit {AT_ONCE}); "
        f"fake's answer time p50 {fig['answer_ms_p50']:.1f} ms, "
        f"p99 {fig['answer_ms_p99']:.1f} ms; requestid replays {fig['replays']}"
    )
    duplicates = max(fig["repeated_numbers"], fig["invoices"] - args.invoices)
    ot.say(
        f"QuickBooks invoices: {fig['invoices']} for {args.invoices} Odoo invoices; "
        f"a DocNumber twice: {fig['repeated_numbers']}; Odoo numbers missing: "
        f"{fig['missing_numbers']}; duplicates {duplicates}   goal 0   "
        f"{verdict(duplicates == 0 and not fig['missing_numbers'])}"
    )
    ot.say(
        f"  customers created {fig['customers_created']} (of {args.customers}; "
        f"with the partner's id appended: {fig['customers_renamed']}), "
        f"items created {fig['items_created']} (of {args.products})"
    )
    all_done = odoo_fig["message_states"] == {"done": args.invoices}
    ot.say(
        f"messages: {odoo_fig['message_states']}; attempts {odoo_fig['attempts']}   "
        f"{'all done' if all_done else 'NOT all done'}"
    )
    for error, count in odoo_fig["errors"]:
        ot.say(f"  {count} x last error: {error[:150]}")
    ot.say(
        f"open exceptions: {odoo_fig['open_exceptions']}   "
        f"{verdict(not odoo_fig['open_exceptions'])}"
    )
    for kind, count in odoo_fig["exception_kinds"]:
        ot.say(f"  {count} x {kind}")
    if fig["fake_errors"]:
        ot.say(f"WARNING: the fake answered {fig['fake_errors']} of its own errors")
    ot.say(line)
    ot.say("Where the time goes")
    busy = odoo_fig["job_seconds"] / (args.capacity * span) if span else 0.0
    ot.say(
        f"  jobs: {odoo_fig['jobs']} {odoo_fig['job_states']}, "
        f"{odoo_fig['job_reruns']} re-runs; execution time mean "
        f"{odoo_fig['job_ms_mean']:.0f} ms, p50 {odoo_fig['job_ms_p50']:.0f} ms, "
        f"p95 {odoo_fig['job_ms_p95']:.0f} ms; the {args.capacity} job slots busy "
        f"{busy * 100:.0f} % of the API span"
    )
    runjob = run["runjob"]
    if runjob["runs"]:
        ot.say(
            f"  per job run (server log, {runjob['runs']} runs): "
            f"{runjob['queries']:.0f} SQL statements, {runjob['sql_ms']:.0f} ms in "
            f"SQL (lock waits included), {runjob['other_ms']:.0f} ms else"
        )
    for conflict, count in runjob["conflicts"].items():
        ot.say(f"  {count} x {conflict}")
    means = observed["means"]
    jobs_run = runjob["runs"] or odoo_fig["jobs"] or 1
    if observed["samples"]:
        waits = ", ".join(
            f"{state[5:]} {n:.2f} ({n * span / jobs_run * 1000:.0f} ms/job)"
            for state, n in sorted(means.items())
            if state.startswith("lock:")
        )
        ot.say(
            f"  database sessions on average ({observed['samples']} samples): "
            f"running a statement {means.get('active', 0):.2f}, in a transaction "
            f"between statements {means.get('idle in transaction', 0):.2f}, "
            f"waiting for a lock: {waits or 'none seen'}"
        )
    cpu, jobs_done = run["cpu"], setup["queued"] or 1
    cpu_busy = cpu["machine"] / cpu["wall"] / os.cpu_count()
    ot.say(
        f"  CPU over the {cpu['wall']:.0f} s after the commit: the machine's "
        f"{os.cpu_count()} CPUs {cpu_busy * 100:.0f} % busy; per invoice: Odoo "
        f"server {cpu['odoo'] / jobs_done * 1000:.0f} ms, "
        f"PostgreSQL {cpu['postgres'] / jobs_done * 1000:.0f} ms, fake and bench "
        f"{cpu['bench'] / jobs_done * 1000:.0f} ms, other work on the machine "
        f"{cpu['other'] / jobs_done * 1000:.0f} ms"
    )
    profile = run.get("profile")
    if profile:
        jobs = profile["jobs"] or 1
        # The limiter's waits apart: what one process could send.
        working = profile["seconds"] - profile["spent"].get("slot acquire", 0.0)
        ot.say(
            f"  one process, one job after the other ({profile['jobs']} invoices, "
            f"{profile['states']}, {profile['requests']} API requests, "
            f"{profile['throttled']} answered 429): "
            f"{profile['seconds'] / jobs * 1000:.0f} ms and "
            f"{profile['queries'] / jobs:.0f} SQL statements per job "
            f"({jobs / working * 60:.0f} jobs/min without the slot acquire, "
            "which holds the limiter's waits); of which, ms/job:"
        )
        ot.say(
            "    "
            + "; ".join(
                f"{label} {profile['spent'][label] / jobs * 1000:.1f}"
                for label in PROFILE_LABELS
                if label in profile["spent"]
            )
        )
        for error, count in profile["errors"]:
            ot.say(f"    {count} x last error: {error[:150]}")
    ot.say(line)
    ot.say(
        "What is measured: the fake stamps each API request when it meets the "
        "limits; the rate is the admitted requests per second against the "
        "allowed one, over the whole span from the first to the last request "
        "and over the steady part (the complete windows after the first, which "
        "holds the burst the empty limit allows, while jobs were waiting for a "
        "slot of the runner). 429 share: of every API request (token requests "
        "apart). Duplicates: QuickBooks invoices sharing a DocNumber, or more "
        "of them than Odoo invoices. Job times: queue_job's execution time of "
        "each job (the request, the limiter's waits and the ORM work). Sessions: "
        f"pg_stat_activity sampled every {OBSERVER_INTERVAL:g} s during the span."
        + (
            f" The last lines: {profile['jobs']} more invoices sent in one odoo "
            "shell, no runner, no concurrency."
            if profile
            else ""
        )
    )
    ot.say(line)
    return (
        steady is not None
        and steady >= GOAL_RATE
        and share <= GOAL_THROTTLED
        and duplicates == 0
        and not fig["missing_numbers"]
        and all_done
        and not odoo_fig["open_exceptions"]
    )


def dump(path, fake, observed):
    """Write the fake's requests (without bodies and headers), the request
    slots and the observer's samples as JSON, for a closer look."""
    requests = []
    for record in fake.requests:
        body = record["json"] if isinstance(record["json"], dict) else {}
        requests.append(
            {
                key: record.get(key)
                for key in (
                    "at",
                    "end",
                    "method",
                    "operation",
                    "entity",
                    "status",
                    "throttle",
                    "request_id",
                    "replay",
                )
            }
            | {"name": body.get("DisplayName") or body.get("DocNumber")}
        )
    Path(path).write_text(json.dumps({"requests": requests, **observed}))


def shell_result(served, workdir, script, params, label):
    text = f"PARAMS = {json.dumps(json.dumps(params))}\n" + script
    result = None
    for row in served.shell(text, workdir, label):
        if row.startswith(MARK):
            result = json.loads(row[len(MARK) :])
    if result is None:
        raise ot.TierError(f"the odoo shell ({label}) reported nothing")
    return result


def benchmark(args, odoo, pg, workdir):
    module, fake_class = load_fake()
    limit = per_window(args.window)
    with (
        fake_class(
            per_minute=limit,
            window_seconds=args.window,
            max_concurrent=AT_ONCE,
            tax_rates={TAX_CODE: TAX_RATE},
        ) as fake,
        served_database(
            odoo,
            pg,
            workdir,
            [ot.MAIN_ADDON, ADDON],
            workers=args.workers,
            channels=args.channels,
        ) as served,
    ):
        rpc = served.rpc
        backend_id, tax_id = create_backend(rpc, fake, limit, args.window)
        params = {
            "backend_id": backend_id,
            "tax_id": tax_id,
            "customers": args.customers,
            "products": args.products,
            "invoices": args.invoices,
            "chunk": 100,
            "profile": args.profile,
        }
        observer = Observer(served, workdir)
        observer.start()
        ot.say(
            f"bench: {served.base_url}, backend {backend_id}; posting "
            f"{args.invoices} invoices in odoo shell"
        )
        try:
            setup = shell_result(served, workdir, SHELL_SCRIPT, params, "post")
            cpu_before = cpu_snapshot(served.db)
            ot.say(
                f"bench: {setup['queued']} messages queued "
                f"({setup['setup_seconds']:.0f} s); the runner sends them"
            )
            finished, loads = wait_final(
                rpc, backend_id, args.invoices, fake, args.cap_minutes * 60
            )
            cpu = cpu_figures(cpu_before, cpu_snapshot(served.db))
        finally:
            observed = observer.stop()
        steady_end = steady_end_of(observed["samples"], setup["committed"])
        fig = fake_figures(fake, module, setup["names"], limit, args.window, steady_end)
        run = {
            "setup": setup,
            "loads": loads,
            # From the commit of the posted invoices (the runner starts then).
            "done_seconds": finished and finished - setup["committed"],
            "fake": fig,
            "odoo": odoo_figures(rpc, backend_id),
            "runjob": runjob_figures(Path(workdir) / "server.log"),
            "cpu": cpu,
            "observer": observer_figures(
                observed, fig["first"] or 0, fig["last"] or 0, limit, args.window
            ),
        }
        if args.dump:
            dump(args.dump, fake, observed)
        if args.profile:
            ot.say(f"bench: {args.profile} more invoices sent in odoo shell (profile)")
            before = len(fake.requests)
            run["profile"] = shell_result(
                served, workdir, PROFILE_SCRIPT, params, "profile"
            )
            sent = [r for r in fake.requests[before:] if "at" in r]
            run["profile"]["requests"] = len(sent)
            run["profile"]["throttled"] = sum(1 for r in sent if r["throttle"])
        return report(args, odoo, limit, run)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--invoices", type=int, default=2000)
    parser.add_argument("--customers", type=int, default=50)
    parser.add_argument("--products", type=int, default=20)
    parser.add_argument(
        "--window",
        type=int,
        default=60,
        help="seconds of the limits' window, the rate kept at 500 a minute "
        "(6: 50 per 6 s); the fake and the backend use the same",
    )
    parser.add_argument("--workers", type=int, default=4, help="Odoo HTTP workers")
    parser.add_argument(
        "--capacity",
        type=int,
        default=4,
        help="queue_job slots of the root and QuickBooks channels (at most 10)",
    )
    parser.add_argument(
        "--profile",
        type=int,
        default=PROFILE,
        help="invoices sent one by one in odoo shell after the run (0: none)",
    )
    parser.add_argument("--cap-minutes", type=float, default=30)
    parser.add_argument(
        "--dump", help="write the fake's requests and the samples to this JSON file"
    )
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 when a goal is not met"
    )
    args = parser.parse_args()
    if args.window <= 0 or per_window(args.window) is None:
        parser.error("--window must give a whole number of requests at 500 a minute")
    if not 1 <= args.capacity <= AT_ONCE or args.workers < 1:
        parser.error(f"--capacity must be 1 to {AT_ONCE}, --workers positive")
    if min(args.invoices, args.customers, args.products) < 1 or args.profile < 0:
        parser.error("--invoices, --customers and --products must be positive")
    args.channels = f"root:{args.capacity},{CHANNEL}:{args.capacity}"

    def bench(odoo, pg, workdir):
        met = benchmark(args, odoo, pg, workdir)
        return 1 if args.strict and not met else 0

    return run_benchmark(bench, addons=(ot.MAIN_ADDON, ADDON))


if __name__ == "__main__":
    raise SystemExit(main())

#!/usr/bin/env python3
"""Fault suite: the sync's promises when workers die, PostgreSQL restarts and
Shopify misbehaves.

Real HTTP, the real queue_job runner, XML-RPC and a local fake of the Shopify
Admin API, as in ``tests/walkthrough.py``. Each scenario ends with the same
three promises, checked set-wise over XML-RPC: every webhook answered 200 is
processed, no document is duplicated, no work is stuck (each piece of work ends
done, or as an exception a person sees).

``worker-kill``
    A worker is SIGKILLed while its job waits for Shopify (the fulfillment of a
    validated delivery), another while its job works through a burst of order
    webhooks. queue_job 18.0 requeues the dead jobs in its runner (no cron).
    Then a queued message whose job was cancelled by hand is requeued by the
    addon's stuck-message cron, whose code the suite runs over XML-RPC as a
    cron run would (crons do not run in this server).
``db-restart``
    About 300 order webhooks from 8 threads, PostgreSQL restarted in the middle
    (``pg_ctl restart -m fast``); as Shopify does, a sender gives up on an
    answer after 5 s and sends again, with the same event id, what was not
    answered 200. Skipped (a passing check that says why) when PostgreSQL is
    not a cluster of this machine the suite may restart: an outside server
    named by the PG* variables or ``ODOO_BIN``.
``api-faults``
    The fake Shopify answers 429 with Retry-After, 5xx, too late for the
    client's timeout, and loses the answers of requests it applied, for the
    fulfillments of validated deliveries, a stock push and the drift re-fetch.
    Then it answers slowly (within the client's timeout) while every job slot
    waits on it: a webhook sent meanwhile must still be answered within
    Shopify's 5 s.

Run alone::

    python tests/fault_suite.py [--keep-db] [--db NAME] [--only SCENARIO]
                                [--own-cluster [DIR]]

creates a database with every addon of the repository (no demo data), or uses
``--db`` (created when missing, then kept), serves it with two workers and the
job runner, runs the scenarios and drops the database. ``--own-cluster`` runs
on a PostgreSQL cluster of the suite's own (kept in DIR, else temporary), so
that the restart cuts no other user of the runtime's cluster. The Odoo tier
calls ``run()`` in its database without demo data.
"""

import argparse
import collections
import contextlib
import copy
import dataclasses
import http.client
import itertools
import json
import os
import pwd
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
import xmlrpc.client
from datetime import datetime, timedelta, timezone
from pathlib import Path

import walkthrough

HERE = Path(__file__).resolve().parent
SCENARIOS = ("worker-kill", "db-restart", "api-faults")
SECRET = "shpss_faults_0123456789abcdef"
TOKEN = "shpat_faults_0123456789abcdef"
API_VERSION = walkthrough.API_VERSION
# The walk-through's sample order, on products of the suite's own.
SKUS = {"WALK-WIDGET": "FAULT-WIDGET", "WALK-BOLT-M8": "FAULT-BOLT-M8"}
PRODUCTS = (
    ("FAULT-WIDGET", "Fault-suite widget", 12.5),
    ("FAULT-BOLT-M8", "Fault-suite bolt M8", 0.4),
)
# Two workers, and one job at a time (the job runner's channel capacity): the
# README's rule, fewer job slots than workers, so that a webhook always finds
# a free worker to answer it within Shopify's 5 s while jobs run.
WORKERS = 2
JOB_SLOTS = 1
CHANNELS = f"root:{JOB_SLOTS}"
# Seconds Shopify waits for the answer to a delivery.
SHOPIFY_TIMEOUT = 5
FINAL = walkthrough.FINAL
OPEN = ("received", "queued")
PROCESSED = ("done", "skipped")
RUNNING_JOB_STATES = ("enqueued", "started", "wait_dependencies")
# updatedAt of the orders the fake holds for fulfillments: the drift re-fetch
# (which lists the orders updated since the backend was made) never sees them.
OLD = "2020-01-01T00:00:00Z"
# Seconds: Shopify client timeout of the api-faults backend; the late answer
# of a "timeout" fault; how long Shopify holds a call (within the default
# client timeout) that a worker is killed in, or that keeps a job slot busy.
CLIENT_TIMEOUT = 2
LATE = CLIENT_TIMEOUT + 1
HELD = 8
# Retry waits of the jobs during api-faults (queue.job.function patterns; they
# are restored afterwards). The first retry of a fulfillment comes after the
# late answer of a timed-out request was applied: the retry reads that state.
SHORT_PATTERNS = {"_send_job": "{1: 4}", "_fetch_changes_job": "{1: 2}"}
STUCK_CRON = "distribution_sync.ir_cron_requeue_stuck_messages"
FUNC_RE = re.compile(r"^([\w.]+)\(([\d, ]*)\)\.")


class StepFailed(Exception):
    """A scenario cannot go on; its message says what was seen."""


def utc(seconds=0.0):
    """Now (plus ``seconds``) as Odoo writes datetimes (UTC, no zone)."""
    moment = datetime.now(timezone.utc) + timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def parse_utc(text):
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc)


# ------------------------------------------------------------------ fake shop


def faulty_shopify_class():
    """The walk-through's fake Shopify, with faults planned per operation."""
    module = walkthrough.load_module("fake_shopify", walkthrough.FAKE_MODULE)

    class FaultyShopify(module.FakeShopify):
        """``plan(operation, kind, ...)``: the next requests of ``operation``
        (whose body or path contains ``match``, when given) get a fault:
        ``status`` (with ``Retry-After``) instead of running; ``delay`` seconds
        before running (``status`` None: a late answer, the client may be gone);
        kind ``lost``: run, then the connection closes without an answer.
        ``served`` counts the faults served by kind."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.planned = []
            self.served = collections.Counter()

        def plan(
            self,
            operation,
            kind,
            times=1,
            *,
            match=None,
            status=None,
            retry_after=None,
            delay=0.0,
        ):
            fault = {
                "operation": operation,
                "kind": kind,
                "match": match,
                "status": status,
                "retry_after": retry_after,
                "delay": delay,
            }
            with self._lock:
                self.planned.extend(dict(fault) for _ in range(times))

        def unserved(self):
            with self._lock:
                return collections.Counter(
                    (f["operation"], f["kind"]) for f in self.planned
                )

        def _take(self, operation, text):
            for index, fault in enumerate(self.planned):
                if fault["operation"] == operation and (
                    fault["match"] is None or fault["match"] in text
                ):
                    return self.planned.pop(index)
            return None

        def received(self, operation, match):
            """Requests of ``operation`` whose body contains ``match``."""
            with self._lock:
                return sum(
                    1
                    for r in self.requests
                    if r["operation"] == operation and match in json.dumps(r["json"])
                )

        def handle(self, handler):
            length = int(handler.headers.get("Content-Length") or 0)
            text = (handler.rfile.read(length) if length else b"").decode(
                "utf-8", "replace"
            )
            try:
                body = json.loads(text) if text else None
            except ValueError:
                body = None
            query = body.get("query") if isinstance(body, dict) else None
            if handler.command == "POST":
                operation = self._operation(query)
            else:
                operation = self._rest_operation(handler.path)
            record = {
                "path": handler.path,
                "headers": dict(handler.headers.items()),
                "json": body,
                "operation": operation,
                "status": None,
            }
            with self._lock:
                self.requests.append(record)
                fault = self._take(operation, text + handler.path)
                if fault:
                    self.served[fault["kind"]] += 1
            if fault and fault["kind"] == "lost":
                self._answer(handler, record, body, None)
                record["status"] = "lost"
                handler.close_connection = True
                with contextlib.suppress(OSError):
                    handler.connection.shutdown(socket.SHUT_RDWR)
                return
            failure = fault and {
                "status": fault["status"],
                "retry_after": fault["retry_after"],
                "body": None,
                "delay": fault["delay"],
            }
            status, answer, headers = self._answer(handler, record, body, failure)
            record["status"] = status
            # a late answer finds its client gone
            with contextlib.suppress(OSError):
                handler.send_json(status, answer, headers)

        def fulfillments_by_order(self):
            """Order number -> fulfillments Shopify applied for it."""
            with self._lock:
                owner = {
                    fo["id"]: number
                    for number, order in self.orders.items()
                    for fo in order["fulfillment_orders"]
                }
                counts = collections.Counter()
                for fulfillment in self.fulfillments:
                    groups = fulfillment["input"].get("lineItemsByFulfillmentOrder")
                    for number in {owner.get(g["fulfillmentOrderId"]) for g in groups}:
                        counts[number] += 1
                return counts

    return FaultyShopify


# ------------------------------------------------------------------ PostgreSQL


@dataclasses.dataclass
class Cluster:
    """A PostgreSQL cluster of this machine the suite may restart."""

    bindir: Path
    data: Path
    log: Path
    owner: str = None  # the OS user that runs it, when we are root and it is not

    def command(self, *args):
        cmd = [str(self.bindir / "pg_ctl"), "-D", str(self.data), *map(str, args)]
        return ["runuser", "-u", self.owner, "--", *cmd] if self.owner else cmd

    def ctl(self, *args, timeout=120):
        return subprocess.run(
            self.command(*args),
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            cwd=str(self.data.parent),
            check=False,
        )

    def restart(self):
        """``pg_ctl restart -m fast``: every session is cut; returns once the
        server accepts connections again (same options as before)."""
        proc = self.ctl("-l", self.log, "-m", "fast", "-w", "-t", 90, "restart")
        if proc.returncode != 0:
            raise StepFailed(
                f"pg_ctl restart exited {proc.returncode}: "
                + " | ".join((proc.stdout + proc.stderr).strip().splitlines()[-3:])
            )


def run_as(path):
    """The owner of ``path`` when we are root and it is another user."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return None
    owner = pwd.getpwuid(Path(path).stat().st_uid).pw_name
    return None if owner == "root" else owner


def cluster_of(odoo, pg):
    """``(Cluster, None)`` when ``pg`` is a cluster the suite may restart (the
    runtime's private cluster, or one of the suite's own); ``(None, reason)``
    otherwise."""
    own = getattr(pg, "cluster", None)
    if own is not None:
        return own, None
    outside = (
        "PostgreSQL is an outside server (PG* variables or ODOO_BIN): the suite "
        "does not restart it"
    )
    runtime_file = Path(odoo.config).parent / "runtime.json" if odoo.config else None
    try:
        info = json.loads(runtime_file.read_text())["pg"] if runtime_file else {}
    except (OSError, ValueError, KeyError):
        info = {}
    if not (info.get("private") and str(info.get("port")) == str(pg.port)):
        return None, outside
    bindir, data = Path(info["bindir"]), Path(info["data"])
    if not (bindir / "pg_ctl").is_file() or not (data / "PG_VERSION").is_file():
        return None, f"the runtime's cluster is not where it says ({data})"
    return Cluster(bindir, data, data.parent / "server.log", run_as(data)), None


def make_cluster(ot, home=None):
    """Start a cluster of the suite's own, made in ``home`` (reused when it is
    there) or in a temporary folder; returns ``(pg, cluster)``."""
    bindir = ot.load_provision().pg_bindir()
    if bindir is None:
        raise ot.TierError("no PostgreSQL binaries (initdb, pg_ctl) on this machine")
    home = Path(home or tempfile.mkdtemp(prefix="dsync-faults-pg-")).resolve()
    home.mkdir(parents=True, exist_ok=True)
    owner = "postgres" if hasattr(os, "geteuid") and os.geteuid() == 0 else None
    if owner:
        shutil.chown(home, owner)
    os.chmod(home, 0o700)
    cluster = Cluster(bindir, home / "data", home / "server.log", owner)
    conf_path = home / "cluster.json"
    if not (cluster.data / "PG_VERSION").is_file():
        password = secrets.token_urlsafe(18)
        pwfile = home / "pwfile"
        pwfile.write_text(password + "\n")
        if owner:
            shutil.chown(pwfile, owner)
        initdb = [
            str(bindir / "initdb"),
            *("-D", str(cluster.data), "-U", "odoo", f"--pwfile={pwfile}"),
            *("--auth-host=scram-sha-256", "--auth-local=trust"),
            *("--encoding=UTF8", "--locale=C"),
        ]
        proc = subprocess.run(
            ["runuser", "-u", owner, "--", *initdb] if owner else initdb,
            capture_output=True,
            text=True,
            cwd=str(home),
            check=False,
        )
        pwfile.unlink(missing_ok=True)
        if proc.returncode != 0:
            raise ot.TierError(f"initdb failed: {proc.stderr.strip()[-300:]}")
        conf_path.write_text(json.dumps({"port": ot.free_port(), "password": password}))
        os.chmod(conf_path, 0o600)
    conf = json.loads(conf_path.read_text())
    if cluster.ctl("status").returncode != 0:
        options = (
            f"-p {conf['port']} -k {home} -c listen_addresses=127.0.0.1 "
            "-c max_connections=100 -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off"
        )
        proc = cluster.ctl("-l", cluster.log, "-w", "-t", 60, "-o", options, "start")
        if proc.returncode != 0:
            raise ot.TierError(f"the suite's cluster did not start, see {cluster.log}")
    pg = ot.Pg("127.0.0.1", str(conf["port"]), "odoo", conf["password"])
    pg.cluster = cluster
    return pg, cluster


def database_exists(pg, db):
    """Whether ``db`` exists (True when psql cannot tell)."""
    psql = shutil.which("psql")
    if not psql:
        return True
    literal = "'" + db.replace("'", "''") + "'"
    proc = subprocess.run(
        [psql, "-X", "-h", pg.host, "-p", pg.port, "-U", pg.user, "-d", "postgres"]
        + ["-tAc", f"SELECT 1 FROM pg_database WHERE datname = {literal}"],
        capture_output=True,
        text=True,
        env=dict(os.environ, PGPASSWORD=pg.password, PGCONNECT_TIMEOUT="5"),
        stdin=subprocess.DEVNULL,
        check=False,
    )
    return proc.returncode != 0 or proc.stdout.strip() == "1"


# ------------------------------------------------------------------ webhooks


class Sender:
    """Sends ``deliveries`` (``[(topic, payload, event_id)]``) from ``threads``
    threads, each POST given up after Shopify's 5 s. A delivery not answered
    200 goes again with the same event id (as Shopify does) until it is, or
    ``deadline`` seconds pass."""

    def __init__(self, suite, backend_id, deliveries, threads=8):
        self.suite, self.backend_id = suite, backend_id
        self.pending = collections.deque(enumerate(deliveries))
        self.total = len(deliveries)
        self.answered = {}  # delivery index -> monotonic time of its 200
        self.events = set()  # event ids answered 200
        self.refused = collections.Counter()  # other answers, by status or error
        self.timings = []  # (start, end) of each POST, monotonic
        self.posts = 0
        self.lock = threading.Lock()
        self.stop_at = 0.0
        self.threads = [
            threading.Thread(target=self._work, daemon=True) for _ in range(threads)
        ]

    def start(self, deadline=180):
        self.stop_at = time.monotonic() + deadline
        for thread in self.threads:
            thread.start()
        return self

    def join(self):
        for thread in self.threads:
            thread.join()
        return self

    def alive(self):
        return any(thread.is_alive() for thread in self.threads)

    def _work(self):
        while time.monotonic() < self.stop_at:
            try:
                index, (topic, payload, event_id) = self.pending.popleft()
            except IndexError:
                return
            t0 = time.monotonic()
            status = self.suite.post(
                self.backend_id, topic, payload, event_id, SHOPIFY_TIMEOUT
            )
            with self.lock:
                self.posts += 1
                self.timings.append((t0, time.monotonic()))
                if status == 200:
                    self.answered[index] = time.monotonic()
                    self.events.add(event_id)
                else:
                    self.refused[str(status)] += 1
            if status != 200:
                self.pending.append((index, (topic, payload, event_id)))
                time.sleep(1)

    def figures(self):
        ordered = sorted(t1 - t0 for t0, t1 in self.timings) or [0.0]
        return {
            "deliveries": self.total,
            "posts": self.posts,
            "answered_200": len(self.answered),
            "refused": dict(self.refused),
            "never_answered_200": self.total - len(self.answered),
            "answer_s": {
                "median": round(ordered[len(ordered) // 2], 2),
                "p95": round(ordered[int(len(ordered) * 0.95)], 2),
                "max": round(ordered[-1], 2),
                # not answered within Shopify's 5 s (given up then)
                "late": sum(1 for s in ordered if s >= SHOPIFY_TIMEOUT),
            },
        }


# ------------------------------------------------------------------ the suite


class Faults:
    """What the scenarios share: the served database, the fake shop, the
    results (``checks``, ``figures``)."""

    def __init__(self, ot, rpc, base_url, fake, log_path, port):
        self.ot, self.rpc, self.base_url, self.fake = ot, rpc, base_url, fake
        self.log_path, self.port = log_path, port
        # signing of Shopify deliveries
        self.walk = walkthrough.Walk(ot, rpc, base_url, fake)
        self.tag = uuid.uuid4().hex[:6]
        self.checks = []
        self.figures = {}
        stamp = int(time.time()) % 100000
        self.order_ids = itertools.count(5620000000000 + stamp * 10000 + 1)
        self.customer_ids = itertools.count(7720000000000 + stamp * 10000 + 1)
        self.customers = {}

    # ------------------------------------------------------------ reporting
    def check(self, name, ok, detail=""):
        self.checks.append((name, bool(ok), detail))
        mark = "ok  " if ok else "FAIL"
        self.ot.say(f"  [{mark}] {name}" + (f": {detail}" if detail else ""))
        return ok

    def guarded(self, name, scenario, *args):
        self.ot.say(f"faults: {name}")
        t0 = time.monotonic()
        try:
            scenario(self, *args)
        except StepFailed as exc:
            self.check(f"{name}: the scenario ran to its checks", False, str(exc))
        except self.ot.RPC_ERRORS as exc:
            self.check(
                f"{name}: the scenario ran to its checks",
                False,
                self.ot.rpc_failure(exc),
            )
        seconds = round(time.monotonic() - t0, 1)
        self.figures.setdefault(name, {})["seconds"] = seconds
        self.ot.say(f"faults: {name} took {self.ot.fmt_duration(seconds)}")

    def log_mark(self):
        with contextlib.suppress(OSError), open(self.log_path, "rb") as handle:
            return sum(1 for _line in handle)
        return 0

    def log_errors_since(self, mark):
        return [r for r in self.ot.log_errors(self.log_path) if r.lineno > mark]

    # ------------------------------------------------------------ XML-RPC
    def read(self, model, method, *args, **kwargs):
        """``rpc`` for a call that changes nothing, tried again while the
        server or its database is away (a restart)."""
        deadline = time.monotonic() + 90
        while True:
            try:
                return self.rpc(model, method, *args, **kwargs)
            except self.ot.RPC_ERRORS as exc:
                unavailable = not isinstance(exc, xmlrpc.client.Fault) or any(
                    word in str(exc.faultString)
                    for word in ("OperationalError", "InterfaceError", "connection")
                )
                if not unavailable or time.monotonic() > deadline:
                    raise
                time.sleep(1)

    def count_by(self, model, domain, field):
        groups = self.read(model, "read_group", domain, [field], [field], lazy=False)
        # a many2one groups by [id, name]
        return {
            g[field][0] if isinstance(g[field], list) else g[field]: g["__count"]
            for g in groups
        }

    def run_code(self, model, code):
        """Run ``code`` (``model``: the model's environment) as a server action."""
        model_id = self.rpc("ir.model", "search", [("model", "=", model)])[0]
        action = self.rpc(
            "ir.actions.server",
            "create",
            {
                "name": f"Fault suite {self.tag}",
                "model_id": model_id,
                "state": "code",
                "code": code,
            },
        )
        try:
            return self.rpc("ir.actions.server", "run", [action])
        finally:
            self.rpc("ir.actions.server", "unlink", [action])

    # ------------------------------------------------------------ set-up
    def setup(self):
        """The products of the sample order, without taxes (as the walk-through)."""
        for sku, name, price in PRODUCTS:
            values = {"list_price": price, "taxes_id": [(5, 0, 0)]}
            found = self.rpc("product.product", "search", [("default_code", "=", sku)])
            if found:
                self.rpc("product.product", "write", found[:1], values)
            else:
                self.rpc(
                    "product.product",
                    "create",
                    dict(values, name=name, default_code=sku, type="consu"),
                )

    def make_backend(self, scope, **values):
        """A Shopify backend of its own for one scenario, on the fake shop."""
        return self.rpc(
            "distribution.sync.backend",
            "create",
            {
                "name": f"Faults {scope} {self.tag}",
                "backend_type": "shopify",
                "environment": "sandbox",
                "api_url": self.fake.url,
                "webhook_secret": SECRET,
                "shopify_shop_domain": f"faults-{scope}.myshopify.com",
                "shopify_access_token": TOKEN,
                "shopify_api_version": API_VERSION,
                **values,
            },
        )

    def order(self, scope, customer, phone_of=None, **changes):
        """``(order id, payload)``: the sample order with ids of its own, the
        suite's SKUs and customer number ``customer`` of ``scope`` (its own
        email and phone; the phone of customer ``phone_of`` when given)."""
        order_id = str(next(self.order_ids))
        order = walkthrough.demo_variant(order_id, **changes)
        order["name"] = f"#F{self.tag}-{order_id[-5:]}"
        for line in order["line_items"]:
            line["sku"] = SKUS.get(line["sku"], line["sku"])
        phone_of = customer if phone_of is None else phone_of
        for number in (customer, phone_of):
            if (scope, number) not in self.customers:
                self.customers[scope, number] = next(self.customer_ids)
        email = f"faults-{self.tag}-{scope}-{customer}@example.com"
        phone_id = self.customers[scope, phone_of]
        order["email"] = email
        order["customer"] = dict(
            order["customer"],
            id=self.customers[scope, customer],
            email=email,
            phone=f"+1555{phone_id % 10**7:07d}",
            last_name=f"Buyer {scope} {customer}",
        )
        return order_id, order

    def post(self, backend_id, topic, payload, event_id, timeout=20):
        """The answer to one signed Shopify delivery: its HTTP status, or the
        name of the error when there was none."""
        body = json.dumps(payload).encode()
        request = urllib.request.Request(
            f"{self.base_url}/distribution_sync/webhook/{backend_id}",
            data=body,
            method="POST",
            headers=self.walk.headers(topic, body, event_id, SECRET),
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                response.read()
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code
        except urllib.error.URLError as exc:
            return type(exc.reason).__name__
        except (OSError, http.client.HTTPException) as exc:
            return type(exc).__name__

    def import_orders(self, backend_id, scope, count, customers=4):
        """``count`` paid orders delivered and processed; returns
        ``[(order id, payload)]``. StepFailed unless all are done."""
        orders = [self.order(scope, i % customers) for i in range(count)]
        deliveries = [
            ("orders/paid", payload, f"faults-{self.tag}-{order_id}")
            for order_id, payload in orders
        ]
        sender = Sender(self, backend_id, deliveries, threads=4).start(120).join()
        if sender.total != len(sender.answered):
            raise StepFailed(f"order webhooks not answered 200: {sender.refused}")
        ids = [order_id for order_id, _payload in orders]
        domain = [("backend_id", "=", backend_id), ("external_id", "in", ids)]
        states = self.wait(
            lambda: self._all_final(domain, count), f"{count} orders processed"
        )
        if set(states) != {"done"}:
            raise StepFailed(f"set-up orders not all done: {states}")
        return orders

    def _all_final(self, domain, count):
        states = self.count_by("distribution.sync.message", domain, "state")
        done = sum(n for state, n in states.items() if state in FINAL)
        return states if done >= count and done == sum(states.values()) else None

    def wait(self, probe, what, timeout=120):
        deadline = time.monotonic() + timeout
        while True:
            value = probe()
            if value:
                return value
            if time.monotonic() > deadline:
                raise StepFailed(f"{what}: not seen within {timeout} s")
            time.sleep(0.5)

    def ship(self, backend_id, orders):
        """Put ``orders`` in the fake shop (unless there already) and validate
        their deliveries in Odoo; returns ``{order id: picking id}``."""
        for order_id, payload in orders:
            if order_id not in self.fake.orders:
                self.fake.add_order(order_id, rest_body=payload, updated_at=OLD)
        bindings = self.rpc(
            "distribution.sync.binding",
            "search_read",
            [
                ("backend_id", "=", backend_id),
                ("res_model", "=", "sale.order"),
                ("external_id", "in", [order_id for order_id, _p in orders]),
            ],
            fields=["external_id", "res_id"],
        )
        order_of = {b["res_id"]: b["external_id"] for b in bindings}
        pickings = self.rpc(
            "stock.picking",
            "search_read",
            [
                ("sale_id", "in", list(order_of)),
                ("picking_type_code", "=", "outgoing"),
                ("state", "not in", ["done", "cancel"]),
            ],
            fields=["sale_id", "move_ids"],
        )
        if len(pickings) != len(orders):
            raise StepFailed(f"{len(pickings)} deliveries for {len(orders)} orders")
        moves = self.rpc(
            "stock.move",
            "read",
            [move for picking in pickings for move in picking["move_ids"]],
            ["product_uom_qty"],
        )
        by_quantity = collections.defaultdict(list)
        for move in moves:
            by_quantity[move["product_uom_qty"]].append(move["id"])
        for quantity, ids in by_quantity.items():
            self.rpc("stock.move", "write", ids, {"quantity": quantity, "picked": True})
        ids = [picking["id"] for picking in pickings]
        self.rpc("stock.picking", "button_validate", ids, context={"skip_sms": True})
        states = self.rpc("stock.picking", "read", ids, ["state"])
        if any(row["state"] != "done" for row in states):
            raise StepFailed(f"deliveries not validated: {states}")
        return {order_of[p["sale_id"][0]]: p["id"] for p in pickings}

    def fulfillment_messages(self, backend_id, picking_ids):
        return self.read(
            "distribution.sync.message",
            "search_read",
            [
                ("backend_id", "=", backend_id),
                ("direction", "=", "outbound"),
                ("topic", "=", "fulfillments/create"),
                ("res_model", "=", "stock.picking"),
                ("res_id", "in", list(picking_ids)),
            ],
            fields=["res_id", "state", "attempt_count", "job_uuid", "next_retry_at"],
        )

    # ------------------------------------------------------------ workers
    def kill_worker(self, pid):
        """SIGKILL ``pid``, an HTTP worker forked by the server on our port
        (refused for any other process, the server itself included)."""

        def cmdline(process):
            return Path(f"/proc/{process}/cmdline").read_bytes().split(b"\0")

        def parent(process):
            status = Path(f"/proc/{process}/status").read_text()
            return int(re.search(r"^PPid:\s*(\d+)", status, re.M).group(1))

        marker = f"--http-port={self.port}".encode()
        try:
            ours = marker in cmdline(pid) and marker in cmdline(parent(pid))
        except (OSError, AttributeError, ValueError):
            ours = False
        if not ours:
            raise StepFailed(f"pid {pid} is not a worker of the server on {self.port}")
        os.kill(pid, signal.SIGKILL)

    # ------------------------------------------------------------ jobs
    def jobs(self, backend_ids, since):
        """The jobs created since ``since`` for the backends or their messages."""
        messages = set(
            self.read(
                "distribution.sync.message",
                "search",
                [("backend_id", "in", list(backend_ids))],
            )
        )
        rows = self.read(
            "queue.job",
            "search_read",
            [("date_created", ">=", since)],
            fields=["uuid", "state", "func_string", "retry", "eta", "date_done"],
        )
        mine = []
        for row in rows:
            match = FUNC_RE.match(row["func_string"] or "")
            if not match:
                continue
            ids = {int(i) for i in match.group(2).replace(" ", "").split(",") if i}
            wanted = messages if match.group(1) == "distribution.sync.message" else None
            if match.group(1) == "distribution.sync.backend":
                wanted = set(backend_ids)
            if wanted and ids & wanted:
                mine.append(row)
        return mine

    def open_work(self, backend_ids, since):
        """What is not finished: open messages of the backends, and their jobs
        running or due (a job waiting for a later time is not late)."""
        messages = self.count_by(
            "distribution.sync.message",
            [("backend_id", "in", list(backend_ids)), ("state", "in", list(OPEN))],
            "state",
        )
        now = utc()
        busy = collections.Counter(
            job["state"]
            for job in self.jobs(backend_ids, since)
            if job["state"] in RUNNING_JOB_STATES
            or (job["state"] == "pending" and (not job["eta"] or job["eta"] <= now))
        )
        left = {}
        if messages:
            left["messages"] = messages
        if busy:
            left["jobs"] = dict(busy)
        return left

    def settle(self, backend_ids, since, timeout):
        """Wait until ``open_work`` is empty; ``(seconds, left)`` (seconds is
        None on timeout)."""
        t0 = time.monotonic()
        while True:
            left = self.open_work(backend_ids, since)
            if not left:
                return round(time.monotonic() - t0, 1), left
            if time.monotonic() - t0 > timeout:
                return None, left
            time.sleep(1)

    def job_states(self, backend_ids, since):
        jobs = self.jobs(backend_ids, since)
        return dict(collections.Counter(job["state"] for job in jobs))

    def requeue_stuck(self):
        """What the stuck-message cron runs, as it runs it; ``minutes=0``
        stands for the 30 minutes the cron lets pass first."""
        cron = self.read(
            "ir.model.data",
            "search_read",
            [
                ("module", "=", STUCK_CRON.split(".")[0]),
                ("name", "=", STUCK_CRON.split(".")[1]),
            ],
            fields=["res_id"],
        )
        code = self.read("ir.cron", "read", [cron[0]["res_id"]], ["code"])[0]["code"]
        if "_cron_requeue_stuck(" not in code:
            raise StepFailed(f"the stuck-message cron runs something else: {code}")
        self.run_code(
            "distribution.sync.message", "model._cron_requeue_stuck(minutes=0)"
        )

    # ------------------------------------------------------------ promises
    def stored_and_processed(self, backend_id, event_ids):
        """``(stored, states)`` of the messages of these Shopify event ids."""
        domain = [
            ("backend_id", "=", backend_id),
            ("direction", "=", "inbound"),
            ("idempotency_key", "in", [f"event:{e}" for e in event_ids]),
        ]
        states = self.count_by("distribution.sync.message", domain, "state")
        return sum(states.values()), states

    def duplicates(self, backend_id, orders):
        """Figures of the documents of ``orders``: bindings, sale orders by
        reference, customers by email and their address contacts."""
        ids = [order_id for order_id, _payload in orders]
        names = sorted({payload["name"] for _id, payload in orders})
        bindings = self.count_by(
            "distribution.sync.binding",
            [
                ("backend_id", "=", backend_id),
                ("res_model", "=", "sale.order"),
                ("external_id", "in", ids),
            ],
            "external_id",
        )
        refs = self.count_by(
            "sale.order", [("client_order_ref", "in", names)], "client_order_ref"
        )
        emails = sorted({payload["email"] for _id, payload in orders})
        customers = self.count_by(
            "res.partner",
            [("email", "in", emails), ("parent_id", "=", False)],
            "email",
        )
        groups = self.read(
            "res.partner",
            "read_group",
            [
                ("parent_id.email", "in", emails),
                ("type", "in", ["invoice", "delivery"]),
            ],
            ["parent_id", "type"],
            ["parent_id", "type"],
            lazy=False,
        )
        return {
            "orders": len(set(ids)),
            "bound": len(bindings),
            "duplicate_bindings": sum(n - 1 for n in bindings.values()),
            "sale_orders": sum(refs.values()),
            "duplicate_sale_orders": sum(n - 1 for n in refs.values()),
            "customers": len(emails),
            "customers_found": len(customers),
            "duplicate_customers": sum(n - 1 for n in customers.values()),
            "duplicate_addresses": sum(g["__count"] - 1 for g in groups),
        }

    def check_documents(self, title, counts, figures, note=""):
        figures["documents"] = counts
        orders_ok = (
            counts["bound"] == counts["orders"] == counts["sale_orders"]
            and not counts["duplicate_bindings"]
            and not counts["duplicate_sale_orders"]
        )
        self.check(
            f"{title}: no duplicate document (one sale order per Shopify order)",
            orders_ok,
            f"{counts['orders']} orders, {counts['bound']} bound, "
            f"{counts['sale_orders']} sale orders by reference "
            f"({counts['duplicate_sale_orders']} extra)",
        )
        self.check(
            f"{title}: one customer per Shopify customer, no duplicate address contact",
            counts["customers_found"] == counts["customers"]
            and not counts["duplicate_customers"]
            and not counts["duplicate_addresses"],
            f"{counts['customers']} customers, {counts['customers_found']} found, "
            f"{counts['duplicate_customers']} extra, "
            f"{counts['duplicate_addresses']} extra address contacts{note}",
        )


# ------------------------------------------------------------------ scenarios


def scenario_worker_kill(suite):
    """Two workers SIGKILLed mid-job; the stuck-message cron on a job
    cancelled by hand. The killed work ends done, exactly once."""
    title = "worker killed mid-job"
    figures = suite.figures.setdefault("worker-kill", {})
    since = utc(-2)
    backend = suite.make_backend("kill")
    shipped = suite.import_orders(backend, "kill", 1)
    held_id = shipped[0][0]
    suite.fake.add_order(held_id, rest_body=shipped[0][1], updated_at=OLD)
    fo_id = suite.fake.orders[held_id]["fulfillment_orders"][0]["id"]
    # The fulfillment reaches Shopify, which answers only after HELD seconds.
    suite.fake.plan("fulfillmentCreate", "held", match=fo_id, delay=HELD)
    picking = suite.ship(backend, shipped[:1])[held_id]
    suite.wait(
        lambda: suite.fake.received("fulfillmentCreate", fo_id),
        "the fulfillment request at Shopify",
        60,
    )
    message = suite.fulfillment_messages(backend, [picking])[0]
    held_job = _started_job(suite, [("uuid", "=", message["job_uuid"])])
    suite.kill_worker(held_job["worker_pid"])
    killed = {held_job["uuid"]: datetime.now(timezone.utc)}
    suite.ot.say(f"  killed worker {held_job['worker_pid']} in a Shopify call")

    # customer 5 has the phone of customer 0 (imported above): two people,
    # two emails, one household phone
    burst = [
        suite.order("kill", i % 6, phone_of=0 if i % 6 == 5 else None)
        for i in range(40)
    ]
    deliveries = [
        ("orders/paid", payload, f"faults-{suite.tag}-{order_id}")
        for order_id, payload in burst
    ]
    burst_since = utc(-1)
    sender = Sender(suite, backend, deliveries).start(120)
    # The killed job holds the only job slot until the runner finds its
    # worker gone (up to a minute): the burst's jobs start after that.
    busy_job = _long_job(suite, burst_since, timeout=180)
    if busy_job:
        suite.kill_worker(busy_job["worker_pid"])
        killed[busy_job["uuid"]] = datetime.now(timezone.utc)
        suite.ot.say(f"  killed worker {busy_job['worker_pid']} in an order burst")
    sender.join()
    figures["webhooks"] = sender.figures()
    waited, left = suite.settle([backend], since, 150)
    figures["settled_after_s"] = waited
    jobs = {
        job["uuid"]: job
        for job in suite.jobs([backend], since)
        if job["uuid"] in killed
    }
    what = {held_job["uuid"]: "in a Shopify call"}
    if busy_job:
        what[busy_job["uuid"]] = "in an order burst"
    figures["killed_jobs"] = [
        {
            "killed": what[uuid_],
            "state": job["state"],
            "retry": job["retry"],
            "recovered_s": job["date_done"]
            and round((parse_utc(job["date_done"]) - killed[uuid_]).total_seconds(), 1),
        }
        for uuid_, job in jobs.items()
    ]
    held = suite.fulfillment_messages(backend, [picking])[0]
    in_shop = suite.fake.fulfillments_by_order()[held_id]
    suite.check(
        f"{title}: a job killed in a Shopify call is requeued and done, the "
        "fulfillment is in Shopify once",
        in_shop == 1
        and held["state"] == "done"
        and jobs.get(held_job["uuid"], {}).get("state") == "done",
        f"{in_shop} fulfillment(s), message {held['state']}, job "
        f"{jobs.get(held_job['uuid'], {}).get('state')}",
    )
    suite.check(
        f"{title}: a job killed while it works through an order burst is "
        "requeued and done",
        busy_job and jobs.get(busy_job["uuid"], {}).get("state") == "done",
        "no job of the burst ran long enough to be killed mid-way"
        if not busy_job
        else f"job {jobs.get(busy_job['uuid'], {}).get('state')}",
    )
    _check_webhooks(suite, title, backend, sender, figures)
    suite.check_documents(
        title,
        suite.duplicates(backend, burst + shipped),
        figures,
        " (customers 0 and 5 share a phone)",
    )
    suite.check(
        f"{title}: no work stuck (every message final, no job running or due)",
        waited is not None,
        f"settled in {waited} s" if waited is not None else f"left: {left}",
    )
    _cancelled_job(suite, backend, burst[0], figures)
    figures["jobs"] = suite.job_states([backend], since)


def _started_job(suite, domain, timeout=60):
    """The started job of ``domain``, once it has a worker."""

    def probe():
        rows = suite.read(
            "queue.job",
            "search_read",
            [*domain, ("state", "=", "started")],
            fields=["uuid", "worker_pid"],
        )
        return rows[0] if rows and rows[0]["worker_pid"] else None

    return suite.wait(probe, f"a started job {domain}", timeout)


def _long_job(suite, since, timeout=60):
    """A message job of the burst seen started on two polls a second apart
    (working through the backlog of its backend); None if none was."""
    seen = {}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = suite.read(
            "queue.job",
            "search_read",
            [
                ("state", "=", "started"),
                ("method_name", "=", "_process_job"),
                ("date_created", ">=", since),
            ],
            fields=["uuid", "worker_pid"],
        )
        now = time.monotonic()
        for row in rows:
            seen.setdefault(row["uuid"], now)
            if now - seen[row["uuid"]] >= 1.0 and row["worker_pid"]:
                return row
        time.sleep(0.25)
    return None


def _cancelled_job(suite, backend, order, figures):
    """A fulfillment refused once (HTTP 500) is queued for a retry; its job is
    cancelled by hand; the stuck-message cron queues it again."""
    title = "stuck-message cron"
    order_id, payload = order
    suite.fake.add_order(order_id, rest_body=payload, updated_at=OLD)
    fo_id = suite.fake.orders[order_id]["fulfillment_orders"][0]["id"]
    suite.fake.plan("fulfillmentCreate", "5xx", match=fo_id, status=500)
    since = utc(-2)
    picking = suite.ship(backend, [order])[order_id]

    def retry_planned():
        rows = suite.fulfillment_messages(backend, [picking])
        return rows and rows[0]["next_retry_at"] and rows[0]

    message = suite.wait(retry_planned, "the fulfillment queued for a retry", 60)
    job = suite.read(
        "queue.job",
        "search_read",
        [("uuid", "=", message["job_uuid"])],
        fields=["state"],
    )
    if not job or job[0]["state"] != "pending":
        raise StepFailed(f"the retry job is not pending: {job}")
    suite.rpc("queue.job", "button_cancelled", [job[0]["id"]])
    # the cron leaves alone a message whose retry is not due yet
    due = parse_utc(message["next_retry_at"]) - datetime.now(timezone.utc)
    time.sleep(min(max(due.total_seconds(), 0), 60) + 1.5)
    t0 = time.monotonic()
    suite.requeue_stuck()
    waited, left = suite.settle([backend], since, 60)
    done = suite.fulfillment_messages(backend, [picking])[0]
    in_shop = suite.fake.fulfillments_by_order()[order_id]
    figures["cron_requeue_to_done_s"] = round(time.monotonic() - t0, 1)
    suite.check(
        f"{title}: a queued message whose job was cancelled is queued again and "
        "done, the fulfillment in Shopify once",
        done["state"] == "done" and in_shop == 1 and waited is not None,
        f"message {done['state']} after {done['attempt_count']} attempt(s), "
        f"{in_shop} fulfillment(s)" + ("" if waited is not None else f", left {left}"),
    )


def _check_webhooks(suite, title, backend, sender, figures):
    stored, states = suite.stored_and_processed(backend, sender.events)
    figures["messages"] = states
    suite.check(
        f"{title}: every webhook answered 200 is stored and processed",
        stored == len(sender.events) and set(states) <= set(PROCESSED),
        f"{len(sender.answered)}/{sender.total} deliveries answered 200 "
        f"({len(sender.events)} events), {stored} stored, states {states}",
    )


def scenario_db_restart(suite, cluster, reason):
    """300 order webhooks (150 orders, a newer version of 100 of them, 50
    deliveries sent twice) from 8 threads, PostgreSQL restarted when a third
    is answered; the senders resend until answered 200."""
    title = "database restarted during a webhook storm"
    figures = suite.figures.setdefault("db-restart", {})
    if cluster is None:
        figures["skipped"] = reason
        suite.check(f"{title}: skipped", True, reason)
        return
    since = utc(-2)
    backend = suite.make_backend("restart")
    rng = random.Random(suite.tag)
    orders = [suite.order("restart", i % 12) for i in range(150)]
    paid = [
        ("orders/paid", payload, f"faults-{suite.tag}-paid-{order_id}")
        for order_id, payload in orders
    ]
    # a newer version of most orders, which may come first
    updated = []
    for order_id, payload in rng.sample(orders, 100):
        later = copy.deepcopy(payload)
        later.update(
            note="Leave at the back door", updated_at="2026-11-02T09:20:00-05:00"
        )
        updated.append(("orders/updated", later, f"faults-{suite.tag}-upd-{order_id}"))
    # Shopify delivers some events twice
    deliveries = paid + updated + rng.sample(paid + updated, 50)
    rng.shuffle(deliveries)
    mark = suite.log_mark()
    sender = Sender(suite, backend, deliveries).start(240)
    suite.wait(
        lambda: len(sender.answered) >= len(deliveries) // 3 or not sender.alive(),
        "a third of the storm answered",
        120,
    )
    at = len(sender.answered)
    t0 = time.monotonic()
    restarted = utc()
    cluster.restart()
    back = time.monotonic()
    suite.ot.say(f"  PostgreSQL restarted after {at} answers ({back - t0:.1f} s down)")
    sender.join()
    after = [t for t in sender.answered.values() if t > back]
    figures.update(
        webhooks=sender.figures(),
        restarted_after_answers=at,
        restart_s=round(back - t0, 1),
        first_200_after_restart_s=round(min(after) - back, 1) if after else None,
    )
    waited, left = suite.settle([backend], since, 240)
    rescued = None
    if waited is None:
        figures["left_to_the_runner"] = left
        suite.requeue_stuck()
        rescued, left = suite.settle([backend], since, 90)
    figures.update(settled_after_s=waited, settled_after_stuck_cron_s=rescued)
    figures["jobs"] = suite.job_states([backend], since)
    _check_webhooks(suite, title, backend, sender, figures)
    suite.check(
        f"{title}: every delivery is answered 200 in the end",
        len(sender.answered) == sender.total,
        f"{len(sender.answered)}/{sender.total} answered, {sender.posts} POSTs, "
        f"refused {dict(sender.refused)}",
    )
    suite.check_documents(title, suite.duplicates(backend, orders), figures)
    _check_recovery(suite, title, backend, since, restarted, mark, after, back)
    suite.check(
        f"{title}: no work stuck (every message final, no job running or due)",
        not left,
        f"settled in {waited} s by the runner"
        if waited is not None
        else (
            f"the runner left {figures['left_to_the_runner']}; after the "
            f"stuck-message cron: {left or 'nothing'}"
        ),
    )


def _check_recovery(suite, title, backend, since, restarted, mark, after, back):
    ready = [
        r
        for r in suite.ot.iter_records(suite.log_path)
        if r.lineno > mark and "database connections ready" in r.msg
    ]
    ran = [
        job
        for job in suite.jobs([backend], since)
        if job["state"] == "done" and job["date_done"] and job["date_done"] > restarted
    ]
    suite.figures["db-restart"]["runner_reconnections"] = len(ready)
    suite.figures["db-restart"]["server_errors"] = len(suite.log_errors_since(mark))
    answered = (
        f"first 200 {min(after) - back:.1f} s after the restart"
        if after
        else "no 200 after the restart"
    )
    suite.check(
        f"{title}: the server answers again and the job runner reconnects",
        after and ready and ran,
        f"{answered}, runner 'database connections ready' {len(ready)} time(s), "
        f"{len(ran)} job(s) done after the restart",
    )


def scenario_api_faults(suite):
    """429, 5xx, timeouts and lost answers for fulfillments, a stock push and
    the drift re-fetch."""
    since = utc(-2)
    backend = suite.make_backend("api", request_timeout=CLIENT_TIMEOUT, max_attempts=3)
    patterns = suite.read(
        "queue.job.function",
        "search_read",
        [("method", "in", list(SHORT_PATTERNS))],
        fields=["method", "edit_retry_pattern"],
    )
    try:
        for row in patterns:
            suite.rpc(
                "queue.job.function",
                "write",
                [row["id"]],
                {"edit_retry_pattern": SHORT_PATTERNS[row["method"]]},
            )
        _api_faults(suite, backend, since)
        _slow_shopify(suite)
    finally:
        for row in patterns:
            suite.rpc(
                "queue.job.function",
                "write",
                [row["id"]],
                {"edit_retry_pattern": row["edit_retry_pattern"]},
            )


# What each fulfillment meets at Shopify: (operation, kind, times, status,
# Retry-After, delay); and how its message ends.
FULFILLMENT_FAULTS = (
    ("fulfillmentCreate", "429", 1, 429, 1, 0, "done"),
    ("fulfillmentCreate", "5xx", 1, 500, None, 0, "done"),
    ("fulfillmentCreate", "timeout", 1, None, None, LATE, "done"),
    ("fulfillmentCreate", "lost", 1, None, None, 0, "done"),
    ("fulfillmentOrders", "timeout", 1, None, None, LATE, "done"),
    # every attempt of every job: dead after the backend's 3 attempts
    ("fulfillmentOrders", "5xx", 15, 503, 0, 0, "dead"),
)
STOCK_FAULTS = (
    ("timeout", None, None, LATE),
    ("lost", None, None, 0),
    ("429", 429, 1, 0),
    ("5xx", 502, 0, 0),
    ("5xx", 503, 0, 0),
)


def _api_faults(suite, backend, since):
    title = "Shopify faults"
    figures = suite.figures.setdefault("api-faults", {})
    mark = suite.log_mark()
    requests_before = len(suite.fake.requests)
    orders = suite.import_orders(backend, "api", len(FULFILLMENT_FAULTS))
    items = _stock_setup(suite, backend)
    drift = _drift_setup(suite)
    for (order_id, payload), fault in zip(orders, FULFILLMENT_FAULTS, strict=True):
        operation, kind, times, status, retry_after, delay, _end = fault
        suite.fake.add_order(order_id, rest_body=payload, updated_at=OLD)
        match = (
            suite.fake.orders[order_id]["fulfillment_orders"][0]["id"]
            if operation == "fulfillmentCreate"
            else f"gid://shopify/Order/{order_id}"
        )
        suite.fake.plan(
            operation,
            kind,
            times,
            match=match,
            status=status,
            retry_after=retry_after,
            delay=delay,
        )
    for kind, status, retry_after, delay in STOCK_FAULTS:
        suite.fake.plan(
            "inventorySetQuantities",
            kind,
            status=status,
            retry_after=retry_after,
            delay=delay,
        )
    t0 = time.monotonic()
    pickings = suite.ship(backend, orders)
    suite.rpc("distribution.sync.backend", "action_shopify_push_stock", [backend])
    suite.rpc("distribution.sync.backend", "action_fetch_changes", [backend])
    waited, left = suite.settle([backend], since, 150)
    figures.update(
        settled_after_s=waited,
        faults_served=dict(suite.fake.served),
        faults_not_served={
            f"{o} {k}": n for (o, k), n in suite.fake.unserved().items()
        },
        requests=dict(
            collections.Counter(
                r["operation"] for r in suite.fake.requests[requests_before:]
            )
        ),
        work_s=round(time.monotonic() - t0, 1),
        jobs=suite.job_states([backend], since),
    )
    _check_fulfillments(suite, title, backend, orders, pickings)
    _check_stock(suite, title, backend, items)
    _check_drift(suite, title, backend, since, drift)
    _check_outbound(suite, title, backend)
    suite.check(
        f"{title}: no work stuck (every message final, no job running or due)",
        waited is not None,
        f"settled in {waited} s" if waited is not None else f"left: {left}",
    )
    errors = suite.log_errors_since(mark)
    suite.check(
        f"{title}: no ERROR or traceback in the server log",
        not errors,
        f"{len(errors)} ERROR record(s)"
        + (f", first: {errors[0].msg[:200]}" if errors else ""),
    )
    if errors:
        suite.ot.print_records("server errors during the API faults", errors, 3)


def _slow_shopify(suite):
    """Shopify takes HELD seconds (within the client's timeout) to answer the
    fulfillments of as many deliveries as there are job slots; a webhook sent
    while those jobs wait must still be answered within Shopify's 5 s, and
    is processed once."""
    title = "Shopify slow while every job slot waits on it"
    since = utc(-2)
    backend = suite.make_backend("slow")
    orders = suite.import_orders(backend, "slow", JOB_SLOTS)
    held = []
    for order_id, payload in orders:
        suite.fake.add_order(order_id, rest_body=payload, updated_at=OLD)
        held.append(suite.fake.orders[order_id]["fulfillment_orders"][0]["id"])
        suite.fake.plan("fulfillmentCreate", "slow", match=held[-1], delay=HELD)
    suite.ship(backend, orders)
    suite.wait(
        lambda: all(suite.fake.received("fulfillmentCreate", fo) for fo in held),
        "every held fulfillment at Shopify",
        60,
    )
    order_id, payload = suite.order("slow", JOB_SLOTS)
    event_id = f"faults-{suite.tag}-{order_id}"
    t0 = time.monotonic()
    status = suite.post(backend, "orders/paid", payload, event_id, SHOPIFY_TIMEOUT)
    seconds = round(time.monotonic() - t0, 1)
    # as Shopify does: sent again until answered 200
    sender = Sender(suite, backend, [("orders/paid", payload, event_id)], threads=1)
    sender.start(60).join()
    waited, left = suite.settle([backend], since, 90)
    in_shop = suite.fake.fulfillments_by_order()
    stored, states = suite.stored_and_processed(backend, sender.events)
    suite.figures["api-faults"]["slow_shopify"] = {
        "first_answer": status,
        "first_answer_s": seconds,
        "held_s": HELD,
        "server": f"{WORKERS} workers, jobs {CHANNELS}",
    }
    suite.check(
        f"{title}: a webhook is answered within Shopify's {SHOPIFY_TIMEOUT} s "
        f"({WORKERS} workers, jobs {CHANNELS})",
        status == 200 and seconds < SHOPIFY_TIMEOUT,
        f"first answer {status} after {seconds} s while {JOB_SLOTS} jobs waited "
        f"{HELD} s on Shopify",
    )
    suite.check(
        f"{title}: the fulfillments are in Shopify once, the webhook is "
        "processed, nothing is stuck",
        all(in_shop[order_id] == 1 for order_id, _payload in orders)
        and stored == 1
        and set(states) <= set(PROCESSED)
        and waited is not None,
        f"fulfillments {[in_shop[o] for o, _p in orders]}, webhook stored "
        f"{stored} time(s) {states}" + ("" if waited is not None else f", left {left}"),
    )


def _stock_setup(suite, backend):
    """Two storable products bound to Shopify inventory items, with stock, and
    a location mapped (last: a stock move after it would queue a push)."""
    rpc = suite.rpc
    items = {}
    variants = []
    for index, quantity in enumerate((37, 5)):
        sku = f"FAULT-STOCK-{suite.tag.upper()}-{index}"
        product = rpc(
            "product.product",
            "create",
            {"name": f"Fault-suite stock {index}", "default_code": sku},
        )
        rpc("product.product", "write", [product], {"is_storable": True})
        template = rpc("product.product", "read", [product], ["product_tmpl_id"])
        wizard = rpc(
            "stock.change.product.qty",
            "create",
            {
                "product_id": product,
                "product_tmpl_id": template[0]["product_tmpl_id"][0],
                "new_quantity": quantity,
            },
        )
        rpc("stock.change.product.qty", "change_product_qty", [wizard])
        item = str(next(suite.order_ids))
        items[product] = f"gid://shopify/InventoryItem/{item}"
        variants.append({"id": int(item), "sku": sku, "inventory_item_id": item})
    product_id = next(suite.order_ids)
    body = {
        "id": product_id,
        "admin_graphql_api_id": f"gid://shopify/Product/{product_id}",
        "title": "Fault-suite stock",
        "variants": variants,
    }
    event_id = f"faults-{suite.tag}-product"
    if suite.post(backend, "products/update", body, event_id) != 200:
        raise StepFailed("products/update was not answered 200")
    domain = [("backend_id", "=", backend), ("topic", "=", "products/update")]
    suite.wait(lambda: suite._all_final(domain, 1), "the inventory items bound")
    warehouse = rpc("stock.warehouse", "search_read", [], fields=["id"], limit=1)[0]
    rpc(
        "distribution.sync.shopify.location",
        "create",
        {
            "backend_id": backend,
            "shopify_location_id": "77002",
            "name": "Fault-suite store",
            "warehouse_id": warehouse["id"],
        },
    )
    return {"items": items, "warehouse": warehouse["id"], "location": "77002"}


def _drift_setup(suite):
    """Three orders that reach the shop but not Odoo, their REST reads and
    the order list meeting faults; returns ``[(order id, payload)]``."""
    orders = []
    for index in range(3):
        order_id, payload = suite.order("drift", index)
        payload["updated_at"] = walkthrough.now_iso()
        suite.fake.set_rest_order(order_id, payload)
        orders.append((order_id, payload))
    # the first run of the fetch job fails whole (5 answers: the client's
    # retries), the second meets a throttle and a lost answer
    suite.fake.plan("orders", "5xx", 5, status=500, retry_after=0)
    suite.fake.plan("orders", "429", status=429, retry_after=1)
    suite.fake.plan("orders", "lost")
    for (order_id, _payload), (kind, status, delay) in zip(
        orders,
        (("5xx", 503, 0), ("timeout", None, LATE), ("lost", None, 0)),
        strict=True,
    ):
        suite.fake.plan(
            "rest_order",
            kind,
            match=f"/orders/{order_id}.json",
            status=status,
            retry_after=0 if status else None,
            delay=delay,
        )
    return orders


def _check_fulfillments(suite, title, backend, orders, pickings):
    in_shop = suite.fake.fulfillments_by_order()
    messages = {
        row["res_id"]: row
        for row in suite.fulfillment_messages(backend, pickings.values())
    }
    seen, ok = [], True
    for (order_id, _payload), fault in zip(orders, FULFILLMENT_FAULTS, strict=True):
        message = messages.get(pickings[order_id], {})
        expected_count = 1 if fault[-1] == "done" else 0
        good = in_shop[order_id] == expected_count and message.get("state") == fault[-1]
        ok = ok and good
        seen.append(
            f"{fault[0]} {fault[1]}: {in_shop[order_id]} in Shopify, message "
            f"{message.get('state')} after {message.get('attempt_count')} attempt(s)"
        )
    suite.figures["api-faults"]["fulfillments"] = seen
    suite.check(
        f"{title}: each delivery is fulfilled in Shopify once (none when Shopify "
        "never answered), whatever the fault",
        ok,
        "; ".join(seen),
    )
    dead = messages.get(pickings[orders[-1][0]], {})
    suite.check(
        f"{title}: retries are bounded (a fulfillment Shopify keeps refusing is "
        "dead after the backend's 3 attempts)",
        dead.get("state") == "dead" and dead.get("attempt_count") == 3,
        f"message {dead.get('state')} after {dead.get('attempt_count')} attempts",
    )


def _check_stock(suite, title, backend, stock):
    rows = suite.read(
        "distribution.sync.message",
        "search_read",
        [
            ("backend_id", "=", backend),
            ("direction", "=", "outbound"),
            ("topic", "=", "inventory/set"),
        ],
        fields=["state", "attempt_count"],
    )
    free = suite.read(
        "product.product",
        "read",
        list(stock["items"]),
        ["free_qty"],
        context={"warehouse_id": stock["warehouse"]},
    )
    location = f"gid://shopify/Location/{stock['location']}"
    pairs = [
        (
            int(row["free_qty"]),
            suite.fake.inventory.get((stock["items"][row["id"]], location)),
        )
        for row in free
    ]
    suite.check(
        f"{title}: the stock push sets Shopify's quantities in the end",
        len(rows) == 1
        and rows[0]["state"] == "done"
        and all(odoo == shop for odoo, shop in pairs),
        f"messages {[(r['state'], r['attempt_count']) for r in rows]}, "
        f"(Odoo, Shopify) quantities {pairs}",
    )


def _check_drift(suite, title, backend, since, drift):
    ids = [order_id for order_id, _payload in drift]
    states = suite.count_by(
        "distribution.sync.message",
        [("backend_id", "=", backend), ("external_id", "in", ids)],
        "state",
    )
    bound = suite.count_by(
        "distribution.sync.binding",
        [
            ("backend_id", "=", backend),
            ("res_model", "=", "sale.order"),
            ("external_id", "in", ids),
        ],
        "external_id",
    )
    fetches = [
        job
        for job in suite.jobs([backend], since)
        if "_fetch_changes_job" in job["func_string"]
    ]
    suite.check(
        f"{title}: the drift re-fetch imports each missed order once",
        len(bound) == len(ids)
        and set(bound.values()) == {1}
        and set(states) == {"done"}
        and [job["state"] for job in fetches] == ["done"],
        f"{len(bound)}/{len(ids)} bound, messages {states}, fetch jobs "
        f"{[(job['state'], job['retry']) for job in fetches]}",
    )


def _check_outbound(suite, title, backend):
    domain = [("backend_id", "=", backend), ("direction", "=", "outbound")]
    states = suite.count_by("distribution.sync.message", domain, "state")
    failed = suite.read(
        "distribution.sync.message",
        "search",
        domain + [("state", "not in", list(PROCESSED))],
    )
    explained = suite.count_by(
        "distribution.sync.exception",
        [("message_id", "in", failed), ("state", "=", "open")],
        "message_id",
    )
    suite.check(
        f"{title}: every outbound message ends done, or failed with an open exception",
        set(states) <= set(FINAL) and len(explained) == len(failed),
        f"states {states}, {len(explained)} of the {len(failed)} failed ones "
        "with an open exception",
    )


# ------------------------------------------------------------------ entry points


def run(ot, odoo, pg, db, addons, workdir, data_dir=None, only=None):
    """Serve ``db`` (two workers, the queue job runner) with a fake Shopify
    and run the scenarios (``only``: some of ``SCENARIOS``).

    Returns ``(checks, figures)``: ``[(name, ok, detail)]`` and a dict of what
    was measured per scenario. Raises ``ot.TierError`` when the server cannot
    be started.
    """
    fake_class = faulty_shopify_class()
    log_path = Path(workdir) / "faults-server.log"
    keys = os.environ.get(ot.SECRET_KEYS_ENV) or ot.new_fernet_key()
    port = ot.free_port()
    cluster, reason = cluster_of(odoo, pg)
    t0 = time.monotonic()
    with (
        fake_class(access_token=TOKEN, api_version=API_VERSION) as fake,
        ot.serving(
            odoo,
            pg,
            db,
            addons,
            log_path,
            workers=WORKERS,
            channels=CHANNELS,
            data_dir=data_dir,
            port=port,
            env_extra={ot.SECRET_KEYS_ENV: keys},
        ) as base_url,
    ):
        suite = Faults(ot, ot.Rpc(base_url, db), base_url, fake, log_path, port)
        suite.setup()
        for name in only or SCENARIOS:
            if name == "worker-kill":
                suite.guarded(name, scenario_worker_kill)
            elif name == "db-restart":
                suite.guarded(name, scenario_db_restart, cluster, reason)
            elif name == "api-faults":
                suite.guarded(name, scenario_api_faults)
    suite.figures["seconds"] = round(time.monotonic() - t0, 1)
    suite.figures["server_errors"] = len(ot.log_errors(log_path))
    return suite.checks, suite.figures


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep-db", action="store_true", help="do not drop it")
    parser.add_argument(
        "--db", help="use this database (created when missing); it is kept"
    )
    parser.add_argument(
        "--only", action="append", choices=SCENARIOS, help="run this scenario only"
    )
    parser.add_argument(
        "--own-cluster",
        nargs="?",
        const="",
        metavar="DIR",
        help="run on a PostgreSQL cluster of the suite's own (kept in DIR)",
    )
    args = parser.parse_args(argv)
    ot = walkthrough.load_module("odoo_tier", HERE / "odoo_tier.py")

    def body(odoo, pg, workdir):
        cluster = None
        if args.own_cluster is not None:
            pg, cluster = make_cluster(ot, args.own_cluster or None)
        try:
            return _standalone(ot, odoo, pg, workdir, args)
        finally:
            if cluster is not None:
                cluster.ctl("-m", "fast", "stop")
                if not args.own_cluster:
                    shutil.rmtree(cluster.data.parent, ignore_errors=True)

    return ot.run_script("faults", "NO FAULT SUITE", body, (walkthrough.ADDON,))


def _standalone(ot, odoo, pg, workdir, args):
    addons = ot.selected_addons()
    db = args.db or f"dsync_faults_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    # a kept database keeps its files in the configuration's data directory
    data_dir = None if args.db else Path(workdir) / "data"
    created = False
    if not (args.db and database_exists(pg, db)):
        ot.prepare_database(
            odoo, pg, db, addons, False, False, workdir, data_dir, label="faults"
        )
        created = not args.db
    try:
        checks, figures = run(ot, odoo, pg, db, addons, workdir, data_dir, args.only)
    finally:
        if created and not args.keep_db:
            ot.odoo_drop_db(odoo, pg, db, data_dir, quiet=True)
    ot.say(json.dumps(figures, indent=1, default=str))
    failed = [name for name, ok, _detail in checks if not ok]
    ot.say(
        f"faults: {len(checks) - len(failed)} passed, {len(failed)} failed "
        f"({ot.fmt_duration(figures['seconds'])})"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

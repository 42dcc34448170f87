#!/usr/bin/env python3
"""Load: a storm of Shopify webhooks on a live server, then the backlog drained.

Real HTTP, the real queue_job runner, XML-RPC: nothing is called in-process.
``orders`` distinct Shopify ``orders/create`` deliveries (the demo order #1001
with its own ids, name and customer each; a customer has about
``ORDERS_PER_CUSTOMER`` orders), each delivered ``COPIES`` times with the same
``X-Shopify-Event-Id`` (Shopify redelivers a webhook under its id), every
request shuffled and sent once, on a new connection, by ``senders`` threads at
once, to a server of ``WORKERS`` HTTP workers with the job runner on one job
slot fewer (the README's rule). Once the backlog is drained, one check per
promise; then one redelivery is sent while ``psql`` holds its message row as a
processing job does (answered at once, whatever the load)::

    python tests/load_suite.py [--orders 5000] [--senders 16] [--keep-db] [--db NAME]
                               [--channels root:1,root.distribution_sync:1]

creates a database without demo data (``--db`` uses an existing one, with the
addons installed, and keeps it), runs the storm, prints the checks and the
figures (throughput, latency, drain time) and drops the database. ``run`` is
the entry point for the Odoo tier (``tests/odoo_tier.py``), in its database
without demo data after the walk-through: everything here has names of its
own (backend, products, order and customer ids) and counts only what it made.
"""

import argparse
import collections
import http.client
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import walkthrough

HERE = Path(__file__).resolve().parent
ADDON = walkthrough.ADDON
TOPIC = "orders/create"
COPIES = 3  # deliveries of each event (Shopify redelivers under the same id)
SENDERS = 16
WORKERS = 2
# Fewer job slots than workers (the README's rule): a webhook always finds a
# free worker to answer it while jobs run.
CHANNELS = "root:1,root.distribution_sync:1"
ORDERS_PER_CUSTOMER = 4  # returning customers: two of their orders may meet
REQUEST_TIMEOUT = 60  # seconds; a valid webhook is never sent again
# Shopify counts a delivery not answered within 5 s as failed and sends it
# again (contract: "well inside Shopify's 5 s"): reported next to the p99.
SHOPIFY_WINDOW = 5.0
POLL_SECONDS = 3
PROGRESS_SECONDS = 30
# Cap of the wait for the backlog once the storm is over: generous (the check
# fails only when it is hit), it stops a wedged run.
DRAIN_BASE_SECONDS = 300
DRAIN_SECONDS_PER_ORDER = 0.3
OPEN_JOB_STATES = ["wait_dependencies", "pending", "enqueued", "started"]
# Shopify ids of the storm: a block per run (its tag), so that a reused
# database never holds an order, line or customer of another run.
ORDER_ID_BASE = 5_620_000_000_000
CUSTOMER_ID_BASE = 7_720_000_000_000
IDS_PER_RUN = 1_000_000


def products():
    """(SKU, name, price) of the storm's own products: the walk-through's,
    renamed."""
    return [
        (sku.replace("WALK-", "LOAD-"), f"Load storm {name.lower()}", price)
        for _demo, sku, name, price in walkthrough.PRODUCTS
    ]


def storm_orders(tag, count):
    """``count`` distinct paid orders (demo order #1001, ``walkthrough.
    demo_variant``) of the run ``tag``: own order and line ids, name
    ``#L<tag>-<n>`` and SKUs; customer ``n % customers`` (own id, email,
    phone, name)."""
    customers = max(1, count // ORDERS_PER_CUSTOMER)
    rows = []
    for number in range(count):
        order_id = str(ORDER_ID_BASE + tag * IDS_PER_RUN + number)
        client = number % customers
        email = f"load.{tag}.{client}@example.com"
        phone = f"+1555{tag:04d}{client:05d}"
        order = walkthrough.demo_variant(
            order_id, name=f"#L{tag}-{number:05d}", email=email
        )
        for line in order["line_items"]:
            line["sku"] = line["sku"].replace("WALK-", "LOAD-")
        for index, line in enumerate(order["shipping_lines"]):
            line["id"] = int(order_id) * 10 + 5 + index
        order["customer"].update(
            id=CUSTOMER_ID_BASE + tag * IDS_PER_RUN + client,
            email=email,
            phone=phone,
            first_name="Storm",
            last_name=f"Buyer {tag}-{client}",
        )
        for address in (order["billing_address"], order["shipping_address"]):
            address.update(
                last_name=f"Buyer {tag}-{client}",
                name=f"Storm Buyer {tag}-{client}",
                phone=phone,
            )
        rows.append(order)
    return rows, customers


def percentile(values, share):
    """Nearest-rank percentile of ``values`` (sorted), None when empty."""
    if not values:
        return None
    rank = max(1, min(len(values), math.ceil(share * len(values))))
    return values[rank - 1]


class Storm:
    """One storm against a served database: setup, send, drain, check."""

    def __init__(self, ot, rpc, base_url, fake, orders, senders, channels):
        self.ot, self.rpc, self.base_url, self.fake = ot, rpc, base_url, fake
        self.orders, self.senders, self.channels = orders, senders, channels
        self.tag = random.SystemRandom().randrange(1, 10_000)
        self.checks = []
        self.figures = {}
        # Shopify's headers, signed as the walk-through signs them.
        self.signer = walkthrough.Walk(ot, rpc, base_url, fake)
        self.backend_id = None
        self.started = None  # server time of the backend's creation
        self.top_load = 0.0  # highest 1-minute load average seen (noise)
        self.drain_timeout = DRAIN_BASE_SECONDS + DRAIN_SECONDS_PER_ORDER * orders
        self.deliveries = []

    def check(self, name, ok, detail=""):
        self.checks.append((name, bool(ok), detail))
        mark = "ok  " if ok else "FAIL"
        self.ot.say(f"  [{mark}] {name}" + (f": {detail}" if detail else ""))
        return ok

    # ------------------------------------------------------------------ setup
    def setup(self):
        """The storm's products (no tax, the sample's prices) and a Shopify
        backend of its own, from the contract's fields; a run tag no earlier
        run of the database used."""
        rpc = self.rpc
        while rpc(
            "sale.order",
            "search_count",
            [("client_order_ref", "=like", f"#L{self.tag}-%")],
        ) or rpc(
            "res.partner", "search_count", [("email", "=like", f"load.{self.tag}.%")]
        ):
            self.tag = random.SystemRandom().randrange(1, 10_000)
        for sku, name, price in products():
            values = {"list_price": price, "taxes_id": [(5, 0, 0)]}
            found = rpc("product.product", "search", [("default_code", "=", sku)])
            if found:
                rpc("product.product", "write", found[:1], values)
            else:
                rpc(
                    "product.product",
                    "create",
                    dict(values, name=name, default_code=sku, type="consu"),
                )
        self.backend_id = rpc(
            "distribution.sync.backend",
            "create",
            {
                "name": f"Load storm {self.tag}",
                "backend_type": "shopify",
                "environment": "sandbox",
                "api_url": self.fake.url,
                "webhook_secret": walkthrough.SECRET,
                "shopify_shop_domain": walkthrough.SHOP,
                "shopify_access_token": walkthrough.TOKEN,
                "shopify_api_version": walkthrough.API_VERSION,
            },
        )
        self.started = rpc(
            "distribution.sync.backend", "read", [self.backend_id], ["create_date"]
        )[0]["create_date"]

    def requests(self, rows):
        """Every delivery (``COPIES`` per order, one event id each order),
        shuffled with a seed of the run: ``[(event_id, body, headers)]``."""
        deliveries = []
        for order in rows:
            body = json.dumps(order).encode()
            event_id = f"load-{self.tag}-{order['id']}"
            headers = self.signer.headers(TOPIC, body, event_id)
            deliveries += [(event_id, body, headers)] * COPIES
        random.Random(self.tag).shuffle(deliveries)
        return deliveries

    # ------------------------------------------------------------------ storm
    def post(self, body, headers):
        """One POST on a new connection: (status, answer, seconds, error)."""
        url = urlsplit(self.base_url)
        connection = http.client.HTTPConnection(
            url.hostname, url.port, timeout=REQUEST_TIMEOUT
        )
        t0 = time.perf_counter()
        try:
            connection.request(
                "POST",
                f"/distribution_sync/webhook/{self.backend_id}",
                body=body,
                headers=headers,
            )
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
            seconds = time.perf_counter() - t0
        except (OSError, http.client.HTTPException) as exc:
            seconds = time.perf_counter() - t0
            return None, None, seconds, f"{type(exc).__name__}: {exc}"
        finally:
            connection.close()
        try:
            answer = json.loads(text).get("status")
        except (ValueError, AttributeError):
            answer = text[:80]
        return response.status, answer, seconds, None

    def warm_up(self, body):
        """Every worker loads the registry before the storm (as in
        production): wrongly signed deliveries, which store nothing."""
        headers = self.signer.headers(TOPIC, body, f"load-{self.tag}-warm-up")
        headers["X-Shopify-Hmac-Sha256"] = "d2FybSB1cA=="
        answers = []
        threads = [
            threading.Thread(target=lambda: answers.append(self.post(body, headers)))
            for _n in range(2 * WORKERS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(REQUEST_TIMEOUT)
        return sorted(str(answer[0]) for answer in answers)

    def storm(self, deliveries):
        """Send every delivery once from ``senders`` threads; returns
        ``[(status, answer, seconds, error)]`` and the storm's seconds."""
        results = [None] * len(deliveries)
        cursor = iter(range(len(deliveries)))
        lock = threading.Lock()

        def sender():
            while True:
                with lock:
                    index = next(cursor, None)
                if index is None:
                    return
                _event_id, body, headers = deliveries[index]
                results[index] = self.post(body, headers)

        threads = [
            threading.Thread(target=sender, name=f"load-sender-{n}", daemon=True)
            for n in range(self.senders)
        ]
        t0 = time.monotonic()
        for thread in threads:
            thread.start()
        next_report = t0 + PROGRESS_SECONDS
        while any(thread.is_alive() for thread in threads):
            time.sleep(0.5)
            self.top_load = max(self.top_load, _load())
            if time.monotonic() >= next_report:
                answered = sum(1 for result in results if result is not None)
                self.ot.say(
                    f"load: {answered}/{len(deliveries)} answered after "
                    f"{self.ot.fmt_duration(time.monotonic() - t0)}"
                )
                next_report += PROGRESS_SECONDS
        return results, time.monotonic() - t0

    # ------------------------------------------------------------------ drain
    def message_states(self):
        groups = self.rpc(
            "distribution.sync.message",
            "read_group",
            [("backend_id", "=", self.backend_id)],
            ["state"],
            ["state"],
            lazy=False,
        )
        return {group["state"]: group["__count"] for group in groups}

    def job_domain(self):
        """The storm's jobs: named after its backend (other suites may share
        the database)."""
        return [
            ("model_name", "=", "distribution.sync.message"),
            ("date_created", ">=", self.started),
            ("name", "=like", f"Load storm {self.tag}: %"),
        ]

    def job_states(self):
        groups = self.rpc(
            "queue.job",
            "read_group",
            self.job_domain(),
            ["state"],
            ["state"],
            lazy=False,
        )
        return {group["state"]: group["__count"] for group in groups}

    def drain(self, timeout):
        """Poll until every message of the backend is final and no job of the
        run is open; returns (drained, seconds, message states, job states)."""
        t0 = time.monotonic()
        next_report = t0 + PROGRESS_SECONDS
        while True:
            messages, jobs = self.message_states(), self.job_states()
            self.top_load = max(self.top_load, _load())
            open_messages = sum(
                n for s, n in messages.items() if s not in walkthrough.FINAL
            )
            open_jobs = sum(n for s, n in jobs.items() if s in OPEN_JOB_STATES)
            seconds = time.monotonic() - t0
            if not open_messages and not open_jobs:
                return True, seconds, messages, jobs
            if seconds > timeout:
                return False, seconds, messages, jobs
            if time.monotonic() >= next_report:
                self.ot.say(
                    f"load: draining ({self.ot.fmt_duration(seconds)}): messages "
                    f"{messages}, jobs {jobs}"
                )
                next_report += PROGRESS_SECONDS
            time.sleep(POLL_SECONDS)

    # ----------------------------------------------------------------- checks
    def check_answers(self, results, stored):
        statuses = collections.Counter(result[0] for result in results)
        answers = collections.Counter(
            result[1] for result in results if result[0] and 200 <= result[0] < 300
        )
        errors = [result[3] for result in results if result[3]]
        ok_count = sum(n for status, n in statuses.items() if status and status < 300)
        bad = {str(s): n for s, n in statuses.items() if not (s and s < 300)}
        self.figures.update(
            webhooks_sent=len(results),
            answered_2xx=ok_count,
            non_2xx=sum(bad.values()),
            answers_by_status={str(s): n for s, n in sorted(statuses.items(), key=str)},
            answers_by_text=dict(answers),
            messages_stored=stored,
        )
        self.check(
            "every valid webhook answered 2xx, none sent again",
            not bad,
            f"{ok_count}/{len(results)} 2xx; others {bad}"
            + (f"; e.g. {errors[0]}" if errors else ""),
        )
        answered = sorted(r[2] for r in results if r[0] and 200 <= r[0] < 300)
        late = [seconds for seconds in answered if seconds > SHOPIFY_WINDOW]
        p99 = percentile(answered, 0.99)
        self.figures["answered_after_5s"] = len(late)
        # Reported, not checked: on the test machine the 16 senders share the
        # cores with the server and PostgreSQL, so the latency measures the
        # machine as much as the intake. What a late answer costs is checked:
        # Shopify sends it again, and a copy is answered "duplicate".
        self.figures["p99_within_shopify_window"] = bool(
            p99 is not None and p99 <= SHOPIFY_WINDOW
        )
        self.check(
            f"each event stored once: {self.orders} accepted, "
            f"{self.orders * (COPIES - 1)} answered duplicate",
            answers.get("accepted") == self.orders
            and answers.get("duplicate") == self.orders * (COPIES - 1)
            and stored == self.orders,
            f"answers {dict(answers)}, {stored} message(s) stored",
        )

    def check_backlog(self, drained, seconds, messages, jobs):
        self.check(
            f"backlog drained within {self.drain_timeout:.0f} s: every message done",
            drained and set(messages) == {"done"},
            f"messages {messages} after {seconds:.0f} s",
        )
        total = sum(jobs.values())
        self.check(
            "one queue job per stored message, every one done",
            set(jobs) == {"done"} and total == self.orders,
            f"jobs {jobs}",
        )

    def check_orders(self, expected_total):
        rpc = self.rpc
        domain = [("client_order_ref", "=like", f"#L{self.tag}-%")]
        groups = rpc(
            "sale.order",
            "read_group",
            domain,
            ["client_order_ref"],
            ["client_order_ref"],
            lazy=False,
        )
        count = sum(group["__count"] for group in groups)
        doubled = sum(group["__count"] - 1 for group in groups if group["__count"] > 1)
        confirmed = rpc(
            "sale.order",
            "read_group",
            [*domain, ("state", "=", "sale")],
            ["amount_total:sum"],
            [],
            lazy=False,
        )[0]
        bindings = self.bindings("sale.order")
        self.figures.update(
            orders_expected=self.orders,
            orders_imported=count,
            orders_confirmed=confirmed["__count"],
        )
        self.check(
            f"every order imported: {self.orders} sale orders with the storm's "
            "references, confirmed, at the Shopify total",
            len(groups) == self.orders
            and confirmed["__count"] == self.orders
            and abs((confirmed["amount_total"] or 0) - expected_total) < 0.005,
            f"{len(groups)} reference(s), {count} order(s), "
            f"{confirmed['__count']} confirmed, total "
            f"{confirmed['amount_total'] or 0:.2f} (Shopify {expected_total:.2f})",
        )
        return doubled, bindings

    def bindings(self, res_model):
        """(bindings, distinct outside ids, distinct Odoo records) of the
        backend for ``res_model``."""
        domain = [("backend_id", "=", self.backend_id), ("res_model", "=", res_model)]

        def distinct(field):
            return len(
                self.rpc(
                    "distribution.sync.binding",
                    "read_group",
                    domain,
                    [field],
                    [field],
                    lazy=False,
                )
            )

        count = self.rpc("distribution.sync.binding", "search_count", domain)
        return count, distinct("external_id"), distinct("res_id")

    def check_duplicates(self, doubled, order_bindings, customers):
        partners = self.rpc(
            "res.partner",
            "read_group",
            [
                ("email", "=like", f"load.{self.tag}.%@example.com"),
                ("parent_id", "=", False),
            ],
            ["email"],
            ["email"],
            lazy=False,
        )
        partner_count = sum(group["__count"] for group in partners)
        customer_bindings = self.bindings("res.partner")
        duplicates = (
            doubled
            + (order_bindings[0] - min(order_bindings[1:]))
            + (partner_count - len(partners))
            + (customer_bindings[0] - min(customer_bindings[1:]))
        )
        self.figures.update(
            duplicates=duplicates,
            customers_expected=customers,
            customers_created=partner_count,
        )
        self.check(
            "no duplicate order: one sale.order and one binding per Shopify order",
            not doubled and order_bindings == (self.orders,) * 3,
            f"{doubled} order(s) doubled by reference; bindings, outside ids, "
            f"orders bound: {order_bindings}",
        )
        self.check(
            "no duplicate customer: one partner and one binding per Shopify "
            f"customer ({customers} for {self.orders} orders)",
            partner_count == len(partners) == customers
            and customer_bindings == (customers,) * 3,
            f"{partner_count} partner(s) for {len(partners)} email(s); bindings, "
            f"outside ids, partners bound: {customer_bindings}",
        )

    def check_quiet(self):
        problems = self.rpc(
            "distribution.sync.exception",
            "read_group",
            [("backend_id", "=", self.backend_id)],
            ["category"],
            ["category"],
            lazy=False,
        )
        opened = {group["category"]: group["__count"] for group in problems}
        self.figures["exceptions"] = opened
        self.check("no exception opened", not opened, f"exceptions {opened}")
        self.check(
            "imported from the webhook bodies alone (no call to Shopify)",
            not self.fake.requests,
            f"{len(self.fake.requests)} request(s) to Shopify",
        )

    # -------------------------------------------------------------------- run
    def run(self):
        ot = self.ot
        self.setup()
        rows, customers = storm_orders(self.tag, self.orders)
        expected_total = round(sum(float(o["total_price"]) for o in rows), 2)
        deliveries = self.deliveries = self.requests(rows)
        ot.say(
            f"load: backend {self.backend_id} (run {self.tag}): {len(deliveries)} "
            f"webhooks ({self.orders} orders x {COPIES}, {customers} customers), "
            f"{self.senders} senders, {WORKERS} workers, channels {self.channels}"
        )
        warm = self.warm_up(deliveries[0][1])
        self.check(
            "warm-up: wrongly signed deliveries refused (401) on every worker",
            warm == ["401"] * 2 * WORKERS,
            f"answers {warm}",
        )
        self.figures["storm_started_utc"] = time.strftime(
            "%Y-%m-%d %H:%M:%S", time.gmtime()
        )
        results, storm_seconds = self.storm(deliveries)
        self.figures["messages_done_at_storm_end"] = self.message_states().get(
            "done", 0
        )
        ot.say(f"load: storm over in {ot.fmt_duration(storm_seconds)}; draining")
        drained, drain_seconds, messages, jobs = self.drain(self.drain_timeout)
        latencies = sorted(r[2] for r in results if r[0] and 200 <= r[0] < 300)
        imported_seconds = storm_seconds + drain_seconds
        self.figures.update(
            senders=self.senders,
            workers=WORKERS,
            channels=self.channels,
            storm_seconds=round(storm_seconds, 1),
            intake_rps=round(len(latencies) / storm_seconds, 1),
            latency_p50_ms=_ms(percentile(latencies, 0.50)),
            latency_p99_ms=_ms(percentile(latencies, 0.99)),
            latency_max_ms=_ms(latencies[-1] if latencies else None),
            latency_mean_ms=_ms(statistics.fmean(latencies) if latencies else None),
            drain_seconds=round(drain_seconds, 1),
            import_seconds=round(imported_seconds, 1),
            messages_by_state=messages,
            jobs_by_state=jobs,
            max_load_average=round(self.top_load, 2),
        )
        self.check_answers(results, sum(messages.values()))
        self.check_backlog(drained, drain_seconds, messages, jobs)
        doubled, order_bindings = self.check_orders(expected_total)
        self.figures["import_orders_per_s"] = round(
            self.figures["orders_confirmed"] / imported_seconds, 2
        )
        self.check_duplicates(doubled, order_bindings, customers)
        self.figures["jobs_drained_by_others"] = self.rpc(
            "queue.job",
            "search_count",
            [*self.job_domain(), ("result", "=like", "Processed by job %")],
        )
        self.check_quiet()
        return self.checks

    def check_redelivery_while_processed(self, pg, db):
        """A redelivery that comes while its event is being processed (a
        job's transaction holds its message row, as ``_run`` does when it
        records the outcome) is answered at once, "duplicate", nothing
        stored: Shopify redelivers when an answer is late, and a delivery
        that waits for the job is late in turn.

        Not a matter of load: the row is held by ``psql`` for twice
        Shopify's window, on an idle server. Not made without ``psql``.
        """
        name = (
            "a redelivery during its event's processing is answered within "
            f"Shopify's {SHOPIFY_WINDOW:.0f} s, duplicate, nothing stored"
        )
        psql = shutil.which("psql")
        if not psql:
            self.ot.say("load: psql not installed, redelivery check not made")
            return
        _event_id, body, headers = self.deliveries[0]
        order_id = str(json.loads(body)["id"])
        message_ids = self.rpc(
            "distribution.sync.message",
            "search",
            [("backend_id", "=", self.backend_id), ("external_id", "=", order_id)],
        )
        if len(message_ids) != 1:
            self.check(name, False, f"messages of the event: {message_ids}")
            return
        hold = 2 * SHOPIFY_WINDOW
        script = (
            "BEGIN;\n"
            # As the job records its outcome: indexed columns change, so
            # the row gets new index entries (no HOT update).
            "UPDATE distribution_sync_message SET processed_at = now(), "
            f"write_date = now() WHERE id = {int(message_ids[0])};\n"
            "\\echo held\n"
            f"SELECT pg_sleep({hold});\n"
            "ROLLBACK;\n"
        )
        holder = subprocess.Popen(
            [psql, "-X", "-q", "-t", "-v", "ON_ERROR_STOP=1"]
            + ["-h", pg.host, "-p", str(pg.port), "-U", pg.user, "-d", db],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=dict(os.environ, PGPASSWORD=pg.password, PGCONNECT_TIMEOUT="10"),
        )
        try:
            holder.stdin.write(script)
            holder.stdin.close()
            line = holder.stdout.readline().strip()
            if line != "held":
                self.check(name, False, f"psql: {line}")
                return
            status, answer, seconds, error = self.post(body, headers)
        finally:
            try:
                holder.wait(timeout=hold + REQUEST_TIMEOUT)
            except subprocess.TimeoutExpired:
                holder.kill()
                holder.wait()
        stored = self.rpc(
            "distribution.sync.message",
            "search_count",
            [("backend_id", "=", self.backend_id), ("external_id", "=", order_id)],
        )
        self.check(
            name,
            status == 200
            and answer == "duplicate"
            and seconds <= SHOPIFY_WINDOW
            and stored == 1,
            f"HTTP {status} {answer or error} after {seconds:.1f} s (the job's "
            f"transaction held the message {hold:.0f} s); {stored} message(s)",
        )


def _ms(seconds):
    return None if seconds is None else round(seconds * 1000, 1)


def _load():
    try:
        return os.getloadavg()[0]
    except OSError:
        return 0.0


def server_profile(ot, log_path):
    """Server-side figures from Odoo's request log lines (``werkzeug``,
    with the query count, query time and remaining time of each request):
    per route, requests, mean and p99 ms, SQL statements per request."""
    routes = {"webhook": "/distribution_sync/webhook/", "runjob": "/queue_job/runjob"}
    seen = {name: [] for name in routes}
    for record in ot.iter_records(log_path):
        if record.logger != "werkzeug":
            continue
        parts = record.msg.split('"')
        if len(parts) < 3:
            continue
        request_line, tail = parts[1].split(" "), parts[2].split()
        if len(request_line) < 2 or len(tail) < 5:
            continue
        for name, prefix in routes.items():
            if request_line[1].startswith(prefix):
                try:
                    queries, sql_s, other_s = (
                        int(tail[2]),
                        float(tail[3]),
                        float(tail[4]),
                    )
                except ValueError:
                    break
                seen[name].append((sql_s + other_s, queries))
                break
    profile = {}
    for name, rows in seen.items():
        if not rows:
            continue
        times = sorted(seconds for seconds, _q in rows)
        profile[name] = {
            "requests": len(rows),
            "mean_ms": _ms(statistics.fmean(times)),
            "p99_ms": _ms(percentile(times, 0.99)),
            "total_s": round(sum(times), 1),
            "sql_per_request": round(statistics.fmean(q for _s, q in rows), 1),
        }
    return profile


def run(
    ot,
    odoo,
    pg,
    db,
    addons,
    workdir,
    data_dir=None,
    orders=5000,
    senders=SENDERS,
    channels=CHANNELS,
):
    """Serve ``db`` (``WORKERS`` workers, job runner on ``channels``), storm it
    with ``orders`` orders x ``COPIES`` deliveries from ``senders`` threads,
    wait for the backlog, check.

    ``db`` has the addons installed and may hold other data. Returns
    ``(checks, figures)``: ``[(check, ok, detail)]`` and a dict of what was
    measured; raises ``ot.TierError`` when the server cannot be started.
    """
    t0 = time.monotonic()
    fake_shopify = walkthrough.load_module("fake_shopify", walkthrough.FAKE_MODULE)
    log_path = Path(workdir) / "load-server.log"
    keys = os.environ.get(ot.SECRET_KEYS_ENV) or ot.new_fernet_key()
    with (
        fake_shopify.FakeShopify(
            access_token=walkthrough.TOKEN, api_version=walkthrough.API_VERSION
        ) as fake,
        ot.serving(
            odoo,
            pg,
            db,
            addons,
            log_path,
            workers=WORKERS,
            channels=channels,
            data_dir=data_dir,
            env_extra={ot.SECRET_KEYS_ENV: keys},
        ) as base_url,
    ):
        rpc = ot.Rpc(base_url, db)
        storm = Storm(ot, rpc, base_url, fake, orders, senders, channels)
        try:
            storm.run()
            storm.check_redelivery_while_processed(pg, db)
        except ot.RPC_ERRORS as exc:
            storm.check("the storm ran to its checks", False, ot.rpc_failure(exc))
    checks, figures = storm.checks, storm.figures
    errors = ot.log_errors(log_path)
    storm.check(
        "no ERROR or traceback in the server log",
        not errors,
        f"{len(errors)} ERROR/CRITICAL record(s)",
    )
    if errors:
        ot.print_records("server errors during the load", errors, 5)
    figures["server"] = server_profile(ot, log_path)
    figures["log_warnings"] = sum(
        1 for record in ot.iter_records(log_path) if record.level == "WARNING"
    )
    figures["wall_seconds"] = round(time.monotonic() - t0, 1)
    return checks, figures


def report(ot, figures):
    """The figures, one a line (the checks were printed as they were made)."""
    ot.say("load: figures")
    for key, value in figures.items():
        ot.say(f"  {key}: {json.dumps(value)}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=5000)
    parser.add_argument("--senders", type=int, default=SENDERS)
    parser.add_argument(
        "--channels",
        default=CHANNELS,
        help="queue_job channels of the server (default: the README's)",
    )
    parser.add_argument(
        "--keep-db", action="store_true", help="do not drop the database"
    )
    parser.add_argument(
        "--db",
        help="storm this existing database (the addons installed) instead of a "
        "new one; it is kept",
    )
    args = parser.parse_args()
    if not 1 <= args.orders < IDS_PER_RUN or args.senders < 1:
        parser.error(f"--orders must be in 1..{IDS_PER_RUN - 1}, --senders >= 1")
    ot = walkthrough.load_module("odoo_tier", HERE / "odoo_tier.py")

    def body(odoo, pg, workdir):
        with ot.script_database(
            odoo, pg, workdir, "load", False, args.db, args.keep_db
        ) as (db, data_dir):
            checks, figures = run(
                ot,
                odoo,
                pg,
                db,
                ot.selected_addons(),
                workdir,
                data_dir,
                args.orders,
                args.senders,
                args.channels,
            )
        report(ot, figures)
        failed = [name for name, good, _detail in checks if not good]
        ot.say(f"load: {len(checks) - len(failed)} passed, {len(failed)} failed")
        return 1 if failed else 0

    return ot.run_script("load", "NO LOAD SUITE", body, (ADDON,))


if __name__ == "__main__":
    raise SystemExit(main())

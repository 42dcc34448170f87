#!/usr/bin/env python3
"""Shopify order import throughput, against a bare-ORM baseline, in the same run.

Not a pytest test (the name does not start with ``test_``). Run it by hand::

    python tests/benchmarks/shopify_order_import.py [--orders 300] [--batch-size 50]

It creates a fresh database with distribution_sync_shopify (no demo data), serves it on
127.0.0.1 with the queue_job runner, creates the products DS-WIDGET and DS-BOLT-M8 and
a Shopify backend over XML-RPC, then imports the same kind of paid order (the demo
sample ``orders-create__demo_order_1001.json`` with its own ids, name and customer each
time) in five ways and prints fully imported orders per minute for each:

a) baseline: the same documents created directly with the ORM (the customer, its
   invoice and delivery addresses as child contacts, the order) and the order confirmed;
b) one ``_process_job()`` per stored webhook, one transaction each;
c) ``_process_batch_job()`` on batches of messages, one transaction per batch;
d) and e) as b) and c) but through the queue_job runner of the running server;
f) and g), the production path: signed webhooks POSTed to the server, each stored,
   queued and processed by the runner as in production. f) one by one (each webhook
   waits for the previous order); g) a backlog: ``--backlog`` webhooks sent by 8
   senders at once (jobs then drain the waiting messages of their backend).

Then it stops the server and drops the database. See README.md beside it.
"""

import argparse
import base64
import copy
import hashlib
import hmac
import json
import threading
import time
from pathlib import Path

from bench_common import ot, run_benchmark, served_database

ADDON = "distribution_sync_shopify"
SAMPLE = (
    ot.REPO_ROOT / ADDON / "demo" / "samples" / "orders-create__demo_order_1001.json"
)
PRODUCTS = (("DS-WIDGET", "Steel widget", 12.5), ("DS-BOLT-M8", "Hex bolt M8", 0.4))
SHOP = "bench-shop.myshopify.com"
SECRET = "bench-secret"
SENDERS = 8
GOAL_VS_BASELINE = 0.75
WARM_UP = 5
RUNNER_CAP_SECONDS = 900
# Shopify ids per way (see make_orders); also the upper bound of --orders.
ORDERS_PER_BLOCK = 1_000_000
MARK = "BENCH "

# Run by ``odoo shell`` (``env`` is given, superuser); reads the parameters from
# PARAMS and prints one ``BENCH {json}`` line per result.
SHELL_SCRIPT = r"""
import json
import time

P = json.loads(PARAMS)
backend = env["distribution.sync.backend"].browse(P["backend_id"])
worker = env(user=backend.user_id.id or env.uid, context=dict(
    env.context, allowed_company_ids=[backend.company_id.id]))
Message = worker["distribution.sync.message"]


def emit(**values):
    print("BENCH " + json.dumps(values), flush=True)


def load(name):
    with open(P["files"][name]) as handle:
        return json.load(handle)


def store(name):
    messages = Message.browse()
    for event_id, data in load(name):
        body = json.dumps(data).encode()
        headers = {
            "X-Shopify-Topic": "orders/create",
            "X-Shopify-Event-Id": event_id,
            "X-Shopify-API-Version": "2025-07",
            "X-Shopify-Shop-Domain": P["shop"],
        }
        message, _new = backend.with_env(worker)._store_webhook(body, headers, data)
        messages |= message
    env.cr.commit()
    return messages


def last_order_id():
    return env["sale.order"].search([], order="id desc", limit=1).id


# Confirmed orders the messages created (ids above after_id): an update of an
# order imported before does not count.
def imported(messages, after_id):
    messages.invalidate_recordset()
    orders = worker["sale.order"].browse(
        {m.res_id for m in messages if m.res_model == "sale.order" and m.res_id}
    )
    states = {}
    for message in messages:
        states[message.state] = states.get(message.state, 0) + 1
    new = orders.exists().filtered(lambda o: o.id > after_id and o.state == "sale")
    return len(new), states


def orm_orders(rows):
    Partner, Order = env["res.partner"], env["sale.order"]
    Product = env["product.product"]
    country = env.ref("base.us")
    shipping = backend.shipping_product_id
    orders = Order.browse()
    def contact(address, **values):
        return dict(
            values,
            name=address["name"],
            phone=address["phone"],
            street=address["address1"],
            street2=address.get("address2") or False,
            city=address["city"],
            zip=address["zip"],
            country_id=country.id,
        )

    for _event_id, data in rows:
        customer = data["customer"]
        billing, delivery = data["billing_address"], data["shipping_address"]
        # The same documents as the import (contract): the customer, and its
        # invoice and delivery addresses as child contacts.
        partner = Partner.create(contact(
            billing, name=f"{customer['first_name']} {customer['last_name']}",
            email=customer["email"]))
        invoice = Partner.create(
            contact(billing, parent_id=partner.id, type="invoice"))
        shipping_to = Partner.create(
            contact(delivery, parent_id=partner.id, type="delivery"))
        lines = []
        for item in data["line_items"]:
            product = Product.search([("default_code", "=", item["sku"])], limit=1)
            gross = float(item["price"]) * item["quantity"]
            off = sum(float(d["amount"]) for d in item["discount_allocations"])
            lines.append((0, 0, {
                "product_id": product.id,
                "product_uom_qty": item["quantity"],
                "price_unit": float(item["price"]),
                "discount": 100 * off / gross if gross else 0,
            }))
        for item in data["shipping_lines"]:
            lines.append((0, 0, {
                "product_id": shipping.id,
                "name": item["title"],
                "product_uom_qty": 1,
                "price_unit": float(item["price"]),
            }))
        order = Order.create({
            "partner_id": partner.id,
            "partner_invoice_id": invoice.id,
            "partner_shipping_id": shipping_to.id,
            "client_order_ref": data["name"],
            "order_line": lines,
        })
        order.action_confirm()
        orders |= order
    return orders


# Each job browses its own messages only, as a job of the runner does (no
# prefetching of the whole set).
def process_single(messages):
    for message_id in messages.ids:
        Message.browse(message_id)._process_job()
        env.cr.commit()


def process_batches(messages, size):
    ids = messages.ids
    for start in range(0, len(ids), size):
        Message.browse(ids[start:start + size])._process_batch_job()
        env.cr.commit()


if P["mode"] == "in_shell":
    # Warm-up (not timed): caches of the ORM and of the import.
    orm_orders(load("warm_orm"))
    env.cr.commit()
    process_single(store("warm_jobs"))
    single, batch = store("single"), store("batch")
    rows = load("orm")
    env.invalidate_all()

    # SQL statements of the timed calls: a deterministic measure, unlike time.
    q0 = env.cr.sql_log_count
    t0 = time.perf_counter()
    orders = orm_orders(rows)
    env.cr.commit()
    seconds = time.perf_counter() - t0
    emit(phase="orm", seconds=seconds, orders=len(rows),
         imported=sum(1 for o in orders if o.state == "sale"), states={},
         queries=env.cr.sql_log_count - q0)

    for phase, messages in (("single", single), ("batch", batch)):
        env.invalidate_all()
        after_id = last_order_id()
        q0 = env.cr.sql_log_count
        t0 = time.perf_counter()
        if phase == "single":
            process_single(messages)
        else:
            process_batches(messages, P["batch_size"])
        seconds = time.perf_counter() - t0
        queries = env.cr.sql_log_count - q0
        count, states = imported(messages, after_id)
        emit(phase=phase, seconds=seconds, orders=len(messages),
             imported=count, states=states, queries=queries)
else:
    messages = store(P["mode"])
    started = time.time()
    if P["mode"] == "runner_single":
        messages._enqueue()
    else:
        messages._enqueue_batch(size=P["batch_size"])
    env.cr.commit()
    emit(phase=P["mode"], started=started, ids=messages.ids)
"""


def make_orders(sample, tag, first, count):
    """``count`` (event id, order) pairs: the sample with its own ids and customer.

    Every way has its own block of Shopify ids (the tag's letter picks it), so that
    no way finds an order or customer bound by another one: each order is a new
    order with a new customer, never an update.
    """
    rows = []
    block = (ord(tag) - ord("A") + 1) * ORDERS_PER_BLOCK
    for number in range(first, first + count):
        serial = block + number
        order = copy.deepcopy(sample)
        order_id = sample["id"] + serial
        order["id"] = order_id
        order["admin_graphql_api_id"] = f"gid://shopify/Order/{order_id}"
        order["name"] = f"#{tag}{number}"
        email = f"buyer.{tag.lower()}{number}@example.com"
        phone = f"+1555{ord(tag):03d}{number:05d}"
        order["email"] = email
        customer = order["customer"]
        customer.update(
            id=customer["id"] + serial,
            email=email,
            first_name="Buyer",
            last_name=f"{tag}{number}",
            phone=phone,
        )
        for address in (order["billing_address"], order["shipping_address"]):
            address.update(
                last_name=f"{tag}{number}", name=f"Buyer {tag}{number}", phone=phone
            )
        for index, item in enumerate(order["line_items"]):
            item["id"] = 9_920_000_000_000 + serial * 10 + index
            item["admin_graphql_api_id"] = f"gid://shopify/LineItem/{item['id']}"
        for index, line in enumerate(order["shipping_lines"]):
            line["id"] = 8_820_000_000_000 + serial * 10 + index
        rows.append((f"bench-{tag}-{number}", order))
    return rows


def shell_results(served, workdir, params, label):
    script = f"PARAMS = {json.dumps(json.dumps(params))}\n" + SHELL_SCRIPT
    results = {}
    for line in served.shell(script, workdir, label):
        if line.startswith(MARK):
            result = json.loads(line[len(MARK) :])
            results[result["phase"]] = result
    return results


def wait_done(rpc, ids, started, poll=0.2):
    """Seconds from ``started`` until every message is final (None on the cap)."""
    domain = [("id", "in", ids), ("state", "in", list(ot.MESSAGE_FINAL_STATES))]
    deadline = time.monotonic() + RUNNER_CAP_SECONDS
    while time.monotonic() < deadline:
        if rpc("distribution.sync.message", "search_count", domain) == len(ids):
            return time.time() - started
        time.sleep(poll)
    return None


def runner_phase(served, workdir, params, mode):
    rpc = served.rpc
    last = rpc("sale.order", "search", [], order="id desc", limit=1)
    after_id = last[0] if last else 0
    result = shell_results(served, workdir, dict(params, mode=mode), mode)[mode]
    ids = result["ids"]
    seconds = wait_done(rpc, ids, result["started"])
    return phase_result(rpc, mode, ids, seconds, after_id, len(ids))


def phase_result(rpc, mode, ids, seconds, after_id, orders):
    """What a way through the server did: message states, new confirmed
    orders (ids above ``after_id``), jobs run and drained."""
    messages = rpc(
        "distribution.sync.message", "read", ids, ["state", "res_model", "res_id"]
    )
    states = {}
    for message in messages:
        states[message["state"]] = states.get(message["state"], 0) + 1
    order_ids = [m["res_id"] for m in messages if m["res_model"] == "sale.order"]
    confirmed = rpc(
        "sale.order",
        "search_count",
        [("id", "in", order_ids), ("id", ">", after_id), ("state", "=", "sale")],
    )
    jobs, drained = job_counts(rpc, ids)
    return {
        "phase": mode,
        "seconds": seconds,
        "orders": orders,
        "imported": confirmed,
        "states": states,
        "jobs": jobs,
        "drained": drained,
    }


def post_webhook(base_url, backend_id, event_id, data):
    """POST one signed ``orders/create`` webhook as Shopify sends it; its status."""
    body = json.dumps(data).encode()
    digest = hmac.new(SECRET.encode(), body, hashlib.sha256).digest()
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": "orders/create",
        "X-Shopify-Hmac-Sha256": base64.b64encode(digest).decode(),
        "X-Shopify-Shop-Domain": SHOP,
        "X-Shopify-API-Version": "2025-07",
        "X-Shopify-Event-Id": event_id,
    }
    return ot.post_webhook(base_url, backend_id, body, headers, timeout=30)[0]


def webhook_phase(served, backend_id, rows, mode):
    """f) or g): webhooks through HTTP, the runner processing them; wall time from
    the first POST until every message is final."""
    rpc = served.rpc
    last = rpc("sale.order", "search", [], order="id desc", limit=1)
    after_id = last[0] if last else 0
    first = rpc("distribution.sync.message", "search", [], order="id desc", limit=1)
    first_id = first[0] if first else 0
    statuses = {}
    lock = threading.Lock()

    def send(event_id, data):
        status = post_webhook(served.base_url, backend_id, event_id, data)
        with lock:
            statuses[status] = statuses.get(status, 0) + 1

    started = time.time()
    if mode == "webhook_single":
        for event_id, data in rows:
            send(event_id, data)
            ids = rpc(
                "distribution.sync.message",
                "search",
                [("idempotency_key", "=", event_id)],
            )
            if wait_done(rpc, ids, started, poll=0.05) is None:
                break
    else:
        pending = list(rows)

        def sender():
            while True:
                with lock:
                    if not pending:
                        return
                    event_id, data = pending.pop(0)
                send(event_id, data)

        threads = [threading.Thread(target=sender) for _ in range(SENDERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    domain = [("id", ">", first_id), ("backend_id", "=", backend_id)]
    ids = rpc("distribution.sync.message", "search", domain)
    seconds = wait_done(rpc, ids, started)
    result = phase_result(rpc, mode, ids, seconds, after_id, len(rows))
    return dict(result, http=statuses)


def job_counts(rpc, message_ids):
    """(jobs that ran, jobs marked done by another job's backlog drain) among
    the messages' own jobs."""
    rows = rpc("distribution.sync.message", "read", message_ids, ["job_uuid"])
    uuids = sorted({m["job_uuid"] for m in rows if m["job_uuid"]})
    drained = rpc(
        "queue.job",
        "search_count",
        [("uuid", "in", uuids), ("result", "=like", "Processed by job %")],
    )
    return len(uuids) - drained, drained


def per_minute(result):
    seconds = result and result.get("seconds")
    return 60 * result["imported"] / seconds if seconds else 0.0


def verdict(ok):
    return "met" if ok else "NOT MET"


def report(args, odoo, results):
    line = "-" * 79
    ot.say(line)
    ot.say("Shopify order import benchmark (distribution_sync_shopify)")
    ot.say(
        f"  Odoo {odoo.version}; {args.orders} orders per way (g: {args.backlog}), "
        "each a paid order of 2 product lines + shipping with its own customer; "
        f"batches of {args.batch_size}; queue_job channels {args.channels}"
    )
    ot.say(line)
    ot.say(f"{'way':<52}{'orders/min':>11}{'seconds':>9}{'imported':>9}")
    labels = {
        "orm": "a) bare ORM (create + confirm), in odoo shell",
        "single": "b) one _process_job per order, in odoo shell",
        "batch": f"c) _process_batch_job per {args.batch_size}, in odoo shell",
        "runner_single": "d) one queued job per order, via the runner",
        "runner_batch": f"e) one queued job per {args.batch_size}, via the runner",
        "webhook_single": "f) webhooks one by one (production path)",
        "webhook_backlog": f"g) backlog of {args.backlog} webhooks (production path)",
    }
    for key, label in labels.items():
        result = results.get(key)
        if result is None:
            continue
        seconds = result["seconds"]
        shown = f"{seconds:9.1f}" if seconds else f"{'cap hit':>9}"
        extra = ""
        if "jobs" in result:
            extra = f"  ({result['jobs']} jobs run"
            if result.get("drained"):
                extra += f", {result['drained']} more drained"
            extra += ")"
        if result.get("queries"):
            extra += f"  ({result['queries'] / result['orders']:.1f} SQL/order)"
        ot.say(
            f"{label:<52}{per_minute(result):11.1f}{shown}"
            f"{result['imported']:>6}/{result['orders']}{extra}"
        )
    ot.say(line)
    rate = {key: per_minute(result) for key, result in results.items()}

    def ratio(top):
        return rate.get(top, 0.0) / rate["orm"] if rate.get("orm") else 0.0

    for key, note in (
        ("single", "in odoo shell"),
        ("batch", "in odoo shell"),
        ("runner_single", "runner, jobs queued at once"),
        ("runner_batch", "runner, shared jobs"),
        ("webhook_single", "production path, one by one"),
    ):
        if key in rate:
            ot.say(f"ratio {labels[key][0]}/a {ratio(key):6.2f}   ({note})")
    met = True
    if "webhook_backlog" in rate:
        met = ratio("webhook_backlog") >= GOAL_VS_BASELINE
        ot.say(
            f"ratio g/a {ratio('webhook_backlog'):6.2f}   goal >= {GOAL_VS_BASELINE}"
            f"   {verdict(met)}   (production path, backlog)"
        )
    for key, result in results.items():
        if result["imported"] != result["orders"]:
            ot.say(f"WARNING {key}: message states {result['states']}")
        if result.get("http") and set(result["http"]) != {200}:
            ot.say(f"WARNING {key}: HTTP answers {result['http']}")
    ot.say(line)
    ot.say(
        "What is measured: a), b), c) time only the ORM / job method calls and "
        "their commits in one `odoo shell` process (storing the webhooks is not "
        "timed), so b) and c) miss the runner's per-job cost (HTTP round trip to "
        "/queue_job/runjob, job bookkeeping). d) and e) are wall time from the "
        "commit of the queued jobs until every message is processed, through the "
        "queue_job runner of the server (--workers=2): they include that cost; the "
        "jobs of d) drain each other's messages as a backlog. f) and g) are the "
        "production path: wall time from the first signed webhook POSTed to the "
        "server until every message is processed by the runner; f) sends each "
        "webhook once the previous order is imported, g) sends them all from 8 "
        "senders at once. SQL/order: statements run by the timed calls of a), b), "
        "c), per order (the same from run to run, unlike the timings, which vary "
        "with the load of the machine)."
    )
    return met


def benchmark(args, odoo, pg, workdir):
    sample = json.loads(SAMPLE.read_text())
    n = args.orders
    sets = {
        "warm_orm": make_orders(sample, "W", 0, WARM_UP),
        "warm_jobs": make_orders(sample, "V", 0, WARM_UP),
        "orm": make_orders(sample, "A", 0, n),
        "single": make_orders(sample, "B", 0, n),
        "batch": make_orders(sample, "C", 0, n),
        "runner_single": make_orders(sample, "D", 0, n),
        "runner_batch": make_orders(sample, "E", 0, n),
        "webhook_single": make_orders(sample, "F", 0, n),
        "webhook_backlog": make_orders(sample, "G", 0, args.backlog),
    }
    files = {}
    for name, rows in sets.items():
        files[name] = str(Path(workdir) / f"orders-{name}.json")
        Path(files[name]).write_text(json.dumps(rows))
    with served_database(
        odoo, pg, workdir, [ot.MAIN_ADDON, ADDON], workers=2, channels=args.channels
    ) as served:
        rpc = served.rpc
        for sku, name, price in PRODUCTS:
            rpc(
                "product.product",
                "create",
                {"name": name, "default_code": sku, "list_price": price},
            )
        backend_id = rpc(
            "distribution.sync.backend",
            "create",
            {
                "name": "bench",
                "backend_type": "shopify",
                "shopify_shop_domain": SHOP,
                "webhook_secret": SECRET,
            },
        )
        params = {
            "backend_id": backend_id,
            "files": files,
            "shop": SHOP,
            "batch_size": args.batch_size,
        }
        ot.say(f"bench: {served.base_url}, backend {backend_id}; a), b), c) in shell")
        results = shell_results(served, workdir, dict(params, mode="in_shell"), "a-b-c")
        if args.runner:
            for mode in ("runner_single", "runner_batch"):
                ot.say(f"bench: {mode} through the queue_job runner")
                results[mode] = runner_phase(served, workdir, params, mode)
        if args.production:
            for mode in ("webhook_single", "webhook_backlog"):
                ot.say(f"bench: {mode}, webhooks through HTTP and the runner")
                rows = json.loads(Path(files[mode]).read_text())
                results[mode] = webhook_phase(served, backend_id, rows, mode)
        return report(args, odoo, results)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=300, help="orders per way")
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument(
        "--no-runner",
        dest="runner",
        action="store_false",
        help="skip d) and e) (through the queue_job runner)",
    )
    parser.add_argument(
        "--no-production",
        dest="production",
        action="store_false",
        help="skip f) and g) (webhooks through HTTP and the runner)",
    )
    parser.add_argument(
        "--backlog", type=int, default=2000, help="webhooks of the backlog way g)"
    )
    parser.add_argument(
        "--channels",
        default="root:2",
        help="queue_job channels of the server (the README's production setting)",
    )
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 when a goal is not met"
    )
    args = parser.parse_args()
    if not 1 <= args.orders < ORDERS_PER_BLOCK or args.batch_size < 1:
        parser.error(
            f"--orders must be between 1 and {ORDERS_PER_BLOCK - 1}, "
            "--batch-size positive"
        )

    def bench(odoo, pg, workdir):
        met = benchmark(args, odoo, pg, workdir)
        return 1 if args.strict and not met else 0

    return run_benchmark(bench, addons=(ot.MAIN_ADDON, ADDON))


if __name__ == "__main__":
    raise SystemExit(main())

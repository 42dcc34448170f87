# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
"""Bad input through the webhook route and the job, reference channel.

The promise: a malformed, oversized, deeply nested, mistyped or odd delivery
ends as a clear answer (a 4xx, or a 200 and a stored message) and, once its
job ran, as a message that is done (the document is right) or stopped with an
open exception saying what is wrong. Never a 500, an ERROR or a traceback in
the log, a "technical" exception (an error nobody anticipated), a job that
crashes, or part of a document left behind.

The job-level cases are generated from a sample order by walking every leaf
of its JSON; the helpers here are shared with the Shopify suite.
"""

import contextlib
import hashlib
import json
import logging
import math
import signal
from decimal import Decimal

from odoo.tests import HttpCase, tagged

from odoo.addons.queue_job.job import Job

from ..core import reference
from ..core.errors import SyncError
from .common import DistributionSyncCase, order_payload, sign

MAX_BODY_PARAM = "distribution_sync.webhook_max_bytes"

# A leaf replaced by MISSING is removed from its object.
MISSING = object()

# Not compressible: PostgreSQL compresses an index entry, and a repeated
# character to almost nothing, which would hide a key too long to index.
LONG_TEXT = "".join(
    hashlib.sha256(str(index).encode()).hexdigest() for index in range(3200)
)[:100_000]

# Text a database cannot store (or cannot index) as sent: each text leaf gets
# them all.
UNSTORABLE_TEXTS = {
    "NUL": "Ana\u0000Buyer",
    "lone surrogate": "Ana\ud800Buyer",
    "100k chars": LONG_TEXT,
}
# Odd but valid text: imported exactly as sent.
ODD_TEXTS = {
    "RTL override": "\u202eAna Buyer",
    "emoji": "Ana \U0001f600 Buyer",
    "combining": "Zoe\u0308 Buyer",
    "zero-width space": "Ana\u200bBuyer",
}

AMOUNTS = {
    "negative": -5,
    "minus one cent": "-0.01",
    "zero": 0,
    "1e20": 1e20,
    "10**15": 10**15,
    "10**30": 10**30,
    "20 decimals": "10.12345678901234567890",
    "1e400 as text": "1e400",
    "NaN as text": "NaN",
    "Infinity as text": "Infinity",
}

# What a bad-input case may leave in the database: nothing, unless its
# message is done or its document was kept on purpose (blocked by a rule, as
# a quotation).
COUNTED_MODELS = (
    "sale.order",
    "sale.order.line",
    "res.partner",
    "account.move",
    "stock.picking",
    "distribution.sync.binding",
)

FINAL_STATES = ("done", "skipped", "blocked", "error")

# A job of one message takes well under a second here: one that runs this
# long hangs (its worker would be killed, the message left queued).
JOB_SECONDS = 10


class JobHung(BaseException):
    """Raised into a job that ran over ``JOB_SECONDS``; a BaseException, so
    that the job's own ``except Exception`` does not record it as a failure
    of the message."""


@contextlib.contextmanager
def time_limit(seconds):
    """Interrupt the block with ``JobHung`` after ``seconds`` (main thread,
    where the test runs)."""

    def interrupt(_signum, _frame):
        raise JobHung(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# ------------------------------------------------------------ payload walking
def leaves(value, path=()):
    """``(path, value)`` of every leaf of a JSON document, depth first; an
    empty list or object is a leaf too. ``path`` is a tuple of keys and
    indexes."""
    if isinstance(value, dict) and value:
        for key, item in value.items():
            yield from leaves(item, (*path, key))
    elif isinstance(value, list) and value:
        for index, item in enumerate(value):
            yield from leaves(item, (*path, index))
    else:
        yield path, value


def label(path):
    """``("lines", 0, "sku")`` -> ``lines[0].sku``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text.lstrip(".") or "(document)"


def mutated(document, path, value):
    """A deep copy of ``document`` whose leaf at ``path`` is ``value`` (or is
    removed, for ``MISSING``)."""
    copy = json.loads(json.dumps(document))
    if not path:
        return value
    parent = copy
    for part in path[:-1]:
        parent = parent[part]
    if value is MISSING:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return copy


def wrong_types(value):
    """``(name, replacement)`` pairs of another JSON type than ``value``'s,
    plus null, an empty text and the key removed."""
    yield "null", None
    yield "missing", MISSING
    if isinstance(value, bool):
        yield "text instead of bool", "yes"
        yield "number instead of bool", 1
    elif isinstance(value, (int, float)):
        yield "text instead of number", "twelve"
        yield "bool instead of number", True
    elif isinstance(value, str):
        yield "bool instead of text", True
        yield "float instead of text", 1.5
    yield "list", ["x", 1]
    yield "object", {"x": 1}
    yield "empty text", ""


def is_amount(path, value):
    """Leaves holding an amount or a quantity: a number, or a decimal text
    ("12.50"; not a zip code or a phone number)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return False
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return False
        if "." not in value or not math.isfinite(number):
            return False
    key = str(path[-1]) if path else ""
    return not key.endswith("id") and not key.startswith("id")


def is_text(value):
    """Leaves holding text that is not a number."""
    if not isinstance(value, str):
        return False
    try:
        float(value)
    except ValueError:
        return True
    return False


# What ``wrong_types`` puts in a field, once turned into text by str().
CONTAINER_TEXTS = ("['x', 1]", "{'x': 1}")
PARTNER_TEXT_FIELDS = ("name", "street", "street2", "city", "zip", "email", "phone")


def texts_of(record):
    """The texts an import wrote on ``record`` (an order, a partner or a
    credit note) and on its partners and lines."""
    partners = record.env["res.partner"]
    texts = []
    if record._name == "sale.order":
        texts += [record.client_order_ref or "", str(record.note or "")]
        texts += record.order_line.mapped("name")
        partners = (
            record.partner_id | record.partner_invoice_id | record.partner_shipping_id
        )
    elif record._name == "account.move":
        texts += [record.ref or "", str(record.narration or "")]
        texts += record.invoice_line_ids.mapped("name")
    elif record._name == "res.partner":
        partners = record | record.child_ids
    for partner in partners:
        texts += [partner[field] or "" for field in PARTNER_TEXT_FIELDS]
    return texts


def json_body(document):
    # ASCII escapes: a NUL or a lone surrogate travels as "\u0000"/"\ud800",
    # valid JSON that Python parses back into that very character.
    return json.dumps(document).encode()


def _kind(value):
    """What matters of a mapped value for the Odoo side: its type, and for
    text what a database or a person would trip on."""
    if isinstance(value, str):
        marks = [
            mark
            for mark, found in (
                ("empty", not value.strip()),
                ("NUL", "\x00" in value),
                ("surrogate", any("\ud800" <= c <= "\udfff" for c in value[:300])),
                ("long", len(value) > 255),
                ("container", "['x', 1]" in value or "{'x': 1}" in value),
            )
            if found
        ]
        return "text:" + ",".join(marks)
    if isinstance(value, (dict, list)):
        return f"{type(value).__name__}:{len(value)}"
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        # Sign, digits before the point, more than two after it: what Odoo's
        # floats and roundings react to.
        number = Decimal(str(value))
        if not number.is_finite():
            return f"number:{number}"
        sign = "negative" if number < 0 else "zero" if number == 0 else "positive"
        digits = len(str(int(abs(number))))
        fine = number.as_tuple().exponent < -2
        return f"number:{sign}:{digits}{':fine' if fine else ''}"
    return type(value).__name__


def _changes(before, after, path=()):
    """``(path, kind of the new value)`` of each leaf that differs."""
    if isinstance(before, dict) and isinstance(after, dict):
        for key in before.keys() | after.keys():
            yield from _changes(before.get(key), after.get(key), (*path, key))
    elif (
        isinstance(before, list)
        and isinstance(after, list)
        and len(before) == len(after)
    ):
        for index, (old, new) in enumerate(zip(before, after, strict=True)):
            yield from _changes(old, new, (*path, index))
    elif before != after:
        yield path, _kind(after)


def case_key(mapper, baseline, document, path):
    """Which path a case takes in the Odoo importer, from its pure mapping.

    A payload error is the same path for every value of a field: one case
    per field and kind of value the error quotes. A mapped payload takes the
    path of the canonical fields it changes and of the kind of their new
    values. Anything else (a leak of the mapper) once per distinct error.
    Cases with the same key need only one run through Odoo; the pure tier
    maps every one of them.
    """
    try:
        result = mapper(document)
    except SyncError as exc:
        return ("payload error", path, _kind(exc.value))
    except Exception as exc:  # the Odoo run reports what it becomes
        return ("leak", type(exc).__name__, str(exc)[:80])
    return ("mapped", frozenset(_changes(baseline, result)))


# ------------------------------------------------------------------ checking
class _ProblemRecords(logging.Handler):
    """Keeps the records a bad input must never cause: ERROR and above, and
    any record carrying a traceback."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records = []

    def emit(self, record):
        if record.levelno >= logging.ERROR or record.exc_info:
            self.records.append(record)


@contextlib.contextmanager
def logged_problems():
    """Collect the ERROR records and tracebacks logged inside the block
    (Odoo, the HTTP server thread and queue_job all log through the root)."""
    handler = _ProblemRecords()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler.records
    finally:
        root.removeHandler(handler)


class BadInputChecks:
    """What every bad-input case checks, and the HTTP-level tests, for an
    ``HttpCase`` that defines ``post(body, topic, event_id) -> response``,
    ``http_bodies()``, ``channel_backend``, ``order_topic`` and
    ``order_document`` (a valid order of its channel)."""

    def counts(self):
        self.env.flush_all()
        return {
            model: self.env[model]
            .sudo()
            .with_context(active_test=False)
            .search_count([])
            for model in COUNTED_MODELS
        }

    @contextlib.contextmanager
    def rolled_back(self):
        """Run the block in a savepoint that is always rolled back, so that
        each case starts from the same data."""
        self.env.flush_all()
        savepoint = self.env.cr.savepoint()
        try:
            yield
        finally:
            savepoint.close(rollback=True)
            self.env.invalidate_all()

    def message_of(self, event_key):
        return self.env["distribution.sync.message"].search(
            [
                ("backend_id", "=", self.channel_backend.id),
                ("idempotency_key", "=", event_key),
            ]
        )

    def run_job(self, message):
        """Run the message's queued job as the job runner would; return what
        escaped from it (a job must never crash: its message would stay
        queued, with a traceback in the log)."""
        if not message.job_uuid or message.state != "queued":
            return None
        # The runner rolls a crashed job back: so does this savepoint.
        savepoint = self.env.cr.savepoint()
        try:
            with time_limit(JOB_SECONDS):
                Job.load(self.env, message.job_uuid).perform()
            self.env.flush_all()
        except (Exception, JobHung) as exc:  # reported by the caller
            savepoint.close(rollback=True)
            self.env.invalidate_all(flush=False)
            return exc
        savepoint.close(rollback=False)
        self.env.invalidate_all()
        return None

    def deliver_and_process(self, body, topic, event_id):
        """POST ``body`` signed through the route, then run its job; return
        ``(response, message, problems)`` where ``problems`` lists what broke
        the promise."""
        problems = []
        with logged_problems() as records:
            response = self.post(body, topic=topic, event_id=event_id)
            message = self.message_of(self.event_key(event_id))
            if response.status_code >= 500:
                problems.append(f"answered {response.status_code}")
            escaped = self.run_job(message) if message else None
            if escaped is not None:
                problems.append(
                    f"the job crashed: {type(escaped).__name__}: {escaped}"[:300]
                )
        problems += [
            f"logged {record.levelname} {record.name}: "
            f"{record.getMessage()[:200]!r}"
            + (" with a traceback" if record.exc_info else "")
            for record in records
        ]
        return response, message, problems

    def outcome_problems(self, message, before, names=()):
        """What is wrong with how ``message`` ended.

        ``names``: words of which the exception of a payload error must
        name one (the field's key or its path).
        """
        problems = []
        if not message:
            return problems
        retrying = (
            message.state == "queued"
            and message.next_retry_at
            and message.attempt_count
            and message.last_error
        )
        if message.state not in FINAL_STATES and not retrying:
            problems.append(f"message left {message.state}: {message.last_error}")
        exceptions = message.exception_ids.filtered(lambda e: e.state == "open")
        technical = exceptions.filtered(lambda e: e.category == "technical")
        problems += [f"technical exception: {e.name[:300]!r}" for e in technical]
        if message.state in ("error", "blocked") and not exceptions:
            problems.append(f"{message.state} without an open exception")
        if message.state == "error" and exceptions and names:
            text = " ".join(exceptions.mapped("name"))
            if not any(name in text for name in names):
                problems.append(
                    f"the exception names none of {sorted(names)}: {text[:300]!r}"
                )
        kept = (
            message.state in ("done", "blocked")
            and message.res_model
            and message.res_id
        )
        after = self.counts()
        # Only a message done may have written (customers, bindings...);
        # one that failed, waits or skipped must leave nothing behind.
        if message.state != "done" and not kept and after != before:
            changed = {
                model: after[model] - before[model]
                for model in COUNTED_MODELS
                if after[model] != before[model]
            }
            problems.append(f"half-written ({message.state}): {changed}")
        if kept and message.res_model == "sale.order":
            problems += self.order_problems(message)
        if kept:
            record = self.env[message.res_model].browse(message.res_id).exists()
            problems += [
                f"imported a list or an object as the text {text[:60]!r}"
                for text in texts_of(record)
                if any(container in text for container in CONTAINER_TEXTS)
            ]
        return problems

    def order_problems(self, message):
        """A kept order is right: its total is the channel's total (rounded
        to the currency) unless a rule blocked it, and it has lines."""
        order = self.env["sale.order"].browse(message.res_id).exists()
        if not order:
            return ["message points to no order"]
        problems = []
        if not order.order_line:
            problems.append(f"{order.name} has no line")
        canonical = json.loads(message.canonical or "{}")
        total = canonical.get("total")
        if message.state == "done" and total is not None:
            if order.currency_id.compare_amounts(order.amount_total, float(total)):
                problems.append(
                    f"{order.name} totals {order.amount_total}, the channel {total}"
                )
        if message.state == "blocked" and order.state not in ("draft", "sent"):
            problems.append(f"blocked but {order.name} is {order.state}")
        return problems

    def check_case(self, body, topic, event_id, names=()):
        """One bad-input case in a rolled-back savepoint; return the problems
        found (empty when the promise holds) and the message state."""
        with self.rolled_back():
            before = self.counts()
            response, message, problems = self.deliver_and_process(
                body, topic, event_id
            )
            if response.status_code == 200 and not message:
                problems.append("answered 200 but stored nothing")
            if response.status_code != 200 and message:
                problems.append(f"answered {response.status_code} but stored it")
            if response.status_code != 200 and self.counts() != before:
                problems.append("refused, yet something was written")
            problems += self.outcome_problems(message, before, names)
            state = message.state if message else f"HTTP {response.status_code}"
            return problems, state

    def sweep(self, cases, topic, mapper=None, baseline=None):
        """Run ``cases`` (``(name, document, names, path)``) and fail once
        with every case that broke the promise. With ``mapper`` (the pure
        mapping of the topic) and the sample it was made from, a case taking
        the same path as one already run is left to the pure tier (see
        ``case_key``). Returns how many cases ended in each state."""
        if mapper is not None:
            baseline = mapper(baseline)
        failures, seen, states = [], set(), {}
        for index, (name, document, names, path) in enumerate(cases):
            if mapper is not None:
                key = case_key(mapper, baseline, document, path)
                if key in seen:
                    continue
                seen.add(key)
            problems, state = self.check_case(
                json_body(document), topic, f"bad-{topic}-{index}", names=names
            )
            states[state] = states.get(state, 0) + 1
            if problems:
                failures.append(f"{name}: " + "; ".join(problems))
        self.assertFalse(
            failures,
            f"{len(failures)} of {sum(states.values())} cases broke the promise:\n"
            + "\n".join(failures),
        )
        return states

    # ------------------------------------------------------------ HTTP level
    def test_http_level_bad_bodies(self):
        """Each body is refused with a 4xx, or stored (200) and then ends as
        a clear exception: never a 500, a crash or a log error."""
        failures = []
        for index, (name, body) in enumerate(self.http_bodies().items()):
            problems, _state = self.check_case(body, self.order_topic, f"http-{index}")
            if problems:
                failures.append(f"{name}: " + "; ".join(problems))
        self.assertFalse(failures, "\n".join(failures))

    def test_http_level_oversized_body(self):
        """Over ``distribution_sync.webhook_max_bytes``: 413 and nothing
        stored, whatever the body holds (before the signature or the JSON is
        looked at), and nothing logged."""
        self.env["ir.config_parameter"].set_param(MAX_BODY_PARAM, "2048")
        bodies = {
            "valid order padded": json_body(dict(self.order_document, note=LONG_TEXT)),
            "deeply nested": b"[" * 5000 + b"]" * 5000,
            "not JSON": b"x" * 4096,
        }
        for name, body in bodies.items():
            with self.subTest(body=name), self.rolled_back():
                before = self.counts()
                with logged_problems() as records:
                    response = self.post(body, event_id=f"big-{name}")
                self.assertEqual(response.status_code, 413, response.text)
                self.assertFalse(self.message_of(f"event:big-{name}"))
                self.assertEqual(self.counts(), before)
                self.assertFalse([r.getMessage() for r in records])


def leaf_cases(document, mutations, select=lambda path, value: True):
    """``(name, mutated document, names, path)`` for each selected leaf of
    ``document`` and each ``mutations(value)`` pair (or dict item);
    ``names`` are the keys on the leaf's path, one of which an exception
    about it must name."""
    for path, value in leaves(document):
        if not path or not select(path, value):
            continue
        pairs = mutations(value) if callable(mutations) else mutations.items()
        names = {str(part) for part in path if isinstance(part, str)}
        for mutation, replacement in pairs:
            yield (
                f"{label(path)} <- {mutation}",
                mutated(document, path, replacement),
                names,
                path,
            )


# ------------------------------------------------------------------- the tests
@tagged("post_install", "-at_install")
class TestBadInputGeneric(BadInputChecks, DistributionSyncCase, HttpCase):
    """The reference channel's ``order/upsert``, ``partner/upsert`` and
    ``order/cancel`` fed bad input through the route and the job."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.channel_backend = cls.backend
        cls.order_topic = "order/upsert"
        cls.sample = cls.order_document = order_payload(
            "BAD-1",
            financial_status="pending",
            taxes_included=False,
            note="Leave at the door",
            shipping=[{"code": "STD", "title": "Standard", "price": "5.00"}],
            total="25.00",
        )
        cls.sample["lines"][0].update(name="Test widget", discount_amount="0")
        cls.partner_sample = {
            "external_id": "P-1",
            "name": "Ana Buyer",
            "email": "ana@example.com",
            "phone": "+15555550101",
            "street": "12 Harbor Road",
            "city": "Boston",
            "zip": "02110",
            "country_code": "US",
            "is_company": False,
        }

    @staticmethod
    def event_key(event_id):
        return f"event:{event_id}"

    def post(self, body, topic="order/upsert", event_id="evt-bad", headers=None):
        headers = headers or {
            "Content-Type": "application/json",
            "X-Sync-Topic": topic,
            "X-Sync-Event-Id": event_id,
            "X-Sync-Signature": sign(body),
        }
        self.env.flush_all()
        response = self.url_open(
            f"/distribution_sync/webhook/{self.backend.id}",
            data=body,
            headers=headers,
            timeout=120,
        )
        self.env.invalidate_all()
        return response

    @staticmethod
    def parsed_order(document):
        return reference.parse("order/upsert", document)

    # ----------------------------------------------------------- HTTP level
    def http_bodies(self):
        """Bodies that are not a well-formed order, as sent by a broken or
        hostile client (signed: the signature is not what protects here)."""
        valid = json_body(self.sample)
        return {
            "empty body": b"",
            "not JSON": b"hello, world",
            "a JSON list": b"[1, 2, 3]",
            "a JSON number": b"42",
            "a JSON string": b'"order"',
            "JSON null": b"null",
            "truncated JSON": valid[: len(valid) // 2],
            "invalid UTF-8": valid.replace(b"Jane", b"J\xff\xfene"),
            "a raw NUL byte": valid.replace(b"Jane", b"Ja\x00ne"),
            "UTF-16": json.dumps(self.sample).encode("utf-16"),
            "byte order mark": b"\xef\xbb\xbf" + valid,
            "100000 nested lists": b"[" * 100_000 + b"]" * 100_000,
            "100000 nested objects": b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
            "nested in a field": json_body(
                dict(self.sample, note=None, channel_extra=[[[[[[[[[[[]]]]]]]]]]])
            ),
            "1e400 total": valid.replace(b'"25.00"', b"1e400"),
            "400-digit total": valid.replace(b'"25.00"', b"9" * 400),
            "400-digit external id": valid.replace(b'"BAD-1"', b"7" * 400, 1),
            "5000-digit number": valid.replace(b'"25.00"', b"9" * 5000),
            "NaN literal": valid.replace(b'"25.00"', b"NaN"),
            "Infinity literal": valid.replace(b'"25.00"', b"Infinity"),
            "-Infinity quantity": valid.replace(
                b'"quantity": 2', b'"quantity": -Infinity'
            ),
            "duplicate keys": valid.replace(
                b'"external_id": "BAD-1"', b'"external_id": "BAD-1", "external_id": 7'
            ),
            "NUL in the external id": valid.replace(b'"BAD-1"', b'"BAD\\u0000-1"', 1),
            "lone surrogate in the external id": valid.replace(
                b'"BAD-1"', b'"BAD\\ud800-1"', 1
            ),
            "100k-char external id": valid.replace(
                b'"BAD-1"', json.dumps(LONG_TEXT).encode(), 1
            ),
            "external id is an object": valid.replace(
                b'"BAD-1"', b'{"id": "BAD-1"}', 1
            ),
        }

    # ------------------------------------------------------------ job level
    def test_job_level_wrong_types_in_every_field(self):
        """Every leaf of the order replaced by null, another type, a list, an
        object, an empty text, or removed."""
        states = self.sweep(
            leaf_cases(self.sample, wrong_types),
            "order/upsert",
            self.parsed_order,
            self.sample,
        )
        self.assertIn("error", states)

    def test_job_level_unstorable_text_in_every_text_field(self):
        """Every text leaf replaced by a NUL, a lone surrogate or 100k
        characters: PostgreSQL stores none of them as is (nor indexes 100k
        characters), so each is refused with an exception naming the field,
        or stored harmlessly."""
        self.sweep(
            leaf_cases(
                self.sample,
                UNSTORABLE_TEXTS,
                lambda path, value: is_text(value) and path[-1] != "updated_at",
            ),
            "order/upsert",
            self.parsed_order,
            self.sample,
        )

    def test_job_level_odd_unicode_is_imported_as_sent(self):
        """An RTL override, an emoji, a combining mark or a zero-width space
        in names is legitimate text: the order, its lines and its customer
        are imported with it, unchanged."""
        for kind, text in ODD_TEXTS.items():
            with self.subTest(kind=kind), self.rolled_back():
                document = json.loads(json.dumps(self.sample))
                document["name"] = f"#{text}"
                document["customer"]["name"] = text
                document["billing_address"]["name"] = text
                document["lines"][0]["name"] = text
                document["shipping"][0]["title"] = text
                before = self.counts()
                _response, message, problems = self.deliver_and_process(
                    json_body(document), "order/upsert", f"odd-{kind}"
                )
                self.assertFalse(problems)
                self.assertEqual(message.state, "done", message.last_error)
                self.assertFalse(self.outcome_problems(message, before))
                order = self.env["sale.order"].browse(message.res_id)
                self.assertEqual(order.client_order_ref, f"#{text}")
                self.assertEqual(order.partner_id.name, text)
                self.assertEqual(
                    order.order_line.mapped("name"), [text, text], order.order_line
                )
                document = dict(self.partner_sample, name=text)
                _response, message, problems = self.deliver_and_process(
                    json_body(document), "partner/upsert", f"odd-partner-{kind}"
                )
                self.assertFalse(problems)
                self.assertEqual(message.state, "done", message.last_error)
                partner = self.env["res.partner"].browse(message.res_id)
                self.assertEqual(partner.name, text)

    def test_job_level_amounts(self):
        """Negative, zero, huge (1e20, 10**15, 10**30, 1e400) and
        over-precise amounts and quantities: a clear exception, or a
        document whose total is the channel's, rounded to the cent."""
        sample = dict(self.sample, financial_status="paid")
        self.sweep(
            leaf_cases(sample, AMOUNTS, is_amount),
            "order/upsert",
            self.parsed_order,
            sample,
        )

    def test_job_level_partner_and_cancel(self):
        """``partner/upsert`` and ``order/cancel`` with wrong types and
        missing keys in every field, and unstorable text in every text
        field."""
        cases = list(leaf_cases(self.partner_sample, wrong_types)) + list(
            leaf_cases(self.partner_sample, UNSTORABLE_TEXTS, lambda p, v: is_text(v))
        )
        self.sweep(
            cases,
            "partner/upsert",
            lambda document: reference.parse("partner/upsert", document),
            self.partner_sample,
        )
        cancel = {"external_id": "BAD-1", "updated_at": "2026-01-10T10:00:00Z"}
        cases = list(leaf_cases(cancel, wrong_types)) + list(
            leaf_cases(cancel, UNSTORABLE_TEXTS, lambda p, v: p == ("external_id",))
        )
        self.sweep(
            cases,
            "order/cancel",
            lambda document: reference.parse("order/cancel", document),
            cancel,
        )

# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
"""Who can do what, over XML-RPC, as the README's "Who can do what" says.

The surface is discovered, not listed: every model an addon defines or
extends, every public method its classes define, every field. Each group
calls each operation over real XML-RPC on a real record; every call runs in a
savepoint rolled back afterwards, so that no outcome depends on another. The
expected outcomes are the tables below: a public method or a model without a
row fails the sweep (someone must decide who may call it).
"""

import json
import logging
import threading
import xmlrpc.client
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from odoo import Command, fields, models
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.base.tests.common import DISABLED_MAIL_CONTEXT

from .common import ensure_secret_key

_logger = logging.getLogger(__name__)

GROUPS = ("user", "manager", "internal", "portal")
GROUP_XMLIDS = {
    "user": "base.group_user,distribution_sync.group_distribution_sync_user",
    "manager": "base.group_user,distribution_sync.group_distribution_sync_manager",
    "internal": "base.group_user",
    "portal": "base.group_portal",
}
CRUD = ("read", "search", "create", "write", "unlink")
# A refused call answers one of these faults; any other is a server error.
REFUSALS = ("AccessError", "UserError")
MAGIC_FIELDS = {"id", "display_name", "create_uid", "create_date"}
MAGIC_FIELDS |= {"write_uid", "write_date"}

# What each group may do on a record of its own company: "x" allowed (the
# call succeeds), "." refused (an AccessError or UserError fault). Operations:
# the five ORM ones and every public method the addon defines on the model.
# Columns: the sync user, the sync manager, a plain internal user (no sync
# group) and a portal user. Abstract models (mixins) allow nothing to anyone.
MATRIX = """
model             operation                user manager internal portal
backend           read                     x    x       .        .
backend           search                   x    x       .        .
backend           create                   .    x       .        .
backend           write                    .    x       .        .
backend           unlink                   .    x       .        .
backend           action_clear_secret      .    x       .        .
backend           action_fetch_changes     .    x       .        .
backend           action_open_blocked_documents x x      .        .
backend           action_open_exceptions   x    x       .        .
backend           action_open_messages     x    x       .        .
backend           action_test_connection   .    x       .        .
message           read                     x    x       .        .
message           search                   x    x       .        .
message           create                   .    .       .        .
message           write                    .    .       .        .
message           unlink                   .    .       .        .
message           action_dry_run           x    x       .        .
message           action_open_document     x    x       .        .
message           action_open_exceptions   x    x       .        .
message           action_replay            x    x       .        .
message           action_requeue           x    x       .        .
message           action_retry             x    x       .        .
message           action_skip              x    x       .        .
message.dry.run   read                     x    x       .        .
message.dry.run   search                   x    x       .        .
message.dry.run   create                   x    x       .        .
message.dry.run   write                    x    x       .        .
message.dry.run   unlink                   .    .       .        .
message.dry.run   action_replay            x    x       .        .
exception         read                     x    x       .        .
exception         search                   x    x       .        .
exception         create                   .    x       .        .
exception         write                    x    x       .        .
exception         unlink                   .    x       .        .
exception         action_create_mapping    .    x       .        .
exception         action_ignore            x    x       .        .
exception         action_open_document     x    x       .        .
exception         action_reopen            x    x       .        .
exception         action_resolve           x    x       .        .
exception         action_retry             x    x       .        .
binding           read                     x    x       .        .
binding           search                   x    x       .        .
binding           create                   .    x       .        .
binding           write                    .    x       .        .
binding           unlink                   .    x       .        .
binding           action_unbind_reimport   .    x       .        .
mapping           read                     x    x       .        .
mapping           search                   x    x       .        .
mapping           create                   .    x       .        .
mapping           write                    .    x       .        .
mapping           unlink                   .    x       .        .
mapping           action_retry_exception   .    x       .        .
ownership         read                     x    x       .        .
ownership         search                   x    x       .        .
ownership         create                   .    x       .        .
ownership         write                    .    x       .        .
ownership         unlink                   .    x       .        .
validation.rule   read                     x    x       .        .
validation.rule   search                   x    x       .        .
validation.rule   create                   .    x       .        .
validation.rule   write                    .    x       .        .
validation.rule   unlink                   .    x       .        .
audit             read                     x    x       .        .
audit             search                   x    x       .        .
audit             create                   .    .       .        .
audit             write                    .    .       .        .
audit             unlink                   .    .       .        .
secret            read                     .    .       .        .
secret            search                   .    .       .        .
secret            create                   .    .       .        .
secret            write                    .    .       .        .
secret            unlink                   .    .       .        .
request.slot      read                     .    .       .        .
request.slot      search                   .    .       .        .
request.slot      create                   .    .       .        .
request.slot      write                    .    .       .        .
request.slot      unlink                   .    .       .        .
milestone         read                     x    x       .        .
milestone         search                   x    x       .        .
milestone         create                   .    .       .        .
milestone         write                    .    .       .        .
milestone         unlink                   .    .       .        .
milestone.sla     read                     x    x       .        .
milestone.sla     search                   x    x       .        .
milestone.sla     create                   .    x       .        .
milestone.sla     write                    .    x       .        .
milestone.sla     unlink                   .    x       .        .
reconciliation    read                     x    x       .        .
reconciliation    search                   x    x       .        .
reconciliation    create                   .    x       .        .
reconciliation    write                    .    x       .        .
reconciliation    unlink                   .    x       .        .
reconciliation    action_open_differences  x    x       .        .
reconciliation    action_run               .    x       .        .
reconciliation.line read                   x    x       .        .
reconciliation.line search                 x    x       .        .
reconciliation.line create                 .    x       .        .
reconciliation.line write                  .    x       .        .
reconciliation.line unlink                 .    x       .        .
dashboard         read                     x    x       .        .
dashboard         search                   x    x       .        .
dashboard         create                   x    x       .        .
dashboard         write                    x    x       .        .
dashboard         unlink                   .    .       .        .
dashboard         action_open_differences  x    x       .        .
dashboard         action_open_late_deliveries x x       .        .
dashboard         action_open_late_steps   x    x       .        .
dashboard         action_open_orders_held  x    x       .        .
dashboard         action_open_orders_not_imported x x   .        .
dashboard         action_open_orders_waiting x  x       .        .
dashboard         action_open_payments_unmatched x x    .        .
dashboard         action_reconcile_now     .    x       .        .
dashboard         action_refresh           x    x       .        .
"""

# Stored fields a group with the "write" right may write, one by one, over
# RPC. "*" is every field but those the model declares readonly: what the sync
# itself writes (the technical user jobs run as, the fetch checkpoints, who
# resolved an exception and when, what a binding last applied).
WRITABLE_FIELDS = {
    "backend": "*",
    "message": (),
    "exception": ("resolution_note", "severity"),
    "binding": "*",
    "mapping": "*",
    "ownership": "*",
    "validation.rule": "*",
    "milestone.sla": "*",
    "reconciliation": "*",
    "reconciliation.line": "*",
    "dashboard": "*",
}

# Our methods on models of other addons that change the record: allowed to
# those who may write it (the others, to those who may read it).
WRITING_METHODS = {"action_distribution_sync_release"}

# Our fields restricted to a group: {(model, field): group that may read it}.
RESTRICTED_FIELDS = {
    ("message", "error_details"): "base.group_system",
    ("exception", "error_details"): "base.group_system",
    ("sale.order", "distribution_sync_milestone_ids"): (
        "distribution_sync.group_distribution_sync_user"
    ),
}


def parse_matrix(text):
    """``{(model, operation): {group: allowed}}`` from a matrix table."""
    rows = [line.split() for line in text.strip().splitlines()]
    header, rows = rows[0], rows[1:]
    groups = header[2:]
    matrix = {}
    for row in rows:
        model, operation, marks = row[0], row[1], row[2:]
        if len(marks) != len(groups) or set(marks) - {"x", "."}:
            raise ValueError(f"bad matrix row: {' '.join(row)}")
        matrix[(model, operation)] = {
            group: mark == "x" for group, mark in zip(groups, marks, strict=True)
        }
    return matrix


def classify(fault):
    """The Odoo exception class behind an ``/xmlrpc/2`` fault (its code)."""
    return {2: "UserError", 3: "AccessDenied", 4: "AccessError"}.get(
        fault.faultCode, "crash"
    )


def short(model_name):
    return model_name.removeprefix("distribution.sync.")


def discover(env, package):
    """What ``package`` (``odoo.addons.<addon>.``) exposes over RPC.

    ``{model: {"kind", "defined", "methods", "private", "fields"}}`` for every
    model one of its classes defines or extends: whether it defines it, the
    public methods those classes define (not those they override: ORM methods
    are the CRUD probes, another addon's keep their rights), the ones Odoo
    refuses remotely (``api.private``), and the fields they add.
    """
    addon = package.removeprefix("odoo.addons.").rstrip(".")
    orm_names = set(dir(models.BaseModel))
    surface = {}
    for name in sorted(env.registry):
        model = env[name]
        cls = type(model)
        ours = [klass for klass in cls.__mro__ if klass.__module__.startswith(package)]
        added = sorted(
            fname for fname, field in model._fields.items() if field._module == addon
        )
        if not ours and not added:
            continue
        theirs = [klass for klass in cls.__mro__ if klass not in ours]
        names = {
            attr
            for klass in ours
            for attr, value in vars(klass).items()
            if not attr.startswith("_")
            and callable(value)
            and attr not in orm_names
            # An override keeps the rights of the method it extends.
            and not any(attr in vars(klass) for klass in theirs)
        }
        private = {
            attr
            for attr in names
            if any(
                getattr(getattr(klass, attr, None), "_api_private", False)
                for klass in cls.__mro__
            )
        }
        kind = "model"
        if model._abstract or model._transient:
            kind = "abstract" if model._abstract else "transient"
        surface[name] = {
            "kind": kind,
            "defined": model._original_module == addon,
            "methods": sorted(names - private),
            "private": sorted(private),
            "fields": added,
        }
    return surface


class _GenericApi(BaseHTTPRequestHandler):
    """The reference channel's REST API, answering as a healthy server."""

    def do_GET(self):
        body = {"pong": True} if self.path.endswith("/ping") else {"events": []}
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


class AccessSweep:
    """The sweep of the surface of one addon (``PACKAGE``) against its tables.

    A subclass (with ``HttpCase``) sets ``PACKAGE``, ``MATRIX``,
    ``WRITABLE_FIELDS`` and ``RESTRICTED_FIELDS``, fills ``records`` (``{short
    model name: record of company A}``, ``{group: record}`` for wizards, which
    only their creator sees; other addons' models by full name), ``records_b``
    (company B) and ``secrets`` (``{backend: {secret field: clear value}}``),
    and implements ``crud_values``.
    """

    PACKAGE = None
    MATRIX = ""
    WRITABLE_FIELDS = {}
    RESTRICTED_FIELDS = {}
    PASSWORD = "Probe-pass-1"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        ensure_secret_key()
        cls.env = cls.env(context=dict(cls.env.context, **DISABLED_MAIL_CONTEXT))
        cls.matrix = parse_matrix(cls.MATRIX)
        cls.surface = discover(cls.env, cls.PACKAGE)
        cls.company = cls.env.company
        cls.company_b = cls.env["res.company"].create({"name": "Access sweep B"})
        cls.users = {
            group: new_test_user(
                cls.env,
                login=f"access_{group}",
                password=cls.PASSWORD,
                groups=GROUP_XMLIDS[group],
                company_id=cls.company.id,
                company_ids=[Command.set(cls.company.ids)],
            )
            for group in GROUPS
        }
        cls.admin = cls.env.ref("base.user_admin")
        cls.admin.password = cls.PASSWORD
        cls.api = ThreadingHTTPServer(("127.0.0.1", 0), _GenericApi)
        threading.Thread(target=cls.api.serve_forever, daemon=True).start()
        cls.addClassCleanup(cls.api.server_close)
        cls.addClassCleanup(cls.api.shutdown)
        cls.api_url = f"http://127.0.0.1:{cls.api.server_address[1]}/api"
        cls.records, cls.records_b, cls.secrets = {}, {}, {}

    def setUp(self):
        super().setUp()
        self.failures = []
        self.counts = {group: {} for group in GROUPS}

    def crud_values(self, model):
        """``(create values, write values)`` of the probes on ``model``."""
        raise NotImplementedError

    # ------------------------------------------------------------------- RPC
    def call(self, who, model, method, *args, **kwargs):
        """``(outcome, answer)`` of one XML-RPC call by ``who``, rolled back.

        ``outcome`` is ``ok``, or the class of the fault (``crash`` for a
        server error); ``answer`` the result or the fault.
        """
        uid = self.admin.id if who == "admin" else self.users[who].id
        savepoint = self.cr.savepoint()
        try:
            # Refusals are the point here, not news for the log; the failure
            # message of a crash says what broke and where.
            with mute_logger("odoo.http"):
                answer = self.xmlrpc_object.execute_kw(
                    self.cr.dbname,
                    uid,
                    self.PASSWORD,
                    model,
                    method,
                    list(args),
                    kwargs,
                )
            outcome = "ok"
        except xmlrpc.client.Fault as fault:
            answer, outcome = fault, classify(fault)
        finally:
            savepoint.close(rollback=True)
            # What the call cached (secrets, rules) may be what was undone.
            self.env.invalidate_all()
            self.registry.clear_cache()
        return outcome, answer

    def check(self, label, outcome, answer, allowed, ok=None):
        """Note a mismatch between an outcome and what ``allowed`` says; an
        allowed call must also give an answer ``ok`` accepts."""
        if outcome == "ok" and ok is not None and not ok(answer):
            outcome = "unexpected answer"
        if (allowed and outcome == "ok") or (not allowed and outcome in REFUSALS):
            return
        detail = str(answer)
        if isinstance(answer, xmlrpc.client.Fault):
            lines = [line.strip() for line in answer.faultString.splitlines()]
            lines = [line for line in lines if line]
            if outcome == "crash":
                # The last frame and the error.
                lines = [line for line in lines if line.startswith("File ")][-1:] + [
                    lines[-1]
                ]
            detail = " | ".join(lines)
        wanted = "allowed" if allowed else "refused"
        self.failures.append(f"{label}: {wanted}, got {outcome}: {detail[:300]}")

    def probe(self, who, label, allowed, model, method, *args, ok=None, **kwargs):
        outcome, answer = self.call(who, model, method, *args, **kwargs)
        self.check(f"{who} {label}", outcome, answer, allowed, ok=ok)
        return outcome, answer

    def tally(self, who, key, count=1):
        self.counts[who][key] = self.counts[who].get(key, 0) + count

    def assert_no_failures(self):
        self.assertFalse(self.failures, "\n" + "\n".join(self.failures))

    # ------------------------------------------------------------------ sweep
    def rows(self, name):
        return {op: row for (model, op), row in self.matrix.items() if model == name}

    def sweep(self):
        """Probe every operation of the surface for every group."""
        described = {model for model, _op in self.matrix}
        for model_name, info in self.surface.items():
            name = short(model_name)
            if info["kind"] == "abstract":
                self.sweep_abstract(model_name, info)
            elif not info["defined"]:
                self.sweep_extended(model_name, info)
            elif name not in described:
                self.failures.append(f"{name}: no row in the matrix")
            else:
                self.sweep_model(model_name, info)
        for name, operation in self.matrix:
            info = self.surface.get(f"distribution.sync.{name}")
            if info is None:
                self.failures.append(f"{name}: in the matrix, not in the addon")
            elif operation not in CRUD and operation not in info["methods"]:
                self.failures.append(f"{name}.{operation}: in the matrix, no method")

    def sweep_model(self, model_name, info):
        """A model of the addon: CRUD, every method, every field."""
        name = short(model_name)
        rows = self.rows(name)
        for method in info["methods"]:
            if method not in rows:
                self.failures.append(f"{name}.{method}: no row in the matrix")
        create_vals, write_vals = self.crud_values(name)
        for who in GROUPS:
            record = self.records[name]
            if info["kind"] == "transient":
                record = record[who]
            allowed = {op: row[who] for op, row in rows.items()}
            outcome, answer = self.probe(
                who, f"{name}.read", allowed["read"], model_name, "read", record.ids,
                ok=lambda a, r=record: a and a[0]["id"] == r.id,
            )  # fmt: skip
            if allowed["read"]:
                self.check_all_fields(who, record, outcome, answer)
            key = "fields read" if allowed["read"] else "fields refused"
            self.tally(who, key, len(record._fields))
            self.probe(
                who, f"{name}.search", allowed["search"], model_name, "search",
                [("id", "=", record.id)], ok=lambda a, r=record: a == r.ids,
            )  # fmt: skip
            for op, args in (
                ("create", [create_vals]),
                ("write", [record.ids, write_vals]),
                ("unlink", [record.ids]),
            ):
                self.probe(who, f"{name}.{op}", allowed[op], model_name, op, *args)
            self.tally(who, "crud", len(CRUD))
            for method in info["methods"] + info["private"]:
                may = method in rows and rows[method][who]
                self.probe(who, f"{name}.{method}", may, model_name, method, record.ids)
                self.tally(who, "methods")
            if allowed["write"] and info["kind"] == "model":
                self.sweep_field_writes(who, name, record)
            self.sweep_restricted_fields(who, name, record, allowed["read"])

    def check_all_fields(self, who, record, outcome, answer):
        """An allowed read of all fields returns every field the group may
        see and none it may not; when it fails, say which field fails."""
        name = short(record._name)
        ours = {
            fname
            for fname, field in record._fields.items()
            if field.groups
            and fname not in MAGIC_FIELDS
            and (field._module or "").startswith("distribution_sync")
        }
        listed = {fname for model, fname in self.RESTRICTED_FIELDS if model == name}
        if ours - listed:
            self.failures.append(
                f"{name}: restricted fields not listed {ours - listed}"
            )
        restricted = {f for f, field in record._fields.items() if field.groups}
        hidden = {
            fname
            for fname in listed
            if not self.users[who].has_group(self.RESTRICTED_FIELDS[(name, fname)])
        }
        if outcome == "ok":
            missing = set(record._fields) - set(answer[0]) - restricted
            leaked = hidden & set(answer[0])
            if missing or leaked:
                self.failures.append(
                    f"{who} {name}.read: missing {missing}, shown {leaked}"
                )
            return
        for fname in sorted(set(record._fields) - restricted):
            self.probe(
                who, f"{name}.read {fname}", True, record._name, "read",
                record.ids, [fname],
            )  # fmt: skip

    def sweep_restricted_fields(self, who, name, record, readable):
        """A restricted field asked for by name answers its group only."""
        for (model, fname), group in self.RESTRICTED_FIELDS.items():
            if model != name or not readable:
                continue
            may = self.users[who].has_group(group)
            self.probe(
                who, f"{name}.read {fname}", may, record._name, "read",
                record.ids, [fname],
            )  # fmt: skip
            self.tally(who, "fields read" if may else "fields refused")

    def sweep_field_writes(self, who, name, record):
        """Write each stored field of ``record`` with its own value: the
        right to write a field does not depend on the value."""
        writable = self.WRITABLE_FIELDS.get(name)
        if writable is None:
            self.failures.append(f"{name}: writable, but not in WRITABLE_FIELDS")
            return
        for fname, field in sorted(record._fields.items()):
            if (
                fname in MAGIC_FIELDS
                or not field.store
                or field.compute
                or field.related
                or field.type in ("one2many", "many2many")
            ):
                continue
            may = not field.readonly if writable == "*" else fname in writable
            value = record[fname]
            if field.type == "many2one":
                value = value.id
            elif field.type in ("date", "datetime"):
                value = field.to_string(value) if value else False
            self.probe(
                who, f"{name}.write {fname}", may, record._name, "write",
                record.ids, {fname: value},
            )  # fmt: skip
            self.tally(who, "fields written")

    def sweep_abstract(self, model_name, info):
        """Mixins have no rows: nothing is allowed on them, to anyone. (A read
        by id is not probed: Odoo answers it with a server error for every
        abstract model, ours or not.)"""
        name = short(model_name)
        for who in GROUPS:
            self.probe(who, f"{name}.search", False, model_name, "search", [])
            self.tally(who, "crud")
            for method in info["methods"] + info["private"]:
                self.probe(who, f"{name}.{method}", False, model_name, method, [1])
                self.tally(who, "methods")

    def sweep_extended(self, model_name, info):
        """On a model another addon defines, what we add follows the read
        right of the record: whoever may read it may read our fields (but
        those restricted to groups they lack); our methods are in the matrix
        on a sync model, elsewhere allowed to the record's readers only."""
        name = short(model_name)
        record = self.records.get(name)
        if record is None:
            if info["methods"] or info["fields"]:
                self.failures.append(f"{model_name}: no probe record for our additions")
            return
        rows = self.rows(name)
        sync_model = model_name.startswith("distribution.sync.")
        for method in info["methods"]:
            if sync_model and method not in rows:
                self.failures.append(f"{name}.{method}: no row in the matrix")
        for who in GROUPS:
            user = self.users[who]
            may = record.with_user(user).has_access("read")
            for fname in info["fields"]:
                groups = record._fields[fname].groups
                shown = may and all(
                    user.has_group(group)
                    for group in (groups or "").split(",")
                    if group
                )
                self.probe(
                    who, f"{name}.read {fname}", shown, model_name, "read",
                    record.ids, [fname],
                )  # fmt: skip
                self.tally(who, "fields read" if shown else "fields refused")
            may_write = record.with_user(user).has_access("write")
            for method in info["methods"] + info["private"]:
                allowed = method in info["methods"] and (
                    may_write if method in WRITING_METHODS else may
                )
                if sync_model:
                    allowed = method in rows and rows[method][who]
                self.probe(
                    who, f"{name}.{method}", allowed, model_name, method, record.ids
                )
                self.tally(who, "methods")

    # ------------------------------------------------------------------ tests
    def test_matrix(self):
        """Every group, every operation of the surface: as the tables say.
        Logs what was probed per group."""
        self.sweep()
        summary = "; ".join(
            f"{who}: " + ", ".join(f"{key} {n}" for key, n in sorted(counts.items()))
            for who, counts in self.counts.items()
        )
        _logger.info("access sweep of %s: %s", self.PACKAGE, summary)
        methods = {self.counts[group].get("methods", 0) for group in GROUPS}
        self.assertEqual(
            len(methods), 1, f"not every group probed every method: {summary}"
        )
        self.assertTrue(methods.pop(), "no method probed")
        self.assert_no_failures()

    def secret_answers(self, who, backend, values):
        """What ``who`` gets from every way of reading ``backend``'s secret
        fields: ORM reads, exports, groupings, onchange, the code's own
        readers, the chatter and the audit trail."""
        model, ids = backend._name, backend.ids
        names = sorted(values)
        spec = {fname: {} for fname in names}
        calls = [
            ("read", ids, names),
            ("read", ids, []),
            ("search_read", [("id", "in", ids)]),
            ("web_read", ids, spec),
            ("web_search_read", [("id", "in", ids)], spec),
            ("export_data", ids, names),
            ("onchange", ids, {}, [], spec),
            ("onchange", [], {}, [], spec),
            ("copy_data", ids),
            ("read_group", [("id", "in", ids)], names, ["name"]),
        ]
        answers = [self.call(who, model, *call) for call in calls]
        answers += [
            self.call(
                who,
                "mail.message",
                "search_read",
                [("model", "=", model), ("res_id", "in", ids)],
            ),
            self.call(
                who,
                "distribution.sync.audit",
                "search_read",
                [("backend_id", "in", ids)],
            ),
        ]
        return [str(answer) for _outcome, answer in answers]

    def test_secrets_never_readable(self):
        """No group, not even the administrators, reads a secret's value over
        RPC, whatever the way; the secrets table answers nobody but them, and
        them with ciphertext only."""
        leaks = []
        backends = [b for b in self.secrets if b.company_id == self.company]
        self.assertTrue(backends, "no secret to probe")
        for backend in backends:
            values = self.secrets[backend]
            for who in ("user", "manager", "admin"):
                texts = self.secret_answers(who, backend, values)
                for fname, value in values.items():
                    if any(value in text for text in texts):
                        leaks.append(f"{who} read {fname} of {backend.name}")
                    # A search on a secret says nothing of a guess.
                    shapes = set()
                    for guess in (value, value[::-1]):
                        outcome, answer = self.call(
                            who, backend._name, "search_count", [(fname, "=", guess)]
                        )
                        shapes.add((outcome, str(answer).replace(guess, "?")))
                    if len(shapes) > 1:
                        leaks.append(f"{who}: a search on {fname} tells a right guess")
                outcome, answer = self.call(
                    who, backend._name, "read", backend.ids, sorted(values)
                )
                self.assertEqual(outcome, "ok", answer)
                self.assertEqual(set(answer[0].values()) - {backend.id}, {False}, who)
                for model, method in (
                    (backend._name, "_get_secret"),
                    ("distribution.sync.secret", "_get"),
                ):
                    outcome, _answer = self.call(who, model, method, backend.ids)
                    if outcome != "AccessError":
                        leaks.append(f"{who} called {model}.{method}: {outcome}")
            leaks += self.secret_table_leaks(backend, values)
        self.assertFalse(leaks, "\n".join(leaks))

    def secret_table_leaks(self, backend, values):
        stored = self.env["distribution.sync.secret"].search(
            [("backend_id", "=", backend.id)]
        )
        self.assertEqual(len(stored), len(values))
        leaks = []
        for who in ("user", "manager"):
            for method, args in (("search_read", [[]]), ("read", [stored.ids])):
                outcome, answer = self.call(
                    who, "distribution.sync.secret", method, *args
                )
                if outcome != "AccessError":
                    leaks.append(f"{who} opened the secrets table: {answer}")
        outcome, answer = self.call(
            "admin", "distribution.sync.secret", "read", stored.ids, ["value"]
        )
        self.assertEqual(outcome, "ok", answer)
        for row in answer:
            if any(value in row["value"] for value in values.values()):
                leaks.append("the secrets table holds a clear value")
        return leaks

    def test_company_b_closed(self):
        """A user and a manager of company A can neither see, search, change,
        delete nor call a method on anything of company B, nor move anything
        of A into B."""
        for who in ("user", "manager"):
            for name, record in sorted(self.records_b.items()):
                self.probe_other_company(who, name, record)
                self.probe_moves(who, name)
        self.assert_no_failures()

    def probe_other_company(self, who, name, record):
        model = record._name
        label = f"{name} of B"
        self.probe(who, f"{label}.read", False, model, "read", record.ids)
        outcome, answer = self.call(who, model, "search", [("id", "=", record.id)])
        if outcome not in REFUSALS:
            self.check(
                f"{who} {label}.search", outcome, answer, True, ok=lambda a: not a
            )
        write_vals = self.crud_values(name)[1]
        self.probe(who, f"{label}.write", False, model, "write", record.ids, write_vals)
        self.probe(who, f"{label}.unlink", False, model, "unlink", record.ids)
        for method in self.surface[model]["methods"]:
            outcome, answer = self.call(who, model, method, record.ids)
            if outcome != "AccessError":
                self.failures.append(
                    f"{who} {label}.{method}: AccessError expected, got {outcome}"
                )
        # Company B asked for in the context opens nothing either.
        both = [self.company.id, self.company_b.id]
        self.probe(
            who, f"{label} as B", False, model, "search_read",
            [("id", "=", record.id)], context={"allowed_company_ids": both},
        )  # fmt: skip

    def probe_moves(self, who, name):
        """Writing a field that makes a record of A belong to B, or creating a
        record of B, is refused."""
        model = self.env[f"distribution.sync.{name}"]
        moves = []
        if "backend_id" in model._fields:
            moves.append(("backend_id", self.records_b["backend"].id))
        company = model._fields.get("company_id")
        if company and not company.related:
            moves.append(("company_id", self.company_b.id))
        create_vals = self.crud_values(name)[0]
        for fname, value in moves:
            if self.matrix.get((name, "write"), {}).get(who):
                self.probe(
                    who, f"{name}: {fname} to B", False, model._name, "write",
                    self.records[name].ids, {fname: value},
                )  # fmt: skip
            if self.matrix.get((name, "create"), {}).get(who):
                self.probe(
                    who, f"{name}: created in B", False, model._name, "create",
                    dict(create_vals, **{fname: value}),
                )  # fmt: skip


@tagged("post_install", "-at_install")
class TestAccessRpc(AccessSweep, HttpCase):
    PACKAGE = "odoo.addons.distribution_sync."
    MATRIX = MATRIX
    WRITABLE_FIELDS = WRITABLE_FIELDS
    RESTRICTED_FIELDS = RESTRICTED_FIELDS

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partner = cls.env["res.partner"].create(
            {"name": "Sweep customer", "email": "sweep@example.com"}
        )
        cls.make_records(cls.company, cls.records)
        cls.make_records(cls.company_b, cls.records_b)
        cls.make_documents(cls.users["portal"].partner_id)

    @classmethod
    def make_records(cls, company, records):
        """A backend with its secret, an errored message, its open exception,
        a binding whose record is gone, a mapping, an ownership row, a rule,
        an audit entry and the stored secret, all of ``company``."""
        env = cls.env
        tag = "A" if company == cls.company else "B"
        secret = f"whsec-sweep-{tag}-5f1c9a0e7b"
        backend = env["distribution.sync.backend"].create(
            {
                "name": f"Sweep shop {tag}",
                "backend_type": "generic",
                "company_id": company.id,
                "api_url": cls.api_url,
                "webhook_secret": secret,
            }
        )
        cls.secrets[backend] = {"webhook_secret": secret}
        external_id = f"SW-{tag}"
        payload = {"external_id": external_id, "name": "Sweep", "email": "s@x.com"}
        message, _new = env["distribution.sync.message"]._intake(
            backend,
            "inbound",
            "partner/upsert",
            f"event:sweep-{tag}",
            json.dumps(payload),
            external_id=external_id,
            work_key=f"partner:{external_id}",
        )
        message.sudo().write(
            {
                "state": "error",
                "attempt_count": 1,
                "last_error": "Probe failure",
                "res_model": "res.partner",
                "res_id": cls.partner.id,
            }
        )
        exception = backend._open_exception(
            "mapping",
            f"Unknown SKU SWEEP-{tag}",
            message=message,
            record=cls.partner,
            value=f"SWEEP-{tag}",
            mapping_type="product",
        )
        gone = env["res.partner"].create({"name": "Deleted since"})
        binding = env["distribution.sync.binding"]._bind(backend, gone, f"GONE-{tag}")
        gone.unlink()
        mapping = env["distribution.sync.mapping"].create(
            {
                "backend_id": backend.id,
                "mapping_type": "country",
                "external_code": f"Z{tag}",
                "country_id": env.ref("base.us").id,
            }
        )
        backend._audit("retry", note="sweep")
        run = env["distribution.sync.reconciliation"].create(
            {"company_id": company.id, "backend_ids": [(6, 0, backend.ids)]}
        )
        audit = env["distribution.sync.audit"].search([("backend_id", "=", backend.id)])
        records.update(
            {
                "backend": backend,
                "message": message,
                "exception": exception,
                "binding": binding,
                "mapping": mapping,
                "ownership": backend.ownership_ids[:1],
                "validation.rule": backend.validation_rule_ids[:1],
                "audit": audit[:1],
                "secret": env["distribution.sync.secret"].search(
                    [("backend_id", "=", backend.id)]
                ),
                "request.slot": env["distribution.sync.request.slot"].create(
                    {"backend_id": backend.id, "started_at": fields.Datetime.now()}
                ),
                "milestone": env["distribution.sync.milestone"].create(
                    {
                        "sale_order_id": env["sale.order"]
                        .create({"partner_id": cls.partner.id})
                        .id,
                        "backend_id": backend.id,
                        "company_id": backend.company_id.id,
                        "step": "received",
                    }
                ),
                "milestone.sla": env["distribution.sync.milestone.sla"].create(
                    {"backend_id": backend.id, "step": "confirmed", "hours": 8}
                ),
                "reconciliation": run,
                "reconciliation.line": env[
                    "distribution.sync.reconciliation.line"
                ].create({"reconciliation_id": run.id, "check_code": "x", "name": "X"}),
            }
        )
        if company == cls.company:
            # Wizards are seen by their creator only: one per group.
            dry_runs = env["distribution.sync.message.dry.run"]
            dashboards = env["distribution.sync.dashboard"]
            records["dashboard"] = {
                who: dashboards.with_user(
                    cls.users[who] if who in ("user", "manager") else env.user
                )
                .create({})
                .sudo()
                for who in GROUPS
            }
            records["message.dry.run"] = {
                who: dry_runs.with_user(
                    cls.users[who] if who in ("user", "manager") else env.user
                )
                .create({"message_id": message.id, "report": "{}"})
                .sudo()
                for who in GROUPS
            }

    @classmethod
    def make_documents(cls, customer):
        """A quotation, a delivery and a draft invoice of ``customer``, who
        follows them (portal users read what they follow)."""
        env = cls.env
        product = env["product.product"].create(
            {"name": "Sweep widget", "type": "consu", "list_price": 5.0}
        )
        order = env["sale.order"].create(
            {
                "partner_id": customer.id,
                "order_line": [Command.create({"product_id": product.id})],
            }
        )
        order.order_line.distribution_sync_line_ref = "L-SWEEP"
        warehouse = env["stock.warehouse"].search(
            [("company_id", "=", cls.company.id)], limit=1
        )
        picking = env["stock.picking"].create(
            {
                "partner_id": customer.id,
                "picking_type_id": warehouse.out_type_id.id,
                "location_id": warehouse.lot_stock_id.id,
                "location_dest_id": env.ref("stock.stock_location_customers").id,
            }
        )
        invoice = env["account.move"].create(
            {"move_type": "out_invoice", "partner_id": customer.id}
        )
        for document in (order, picking, invoice):
            document.message_subscribe(partner_ids=customer.ids)
        cls.records.update(
            {
                "res.partner": customer,
                "sale.order": order,
                "sale.order.line": order.order_line,
                "stock.picking": picking,
                "account.move": invoice,
            }
        )

    def crud_values(self, model):
        backend = self.records["backend"]
        message = self.records["message"]
        return {
            "backend": (
                {"name": "Sweep created", "backend_type": "generic"},
                {"sequence": 11},
            ),
            "message": (
                {
                    "backend_id": backend.id,
                    "direction": "inbound",
                    "topic": "partner/upsert",
                    "idempotency_key": "event:forged",
                    "payload": "{}",
                },
                {"topic": "forged/topic"},
            ),
            "message.dry.run": (
                {"message_id": message.id, "report": "{}"},
                {"report": "{}"},
            ),
            "dashboard": ({}, {"name": "Renamed"}),
            "milestone": (
                {
                    "sale_order_id": self.records["sale.order"].id,
                    "backend_id": backend.id,
                    "company_id": backend.company_id.id,
                    "step": "shipped",
                },
                {"state": "late"},
            ),
            "milestone.sla": (
                {"backend_id": backend.id, "step": "shipped", "hours": 48},
                {"hours": 12},
            ),
            "reconciliation": (
                {"backend_ids": [(6, 0, backend.ids)]},
                {"backend_ids": [(6, 0, [])]},
            ),
            "reconciliation.line": (
                {
                    "reconciliation_id": self.records["reconciliation"].id,
                    "check_code": "forged",
                    "name": "Forged",
                },
                {"name": "Renamed"},
            ),
            "exception": (
                {
                    "name": "Made by hand",
                    "backend_id": backend.id,
                    "category": "validation",
                    "problem_key": "sweep:by-hand",
                },
                {"resolution_note": "Looked at it"},
            ),
            "binding": (
                {
                    "backend_id": backend.id,
                    "res_model": "res.partner",
                    "res_id": self.partner.id,
                    "external_id": "BOUND-BY-HAND",
                },
                {"external_name": "renamed"},
            ),
            "mapping": (
                {
                    "backend_id": backend.id,
                    "mapping_type": "country",
                    "external_code": "ZZ-NEW",
                    "country_id": self.env.ref("base.us").id,
                },
                {"note": "checked"},
            ),
            "ownership": (
                {
                    "backend_id": backend.id,
                    "entity": "customer",
                    "field_name": "email",
                    "owner": "odoo",
                },
                {"on_conflict": "ignore"},
            ),
            "validation.rule": (
                {"backend_id": backend.id, "rule_type": "max_amount", "amount": 1e6},
                {"sequence": 7},
            ),
            "audit": ({"action": "retry", "note": "forged"}, {"note": "rewritten"}),
            "secret": (
                {"backend_id": backend.id, "key": "forged", "value": "forged"},
                {"value": "forged"},
            ),
            "request.slot": (
                {"backend_id": backend.id, "started_at": "2026-01-01 00:00:00"},
                {"released_at": "2026-01-01 00:00:01"},
            ),
        }[model]

    def test_public_user_is_shut_out(self):
        """The public user cannot log in over XML-RPC, nor can anybody
        without a session use the JSON routes on the sync models; the one
        anonymous route of the addon, the webhook, wants a signature."""
        public = self.env.ref("base.public_user")
        db = self.cr.dbname
        with mute_logger("odoo.addons.base.models.res_users", "odoo.http"):
            self.assertFalse(
                self.xmlrpc_common.authenticate(db, public.login, "", {}),
                "the public user logged in",
            )
            for password in ("", "public"):
                with self.assertRaises(xmlrpc.client.Fault) as refused:
                    self.xmlrpc_object.execute_kw(
                        db, public.id, password, "distribution.sync.backend", "search",
                        [[]],
                    )  # fmt: skip
                self.assertEqual(classify(refused.exception), "AccessDenied")
        for model in (m for m in self.surface if m.startswith("distribution.sync.")):
            params = {"model": model, "method": "search_read", "args": [[]]}
            body = {
                "jsonrpc": "2.0",
                "method": "call",
                "params": dict(params, kwargs={}),
            }
            answer = self.url_open(
                f"/web/dataset/call_kw/{model}/search_read",
                data=json.dumps(body),
                headers={"Content-Type": "application/json"},
            ).json()
            self.assertNotIn("result", answer, model)
            error = answer["error"]["data"]["name"]
            self.assertEqual(error, "odoo.http.SessionExpiredException", model)
        messages = self.env["distribution.sync.message"]
        before = messages.search_count([])
        answer = self.url_open(
            f"/distribution_sync/webhook/{self.records['backend'].id}",
            data=b'{"external_id": "ANON"}',
            headers={"Content-Type": "application/json"},
        )
        self.assertEqual(answer.status_code, 401)
        self.assertEqual(messages.search_count([]), before)

    def test_refusals_are_user_errors(self):
        """What a person may try but the state forbids says why, as a user
        error: never a server error."""
        unreachable = self.records["backend"]
        unreachable.api_url = "http://127.0.0.1:9/api"
        dead = self.records["message"]
        dead.sudo().state = "dead"
        for who, record, method in (
            ("manager", unreachable, "action_test_connection"),
            ("user", dead, "action_skip"),
        ):
            self.probe(who, method, False, record._name, method, record.ids)
        self.assert_no_failures()

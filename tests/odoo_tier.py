#!/usr/bin/env python3
"""Odoo test tier, demo server and shared Odoo helpers for the distribution_sync addons.

Standard library only: Odoo is driven as a subprocess, never imported.

Commands::

    python tests/odoo_tier.py run [--summary-file FILE] [--junitxml FILE] [-- ARGS]
        Install every addon of the repository in two fresh databases (one without
        demo data, one with), run their own Odoo tests through pytest-odoo (ARGS go
        to pytest), walk through the Shopify contract, check that they uninstall,
        drop the databases; then install the core alone in a third one and run
        its milestone, reconciliation and overview tests there.

    python tests/odoo_tier.py provision
        Make or reuse the Odoo runtime (setup/provision.py); exit 3 when it cannot
        be made and the tier is not required (ODOO_TIER_REQUIRED).

    python tests/odoo_tier.py i18n
        Export every addon's ``i18n/<addon>.pot`` from a fresh database.

    python tests/odoo_tier.py demo [--db NAME] [--port 8069] [--reset] [--smoke]
        Create (or reuse) a demo database with all addons installed and serve it
        with the queue_job runner; ``--smoke`` instead sends one signed webhook,
        checks that a queue job processes it, then stops.

Odoo comes from the runtime that ``setup/provision.py`` makes (or reuses) in a cache
outside the clone: Odoo 18.0 from ``ODOO_SRC`` or a clone, its virtualenv with queue_job
and pytest-odoo, PostgreSQL, a server configuration. The addons' Odoo tests run through
pytest and the ``pytest-odoo`` plugin, one pytest test per Odoo test; installing without
ERROR lines, the live walk-through and uninstalling are named checks of the same tier.

Environment:

    ODOO_SRC             Odoo 18.0 source folder or archive for the runtime (once; later
                         runs reuse the cache, see setup/provision.py)
    ODOO_BIN             use this existing odoo-bin instead of the runtime; then
    ODOO_PYTHON          is its interpreter (default python3), which must import odoo,
                         pytest-odoo and queue_job (or ODOO_ADDONS_PATH names it), and
    ODOO_ADDONS_PATH     extra addons directories, comma-separated (e.g. queue_job's)
    PGHOST, PGPORT, PGUSER, PGPASSWORD
                         PostgreSQL server (runtime: used when it answers, else a
                         private cluster; ODOO_BIN: default 127.0.0.1, 5432, odoo,
                         odoo)
    DSYNC_TEST_ADDONS    comma-separated addons to install and test instead of the
                         repository's own
    ODOO_PYTEST_ARGS     extra pytest arguments for the Odoo tests (e.g. ``-k webhook``)
    ODOO_TIER_REQUIRED   ``1``: no Odoo is a failure instead of a skipped tier (CI)
    ODOO_TIER_TIMEOUT    seconds allowed for one Odoo run (default 2700)
    ODOO_TIER_KEEP_LOGS  ``1``: keep the log directory even when everything passed
"""

import argparse
import ast
import base64
import collections
import contextlib
import dataclasses
import hashlib
import hmac
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
import xmlrpc.client
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
ODOO_SERIES = "18.0"
DEMO_DB = "distribution_sync_demo"
# The app's first screen (the path of its server action).
OVERVIEW_PATH = "/odoo/sync-overview"
MAIN_ADDON = "distribution_sync"
WALKTHROUGH_ADDON = "distribution_sync_shopify"
# The core's tests that channel addons extend the subject of: run again in a
# database with the core alone.
CORE_ALONE_TESTS = (
    "test_milestone or test_reconciliation or test_dashboard or test_tour_overview"
)
HEARTBEAT_SECONDS = 60
# the addon encrypts backend secrets with these keys (its server configuration option
# distribution_sync_secret_keys, or this environment variable)
SECRET_KEYS_ENV = "DISTRIBUTION_SYNC_SECRET_KEYS"
FAILURE_RECORDS_SHOWN = 12
LINES_PER_RECORD = 25
UNINSTALL_MARKER = "DSYNC_UNINSTALL_RESULT"
# run by `odoo shell` (stdin is not a tty, so the shell executes it)
UNINSTALL_SCRIPT = """
import json
names = {names!r}
domain = [("name", "in", names), ("state", "=", "installed")]
env["ir.module.module"].search(domain).button_immediate_uninstall()
env.cr.commit()
query = "SELECT name, state FROM ir_module_module WHERE name IN %s"
env.cr.execute(query, [tuple(names)])
print({marker!r}, json.dumps(dict(env.cr.fetchall())), flush=True)
"""


def say(message=""):
    print(message, flush=True)


def fmt_duration(seconds):
    minutes, seconds = divmod(int(round(seconds)), 60)
    return f"{minutes}m{seconds:02d}s"


class Interrupted(Exception):
    """SIGTERM/SIGHUP as an exception, so that cleanup (``finally``) still runs."""


def _raise_interrupted(signum, _frame):
    raise Interrupted(f"received signal {signum}")


def install_signal_handlers():
    # SIGINT too: a shell that starts us in the background sets it to "ignore"
    with contextlib.suppress(ValueError, OSError):
        signal.signal(signal.SIGINT, signal.default_int_handler)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        with contextlib.suppress(ValueError, OSError):
            signal.signal(sig, _raise_interrupted)


# --------------------------------------------------------------------------- addons


def read_manifest(path):
    try:
        data = ast.literal_eval(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError, SyntaxError):
        return None
    return data if isinstance(data, dict) else None


def discover_addons(root=REPO_ROOT):
    """Installable addons at the repository root (directories with a manifest).

    An unreadable manifest still counts: installing it then fails loudly instead of
    the addon silently dropping out of the test run.
    """
    names = []
    for manifest in sorted(Path(root).glob("*/__manifest__.py")):
        data = read_manifest(manifest)
        if data is not None and data.get("installable", True) is False:
            continue
        names.append(manifest.parent.name)
    return names


def selected_addons():
    override = os.environ.get("DSYNC_TEST_ADDONS", "").strip()
    if override:
        return [name.strip() for name in override.split(",") if name.strip()]
    return discover_addons()


# ------------------------------------------------------------------ Odoo discovery


class OdooNotFound(Exception):
    """No Odoo 18 here: the tier is skipped (unless ODOO_TIER_REQUIRED=1)."""


class OdooUnusable(Exception):
    """Odoo was configured explicitly but cannot be used: the tier fails."""


class TierError(Exception):
    """The tier cannot run for a reason the user must fix (e.g. no PostgreSQL)."""


@dataclasses.dataclass
class Odoo:
    cmd: list
    version: str
    where: str
    extra_addons: list
    python: str
    pg: object  # Pg (defined below)
    config: str = None  # the runtime's server configuration
    secret_keys: str = None

    def command(self, *args):
        """``odoo-bin [subcommand] [-c config] args``: the configuration goes after a
        subcommand, which must come first."""
        config = ["-c", self.config] if self.config else []
        if args and args[0] in ("shell", "db"):
            return [*self.cmd, args[0], *config, *args[1:]]
        return [*self.cmd, *config, *args]

    def addons_path(self, addons=None):
        """``--addons-path``: the repository (if it holds addons) + the runtime's or
        ODOO_ADDONS_PATH's folders."""
        paths = []
        if discover_addons(REPO_ROOT) or (
            addons
            and any((REPO_ROOT / name / "__manifest__.py").is_file() for name in addons)
        ):
            paths.append(str(REPO_ROOT))
        paths.extend(self.extra_addons)
        return ",".join(paths)

    def addons_args(self, addons=None):
        value = self.addons_path(addons)
        return [f"--addons-path={value}"] if value else []


def load_provision():
    """``setup/provision.py`` as a module (it is a script beside the addons)."""
    import importlib.util  # noqa: PLC0415 - only here

    path = REPO_ROOT / "setup" / "provision.py"
    spec = importlib.util.spec_from_file_location("dsync_provision", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def find_odoo():
    """The Odoo to test with: ODOO_BIN when set, else the provisioned runtime.

    OdooNotFound when the runtime cannot be made (the message says how to set
    ODOO_SRC), OdooUnusable when ODOO_BIN is set but cannot be used.
    """
    if os.environ.get("ODOO_BIN", "").strip():
        return explicit_odoo()
    provision = load_provision()
    try:
        runtime = provision.provision()
    except provision.ProvisionError as exc:
        raise OdooNotFound(str(exc)) from exc
    pg = runtime["pg"]
    return Odoo(
        cmd=[runtime["python"], runtime["odoo_bin"]],
        version=runtime["series"],
        where=f"runtime {runtime['dir']}",
        extra_addons=list(runtime["addons_path"]),
        python=runtime["python"],
        pg=Pg(pg["host"], str(pg["port"]), pg["user"], pg["password"]),
        config=runtime["config"],
        secret_keys=runtime["secret_keys"],
    )


def explicit_odoo():
    explicit = os.environ["ODOO_BIN"].strip()
    path = Path(explicit).expanduser()
    if not path.is_file():
        raise OdooUnusable(f"ODOO_BIN={explicit} is not a file")
    python = os.environ.get("ODOO_PYTHON") or "python3"
    if path.suffix == ".py" or path.name == "odoo-bin" or not os.access(path, os.X_OK):
        cmd = [python, str(path)]
    else:
        cmd = [str(path)]
    where = f"ODOO_BIN={explicit}"
    try:
        proc = subprocess.run(
            cmd + ["--version"],
            capture_output=True,
            text=True,
            timeout=180,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise OdooUnusable(f"`{' '.join(cmd)} --version` failed: {exc}") from exc
    output = (proc.stdout or "") + (proc.stderr or "")
    match = re.search(r"Odoo Server (\S+)", output)
    if not match:
        tail = " | ".join(output.strip().splitlines()[-5:])
        raise OdooUnusable(
            f"`{' '.join(cmd)} --version` exited {proc.returncode} without "
            f"printing 'Odoo Server <version>': {tail}"
        )
    version = match.group(1)
    if not re.match(r"^18\.0(\b|[-+])", version):
        raise OdooUnusable(f"{where} is Odoo {version}, the addons need {ODOO_SERIES}")
    extra = []
    for entry in os.environ.get("ODOO_ADDONS_PATH", "").split(","):
        entry = entry.strip()
        if not entry:
            continue
        if not Path(entry).expanduser().is_dir():
            raise OdooUnusable(f"ODOO_ADDONS_PATH entry {entry} is not a directory")
        extra.append(str(Path(entry).expanduser().resolve()))
    probe = subprocess.run(
        [python, "-c", "import pytest_odoo"],
        capture_output=True,
        text=True,
        check=False,
        env=dict(os.environ, PYTHONPATH=str(path.parent)),
    )
    if probe.returncode != 0:
        raise OdooUnusable(
            f"{python} (ODOO_PYTHON) cannot import pytest_odoo: install pytest and "
            "pytest-odoo into the environment of that Odoo, or unset ODOO_BIN to use "
            "the provisioned runtime"
        )
    return Odoo(
        cmd=cmd,
        version=version,
        where=where,
        extra_addons=extra,
        python=python,
        pg=Pg.from_env(),
    )


def skip_banner(reason):
    line = "!" * 78
    return "\n".join(
        [
            line,
            "!!  TIER ODOO SKIPPED: no Odoo 18 runtime could be provisioned.",
            "!!  Set ODOO_SRC to an Odoo 18.0 source folder or archive (copied once",
            "!!  into the cache, see setup/provision.py), or ODOO_BIN to an existing",
            "!!  odoo-bin. The reason:",
            *(f"!!    {line}" for line in str(reason).splitlines()),
            "!!  The addons' own Odoo tests (install, tests, uninstall) did NOT run.",
            line,
        ]
    )


# --------------------------------------------------------------------------- PostgreSQL


@dataclasses.dataclass
class Pg:
    host: str
    port: str
    user: str
    password: str

    @classmethod
    def from_env(cls):
        return cls(
            host=os.environ.get("PGHOST") or "127.0.0.1",
            port=os.environ.get("PGPORT") or "5432",
            user=os.environ.get("PGUSER") or "odoo",
            password=os.environ.get("PGPASSWORD") or "odoo",
        )

    @property
    def is_local(self):
        return self.host.startswith("/") or self.host in (
            "127.0.0.1",
            "localhost",
            "::1",
        )

    def odoo_args(self):
        return [
            f"--db_host={self.host}",
            f"--db_port={self.port}",
            f"--db_user={self.user}",
            f"--db_password={self.password}",
        ]

    def reachable(self, timeout=2.0):
        if self.host.startswith("/"):
            return Path(self.host, f".s.PGSQL.{self.port}").exists()
        try:
            with socket.create_connection((self.host, int(self.port)), timeout=timeout):
                return True
        except (OSError, ValueError):
            return False


def _local_clusters():
    """(version, name, port, status) of the Debian-style clusters on this machine."""
    if not (shutil.which("pg_lsclusters") and shutil.which("pg_ctlcluster")):
        return []
    proc = subprocess.run(
        ["pg_lsclusters", "--no-header"],
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    clusters = []
    for line in proc.stdout.splitlines():
        fields = line.split()
        if len(fields) >= 4:
            clusters.append(tuple(fields[:4]))
    return clusters


def _sql_literal(value):
    return "'" + value.replace("'", "''") + "'"


def _sql_identifier(value):
    return '"' + value.replace('"', '""') + '"'


def _check_role(pg):
    """(ok, message) from a psql login; ok is None when psql is not installed."""
    psql = shutil.which("psql")
    if not psql:
        return None, "psql not installed, role not checked"
    env = dict(os.environ, PGPASSWORD=pg.password, PGCONNECT_TIMEOUT="5")
    proc = subprocess.run(
        [
            psql,
            "-X",
            "-h",
            pg.host,
            "-p",
            pg.port,
            "-U",
            pg.user,
            "-d",
            "postgres",
            "-tAc",
            "SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    if proc.returncode != 0:
        return False, proc.stderr.strip()
    if proc.stdout.strip() != "t":
        return False, f'role "{pg.user}" may not create databases (CREATEDB needed)'
    return True, "ok"


def ready_postgres(odoo):
    """The runtime's PostgreSQL is ready once provisioned; an ODOO_BIN one is
    checked (and started or given its role when it can be)."""
    if odoo.config is None:
        ensure_postgres(odoo.pg)


def ensure_postgres(pg):
    """Make sure the server answers and the role logs in; start/create if we can."""
    if not pg.reachable():
        started = False
        if pg.is_local:
            for version, name, port, status in _local_clusters():
                if port == pg.port and status != "online":
                    say(f"odoo tier: PostgreSQL is down, starting {version} {name}")
                    subprocess.run(
                        ["pg_ctlcluster", version, name, "start"],
                        check=False,
                        stdin=subprocess.DEVNULL,
                    )
                    started = True
        deadline = time.monotonic() + (30 if started else 0)
        while not pg.reachable() and time.monotonic() < deadline:
            time.sleep(0.5)
        if not pg.reachable():
            raise TierError(
                f"PostgreSQL does not answer on {pg.host}:{pg.port}"
                + ("" if started else " (and no local cluster could be started)")
                + ". Start it or set PGHOST/PGPORT."
            )
    ok, message = _check_role(pg)
    if (
        ok is False
        and pg.is_local
        and hasattr(os, "geteuid")
        and os.geteuid() == 0
        and shutil.which("su")
        and ("does not exist" in message or "authentication failed" in message)
    ):
        say(f'odoo tier: creating PostgreSQL role "{pg.user}" (CREATEDB)')
        sql = (
            "DO $$ BEGIN "
            "IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = "
            f"{_sql_literal(pg.user)}) THEN "
            f"CREATE ROLE {_sql_identifier(pg.user)} LOGIN CREATEDB "
            f"PASSWORD {_sql_literal(pg.password)}; END IF; END $$;\n"
        )
        subprocess.run(
            [
                "su",
                "postgres",
                "-c",
                f"psql -X -q -p {int(pg.port)} -d postgres -v ON_ERROR_STOP=1",
            ],
            input=sql,
            text=True,
            check=False,
            capture_output=True,
        )
        ok, message = _check_role(pg)
    if ok is False:
        raise TierError(
            f'PostgreSQL role "{pg.user}" on {pg.host}:{pg.port} cannot be used: '
            f"{message}"
        )


# --------------------------------------------------------------------------- processes


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_is_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def stop_process(proc, timeout=30):
    """Stop a process started with ``start_new_session=True`` and all it forked."""
    if proc is None or proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 10)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
    # prefork workers may outlive their master for a moment
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def last_progress(log_path):
    """The latest 'Loading module …' line (heartbeat)."""
    try:
        with open(log_path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 65536))
            tail = handle.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return ""
    for line in reversed(tail):
        match = RECORD_RE.match(line)
        if match and match["msg"].startswith("Loading module "):
            return match["msg"].strip()
    return ""


def run_logged(
    cmd, out_path, timeout, log_path=None, label="odoo", stdin_text=None, env=None
):
    """Run ``cmd`` with stdout+stderr to ``out_path``; heartbeat from ``log_path``.

    Returns the exit code, or None on timeout. The process group is killed on any
    exit path.
    """
    t0 = time.monotonic()
    next_beat = t0 + HEARTBEAT_SECONDS
    with open(out_path, "wb") as out:
        proc = subprocess.Popen(
            cmd,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=env,
            stdin=subprocess.PIPE if stdin_text is not None else subprocess.DEVNULL,
        )
        try:
            if stdin_text is not None:
                with contextlib.suppress(BrokenPipeError):
                    proc.stdin.write(stdin_text.encode())
                    proc.stdin.close()
            while True:
                try:
                    return proc.wait(timeout=2)
                except subprocess.TimeoutExpired:
                    pass
                now = time.monotonic()
                if now - t0 > timeout:
                    say(f"  {label}: TIMEOUT after {fmt_duration(now - t0)}, stopping")
                    return None
                if log_path and now >= next_beat:
                    say(
                        f"  {label}: still running ({fmt_duration(now - t0)}) "
                        f"{last_progress(log_path)}"
                    )
                    next_beat += HEARTBEAT_SECONDS
        finally:
            stop_process(proc)


def odoo_drop_db(odoo, pg, db, data_dir=None, quiet=False):
    cmd = odoo.command("db", *pg.odoo_args())
    if data_dir:
        cmd += ["-D", str(data_dir)]
    cmd += ["drop", db]
    proc = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    if proc.returncode != 0 and not quiet:
        tail = " | ".join((proc.stdout + proc.stderr).strip().splitlines()[-3:])
        say(f"  warning: could not drop database {db}: {tail}")
    return proc.returncode == 0


# ------------------------------------------------------------------ log parsing

# Odoo's log format (odoo/netsvc.py): "%(asctime)s %(pid)s %(levelname)s %(dbname)s
# %(name)s: %(message)s %(perf_info)s"; tracebacks continue on the following lines.
RECORD_RE = re.compile(
    r"^(?P<ts>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) (?P<pid>\d+) (?P<level>[A-Z?]+) "
    r"(?P<db>\S+) (?P<logger>[^\s:]+): (?P<msg>.*)$"
)


@dataclasses.dataclass
class LogRecord:
    level: str
    logger: str
    msg: str
    lines: list
    lineno: int

    def text(self, max_lines=LINES_PER_RECORD, tail=12):
        """The record; of a long traceback, its first line, the frames of our own
        code (the repository, any tests/ folder) and its last lines."""
        lines = [line for line in self.lines if line.strip()]
        if len(lines) <= max_lines:
            return "\n".join(lines)
        middle = lines[1:-tail]
        kept = []
        for index, line in enumerate(middle):
            if line.lstrip().startswith('File "') and (
                str(REPO_ROOT) in line or "/tests/" in line
            ):
                kept.extend(middle[index : index + 2])
        kept = kept[-max(0, max_lines - tail - 2) :]
        cut = f"    ... ({len(middle) - len(kept)} traceback lines cut, see the log)"
        return "\n".join([lines[0], *kept, cut, *lines[-tail:]])


def iter_records(path):
    current = None
    try:
        handle = open(path, encoding="utf-8", errors="replace")
    except OSError:
        return
    with handle:
        for number, line in enumerate(handle, 1):
            line = line.rstrip("\n")
            match = RECORD_RE.match(line)
            if match:
                if current is not None:
                    yield current
                current = LogRecord(
                    match["level"],
                    match["logger"],
                    match["msg"].rstrip(),
                    [line],
                    number,
                )
            elif current is not None:
                current.lines.append(line)
    if current is not None:
        yield current


def log_errors(path):
    """The ERROR and CRITICAL records of an Odoo log. No log read here has test
    runs in it (the Odoo tests run under pytest): every such record is an error
    of the install, the server or the uninstall."""
    return [
        record for record in iter_records(path) if record.level in ("ERROR", "CRITICAL")
    ]


def print_records(title, records, limit=FAILURE_RECORDS_SHOWN):
    if not records:
        return
    say(f"  --- {title} ({len(records)}) ---")
    for record in records[:limit]:
        say(record.text())
    if len(records) > limit:
        say(f"  ... {len(records) - limit} more, see the log")


# --------------------------------------------------------------------------- tier: run


@dataclasses.dataclass
class Check:
    name: str
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    problems: list = dataclasses.field(default_factory=list)
    seconds: float = 0.0
    # the named checks of the tier: (name, [problem, ...], seconds)
    cases: list = dataclasses.field(default_factory=list)

    def fail(self, problem, count=1):
        self.failed += count
        self.problems.append(problem)

    def named(self, name, problems=(), seconds=0.0):
        """Count the named check ``name``: passed when it has no problem."""
        self.cases.append((name, list(problems), round(seconds, 3)))
        if problems:
            self.fail(f"{name}: {'; '.join(problems)}")
        else:
            self.passed += 1


JunitCounts = collections.namedtuple(
    "JunitCounts", "tests passed failed skipped per_addon"
)
# pytest names a test class by its file's path: ``<addon>.tests.test_x.TestY``
ADDON_CLASS_RE = re.compile(r"(?:^|\baddons\.)(?P<addon>\w+)\.tests\.")


def junit_counts(path):
    """Counts of a pytest JUnit XML report (None when it is missing or unreadable);
    ``per_addon``: tests run per addon, from the test class names."""
    import xml.etree.ElementTree as ET  # noqa: PLC0415 - only here

    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return None
    tests = failed = skipped = 0
    per_addon = collections.Counter()
    for case in root.iter("testcase"):
        tests += 1
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        elif case.find("skipped") is not None:
            skipped += 1
        match = ADDON_CLASS_RE.search(case.get("classname", ""))
        if match:
            per_addon[match["addon"]] += 1
    return JunitCounts(tests, tests - failed - skipped, failed, skipped, per_addon)


def write_junit(path, checks, pytest_reports):
    """One JUnit XML for the tier: the pytest reports' suites, then a suite of the
    named checks per database."""
    import xml.etree.ElementTree as ET  # noqa: PLC0415 - only here

    root = ET.Element("testsuites")
    for report in pytest_reports:
        with contextlib.suppress(OSError, ET.ParseError):
            found = ET.parse(report).getroot()
            suites = [found] if found.tag == "testsuite" else found.iter("testsuite")
            root.extend(list(suites))
    for check in checks:
        suite = ET.SubElement(
            root,
            "testsuite",
            name=f"{check['name']} checks",
            tests=str(len(check["cases"])),
            failures=str(sum(1 for case in check["cases"] if case[1])),
            errors="0",
            skipped="0",
        )
        for name, problems, seconds in check["cases"]:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"{check['name']}.checks",
                name=name,
                time=str(seconds),
            )
            if problems:
                ET.SubElement(case, "failure", message="; ".join(problems))
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


class Tier:
    """Everything one `run` needs: Odoo, PostgreSQL, the addons, a scratch directory."""

    def __init__(self, odoo, pg, addons, pytest_args=()):
        self.odoo = odoo
        self.pg = pg
        self.addons = addons
        self.pytest_args = list(pytest_args)
        self.workdir = Path(tempfile.mkdtemp(prefix="dsync-odoo-tier-"))
        self.data_dir = self.workdir / "data"
        self.timeout = int(os.environ.get("ODOO_TIER_TIMEOUT") or 2700)
        self.run_id = f"{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self.junit_files = []

    def common_args(self, db):
        return [
            "-d",
            db,
            *self.odoo.addons_args(self.addons),
            *self.pg.odoo_args(),
            f"--data-dir={self.data_dir}",
        ]

    def test_database(self, label, demo):
        """Install the addons in a fresh database (a named check), run their Odoo
        tests through pytest-odoo (one test each), then the checks that need a
        served or uninstalled database; drop the database."""
        slug = "demo" if demo else "nodemo"
        db = f"dsync_test_{self.run_id}_{slug}"
        check = Check(name=f"odoo[{label}]")
        t0 = time.monotonic()
        try:
            installed = self._install(check, db, slug, demo)
            if installed:
                self._pytest(check, db, slug)
            # The walk-through books real documents, some on products of the
            # addons' data; the uninstall check runs in the other database.
            if not demo and installed:
                self._walkthrough(check, db)
            if demo and installed:
                self._uninstall(check, db)
            elif demo:
                say(f"{check.name}: uninstall check not run (the install failed)")
        finally:
            odoo_drop_db(self.odoo, self.pg, db, self.data_dir)
        check.seconds = time.monotonic() - t0
        return check

    def _install(self, check, db, slug, demo):
        """Named check: the addons install with no ERROR line."""
        log_path = self.workdir / f"install-{slug}.log"
        out_path = self.workdir / f"install-{slug}.out"
        cmd = install_command(
            self.odoo, self.pg, db, self.addons, log_path, demo, self.data_dir
        )
        say(f"{check.name}: installing {', '.join(self.addons)} (database {db})")
        t0 = time.monotonic()
        rc = run_logged(
            cmd, out_path, self.timeout, log_path=log_path, label=check.name
        )
        errors = log_errors(log_path)
        problems = []
        if rc != 0:
            problems.append("timeout" if rc is None else f"odoo exited with code {rc}")
        if errors:
            problems.append(
                f"{len(errors)} ERROR/CRITICAL log line(s) while installing"
            )
        name = f"install {'with' if demo else 'without'} demo data, no ERROR line"
        check.named(name, problems, time.monotonic() - t0)
        print_records("install errors", errors)
        if rc != 0:
            tail = Path(out_path).read_text(errors="replace").strip().splitlines()
            say("\n".join(tail[-15:]))
        return not problems

    def pytest_command(self, db, xml, log_path, suite):
        """pytest with the pytest-odoo plugin on ``db``: every addon's tests/."""
        extra = [
            f"--odoo-extra=data-dir={self.data_dir}",
            f"--odoo-extra=logfile={log_path}",
            "--odoo-extra=load=base,web",
        ]
        if self.odoo.config:
            extra.append(f"--odoo-config={self.odoo.config}")
        else:
            extra += [f"--odoo-extra={arg[2:]}" for arg in self.pg.odoo_args()]
        test_dirs = [
            str(REPO_ROOT / name / "tests")
            for name in self.addons
            if (REPO_ROOT / name / "tests").is_dir()
        ]
        return [
            self.odoo.python,
            "-m",
            "pytest",
            f"--odoo-database={db}",
            f"--odoo-addons-path={self.odoo.addons_path(self.addons)}",
            "--odoo-http",
            "--odoo-log-level=info",
            *extra,
            "-p",
            "no:cacheprovider",
            "-p",
            "odoo_pytest_plugin",
            f"--rootdir={REPO_ROOT}",
            "-q",
            "-rfE",
            # Odoo 18's own calls to werkzeug and others: noise in every run
            "-W",
            "ignore::DeprecationWarning",
            f"--junitxml={xml}",
            "-o",
            "junit_family=xunit2",
            "-o",
            f"junit_suite_name={suite}",
            *self.pytest_args,
            *test_dirs,
        ]

    def _pytest(self, check, db, slug):
        """The addons' Odoo tests through pytest-odoo, against the installed
        database; each test counted on its own (JUnit XML)."""
        xml = self.workdir / f"pytest-{slug}.xml"
        log_path = self.workdir / f"pytest-{slug}.log"
        cmd = self.pytest_command(db, xml, log_path, check.name)
        env = dict(
            os.environ,
            PYTHONPATH=str(Path(__file__).resolve().parent),
            # no job runner: queue_job starts one with the HTTP server of the
            # HttpCase tests, which would run (and commit) the demo data's jobs
            ODOO_QUEUE_JOB_CHANNELS="root:0",
        )
        say(f"{check.name}: the addons' Odoo tests through pytest-odoo")
        try:
            rc = subprocess.run(
                cmd,
                cwd=REPO_ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                timeout=self.timeout,
                check=False,
            ).returncode
        except subprocess.TimeoutExpired:
            rc = None
        counts = junit_counts(xml)
        if counts is None:
            why = "timeout" if rc is None else f"exit code {rc}"
            check.fail(f"pytest wrote no report ({why}); Odoo log: {log_path}")
            return
        self.junit_files.append(xml)
        check.passed += counts.passed
        check.failed += counts.failed
        check.skipped += counts.skipped
        if counts.failed:
            check.problems.append(
                f"{counts.failed} of {counts.tests} Odoo tests failed "
                f"(Odoo log: {log_path})"
            )
        if rc not in (0, 1):
            check.fail(f"pytest exited with code {rc}")
        say(
            "  tests per addon: "
            + ", ".join(f"{n} {counts.per_addon.get(n, 0)}" for n in self.addons)
        )
        for name in self.addons:
            has_tests = (REPO_ROOT / name / "tests").is_dir()
            if has_tests and not counts.per_addon.get(name) and not self.pytest_args:
                check.fail(
                    f"zero tests ran for {name}, which has a tests/ folder "
                    "(is every test module imported in tests/__init__.py?)"
                )

    def _walkthrough(self, check, db):
        """The live-server suites, in turn, on the served database: the
        Shopify contract walk-through (``tests/walkthrough.py``), the load
        storm (``tests/load_suite.py``), the faults (``tests/fault_suite.py``)
        and, with the carrier addon, the carrier walk-through
        (``tests/carrier_walkthrough.py``), with the QuickBooks addon, the
        QuickBooks walk-through (``tests/quickbooks_walkthrough.py``); each of
        their checks counts as one, and their figures are printed."""
        if WALKTHROUGH_ADDON not in self.addons:
            return
        # Sibling scripts, needed here only.
        import carrier_walkthrough  # noqa: PLC0415
        import fault_suite  # noqa: PLC0415
        import load_suite  # noqa: PLC0415
        import quickbooks_walkthrough  # noqa: PLC0415
        import walkthrough  # noqa: PLC0415

        suites = (
            ("walk-through", walkthrough.walk),
            ("load", load_suite.run),
            ("faults", fault_suite.run),
        )
        if carrier_walkthrough.ADDON in self.addons:
            suites += (("carrier walk-through", carrier_walkthrough.run),)
        if quickbooks_walkthrough.ADDON in self.addons:
            suites += (("quickbooks walk-through", quickbooks_walkthrough.run),)
        for label, run in suites:
            self._live_suite(check, db, label, run)

    def _live_suite(self, check, db, label, run):
        say(f"{check.name}: {label} (server + job runner)")
        t0 = time.monotonic()
        try:
            outcome = run(
                sys.modules[__name__],
                self.odoo,
                self.pg,
                db,
                self.addons,
                self.workdir,
                self.data_dir,
            )
        except TierError as exc:
            check.named(f"{label}: the server serves the database", [str(exc)])
            return
        results, figures = outcome if isinstance(outcome, tuple) else (outcome, {})
        failed = [name for name, ok, _detail in results if not ok]
        for name, ok, detail in results:
            check.named(f"{label}: {name}", [] if ok else [detail or "failed"])
        for name, value in figures.items():
            say(f"{check.name}: {label} figure {name}: {value}")
        say(
            f"{check.name}: {label} {len(results) - len(failed)} passed, "
            f"{len(failed)} failed ({fmt_duration(time.monotonic() - t0)})"
        )

    def _uninstall(self, check, db):
        log_path = self.workdir / "uninstall.log"
        out_path = self.workdir / "uninstall.out"
        script = UNINSTALL_SCRIPT.format(names=self.addons, marker=UNINSTALL_MARKER)
        cmd = self.odoo.command(
            "shell",
            *self.common_args(db),
            "--no-http",
            "--load=base,web",
            "--log-level=info",
            f"--logfile={log_path}",
        )
        say(f"{check.name}: uninstalling {', '.join(self.addons)}")
        rc = run_logged(
            cmd,
            out_path,
            self.timeout,
            label=f"{check.name} uninstall",
            stdin_text=script,
        )
        output = Path(out_path).read_text(errors="replace")
        match = re.search(rf"^{UNINSTALL_MARKER} (.*)$", output, re.M)
        states = json.loads(match.group(1)) if match else None
        errors = log_errors(log_path)
        problems = []
        if rc != 0:
            problems.append(
                f"odoo shell exited with {'a timeout' if rc is None else rc}"
            )
        if states is None:
            problems.append("the uninstall script did not finish")
        else:
            left = {
                name: state for name, state in states.items() if state != "uninstalled"
            }
            if left:
                problems.append(f"still not uninstalled: {left}")
        if errors:
            problems.append(
                f"{len(errors)} ERROR/CRITICAL log line(s) during uninstall"
            )
        check.named("uninstall every addon, no ERROR line", problems)
        if problems:
            say(f"{check.name}: uninstall FAILED: {'; '.join(problems)}")
            print_records("uninstall errors", errors)
            if states is None:
                say("\n".join(output.strip().splitlines()[-15:]))
        else:
            say(f"{check.name}: uninstall ok")


def cmd_provision():
    """Make or reuse the runtime before the tiers run (see ``main``)."""
    t0 = time.monotonic()
    try:
        odoo = find_odoo()
    except OdooNotFound as exc:
        if os.environ.get("ODOO_TIER_REQUIRED") == "1":
            say(f"odoo tier: FAILED (ODOO_TIER_REQUIRED=1): {exc}")
            return 1
        say(skip_banner(str(exc)))
        return 3
    except OdooUnusable as exc:
        say(f"odoo tier: FAILED: {exc}")
        return 1
    say(
        f"odoo tier: Odoo {odoo.version} ({odoo.where}) ready in "
        f"{time.monotonic() - t0:.1f} s"
    )
    return 0


def write_summary(path, summary):
    if path:
        Path(path).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")


def cmd_run(args):
    summary = {
        "tier": "odoo",
        "status": "failed",
        "passed": 0,
        "failed": 0,
        "skipped": 0,
        "runs": [],
        "message": "",
    }
    try:
        addons = selected_addons()
        if not addons:
            summary.update(
                status="failed",
                failed=1,
                message="no addon (directory with __manifest__.py) in the repository",
            )
            say(f"odoo tier: FAILED: {summary['message']}")
            return 1
        try:
            odoo = find_odoo()
        except OdooNotFound as exc:
            say(skip_banner(str(exc)))
            if os.environ.get("ODOO_TIER_REQUIRED") == "1":
                summary.update(failed=1, message=f"ODOO_TIER_REQUIRED=1 and {exc}")
                return 1
            summary.update(status="skipped", skipped=1, message=str(exc))
            return 0
        except OdooUnusable as exc:
            summary.update(failed=1, message=str(exc))
            say(f"odoo tier: FAILED: {exc}")
            return 1
        say(
            f"odoo tier: Odoo {odoo.version} ({odoo.where}); "
            f"addons: {', '.join(addons)}"
        )
        try:
            ready_postgres(odoo)
        except TierError as exc:
            summary.update(failed=1, message=str(exc))
            say(f"odoo tier: FAILED: {exc}")
            return 1
        pytest_args = shlex.split(os.environ.get("ODOO_PYTEST_ARGS", ""))
        tier = Tier(odoo, odoo.pg, addons, [*pytest_args, *args.pytest_args])
        keep = os.environ.get("ODOO_TIER_KEEP_LOGS") == "1"
        runs = [(tier, "without demo", False), (tier, "demo", True)]
        if MAIN_ADDON in addons and len(addons) > 1 and not args.pytest_args:
            # The core without its channels: milestones, reconciliation and the
            # overview must not need any of them.
            runs.append(
                (Tier(odoo, odoo.pg, [MAIN_ADDON], ["-k", CORE_ALONE_TESTS]),
                 "core alone", False)
            )  # fmt: skip
        try:
            for run_tier, label, demo in runs:
                check = run_tier.test_database(label, demo)
                summary["runs"].append(dataclasses.asdict(check))
                say(
                    f"{check.name}: {check.passed} passed, {check.failed} failed"
                    + (f", {check.skipped} skipped" if check.skipped else "")
                    + f" ({fmt_duration(check.seconds)})"
                )
                for problem in check.problems:
                    say(f"  - {problem}")
        finally:
            for key in ("passed", "failed", "skipped"):
                summary[key] = sum(run[key] for run in summary["runs"])
            tiers = list(dict.fromkeys(run_tier for run_tier, _label, _demo in runs))
            if args.junitxml:
                write_junit(
                    args.junitxml,
                    summary["runs"],
                    [xml for run_tier in tiers for xml in run_tier.junit_files],
                )
            for run_tier in tiers:
                if summary["failed"] or keep or len(summary["runs"]) < 2:
                    say(f"odoo tier: logs kept in {run_tier.workdir}")
                    shutil.rmtree(run_tier.data_dir, ignore_errors=True)
                else:
                    shutil.rmtree(run_tier.workdir, ignore_errors=True)
        summary["status"] = "failed" if summary["failed"] else "passed"
        return 1 if summary["failed"] else 0
    except (KeyboardInterrupt, Interrupted) as exc:
        summary.update(failed=summary["failed"] + 1, message=f"interrupted: {exc}")
        say(f"odoo tier: interrupted ({exc})")
        return 130
    finally:
        write_summary(args.summary_file, summary)


# ------------------------------------------------------------------ demo / smoke


def sign_body(secret, body):
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def webhook_request(base_url, backend_id, secret, body, topic, event_id, timeout=10):
    """POST a signed generic webhook; returns (status, response text)."""
    headers = {
        "Content-Type": "application/json",
        "X-Sync-Topic": topic,
        "X-Sync-Event-Id": event_id,
        "X-Sync-Signature": sign_body(secret, body),
    }
    return post_webhook(base_url, backend_id, body, headers, timeout)


def post_webhook(base_url, backend_id, body, headers, timeout=10):
    """POST ``body`` with ``headers`` to the webhook route of the backend;
    returns (status, response text)."""
    request = urllib.request.Request(
        f"{base_url}/distribution_sync/webhook/{backend_id}",
        data=body,
        method="POST",
        headers=headers,
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


def sample_order(reference, sku="DS-WIDGET"):
    """A small order for the generic channel (topic ``order/upsert``).

    ``DS-WIDGET`` is a product of the addon's demo data.
    """
    return {
        "external_id": reference,
        "name": f"#{reference}",
        "customer": {"name": "Webhook Customer", "email": "buyer@example.com"},
        "lines": [
            {"external_id": "1", "sku": sku, "quantity": 2, "price_unit": "12.50"}
        ],
    }


def wait_http(base_url, timeout, proc=None):
    """Wait until GET /web/health answers 200; False on timeout or if ``proc`` died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(
                f"{base_url}/web/health", timeout=5
            ) as response:
                if response.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    return False


class Rpc:
    """Tiny XML-RPC client: ``rpc('model', 'method', *args, **kwargs)``."""

    def __init__(self, base_url, db, login="admin", password="admin"):
        self.db, self.password = db, password
        common = xmlrpc.client.ServerProxy(
            f"{base_url}/xmlrpc/2/common", allow_none=True
        )
        self.uid = common.authenticate(db, login, password, {})
        if not self.uid:
            raise TierError(f"XML-RPC login {login}/{password} refused on {db}")
        self.models = xmlrpc.client.ServerProxy(
            f"{base_url}/xmlrpc/2/object", allow_none=True
        )

    def __call__(self, model, method, *args, **kwargs):
        return self.models.execute_kw(
            self.db, self.uid, self.password, model, method, list(args), kwargs
        )


def start_server(
    odoo, pg, db, port, addons, log_path=None, out=None, extra=(), env_extra=None
):
    """Serve ``db`` alone on 127.0.0.1:port, queue_job loaded server-wide (runner)."""
    cmd = odoo.command(
        "-d",
        db,
        f"--db-filter=^{re.escape(db)}$",
        *odoo.addons_args(addons),
        *pg.odoo_args(),
        "--http-interface=127.0.0.1",
        f"--http-port={port}",
        "--load=base,web,queue_job",
        *extra,
    )
    if log_path:
        cmd.append(f"--logfile={log_path}")
    env = dict(
        os.environ,
        ODOO_QUEUE_JOB_HOST="127.0.0.1",
        ODOO_QUEUE_JOB_PORT=str(port),
        ODOO_QUEUE_JOB_SCHEME="http",
        **(env_extra or {}),
    )
    return subprocess.Popen(
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=out,
        stderr=subprocess.STDOUT if out else None,
        env=env,
        start_new_session=True,
    )


@contextlib.contextmanager
def serving(
    odoo,
    pg,
    db,
    addons,
    log_path,
    workers=2,
    channels="root:1",
    data_dir=None,
    port=0,
    env_extra=None,
):
    """Serve ``db`` on 127.0.0.1 with ``workers`` HTTP workers, no cron thread and
    the queue job runner on ``channels``; yield the base URL once it answers, stop
    the server on exit."""
    port = port or free_port()
    extra = [
        f"--workers={workers}",
        "--max-cron-threads=0",
        f"--gevent-port={free_port()}",
    ]
    if data_dir:
        extra.append(f"--data-dir={data_dir}")
    env = {"ODOO_QUEUE_JOB_CHANNELS": channels, **(env_extra or {})}
    proc = None
    with open(Path(log_path).with_suffix(".out"), "wb") as out:
        try:
            proc = start_server(
                odoo,
                pg,
                db,
                port,
                addons,
                log_path=log_path,
                out=out,
                extra=extra,
                env_extra=env,
            )
            base_url = f"http://127.0.0.1:{port}"
            if not wait_http(base_url, 180, proc):
                raise TierError(f"the server did not answer on {base_url}")
            yield base_url
        finally:
            stop_process(proc)


def install_command(odoo, pg, db, addons, log_path, demo, data_dir=None, update=False):
    """``odoo-bin`` installing (and with ``update`` updating) ``addons`` in
    ``db``, then stopping; no HTTP, no cron, the log in ``log_path``."""
    names = ",".join(addons)
    cmd = odoo.command(
        "-d",
        db,
        *odoo.addons_args(addons),
        *pg.odoo_args(),
        "-i",
        names,
        *(("-u", names) if update else ()),
        "--stop-after-init",
        "--no-http",
        "--max-cron-threads=0",
        "--log-level=info",
        f"--logfile={log_path}",
        "--load=base,web",
    )
    if data_dir:
        cmd.append(f"--data-dir={data_dir}")
    if not demo:
        cmd.append("--without-demo=all")
    return cmd


def prepare_database(
    odoo, pg, db, addons, demo, reset, workdir, data_dir=None, label="demo"
):
    """Create (or update) ``db`` with ``addons`` installed; TierError on failure."""
    if reset:
        if odoo_drop_db(odoo, pg, db, data_dir, quiet=True):
            say(f"{label}: dropped database {db}")
    log_path = Path(workdir) / f"install-{db}.log"
    out_path = Path(workdir) / f"install-{db}.out"
    names = ",".join(addons)
    cmd = install_command(odoo, pg, db, addons, log_path, demo, data_dir, update=True)
    say(f"{label}: installing/updating {names} in database {db} (log: {log_path})")
    t0 = time.monotonic()
    rc = run_logged(cmd, out_path, 3600, log_path=log_path, label=label)
    errors = log_errors(log_path)
    if rc != 0 or errors:
        print_records("install errors", errors)
        tail = Path(out_path).read_text(errors="replace").strip().splitlines()[-10:]
        if tail:
            say("\n".join(tail))
        raise TierError(f"installing {names} in {db} failed (exit code {rc})")
    say(f"{label}: database {db} ready ({fmt_duration(time.monotonic() - t0)})")


MESSAGE_FINAL_STATES = ("done", "error", "dead", "skipped", "blocked")
MESSAGE_FIELDS = ["id", "state", "res_model", "res_id", "result_summary", "last_error"]


def ensure_generic_backend(rpc, name, secret):
    """Id of the generic backend ``name`` (created if missing) with ``secret``."""
    model = "distribution.sync.backend"
    found = rpc(model, "search", [("name", "=", name)], limit=1)
    if found:
        rpc(model, "write", found, {"webhook_secret": secret, "active": True})
        return found[0]
    values = {"name": name, "backend_type": "generic", "webhook_secret": secret}
    return rpc(model, "create", values)


def wait_message(rpc, backend_id, after_id, timeout):
    """Poll the newest message of the backend (id > after_id) until it is final."""
    deadline = time.monotonic() + timeout
    message = None
    while time.monotonic() < deadline:
        domain = [("backend_id", "=", backend_id), ("id", ">", after_id)]
        rows = rpc(
            "distribution.sync.message",
            "search_read",
            domain,
            fields=MESSAGE_FIELDS,
            order="id desc",
            limit=1,
        )
        message = rows[0] if rows else None
        if message and message["state"] in MESSAGE_FINAL_STATES:
            break
        time.sleep(1)
    return message


def explain_message(rpc, message, log_path, addons):
    """Print the jobs, exceptions and server errors behind a message."""
    jobs = rpc(
        "queue.job",
        "search_read",
        [],
        fields=["name", "state", "exc_info"],
        order="id desc",
        limit=5,
    )
    for job in jobs:
        say(f"  queue.job {job['state']:>9}: {job['name']}")
        if job.get("exc_info"):
            say("    " + job["exc_info"].strip().splitlines()[-1][:300])
    if message["state"] == "done":
        return
    if message.get("last_error"):
        say(f"  last error: {message['last_error'][:500]}")
    exceptions = rpc(
        "distribution.sync.exception",
        "search_read",
        [("message_id", "=", message["id"])],
        fields=["category", "state", "name"],
    )
    for exc in exceptions:
        say(f"  exception [{exc['category']}/{exc['state']}] {exc['name']}")
    print_records("server errors", log_errors(log_path), 5)


def smoke(odoo, pg, db, port, addons, workdir):
    """Serve ``db``, send one signed webhook, wait for its queue job, stop."""
    if MAIN_ADDON not in addons:
        raise TierError(f"--smoke needs the {MAIN_ADDON} addon")
    base_url = f"http://127.0.0.1:{port}"
    log_path = Path(workdir) / "smoke-server.log"
    secret = "smoke-secret"
    with open(Path(workdir) / "smoke-server.out", "wb") as out:
        proc = start_server(odoo, pg, db, port, addons, log_path=log_path, out=out)
        try:
            t0 = time.monotonic()
            if not wait_http(base_url, 180, proc):
                raise TierError(f"the server did not answer on {base_url}")
            took = fmt_duration(time.monotonic() - t0)
            say(f"smoke: server up on {base_url} ({took})")
            rpc = Rpc(base_url, db)
            backend_id = ensure_generic_backend(rpc, "smoke", secret)
            last = rpc(
                "distribution.sync.message", "search", [], order="id desc", limit=1
            )
            reference = f"SMOKE-{uuid.uuid4().hex[:10]}"
            body = json.dumps(sample_order(reference)).encode()
            say(
                f"smoke: POST /distribution_sync/webhook/{backend_id} "
                f"(topic order/upsert, event {reference})"
            )
            t0 = time.monotonic()
            status, text = webhook_request(
                base_url, backend_id, secret, body, "order/upsert", reference
            )
            say(f"smoke: -> HTTP {status} {text.strip()[:200]}")
            if status != 200:
                raise TierError(f"the webhook was answered with HTTP {status}")
            message = wait_message(rpc, backend_id, last[0] if last else 0, 60)
            if not message:
                raise TierError("no distribution.sync.message was stored")
            say(
                f"smoke: message {message['id']} state={message['state']} after "
                f"{fmt_duration(time.monotonic() - t0)}: "
                f"{message.get('result_summary') or ''} "
                f"({message.get('res_model') or '-'} {message.get('res_id') or ''})"
            )
            explain_message(rpc, message, log_path, addons)
            if message["state"] != "done":
                raise TierError(
                    f"the message is {message['state']!r}, not 'done' (within 60 s)"
                )
            say("smoke: OK - the webhook was stored, then processed by a queue job")
        finally:
            stop_process(proc)


def new_fernet_key():
    """A Fernet key (urlsafe base64 of 32 random bytes), made without cryptography."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def demo_secret_keys():
    """Keys for the demo server: $DISTRIBUTION_SYNC_SECRET_KEYS, else a key made once
    and kept (mode 600) outside the repository and the database, so that secrets
    stored in the demo database stay readable across restarts."""
    if os.environ.get(SECRET_KEYS_ENV):
        return os.environ[SECRET_KEYS_ENV]
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    key_file = Path(base) / "distribution_sync" / "demo_secret_keys"
    if not key_file.is_file():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(new_fernet_key() + "\n")
        say(f"demo: made a secret key for the demo server in {key_file}")
    return key_file.read_text().strip()


def rpc_failure(exc):
    """One readable line for an XML-RPC fault or a connection problem."""
    if isinstance(exc, xmlrpc.client.Fault):
        lines = [line for line in str(exc.faultString).splitlines() if line.strip()]
        return f"XML-RPC fault: {lines[-1] if lines else exc.faultCode}"
    return f"{type(exc).__name__}: {exc}"


RPC_ERRORS = (xmlrpc.client.Fault, xmlrpc.client.ProtocolError, OSError)


def cmd_demo(args):
    addons = selected_addons()
    if not addons:
        say("demo: no addon (directory with __manifest__.py) in the repository")
        return 1

    def body(odoo, pg, workdir):
        if not odoo.secret_keys:
            # an existing Odoo (ODOO_BIN): a key kept for the demo database
            os.environ[SECRET_KEYS_ENV] = demo_secret_keys()
        port = args.port
        if not port_is_free(port):
            raise TierError(f"port {port} on 127.0.0.1 is in use; pass --port N")
        prepare_database(
            odoo, pg, args.db, addons, demo=True, reset=args.reset, workdir=workdir
        )
        if args.smoke:
            smoke(odoo, pg, args.db, port, addons, workdir)
            return 0
        return serve_forever(odoo, pg, args.db, port, addons)

    return run_script("demo", "DEMO NOT POSSIBLE", body, addons)


def serve_forever(odoo, pg, db, port, addons):
    base_url = f"http://127.0.0.1:{port}"
    proc = start_server(odoo, pg, db, port, addons)
    try:
        if not wait_http(base_url, 180, proc):
            raise TierError(f"the server did not answer on {base_url}")
        path = OVERVIEW_PATH if MAIN_ADDON in addons else "/odoo"
        line = "=" * 78
        say(
            "\n".join(
                [
                    "",
                    line,
                    f"  Open {base_url}{path}",
                    "  Login: admin   Password: admin",
                    f"  Database: {db}   (queue job runner on, press Ctrl-C to stop)",
                    line,
                    "",
                ]
            )
        )
        return proc.wait()
    except (KeyboardInterrupt, Interrupted):
        say("\ndemo: stopping the server")
        return 0
    finally:
        stop_process(proc)


# ------------------------------------------------ translation templates

POT_HEADER_DROPPED = re.compile(r'^"(POT-Creation-Date|PO-Revision-Date): .*\n', re.M)
POT_VERSION = re.compile(r'^"Project-Id-Version: Odoo Server [^"\\]*', re.M)


def cmd_i18n(_args):
    """Export ``i18n/<addon>.pot`` of every addon from a fresh database (the
    static tier checks that no text of the code is missing from them)."""
    addons = selected_addons()

    def body(odoo, pg, workdir):
        db = f"dsync_i18n_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        data_dir = Path(workdir) / "data"
        try:
            prepare_database(
                odoo, pg, db, addons, False, False, workdir, data_dir, label="i18n"
            )
            for name in addons:
                target = REPO_ROOT / name / "i18n" / f"{name}.pot"
                target.parent.mkdir(exist_ok=True)
                cmd = odoo.command(
                    "-d",
                    db,
                    *odoo.addons_args(addons),
                    *pg.odoo_args(),
                    f"--data-dir={data_dir}",
                    f"--i18n-export={target}",
                    f"--modules={name}",
                    "--stop-after-init",
                    "--no-http",
                    "--load=base,web",
                    "--log-level=warn",
                )
                out = Path(workdir) / f"i18n-{name}.out"
                if run_logged(cmd, out, 600, label=f"i18n {name}") != 0:
                    raise TierError(f"exporting {name} failed, see {out}")
                # stable across exports: no dates, the series only
                text = POT_HEADER_DROPPED.sub("", target.read_text(encoding="utf-8"))
                text = POT_VERSION.sub(
                    f'"Project-Id-Version: Odoo Server {ODOO_SERIES}', text
                )
                target.write_text(text, encoding="utf-8")
                say(f"i18n: {target.relative_to(REPO_ROOT)}")
        finally:
            odoo_drop_db(odoo, pg, db, data_dir, quiet=True)
        return 0

    return run_script("i18n", "NO EXPORT", body, addons)


# ------------------------------------------------ scripts beside the tier


@contextlib.contextmanager
def script_database(odoo, pg, workdir, label, demo, db=None, keep=False):
    """The database of a script run by hand: ``db`` when given (the addons
    installed; kept), else a new one with every addon (``demo``: with demo
    data), dropped on exit unless ``keep``. Yields ``(name, data_dir)``."""
    data_dir = Path(workdir) / "data"
    name = db or f"dsync_{label}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        if not db:
            prepare_database(
                odoo,
                pg,
                name,
                selected_addons(),
                demo=demo,
                reset=False,
                workdir=workdir,
                data_dir=data_dir,
                label=label,
            )
        yield name, data_dir
    finally:
        if not (keep or db):
            odoo_drop_db(odoo, pg, name, data_dir, quiet=True)


def run_script(label, banner, body, addons=(MAIN_ADDON,)):
    """Common ``main`` of the scripts that build on this harness (benchmarks,
    walk-through): find Odoo, check the addons, then ``body(odoo, pg,
    workdir)``, which returns the exit code.

    Setup failures exit 1, an interruption 130; the work directory (logs) is
    removed when ``body`` returned 0, kept otherwise.
    """
    install_signal_handlers()
    try:
        odoo = find_odoo()
    except (OdooNotFound, OdooUnusable) as exc:
        say(skip_banner(str(exc)).replace("TIER ODOO SKIPPED", banner))
        return 1
    missing = [name for name in addons if name not in discover_addons()]
    if missing:
        say(f"{label}: addons missing from the repository: {', '.join(missing)}")
        return 1
    # the runtime's key, else a throwaway one (the scripts drop their databases)
    os.environ.setdefault(SECRET_KEYS_ENV, odoo.secret_keys or new_fernet_key())
    workdir = Path(tempfile.mkdtemp(prefix=f"dsync-{label}-"))
    rc = 1
    try:
        ready_postgres(odoo)
        rc = body(odoo, odoo.pg, workdir)
        return rc
    except TierError as exc:
        say(f"{label}: FAILED: {exc}")
        return 1
    except RPC_ERRORS as exc:
        say(f"{label}: FAILED: {rpc_failure(exc)}")
        return 1
    except (KeyboardInterrupt, Interrupted):
        say(f"{label}: interrupted")
        return 130
    finally:
        if rc == 0:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            say(f"{label}: logs kept in {workdir}")


# --------------------------------------------------------------------------- main


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    run = sub.add_parser("run", help="the Odoo test tier (default)")
    run.add_argument("--summary-file", help="write the counts as JSON here")
    run.add_argument(
        "--junitxml", help="write every test and named check as JUnit XML here"
    )
    run.add_argument(
        "pytest_args",
        nargs=argparse.REMAINDER,
        help="after --: arguments for pytest (e.g. -- -k webhook)",
    )
    demo = sub.add_parser("demo", help="serve a demo database with all addons")
    demo.add_argument("--db", default=DEMO_DB)
    demo.add_argument("--port", type=int, default=8069)
    demo.add_argument(
        "--reset", action="store_true", help="drop and recreate the database"
    )
    demo.add_argument(
        "--smoke",
        action="store_true",
        help="send one signed webhook, wait for its job, stop",
    )
    sub.add_parser("i18n", help="export every addon's i18n/<addon>.pot")
    sub.add_parser(
        "provision",
        help="make or reuse the Odoo runtime: exit 0 ready, 3 skipped (banner), "
        "1 failed (ODOO_TIER_REQUIRED=1)",
    )
    args = parser.parse_args(argv)
    install_signal_handlers()
    if args.command == "provision":
        return cmd_provision()
    if args.command == "i18n":
        return cmd_i18n(args)
    if args.command == "demo":
        return cmd_demo(args)
    if args.command is None:
        args = run.parse_args([])
    return cmd_run(args)


if __name__ == "__main__":
    sys.exit(main())

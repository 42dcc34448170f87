#!/usr/bin/env python3
"""Provision an Odoo 18.0 runtime for the tests and the demo, in a cache outside the
clone.

    python3 setup/provision.py            provision (or reuse) and print a summary
    python3 setup/provision.py --json     ... and print the runtime description as JSON
    python3 setup/provision.py --stop-db  stop the private PostgreSQL cluster

Standard library only. What it makes, in ``$DSYNC_CACHE_DIR`` (default
``${XDG_CACHE_HOME:-~/.cache}/distribution_sync``), one folder per Odoo series and
Python version (``odoo-18.0-py3.11``):

``src/``        the Odoo 18.0 source: a copy of ``ODOO_SRC`` (a folder holding
                ``odoo-bin``, or a ``.tar``, ``.tar.gz``/``.tgz`` or ``.zip`` of one),
                else a shallow clone of branch 18.0 of ``ODOO_GIT_URL`` (Odoo's public
                repository). Both layouts work: ``addons/`` beside ``odoo/``, or every
                addon inside ``odoo/addons``.
``venv/``       Odoo's Python dependencies pinned per Python version (Odoo's own
                ``requirements.txt`` when it pins them, else
                ``setup/odoo-18.0-requirements.txt``; binary psycopg2, no python-ldap),
                the Odoo source registered as the ``odoo`` distribution, and
                ``setup/runtime-requirements.txt`` (queue_job's wheel, pytest-odoo,
                websocket-client for the browser tours).
``pg/``         a private PostgreSQL cluster on a free local port, started on demand,
                used when the server named by ``PGHOST``/``PGPORT``/``PGUSER``/
                ``PGPASSWORD`` does not answer (or none is named and none answers on
                127.0.0.1:5432 as odoo/odoo). Made with the machine's PostgreSQL
                binaries, installed with apt-get when missing and permitted (root, and
                ``DSYNC_NO_SYSTEM_PACKAGES`` unset). PostgreSQL never runs as root: as
                root the cluster belongs to the ``postgres`` user.
``odoo.conf``   the server configuration: addons path, database, ``queue_job``
                server-wide, a generated ``distribution_sync_secret_keys``.
``runtime.json`` what the harness reads (commands, paths, database settings).

Each part is rebuilt only when its inputs change (the source, the pinned requirements,
this script's layout version, the Python version); a change of
``setup/runtime-requirements.txt`` alone is installed into the existing virtualenv. A
provisioned runtime is found again with no variable set. Exit code 0 when the runtime
is ready, 2 when it cannot be made (the message says why and what to set).
"""

import argparse
import contextlib
import hashlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from base64 import urlsafe_b64encode
from pathlib import Path

SERIES = "18.0"
LAYOUT_VERSION = "1"
SETUP_DIR = Path(__file__).resolve().parent
PINNED_REQUIREMENTS = SETUP_DIR / f"odoo-{SERIES}-requirements.txt"
RUNTIME_REQUIREMENTS = SETUP_DIR / "runtime-requirements.txt"
DEFAULT_GIT_URL = "https://github.com/odoo/odoo.git"
# seconds allowed to learn that the public repository cannot be reached
GIT_PROBE_TIMEOUT = 60
GIT_CLONE_TIMEOUT = 3600
PIP_TIMEOUT = 3600
PG_START_TIMEOUT = 60
# dependencies that need system headers to build and serve addons we do not use
DROPPED_REQUIREMENTS = {"python-ldap"}
SECRET_KEYS_OPTION = "distribution_sync_secret_keys"
QUEUE_JOB_CHANNELS = "root:2,root.distribution_sync:2"


class ProvisionError(Exception):
    """The runtime cannot be made; the message says why and what to do."""


def say(message):
    print(f"provision: {message}", file=sys.stderr, flush=True)


def cache_root():
    explicit = os.environ.get("DSYNC_CACHE_DIR", "").strip()
    if explicit:
        return Path(explicit).expanduser().resolve()
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or Path.home() / ".cache"
    return Path(base).expanduser().resolve() / "distribution_sync"


def runtime_dir(python=None):
    version = python_version(python or sys.executable)
    return cache_root() / f"odoo-{SERIES}-py{version}"


def python_version(python):
    out = subprocess.run(
        [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def sha256_file(path, chunk=1 << 20):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def read_json(path):
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write_private(path, text):
    """Write ``text`` to ``path`` readable by its owner only (secrets inside)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


def run(cmd, timeout=None, env=None, cwd=None, log=None):
    """Run ``cmd``; on failure raise ProvisionError with the end of its output."""
    try:
        proc = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ProvisionError(f"`{' '.join(map(str, cmd))}` timed out") from exc
    except OSError as exc:
        raise ProvisionError(f"`{cmd[0]}` cannot run: {exc}") from exc
    if log:
        Path(log).write_text(proc.stdout + proc.stderr, encoding="utf-8")
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise ProvisionError(
            f"`{' '.join(map(str, cmd[:4]))} ...` exited {proc.returncode}:\n{tail}"
        )
    return proc.stdout


# ------------------------------------------------------------------ Odoo source


def source_fingerprint(path):
    """What identifies a source: an archive's digest, or a folder's release and
    requirements files plus its git commit when it has one."""
    path = Path(path)
    if path.is_file():
        return "archive:" + sha256_file(path)
    digest = hashlib.sha256(str(path.resolve()).encode())
    for name in ("odoo/release.py", "requirements.txt", "odoo-bin"):
        candidate = path / name
        if candidate.is_file():
            digest.update(candidate.read_bytes())
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        head = subprocess.run(
            ["git", "-C", str(path), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if head.returncode == 0:
            digest.update(head.stdout.encode())
    return "folder:" + digest.hexdigest()


def find_source_root(folder):
    """The folder holding ``odoo-bin`` at or one level under ``folder``."""
    folder = Path(folder)
    if (folder / "odoo-bin").is_file():
        return folder
    for child in sorted(folder.iterdir()):
        if child.is_dir() and (child / "odoo-bin").is_file():
            return child
    return None


def check_source(root):
    """Raise unless ``root`` is an Odoo 18.0 source tree; return its version."""
    release = Path(root, "odoo", "release.py")
    if not release.is_file():
        raise ProvisionError(f"{root} has odoo-bin but no odoo/release.py")
    match = re.search(
        r"^version_info\s*=\s*\((\d+),\s*(\d+)", release.read_text(), re.M
    )
    if not match or f"{match[1]}.{match[2]}" != SERIES:
        found = f"{match[1]}.{match[2]}" if match else "an unknown version"
        raise ProvisionError(f"{root} is Odoo {found}, not {SERIES}")
    if not addons_dirs(root):
        raise ProvisionError(f"{root} holds no 'web' addon in addons/ or odoo/addons/")
    return SERIES


def addons_dirs(root):
    """Addons folders of a source tree: ``addons/`` (usual layout) and ``odoo/addons``
    (which holds ``base``, and in the other layout every addon)."""
    root = Path(root)
    dirs = [d for d in (root / "addons", root / "odoo" / "addons") if d.is_dir()]
    if not any((d / "web" / "__manifest__.py").is_file() for d in dirs):
        return []
    return [str(d) for d in dirs if any(d.glob("*/__manifest__.py"))]


def extract_archive(archive, into):
    archive = Path(archive)
    name = archive.name.lower()
    if name.endswith(".zip"):
        with zipfile.ZipFile(archive) as handle:
            handle.extractall(into)
    elif name.endswith((".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")):
        with tarfile.open(archive) as handle:
            if sys.version_info >= (3, 12):
                handle.extractall(into, filter="data")
            else:
                handle.extractall(into)  # noqa: S202 - the user's own Odoo archive
    else:
        raise ProvisionError(
            f"ODOO_SRC={archive}: not a .tar, .tar.gz, .tgz or .zip archive"
        )


def copy_folder(source, into):
    """Copy an Odoo source folder (``cp -a`` when available: much faster)."""
    if shutil.which("cp"):
        run(["cp", "-a", f"{source}/.", str(into)], timeout=1800)
    else:
        shutil.copytree(source, into, dirs_exist_ok=True, symlinks=True)


def git_clone(url, into):
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0")
    say(f"no ODOO_SRC: trying a shallow clone of branch {SERIES} of {url}")
    try:
        probe = subprocess.run(
            ["git", "ls-remote", "--heads", url, SERIES],
            capture_output=True,
            text=True,
            timeout=GIT_PROBE_TIMEOUT,
            env=env,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ProvisionError(f"{url} cannot be reached ({exc})") from exc
    if probe.returncode != 0 or SERIES not in probe.stdout:
        reason = (probe.stderr.strip().splitlines() or ["no answer"])[-1]
        raise ProvisionError(f"{url} cannot be reached ({reason})")
    run(
        ["git", "clone", "--depth", "1", "--branch", SERIES, url, str(into)],
        timeout=GIT_CLONE_TIMEOUT,
        env=env,
    )


def no_source_message(reason):
    return (
        f"no Odoo {SERIES} source: {reason}.\n"
        f"Set ODOO_SRC to an Odoo {SERIES} source folder (the one holding odoo-bin) "
        "or to a .tar, .tar.gz or .zip of it, e.g.\n"
        f"    ODOO_SRC=$HOME/src/odoo-{SERIES} bash tests/run.sh\n"
        "It is copied into the cache once; later runs need no variable."
    )


def ensure_source(rt, state):
    """The runtime's ``src``, (re)made from ODOO_SRC when it changed, else kept;
    with neither, cloned. Returns the fingerprint of the source in use."""
    src = rt / "src"
    given = os.environ.get("ODOO_SRC", "").strip()
    if given:
        path = Path(given).expanduser()
        if not path.exists():
            raise ProvisionError(no_source_message(f"ODOO_SRC={given} does not exist"))
        fingerprint = source_fingerprint(path)
        if state.get("source") == fingerprint and (src / "odoo-bin").is_file():
            return fingerprint
        say(f"copying the Odoo source from ODOO_SRC={given} into the cache")
        staging = Path(tempfile.mkdtemp(prefix="src.", dir=rt))
        try:
            if path.is_file():
                extract_archive(path, staging)
            else:
                copy_folder(path, staging)
            root = find_source_root(staging)
            if root is None:
                raise ProvisionError(
                    no_source_message(f"ODOO_SRC={given} holds no odoo-bin")
                )
            check_source(root)
            replace_dir(root, src)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return fingerprint
    if state.get("source") and (src / "odoo-bin").is_file():
        return state["source"]
    url = os.environ.get("ODOO_GIT_URL", "").strip() or DEFAULT_GIT_URL
    staging = Path(tempfile.mkdtemp(prefix="src.", dir=rt))
    try:
        try:
            git_clone(url, staging / "odoo")
        except ProvisionError as exc:
            message = no_source_message(f"ODOO_SRC is not set and {exc}")
            raise ProvisionError(message) from exc
        check_source(staging / "odoo")
        replace_dir(staging / "odoo", src)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return f"git:{url}@{SERIES}"


def replace_dir(new, target):
    target = Path(target)
    old = target.with_name(target.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    Path(new).rename(target)
    shutil.rmtree(old, ignore_errors=True)


# ------------------------------------------------------------------ virtualenv


def requirement_name(line):
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", line)
    return match[1].lower().replace("_", "-") if match else ""


def odoo_requirements(src):
    """Odoo's dependencies as pinned lines: Odoo's own file when it pins versions,
    else ours; psycopg2 as its binary wheel, python-ldap left out."""
    own = Path(src, "requirements.txt")
    lines = own.read_text(encoding="utf-8").splitlines() if own.is_file() else []
    if not any("==" in line.split("#")[0] for line in lines):
        pinned = PINNED_REQUIREMENTS.read_text(encoding="utf-8").splitlines()
        known = {requirement_name(line.split("#")[0]) for line in pinned}
        names = {requirement_name(line.split("#")[0]) for line in lines} - {""}
        lines = pinned + sorted(names - known - {"psycopg2"})
    out = []
    for line in lines:
        text = line.split("#", 1)[0].strip()
        if not text or requirement_name(text) in DROPPED_REQUIREMENTS:
            continue
        if requirement_name(text) == "psycopg2":
            text = re.sub(r"^\s*psycopg2\b", "psycopg2-binary", text, flags=re.I)
        out.append(text)
    return out


def site_packages(python):
    out = run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
    )
    return Path(out.strip())


def register_odoo(python, src, version):
    """Make the source importable (``.pth``) and known to pip as the ``odoo``
    distribution, which queue_job's wheel requires."""
    site = site_packages(python)
    (site / "distribution_sync_odoo_src.pth").write_text(f"{src}\n", encoding="utf-8")
    for old in site.glob("odoo-*.dist-info"):
        shutil.rmtree(old)
    info = site / f"odoo-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: odoo\nVersion: {version}\n"
        f"Summary: Odoo source tree at {src}\n",
        encoding="utf-8",
    )
    (info / "INSTALLER").write_text("distribution_sync-provision\n", encoding="utf-8")
    (info / "RECORD").write_text("", encoding="utf-8")


def venv_stamps(rt, state, python):
    """The stamps of the virtualenv's two parts: Odoo's dependencies (with the
    source and the Python version they were built for) and, on top of them,
    ``setup/runtime-requirements.txt`` with its constraints."""
    requirements = odoo_requirements(rt / "src")
    odoo_part = hashlib.sha256(
        "\n".join(
            [*requirements, python_version(python), state.get("source", "")]
        ).encode()
    ).hexdigest()
    runtime_part = hashlib.sha256(
        "\n".join(
            [
                odoo_part,
                RUNTIME_REQUIREMENTS.read_text(encoding="utf-8"),
                *queue_job_constraints(rt / "src"),
            ]
        ).encode()
    ).hexdigest()
    return requirements, odoo_part, runtime_part


def legacy_venv_stamp(requirements, python, state):
    """The single stamp runtimes had before the virtualenv was stamped in two parts
    (the runtime requirements inside it): such a virtualenv is kept when it still
    matches, instead of being rebuilt once for the new stamps."""
    return hashlib.sha256(
        "\n".join(
            [
                *requirements,
                RUNTIME_REQUIREMENTS.read_text(encoding="utf-8"),
                python_version(python),
                state.get("source", ""),
            ]
        ).encode()
    ).hexdigest()


def ensure_venv(rt, state, python):
    """The runtime's virtualenv: rebuilt when Odoo's requirements, the source or the
    Python version change; when only ``setup/runtime-requirements.txt`` changes, that
    file is installed again into it (pip adds and upgrades, removes nothing).
    Updates the stamps ``venv_odoo`` and ``venv_runtime`` of ``state``."""
    venv = rt / "venv"
    vpython = venv / "bin" / "python"
    requirements, odoo_part, runtime_part = venv_stamps(rt, state, python)
    legacy = state.pop("venv", None)
    if legacy and legacy == legacy_venv_stamp(requirements, python, state):
        state["venv_odoo"], state["venv_runtime"] = odoo_part, runtime_part
    pip = [str(vpython), "-m", "pip", "--disable-pip-version-check"]
    if state.get("venv_odoo") != odoo_part or not vpython.is_file():
        state.pop("venv_runtime", None)
        say(f"building the virtualenv ({len(requirements)} pinned Odoo dependencies)")
        shutil.rmtree(venv, ignore_errors=True)
        run([python, "-m", "venv", str(venv)], timeout=600)
        run(
            [*pip, "install", "--quiet", "--upgrade", "pip", "wheel"],
            timeout=PIP_TIMEOUT,
        )
        req_file = rt / "odoo-requirements.txt"
        req_file.write_text("\n".join(requirements) + "\n", encoding="utf-8")
        run(
            [*pip, "install", "--prefer-binary", "-r", str(req_file)],
            timeout=PIP_TIMEOUT,
            log=rt / "pip-odoo.log",
        )
        version = odoo_version(rt / "src")
        register_odoo(str(vpython), rt / "src", version)
        state["venv_odoo"] = odoo_part
    if state.get("venv_runtime") != runtime_part:
        say("installing setup/runtime-requirements.txt into the virtualenv")
        constraints = rt / "runtime-constraints.txt"
        constraints.write_text("\n".join(queue_job_constraints(rt / "src")) + "\n")
        run(
            [
                *pip,
                "install",
                "--prefer-binary",
                "-r",
                str(RUNTIME_REQUIREMENTS),
                "-c",
                str(constraints),
            ],
            timeout=PIP_TIMEOUT,
            log=rt / "pip-runtime.log",
        )
        out = run(
            [str(vpython), str(rt / "src" / "odoo-bin"), "--version"], timeout=300
        )
        if f"Odoo Server {SERIES}" not in out:
            raise ProvisionError(f"odoo-bin --version printed {out.strip()!r}")
        state["venv_runtime"] = runtime_part


def queue_job_constraints(src):
    """queue_job releases from 18.0.3.1.3 on import ``SETATTR_SOURCES`` from Odoo's
    test framework, which 18.0 sources before mid-2025 lack: keep older ones on the
    last release that works with them."""
    common = Path(src, "odoo", "tests", "common.py")
    if common.is_file() and "SETATTR_SOURCES" not in common.read_text(errors="replace"):
        return ["odoo-addon-queue-job<18.0.3.1.3"]
    return []


def odoo_version(src):
    """``18.0`` style version of the source (its release's series)."""
    check_source(src)
    return SERIES


# ------------------------------------------------------------------ PostgreSQL


def port_answers(host, port, timeout=2.0):
    if str(host).startswith("/"):
        return Path(host, f".s.PGSQL.{port}").exists()
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            return True
    except (OSError, ValueError):
        return False


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def role_works(python, pg):
    """(ok, reason): ``pg`` logs in and may create databases (psycopg2 of the venv)."""
    code = (
        "import sys, psycopg2\n"
        "try:\n"
        "    conn = psycopg2.connect(host=sys.argv[1], port=sys.argv[2], "
        "user=sys.argv[3], password=sys.argv[4], dbname='postgres', "
        "connect_timeout=5)\n"
        "except psycopg2.Error as exc:\n"
        "    print(str(exc).strip().splitlines()[0]); sys.exit(1)\n"
        "cr = conn.cursor()\n"
        "cr.execute('SELECT rolcreatedb OR rolsuper FROM pg_roles "
        "WHERE rolname = current_user')\n"
        "sys.exit(0 if cr.fetchone()[0] else 3)\n"
    )
    proc = subprocess.run(
        [python, "-c", code, pg["host"], str(pg["port"]), pg["user"], pg["password"]],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if proc.returncode == 0:
        return True, "ok"
    if proc.returncode == 3:
        return False, f"role {pg['user']} may not create databases"
    return False, (proc.stdout + proc.stderr).strip()[-300:]


def external_pg():
    """The server named by the PG* variables (or the default), and whether the
    user named one explicitly."""
    named = any(os.environ.get(v) for v in ("PGHOST", "PGPORT", "PGUSER"))
    return (
        {
            "host": os.environ.get("PGHOST") or "127.0.0.1",
            "port": int(os.environ.get("PGPORT") or 5432),
            "user": os.environ.get("PGUSER") or "odoo",
            "password": os.environ.get("PGPASSWORD") or "odoo",
            "private": False,
        },
        named,
    )


def pg_bindir():
    candidates = []
    if shutil.which("pg_config"):
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                ["pg_config", "--bindir"], capture_output=True, text=True, check=False
            )
            candidates.append(Path(out.stdout.strip()))
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    candidates.extend(versions)
    if shutil.which("initdb"):
        candidates.append(Path(shutil.which("initdb")).resolve().parent)
    for path in candidates:
        if (path / "initdb").is_file() and (path / "pg_ctl").is_file():
            return path
    return None


def install_postgres():
    if os.environ.get("DSYNC_NO_SYSTEM_PACKAGES"):
        raise ProvisionError(
            "no PostgreSQL server answers and its binaries are not installed "
            "(DSYNC_NO_SYSTEM_PACKAGES is set: install PostgreSQL, or set PGHOST/"
            "PGPORT/PGUSER/PGPASSWORD)"
        )
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise ProvisionError(
            "no PostgreSQL server answers and its binaries (initdb, pg_ctl) are not "
            "installed: install PostgreSQL (e.g. `apt-get install postgresql`) or set "
            "PGHOST/PGPORT/PGUSER/PGPASSWORD"
        )
    say("installing PostgreSQL with apt-get")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    run(["apt-get", "update"], timeout=900, env=env)
    run(
        ["apt-get", "install", "-y", "--no-install-recommends", "postgresql"],
        timeout=1800,
        env=env,
    )


class Cluster:
    """The private PostgreSQL cluster of a runtime.

    As root, PostgreSQL runs as the ``postgres`` user (made when missing); its files
    then live where that user can reach them: in the cache when its folders can be
    crossed, else in /var/lib/distribution_sync (``pg`` in the cache links there).
    """

    def __init__(self, rt):
        self.rt = rt
        self.link = rt / "pg"
        self.as_user = None
        if os.geteuid() == 0:
            self.as_user = "postgres"

    @property
    def home(self):
        return self.link.resolve() if self.link.is_symlink() else self.link

    def cmd(self, *args):
        if self.as_user:
            return ["runuser", "-u", self.as_user, "--", *map(str, args)]
        return list(map(str, args))

    def ensure_os_user(self):
        if not self.as_user:
            return
        known = subprocess.run(["id", "-u", self.as_user], capture_output=True)
        if known.returncode != 0:
            run(
                [
                    "useradd",
                    "--system",
                    "--no-create-home",
                    "--shell",
                    "/usr/sbin/nologin",
                    self.as_user,
                ]
            )

    def reachable_by_user(self, path):
        if not self.as_user:
            return True
        probe = Path(path)
        probe.mkdir(parents=True, exist_ok=True)
        test = subprocess.run(self.cmd("test", "-x", probe), capture_output=True)
        return test.returncode == 0

    def place(self):
        """Where the cluster's files go (see the class docstring)."""
        if self.link.exists():
            return self.home
        if self.reachable_by_user(self.rt):
            self.link.mkdir()
            return self.link
        # one folder per cache: several caches may hold a runtime of this name
        tag = hashlib.sha256(str(self.rt).encode()).hexdigest()[:10]
        home = Path("/var/lib/distribution_sync") / f"{self.rt.name}-{tag}" / "pg"
        home.mkdir(parents=True, exist_ok=True)
        self.link.symlink_to(home)
        return home

    def ensure(self, state):
        bindir = pg_bindir()
        if bindir is None:
            install_postgres()
            bindir = pg_bindir()
            if bindir is None:
                raise ProvisionError("PostgreSQL was installed but initdb is not found")
        self.ensure_os_user()
        home = self.place()
        data = home / "data"
        conf = read_json(self.rt / "pg.json") or {}
        # a cluster whose password was lost cannot be used: made again
        if not (data / "PG_VERSION").is_file() or not conf.get("password"):
            self.initdb(bindir, home, data, conf)
            conf = read_json(self.rt / "pg.json")
        self.start(bindir, home, data, conf)
        return {
            "host": "127.0.0.1",
            "port": conf["port"],
            "user": "odoo",
            "password": conf["password"],
            "private": True,
            "data": str(data),
            "bindir": str(bindir),
        }

    def initdb(self, bindir, home, data, conf):
        say(f"creating a private PostgreSQL cluster in {home}")
        if (data / "postmaster.pid").exists():
            subprocess.run(
                self.cmd(bindir / "pg_ctl", "-D", data, "-m", "immediate", "stop"),
                capture_output=True,
                check=False,
            )
        shutil.rmtree(data, ignore_errors=True)
        (home / "socket").mkdir(parents=True, exist_ok=True)
        password = secrets.token_urlsafe(24)
        with tempfile.NamedTemporaryFile("w", dir=home, delete=False) as handle:
            handle.write(password + "\n")
            pwfile = Path(handle.name)
        if self.as_user:
            shutil.chown(home, self.as_user)
            shutil.chown(home / "socket", self.as_user)
            shutil.chown(pwfile, self.as_user)
        os.chmod(home, 0o700)
        try:
            run(
                self.cmd(
                    bindir / "initdb",
                    "-D",
                    data,
                    "-U",
                    "odoo",
                    f"--pwfile={pwfile}",
                    "--auth-host=scram-sha-256",
                    "--auth-local=trust",
                    "--encoding=UTF8",
                    "--locale=C",
                ),
                timeout=300,
            )
        finally:
            pwfile.unlink(missing_ok=True)
        conf = {"port": free_port(), "password": password}
        write_private(self.rt / "pg.json", json.dumps(conf))

    def start(self, bindir, home, data, conf):
        if (
            port_answers("127.0.0.1", conf["port"])
            and (data / "postmaster.pid").exists()
        ):
            return
        status = subprocess.run(
            self.cmd(bindir / "pg_ctl", "-D", data, "status"), capture_output=True
        )
        if status.returncode == 0:
            return
        if not port_is_free(conf["port"]):
            conf["port"] = free_port()
            write_private(self.rt / "pg.json", json.dumps(conf))
        say(f"starting the private PostgreSQL cluster on 127.0.0.1:{conf['port']}")
        options = (
            f"-p {conf['port']} -k {home / 'socket'} -c listen_addresses=127.0.0.1 "
            "-c max_connections=200 -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off"
        )
        run(
            self.cmd(
                bindir / "pg_ctl",
                "-D",
                data,
                "-l",
                home / "server.log",
                "-w",
                "-t",
                str(PG_START_TIMEOUT),
                "-o",
                options,
                "start",
            ),
            timeout=PG_START_TIMEOUT + 30,
        )

    def stop(self):
        bindir = pg_bindir()
        data = self.home / "data"
        if bindir and (data / "PG_VERSION").is_file():
            subprocess.run(
                self.cmd(bindir / "pg_ctl", "-D", data, "-m", "fast", "stop"),
                capture_output=True,
                check=False,
            )


def port_is_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", int(port)))
        except OSError:
            return False
        return True


def ensure_postgres(rt, state, vpython):
    pg, named = external_pg()
    if port_answers(pg["host"], pg["port"]):
        ok, reason = role_works(vpython, pg)
        if ok:
            return pg
        if named:
            raise ProvisionError(
                f"PostgreSQL at {pg['host']}:{pg['port']} as {pg['user']}: {reason}"
            )
    elif named:
        raise ProvisionError(
            f"PostgreSQL does not answer at {pg['host']}:{pg['port']} "
            "(PGHOST/PGPORT/PGUSER are set): start it or unset them to use a "
            "private cluster"
        )
    return Cluster(rt).ensure(state)


# ------------------------------------------------------------------ configuration


def fernet_key():
    return urlsafe_b64encode(os.urandom(32)).decode()


def write_config(rt, pg, addons_path, data_dir):
    """The server configuration; the secret key is made once and kept."""
    conf_path = rt / "odoo.conf"
    key_file = rt / "secret_keys"
    if not key_file.is_file():
        write_private(key_file, fernet_key() + "\n")
    keys = key_file.read_text(encoding="utf-8").strip()
    text = "\n".join(
        [
            "[options]",
            f"addons_path = {','.join(addons_path)}",
            f"data_dir = {data_dir}",
            f"db_host = {pg['host']}",
            f"db_port = {pg['port']}",
            f"db_user = {pg['user']}",
            f"db_password = {pg['password']}",
            "server_wide_modules = base,web,queue_job",
            "http_interface = 127.0.0.1",
            f"{SECRET_KEYS_OPTION} = {keys}",
            "",
            "[queue_job]",
            f"channels = {QUEUE_JOB_CHANNELS}",
            "",
        ]
    )
    write_private(conf_path, text)
    return conf_path, keys


# ------------------------------------------------------------------ main


class Lock:
    """One provisioning at a time per runtime (other clones wait)."""

    def __init__(self, path):
        self.path = path
        self.handle = None

    def __enter__(self):
        import fcntl  # noqa: PLC0415 - POSIX only, like the rest of the runtime

        self.handle = open(self.path, "w")  # noqa: SIM115
        fcntl.flock(self.handle, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        self.handle.close()


def provision(python=None):
    """Make or reuse the runtime; return its description (``runtime.json``)."""
    python = python or os.environ.get("DSYNC_PYTHON") or sys.executable
    version = python_version(python)
    if not ((3, 10) <= tuple(map(int, version.split("."))) < (3, 14)):
        raise ProvisionError(f"Odoo {SERIES} needs Python 3.10 to 3.13, not {version}")
    rt = runtime_dir(python)
    rt.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    with Lock(rt / ".lock"):
        state_path = rt / "state.json"
        state = read_json(state_path) or {}
        if state.get("layout") != LAYOUT_VERSION:
            state = {"layout": LAYOUT_VERSION}
        state["source"] = ensure_source(rt, state)
        state_path.write_text(json.dumps(state, indent=2), encoding="utf-8")
        try:
            ensure_venv(rt, state, python)
        finally:
            # a part that was built stays built when the next one fails
            state_path.write_text(json.dumps(state, indent=2), encoding="utf-8")
        vpython = rt / "venv" / "bin" / "python"
        pg = ensure_postgres(rt, state, str(vpython))
        site = site_packages(str(vpython))
        addons_path = [*addons_dirs(rt / "src"), str(site / "odoo" / "addons")]
        data_dir = rt / "data"
        data_dir.mkdir(exist_ok=True)
        conf_path, keys = write_config(rt, pg, addons_path, data_dir)
        runtime = {
            "series": SERIES,
            "dir": str(rt),
            "python": str(vpython),
            "odoo_bin": str(rt / "src" / "odoo-bin"),
            "addons_path": addons_path,
            "config": str(conf_path),
            "data_dir": str(data_dir),
            "secret_keys": keys,
            "pg": pg,
            "source": state["source"],
            "seconds": round(time.monotonic() - t0, 1),
        }
        write_private(rt / "runtime.json", json.dumps(runtime, indent=2))
    return runtime


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print runtime.json")
    parser.add_argument(
        "--stop-db", action="store_true", help="stop the private PostgreSQL cluster"
    )
    args = parser.parse_args(argv)
    if args.stop_db:
        Cluster(runtime_dir()).stop()
        return 0
    try:
        runtime = provision()
    except ProvisionError as exc:
        print(f"provision: FAILED: {exc}", file=sys.stderr, flush=True)
        return 2
    if args.json:
        print(json.dumps(runtime, indent=2))
    else:
        pg = runtime["pg"]
        where = "private cluster" if pg["private"] else "server"
        say(
            f"Odoo {runtime['series']} runtime ready in {runtime['dir']} "
            f"({runtime['seconds']} s); PostgreSQL {where} {pg['host']}:{pg['port']}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

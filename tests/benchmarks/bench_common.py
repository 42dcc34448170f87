"""Helpers shared by the benchmark scripts of this directory.

They build on the test tier (``tests/odoo_tier.py``): find Odoo and PostgreSQL, create
a fresh database, serve it on 127.0.0.1 with the queue job runner, drop it at the end.
"""

import contextlib
import importlib.util
import os
import re
import uuid
from pathlib import Path

_HARNESS = Path(__file__).resolve().parent.parent / "odoo_tier.py"
_spec = importlib.util.spec_from_file_location("odoo_tier", _HARNESS)
ot = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ot)


class Served:
    """A fresh database served by a running Odoo (see ``served_database``)."""

    def __init__(self, odoo, pg, db, data_dir, addons, base_url):
        self.odoo, self.pg, self.db = odoo, pg, db
        self.data_dir, self.addons, self.base_url = data_dir, addons, base_url
        self.port = int(base_url.rsplit(":", 1)[1])
        self.rpc = ot.Rpc(base_url, db)

    def shell(self, script, workdir, label, timeout=3600):
        """Run ``script`` in ``odoo shell`` on the database; return its stdout lines.

        The script gets ``env`` (superuser) and must commit what it keeps.
        """
        slug = re.sub(r"\W+", "-", label)
        out_path = Path(workdir) / f"shell-{slug}.out"
        cmd = self.odoo.command(
            "shell",
            "-d",
            self.db,
            *self.odoo.addons_args(self.addons),
            *self.pg.odoo_args(),
            "--no-http",
            "--max-cron-threads=0",
            "--log-level=warn",
            f"--data-dir={self.data_dir}",
        )
        rc = ot.run_logged(cmd, out_path, timeout, label=label, stdin_text=script)
        text = out_path.read_text(errors="replace")
        if rc != 0:
            tail = " | ".join(text.strip().splitlines()[-8:])
            raise ot.TierError(f"odoo shell ({label}) exited {rc}: {tail}")
        return text.splitlines()


@contextlib.contextmanager
def served_database(odoo, pg, workdir, addons, workers=2, channels="root:1", port=0):
    """Create a database with ``addons`` (no demo), serve it, yield a ``Served``.

    The server listens on 127.0.0.1 only, with ``--max-cron-threads=0`` and the queue
    job runner on ``channels``; it is stopped and the database dropped on exit.
    """
    workdir = Path(workdir)
    data_dir = workdir / "data"
    db = f"dsync_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        ot.prepare_database(
            odoo,
            pg,
            db,
            addons,
            demo=False,
            reset=False,
            workdir=workdir,
            data_dir=data_dir,
            label="bench",
        )
        with ot.serving(
            odoo,
            pg,
            db,
            addons,
            workdir / "server.log",
            workers=workers,
            channels=channels,
            data_dir=data_dir,
            port=port,
        ) as base_url:
            yield Served(odoo, pg, db, data_dir, addons, base_url)
    finally:
        ot.odoo_drop_db(odoo, pg, db, data_dir, quiet=True)


def run_benchmark(benchmark, addons=(ot.MAIN_ADDON,)):
    """Common ``main``: find Odoo, check the addons, run the benchmark
    (``benchmark(odoo, pg, workdir)`` returns the exit code; see
    ``odoo_tier.run_script``)."""
    return ot.run_script("bench", "NO BENCHMARK", benchmark, addons)

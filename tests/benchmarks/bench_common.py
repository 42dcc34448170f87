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

    def __init__(self, odoo, pg, db, data_dir, addons, port):
        self.odoo, self.pg, self.db = odoo, pg, db
        self.data_dir, self.addons, self.port = data_dir, addons, port
        self.base_url = f"http://127.0.0.1:{port}"
        self.rpc = None

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
    port = port or ot.free_port()
    proc = None
    out = open(workdir / "server.out", "wb")  # closed in the finally below
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
        extra = [
            f"--workers={workers}",
            "--max-cron-threads=0",
            f"--gevent-port={ot.free_port()}",
            f"--data-dir={data_dir}",
        ]
        proc = ot.start_server(
            odoo,
            pg,
            db,
            port,
            addons,
            log_path=workdir / "server.log",
            out=out,
            extra=extra,
            env_extra={"ODOO_QUEUE_JOB_CHANNELS": channels},
        )
        base_url = f"http://127.0.0.1:{port}"
        if not ot.wait_http(base_url, 180, proc):
            raise ot.TierError(f"the server did not answer on {base_url}")
        served = Served(odoo, pg, db, data_dir, addons, port)
        served.rpc = ot.Rpc(base_url, db)
        yield served
    finally:
        ot.stop_process(proc)
        out.close()
        ot.odoo_drop_db(odoo, pg, db, data_dir, quiet=True)


def run_benchmark(benchmark, addons=(ot.MAIN_ADDON,)):
    """Common ``main``: find Odoo, check the addons, run the benchmark
    (``benchmark(odoo, pg, workdir)`` returns the exit code; see
    ``odoo_tier.run_script``)."""
    return ot.run_script("bench", "NO BENCHMARK", benchmark, addons)

#!/usr/bin/env bash
# Try the addons in a real Odoo 18:  bash tests/demo.sh [--db NAME] [--port 8069] [--reset] [--smoke]
#
# Creates (or reuses; --reset recreates) the database distribution_sync_demo with demo data and
# every addon of this repository installed, then serves it on 127.0.0.1 with the queue_job
# runner and prints the URL to open (login admin / password admin). Ctrl-C stops it.
# --smoke: start the server, send one signed webhook, wait for the queue job to process it,
# print what happened, stop; exit code 0 when the message ended 'done'.
# Odoo is the test tier's: the runtime of setup/provision.py (ODOO_SRC the first time on a
# machine), or ODOO_BIN.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="python3"
if [ -x "$ROOT/.venv/bin/python" ]; then
    PYTHON="$ROOT/.venv/bin/python"
fi
exec "$PYTHON" "$ROOT/tests/odoo_tier.py" demo "$@"

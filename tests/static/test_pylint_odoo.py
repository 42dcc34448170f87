"""pylint-odoo with the mandatory checks (.pylintrc-mandatory) on each addon."""

import subprocess
import sys


def test_pylint_odoo_mandatory(addon, repo_root):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pylint",
            "--rcfile=.pylintrc-mandatory",
            "--output-format=text",
            addon,
        ],
        cwd=repo_root,
        capture_output=True,
        text=True,
        check=False,
    )
    returncode, output = result.returncode, (result.stdout + result.stderr).strip()
    assert returncode == 0 and not output, f"pylint exited with {returncode}:\n{output}"

"""ruff lint and format checks over the whole repository (ruff.toml)."""

import subprocess
import sys

import pytest


def run_ruff(repo_root, *args):
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args],
        cwd=repo_root,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize(
    "args",
    [
        ("check", "--no-fix", "--no-cache", "--output-format=concise", "."),
        ("format", "--check", "--no-cache", "."),
    ],
    ids=["check", "format"],
)
def test_ruff(repo_root, args):
    result = run_ruff(repo_root, *args)
    returncode, output = result.returncode, result.stdout + result.stderr
    assert returncode == 0, f"ruff {' '.join(args)} exited with {returncode}:\n{output}"

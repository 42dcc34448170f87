"""Shared helpers of the static test tier (no odoo import, plain pytest).

An addon is a directory at the repository root that holds a ``__manifest__.py``.

Test functions get the addons through these parametrized arguments:

* ``addon``: the addon's directory name, one test per addon;
* ``addon_dir``: its ``pathlib.Path``;
* ``manifest``: its ``__manifest__.py`` read with ``ast.literal_eval`` (an
  error at setup when it cannot be read: test_manifests.py says why);
* ``xml_file``: one test per ``.xml`` file of any addon;
* ``core_py_file``: one test per ``.py`` file under an addon's ``core/``.

Fixtures returning the helpers of this file, for the test modules (a
``conftest`` module is not imported by name: tests/conftest.py may exist too):
``repo_root``, ``addon_names``, ``addon_files``, ``read_manifest`` and ``git``.
"""

import ast
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
# directories that are never part of an addon's sources
SKIPPED_DIRS = {"__pycache__", ".pytest_cache", ".ruff_cache", "build", "dist"}


def find_addons(root=REPO_ROOT):
    return sorted(
        path.name
        for path in root.iterdir()
        if path.is_dir()
        and not path.name.startswith(".")
        and (path / "__manifest__.py").is_file()
    )


ADDONS = find_addons()


def addon_files(addon_dir, *suffixes):
    """Files of an addon, sorted; only those ending with one of ``suffixes``
    when given. ``*.egg-info`` directories and the ``SKIPPED_DIRS`` are left out.
    """
    result = []
    for path in sorted(Path(addon_dir).rglob("*")):
        rel_parts = path.relative_to(addon_dir).parts
        if any(p in SKIPPED_DIRS or p.endswith(".egg-info") for p in rel_parts):
            continue
        if not path.is_file() or path.suffix in (".pyc", ".pyo"):
            continue
        if suffixes and not path.name.endswith(suffixes):
            continue
        result.append(path)
    return result


def read_manifest(addon_dir):
    """The manifest as a dict; raise ValueError with a readable message."""
    path = Path(addon_dir) / "__manifest__.py"
    try:
        manifest = ast.literal_eval(path.read_text(encoding="utf-8"))
    except (SyntaxError, ValueError) as e:
        raise ValueError(f"{path} is not a Python literal: {e}") from e
    if not isinstance(manifest, dict):
        raise ValueError(f"{path} is not a dict")
    return manifest


def git(*args, cwd=REPO_ROOT):
    """Run git; return the CompletedProcess (never raises on a git error)."""
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=False
    )


def _rel_ids(paths):
    return [str(path.relative_to(REPO_ROOT)) for path in paths]


def pytest_generate_tests(metafunc):
    names = metafunc.fixturenames
    if "xml_file" in names:
        files = [f for a in ADDONS for f in addon_files(REPO_ROOT / a, ".xml")]
        metafunc.parametrize("xml_file", files, ids=_rel_ids(files))
    if "core_py_file" in names:
        files = [
            f
            for a in ADDONS
            if (REPO_ROOT / a / "core").is_dir()
            for f in addon_files(REPO_ROOT / a / "core", ".py")
        ]
        metafunc.parametrize("core_py_file", files, ids=_rel_ids(files))
    if {"addon", "addon_dir", "manifest"} & set(names):
        metafunc.parametrize("addon", ADDONS, scope="module")


@pytest.fixture(scope="session")
def repo_root():
    return REPO_ROOT


@pytest.fixture(scope="session")
def addon_names():
    """All the addons of the repository (not parametrized)."""
    return list(ADDONS)


@pytest.fixture(scope="module")
def addon_dir(addon):
    return REPO_ROOT / addon


@pytest.fixture(scope="module")
def manifest(addon_dir):
    try:
        return read_manifest(addon_dir)
    except ValueError as e:
        pytest.fail(str(e))


@pytest.fixture(scope="session", name="addon_files")
def addon_files_fixture():
    return addon_files


@pytest.fixture(scope="session", name="read_manifest")
def read_manifest_fixture():
    return read_manifest


@pytest.fixture(scope="session", name="git")
def git_fixture():
    return git

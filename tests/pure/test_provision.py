"""setup/provision.py: what it decides without building anything (sources, layouts,
pinned requirements, the messages that tell a newcomer what to set)."""

import importlib.util
import os
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
PROVISION = REPO_ROOT / "setup" / "provision.py"


@pytest.fixture(scope="module")
def provision():
    spec = importlib.util.spec_from_file_location("provision_under_test", PROVISION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_source(root, layout="usual", series=(18, 0), requirements="lxml\n"):
    """A minimal Odoo source tree: odoo-bin, release.py, web and base manifests."""
    root = Path(root)
    (root / "odoo").mkdir(parents=True)
    (root / "odoo-bin").write_text("#!/usr/bin/env python3\n")
    (root / "odoo" / "release.py").write_text(
        f"version_info = ({series[0]}, {series[1]}, 0, 'final', 0, '')\n"
    )
    (root / "requirements.txt").write_text(requirements)
    web_parent = root / "addons" if layout == "usual" else root / "odoo" / "addons"
    for parent, name in ((web_parent, "web"), (root / "odoo" / "addons", "base")):
        (parent / name).mkdir(parents=True, exist_ok=True)
        (parent / name / "__manifest__.py").write_text(repr({"name": name}) + "\n")
    return root


def test_both_source_layouts_give_their_addons_folders(provision, tmp_path):
    usual = make_source(tmp_path / "usual", "usual")
    inside = make_source(tmp_path / "inside", "inside")
    assert provision.addons_dirs(usual) == [
        str(usual / "addons"),
        str(usual / "odoo" / "addons"),
    ]
    assert provision.addons_dirs(inside) == [str(inside / "odoo" / "addons")]
    assert provision.check_source(usual) == "18.0"
    assert provision.check_source(inside) == "18.0"


def test_other_series_and_trees_without_web_are_refused(provision, tmp_path):
    old = make_source(tmp_path / "old", series=(17, 0))
    with pytest.raises(provision.ProvisionError, match="Odoo 17.0, not 18.0"):
        provision.check_source(old)
    bare = make_source(tmp_path / "bare")
    (bare / "addons" / "web" / "__manifest__.py").unlink()
    with pytest.raises(provision.ProvisionError, match="no 'web' addon"):
        provision.check_source(bare)


def test_source_root_found_in_an_archive_folder(provision, tmp_path):
    make_source(tmp_path / "wrap" / "odoo-18.0")
    assert provision.find_source_root(tmp_path / "wrap") == tmp_path / "wrap" / (
        "odoo-18.0"
    )
    assert provision.find_source_root(tmp_path / "wrap" / "odoo-18.0").name == (
        "odoo-18.0"
    )
    (tmp_path / "empty").mkdir()
    assert provision.find_source_root(tmp_path / "empty") is None


@pytest.mark.parametrize("kind", ["tar.gz", "tar", "zip"])
def test_archives_are_extracted(provision, tmp_path, kind):
    source = make_source(tmp_path / "src" / "odoo-18.0")
    archive = tmp_path / f"odoo.{kind}"
    if kind == "zip":
        with zipfile.ZipFile(archive, "w") as handle:
            for path in source.rglob("*"):
                handle.write(path, path.relative_to(source.parent))
    else:
        mode = "w:gz" if kind == "tar.gz" else "w"
        with tarfile.open(archive, mode) as handle:
            handle.add(source, arcname="odoo-18.0")
    into = tmp_path / "out"
    into.mkdir()
    provision.extract_archive(archive, into)
    root = provision.find_source_root(into)
    assert provision.check_source(root) == "18.0"
    with pytest.raises(provision.ProvisionError, match="not a .tar"):
        provision.extract_archive(tmp_path / "odoo.rar", into)


def test_fingerprint_follows_the_source(provision, tmp_path):
    source = make_source(tmp_path / "src")
    before = provision.source_fingerprint(source)
    assert provision.source_fingerprint(source) == before
    (source / "odoo" / "release.py").write_text(
        "version_info = (18, 0, 0, 'final', 1, '')\n"
    )
    assert provision.source_fingerprint(source) != before
    archive = tmp_path / "odoo.tar"
    archive.write_bytes(b"one")
    first = provision.source_fingerprint(archive)
    archive.write_bytes(b"two")
    assert provision.source_fingerprint(archive) != first


def test_pinned_requirements_of_odoo_are_kept_with_binary_psycopg2(provision, tmp_path):
    source = make_source(
        tmp_path / "src",
        requirements=(
            "# comment\n"
            "lxml==5.2.1 ; python_version >= '3.12'  # (Noble)\n"
            "psycopg2==2.9.9 ; python_version >= '3.12'\n"
            "python-ldap==3.4.4 ; sys_platform != 'win32'\n"
            "pytz  # no pin\n"
        ),
    )
    assert provision.odoo_requirements(source) == [
        "lxml==5.2.1 ; python_version >= '3.12'",
        "psycopg2-binary==2.9.9 ; python_version >= '3.12'",
        "pytz",
    ]


def test_unpinned_list_takes_our_pins_and_keeps_extra_names(provision, tmp_path):
    source = make_source(
        tmp_path / "src", requirements="lxml\npsycopg2-binary\nsix\nzeep"
    )
    lines = provision.odoo_requirements(source)
    names = [provision.requirement_name(line) for line in lines]
    ours = [
        line.split("#")[0].strip()
        for line in provision.PINNED_REQUIREMENTS.read_text().splitlines()
        if line.split("#")[0].strip()
    ]
    assert lines[: len(ours)] == ours
    assert lines[len(ours) :] == ["six"]  # not in our file: added, unpinned
    assert "psycopg2-binary" in names and "psycopg2" not in names
    assert "python-ldap" not in names
    for name in ("lxml", "zeep", "decorator", "werkzeug", "psycopg2-binary"):
        pins = [line for line in ours if provision.requirement_name(line) == name]
        assert pins and all("==" in line for line in pins), name


def test_queue_job_is_held_back_for_older_18_sources(provision, tmp_path):
    source = make_source(tmp_path / "src")
    tests_dir = source / "odoo" / "tests"
    tests_dir.mkdir()
    (tests_dir / "common.py").write_text("# no SETATTR here\n")
    assert provision.queue_job_constraints(source) == [
        "odoo-addon-queue-job<18.0.3.1.3"
    ]
    (tests_dir / "common.py").write_text("SETATTR_SOURCES = {}\n")
    assert provision.queue_job_constraints(source) == []


def run_provision(tmp_path, **variables):
    """Run setup/provision.py with an empty cache and ``variables`` (ODOO_SRC
    left out unless given); the finished process."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("ODOO_SRC", "DSYNC_CACHE_DIR")
    }
    env.update(DSYNC_CACHE_DIR=str(tmp_path / "cache"), **variables)
    return subprocess.run(
        [sys.executable, str(PROVISION)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_no_source_fails_fast_and_names_odoo_src(tmp_path):
    t0 = time.monotonic()
    proc = run_provision(tmp_path, ODOO_GIT_URL=str(tmp_path / "no-such-repository"))
    assert proc.returncode == 2
    assert "ODOO_SRC" in proc.stderr
    assert "cannot be reached" in proc.stderr
    assert time.monotonic() - t0 < 60


def test_missing_odoo_src_is_named(tmp_path):
    proc = run_provision(tmp_path, ODOO_SRC=str(tmp_path / "nowhere"))
    assert proc.returncode == 2
    assert f"ODOO_SRC={tmp_path / 'nowhere'} does not exist" in proc.stderr


def test_cache_folder_defaults_and_overrides(provision, monkeypatch, tmp_path):
    monkeypatch.delenv("DSYNC_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert provision.cache_root() == tmp_path / "xdg" / "distribution_sync"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert provision.cache_root() == tmp_path / "home" / ".cache" / "distribution_sync"
    monkeypatch.setenv("DSYNC_CACHE_DIR", str(tmp_path / "mine"))
    assert provision.cache_root() == tmp_path / "mine"
    name = provision.runtime_dir().name
    assert name == "odoo-18.0-py{}.{}".format(*sys.version_info[:2])

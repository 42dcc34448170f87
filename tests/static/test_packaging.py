"""Packaging: one wheel per addon (whool) and the meta-package.

The wheels are built with ``python -m build --wheel --no-isolation``, so whool,
build and setuptools must be installed (requirements-test.txt) and nothing is
downloaded.

whool takes the addon's files from ``git ls-files`` and derives the version
from the git history (``<manifest version>.N``, N = commits since the last
version change). Two builds are checked:

* from a copy of the addon outside git (the files git would take: tracked and
  untracked but not ignored): the version is exactly the manifest's;
* in the repository itself, as setup/README.md tells, once the repository has
  a commit (whool cannot read the history of a repository without one).
"""

import email.parser
import importlib.util
import re
import shutil
import subprocess
import sys
import zipfile

import pytest

ODOO_SERIES = "18.0"
META_DIR = ("setup", "_metapackage")
META_NAME = "odoo_addons_distribution_sync"
GENERATOR = ("setup", "make_addon_pyproject.py")

needs_whool = pytest.mark.skipif(
    importlib.util.find_spec("whool") is None,
    reason="whool is not installed (pip install -r requirements-test.txt)",
)


def build_wheel(source_dir, outdir):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(outdir),
            str(source_dir),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    returncode, output = result.returncode, result.stdout + result.stderr
    assert returncode == 0, f"building {source_dir} failed:\n{output}"
    wheels = sorted(outdir.glob("*.whl"))
    assert len(wheels) == 1, f"expected one wheel in {outdir}, got {wheels}"
    return wheels[0]


def wheel_metadata(wheel):
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        metadata_name = next(n for n in names if n.endswith(".dist-info/METADATA"))
        metadata = email.parser.Parser().parsestr(zf.read(metadata_name).decode())
    return names, metadata


def expected_requirements(manifest):
    """Requires-Dist that whool derives from the manifest."""
    # manifestoo-core comes with whool: the core addon list whool itself uses
    from manifestoo_core.core_addons import get_core_addons
    from manifestoo_core.metadata import EXTERNAL_DEPENDENCIES_MAP
    from manifestoo_core.odoo_series import OdooSeries

    core = get_core_addons(OdooSeries(ODOO_SERIES))
    requirements = {f"odoo=={ODOO_SERIES}.*"}
    requirements |= {
        f"odoo-addon-{depend}=={ODOO_SERIES}.*"
        for depend in manifest.get("depends", [])
        if depend not in core
    }
    requirements |= {
        EXTERNAL_DEPENDENCIES_MAP.get(dep, dep)
        for dep in manifest.get("external_dependencies", {}).get("python", [])
    }
    return requirements


def git_files(addon_dir, git):
    """Files that git takes for the addon: tracked + untracked not ignored.
    None when the addon is not in a git work tree."""
    result = git("ls-files", "--cached", "--others", "--exclude-standard", "-z")
    if result.returncode != 0:
        return None
    prefix = addon_dir.name + "/"
    return sorted(
        name[len(prefix) :]
        for name in result.stdout.split("\0")
        if name.startswith(prefix) and (addon_dir.parent / name).is_file()
    )


def test_generated_files_are_up_to_date(repo_root):
    result = subprocess.run(
        [sys.executable, str(repo_root.joinpath(*GENERATOR)), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    returncode, output = result.returncode, result.stdout + result.stderr
    assert returncode == 0, f"{'/'.join(GENERATOR)} --check:\n{output}"


def test_addon_pyproject_uses_whool(addon_dir):
    pyproject = addon_dir / "pyproject.toml"
    assert pyproject.is_file(), f"{pyproject} is missing"
    text = pyproject.read_text(encoding="utf-8")
    assert re.search(r'^build-backend\s*=\s*"whool\.buildapi"', text, re.M), text


@needs_whool
def test_addon_wheel(addon, addon_dir, manifest, addon_files, git, tmp_path):
    files = git_files(addon_dir, git)
    if files is None:
        files = [p.relative_to(addon_dir).as_posix() for p in addon_files(addon_dir)]
    files = [f for f in files if "__pycache__/" not in f and not f.endswith(".pyc")]
    copy = tmp_path / "src" / addon
    for name in files:
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(addon_dir / name, copy / name)

    wheel = build_wheel(copy, tmp_path / "dist")

    version = manifest["version"]
    assert wheel.name == f"odoo_addon_{addon}-{version}-py3-none-any.whl"
    names, metadata = wheel_metadata(wheel)
    assert metadata["Name"] == f"odoo-addon-{addon}"
    assert metadata["Version"] == version
    actual = set(metadata.get_all("Requires-Dist") or [])
    expected = expected_requirements(manifest)
    assert actual == expected, (
        f"Requires-Dist: missing {sorted(expected - actual)}, "
        f"unexpected {sorted(actual - expected)}"
    )
    assert f"odoo/addons/{addon}/__manifest__.py" in names
    missing = sorted(
        f"odoo/addons/{addon}/{name}"
        for name in files
        if name != "pyproject.toml" and f"odoo/addons/{addon}/{name}" not in names
    )
    assert not missing, f"files missing from {wheel.name}: {missing}"


@needs_whool
def test_addon_wheel_in_repository(addon, addon_dir, manifest, git, tmp_path):
    if git("rev-parse", "--verify", "HEAD").returncode != 0:
        pytest.skip("the repository has no commit yet: whool reads the git history")
    wheel = build_wheel(addon_dir, tmp_path)
    version = re.escape(manifest["version"])
    assert re.match(
        rf"^odoo_addon_{addon}-{version}(\.\d+)?-py3-none-any\.whl$", wheel.name
    ), wheel.name
    names, _metadata = wheel_metadata(wheel)
    tracked = git("ls-files", "-z", "--", addon).stdout.split("\0")
    expected = {
        f"odoo/addons/{name}"
        for name in tracked
        if name and not name.endswith("/pyproject.toml")
    }
    missing = sorted(expected - set(names))
    assert f"odoo/addons/{addon}/__manifest__.py" in names, (
        f"{wheel.name} has no __manifest__.py: is the addon committed?"
    )
    assert not missing, f"tracked files missing from {wheel.name}: {missing}"


@needs_whool
def test_metapackage_wheel(repo_root, addon_names, read_manifest, tmp_path):
    # build a copy: setuptools writes build/ and *.egg-info next to its input
    copy = tmp_path / "_metapackage"
    shutil.copytree(repo_root.joinpath(*META_DIR), copy)
    wheel = build_wheel(copy, tmp_path / "dist")
    assert re.match(
        rf"^{META_NAME}-{re.escape(ODOO_SERIES)}\.[\d.]+-py3-none-any\.whl$",
        wheel.name,
    ), wheel.name
    _names, metadata = wheel_metadata(wheel)
    installable = [
        addon
        for addon in addon_names
        if read_manifest(repo_root / addon).get("installable", True)
    ]
    actual = set(metadata.get_all("Requires-Dist") or [])
    expected = {f"odoo-addon-{addon}=={ODOO_SERIES}.*" for addon in installable}
    assert actual == expected, (
        f"meta-package Requires-Dist: missing {sorted(expected - actual)}, "
        f"unexpected {sorted(actual - expected)}"
    )

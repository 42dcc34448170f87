"""Manifests: keys and values, data files, external dependencies."""

import ast
import re
import sys
import warnings

VERSION_RE = re.compile(r"^18\.0\.\d+\.\d+\.\d+$")
REQUIRED_STR_KEYS = (
    "name",
    "version",
    "license",
    "author",
    "website",
    "category",
    "summary",
)

# Libraries that Odoo itself imports when it starts: addons use them without
# declaring them (declaring psycopg2 would even make pip build it from source).
# requests and cryptography are NOT here: an addon that imports them declares
# them, as OCA addons do.
ODOO_RUNTIME_LIBRARIES = {
    "babel",
    "dateutil",
    "decorator",
    "docutils",
    "lxml",
    "markupsafe",
    "passlib",
    "PIL",
    "psycopg2",
    "pytz",
    "werkzeug",
}
# import name -> distribution name, where they differ; the manifest may give
# either (Odoo checks the distribution name first, then tries the import)
DISTRIBUTION_NAMES = {
    "Crypto": "pycryptodome",
    "dateutil": "python-dateutil",
    "dns": "dnspython",
    "jwt": "PyJWT",
    "ldap": "python-ldap",
    "magic": "python-magic",
    "OpenSSL": "pyOpenSSL",
    "serial": "pyserial",
    "stdnum": "python-stdnum",
    "yaml": "PyYAML",
}
# directories whose .xml/.csv files must all be loaded by the manifest
DATA_DIRS = ("data", "demo", "report", "reports", "security", "views", "wizards")
ADDON_NAME_PREFIX = "distribution_sync"


def _normalize(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def test_repository_has_addons(repo_root, addon_names):
    assert addon_names, f"no addon (directory with __manifest__.py) in {repo_root}"
    without_manifest = sorted(
        p.name
        for p in repo_root.iterdir()
        if p.is_dir()
        and p.name.startswith(ADDON_NAME_PREFIX)
        and not (p / "__manifest__.py").is_file()
    )
    assert not without_manifest, (
        f"addon directories without __manifest__.py: {without_manifest}"
    )


def test_manifest_is_a_literal_dict(addon_dir, read_manifest):
    read_manifest(addon_dir)


def test_required_keys(manifest):
    problems = []
    for key in REQUIRED_STR_KEYS:
        value = manifest.get(key)
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{key!r} must be a non-empty string, got {value!r}")
    maintainers = manifest.get("maintainers")
    if (
        not isinstance(maintainers, list)
        or not maintainers
        or not all(isinstance(m, str) and m.strip() for m in maintainers)
    ):
        problems.append(
            f"'maintainers' must be a non-empty list of strings, got {maintainers!r}"
        )
    for key in ("depends", "data"):
        value = manifest.get(key)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            problems.append(f"{key!r} must be a list of strings, got {value!r}")
    demo = manifest.get("demo", [])
    if not isinstance(demo, list) or not all(isinstance(v, str) for v in demo):
        problems.append(f"'demo' must be a list of strings, got {demo!r}")
    external = manifest.get("external_dependencies")
    if not isinstance(external, dict):
        problems.append(f"'external_dependencies' must be a dict, got {external!r}")
    else:
        python = external.get("python", [])
        if not isinstance(python, list) or not all(isinstance(v, str) for v in python):
            problems.append(
                "'external_dependencies' python entry must be a list of strings, "
                f"got {python!r}"
            )
    if manifest.get("installable") is not True:
        problems.append(
            f"'installable' must be True, got {manifest.get('installable')!r}"
        )
    assert not problems, "\n".join(problems)


def test_version(manifest):
    version = manifest.get("version")
    ok = isinstance(version, str) and bool(VERSION_RE.match(version))
    assert ok, f"version {version!r} does not match {VERSION_RE.pattern}"


def test_license(manifest):
    assert manifest.get("license") == "LGPL-3"


def test_website_is_an_url(manifest):
    website = manifest.get("website")
    ok = isinstance(website, str) and bool(re.match(r"^https?://\S+$", website))
    assert ok, f"website {website!r} is not an http(s) URL"


def _optional_imports(tree):
    """ids of the import nodes inside a ``try`` that catches ImportError."""
    optional = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Try):
            continue
        caught = set()
        for handler in node.handlers:
            if handler.type is None:
                caught.add("ImportError")
                continue
            for n in ast.walk(handler.type):
                if isinstance(n, ast.Name):
                    caught.add(n.id)
        if caught & {"ImportError", "ModuleNotFoundError", "Exception"}:
            for stmt in node.body:
                for n in ast.walk(stmt):
                    if isinstance(n, ast.Import | ast.ImportFrom):
                        optional.add(id(n))
    return optional


def third_party_imports(addon_dir, addon_files, addon_names):
    """{top-level module: ["file:line", ...]} over the addon's Python files,
    its tests/ left out (test-only libraries are not runtime dependencies)."""
    found = {}
    for path in addon_files(addon_dir, ".py"):
        rel = path.relative_to(addon_dir)
        if rel.parts[0] == "tests":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        optional = _optional_imports(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                modules = [node.module]
            else:
                continue
            if id(node) in optional:
                continue
            for module in modules:
                top = module.split(".")[0]
                if (
                    top in sys.stdlib_module_names
                    or top == "odoo"
                    or top in addon_names
                    or top in ODOO_RUNTIME_LIBRARIES
                ):
                    continue
                found.setdefault(top, []).append(f"{rel}:{node.lineno}")
    return found


def test_external_dependencies_cover_imports(
    addon_dir, manifest, addon_files, addon_names
):
    external = manifest.get("external_dependencies")
    assert isinstance(external, dict), "'external_dependencies' must be a dict"
    problems, declared = [], set()
    for entry in external.get("python", []):
        name = re.match(r"[A-Za-z0-9._-]*", entry).group(0)
        if name != entry:
            problems.append(
                f"python entry {entry!r} must be a bare distribution or module "
                "name (Odoo looks it up as it is: no version specifier)"
            )
        declared.add(_normalize(name))
    imports = third_party_imports(addon_dir, addon_files, addon_names)
    for module, where in sorted(imports.items()):
        names = {_normalize(module), _normalize(DISTRIBUTION_NAMES.get(module, module))}
        if not names & declared:
            problems.append(
                f"{module} is imported ({', '.join(where)}) but missing from "
                "external_dependencies['python']"
            )
    assert not problems, "\n".join(problems)


def test_listed_files_exist(addon_dir, manifest):
    missing = [
        f"{key}: {entry}"
        for key in ("data", "demo")
        for entry in manifest.get(key, [])
        if not (addon_dir / entry).is_file()
    ]
    assert not missing, "files listed in the manifest do not exist:\n" + "\n".join(
        missing
    )


def test_data_order(manifest):
    """security/ files, then data/ files, then views/ files."""
    data = manifest.get("data", [])

    def indexes(folder):
        return [i for i, entry in enumerate(data) if entry.startswith(folder + "/")]

    security, data_files, views = (
        indexes("security"),
        indexes("data"),
        indexes("views"),
    )
    problems = []
    if security and data_files and max(security) > min(data_files):
        problems.append(
            f"{data[max(security)]!r} (security) comes after "
            f"{data[min(data_files)]!r} (data)"
        )
    for before, name in ((security, "security"), (data_files, "data")):
        if before and views and max(before) > min(views):
            problems.append(
                f"{data[max(before)]!r} ({name}) comes after "
                f"{data[min(views)]!r} (the first views file)"
            )
    assert not problems, "manifest 'data' is not ordered security → data → views:\n" + (
        "\n".join(problems)
    )


def test_no_unlisted_data_files(addon_dir, manifest, addon_files):
    listed = set(manifest.get("data", [])) | set(manifest.get("demo", []))
    unlisted, others = [], []
    for folder in DATA_DIRS:
        if not (addon_dir / folder).is_dir():
            continue
        for path in addon_files(addon_dir / folder):
            rel = path.relative_to(addon_dir).as_posix()
            if rel in listed or path.suffix == ".py":
                continue
            if path.suffix in (".xml", ".csv"):
                unlisted.append(rel)
            else:
                others.append(rel)
    for rel in others:
        warnings.warn(
            f"{addon_dir.name}/{rel} is not listed in the manifest", stacklevel=1
        )
    assert not unlisted, (
        "files that the manifest does not load (data/demo):\n" + "\n".join(unlisted)
    )

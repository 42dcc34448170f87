"""The bare-package loader in tests/conftest.py, and the purity of the core."""

import ast
import importlib
import importlib.util
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def _load_conftest():
    # Loaded by path: the bare name "conftest" is ambiguous between test folders.
    spec = importlib.util.spec_from_file_location(
        "_tests_root_conftest", REPO_ROOT / "tests" / "conftest.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


conftest = _load_conftest()
CORE = conftest.REPO_ROOT / "distribution_sync" / "core"


def test_addon_loaded_without_running_its_init():
    import distribution_sync.core.ownership  # noqa: F401

    package = sys.modules["distribution_sync"]
    if (conftest.REPO_ROOT / "distribution_sync" / "__manifest__.py").exists():
        # A bare package: the addon's __init__ (which imports odoo) never ran.
        assert getattr(package, "__file__", None) is None
    assert "odoo" not in sys.modules


def test_register_bare_addons(tmp_path, monkeypatch):
    addon = tmp_path / "fake_addon_for_loader"
    (addon / "core").mkdir(parents=True)
    (addon / "__manifest__.py").write_text("{'name': 'Fake'}\n")
    (addon / "__init__.py").write_text("raise ImportError('the addon init ran')\n")
    (addon / "core" / "__init__.py").write_text("")
    (addon / "core" / "thing.py").write_text("VALUE = 42\n")
    (tmp_path / "not_an_addon").mkdir()
    monkeypatch.setattr(sys, "path", list(sys.path))
    try:
        assert conftest.register_bare_addons(tmp_path) == ["fake_addon_for_loader"]
        thing = importlib.import_module("fake_addon_for_loader.core.thing")
        assert thing.VALUE == 42
        assert "not_an_addon" not in sys.modules
        # Registering again leaves the existing package alone.
        assert conftest.register_bare_addons(tmp_path) == []
    finally:
        for name in [m for m in sys.modules if m.startswith("fake_addon_for_loader")]:
            del sys.modules[name]


def _imported_modules(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                yield "." * node.level + (node.module or "")
            else:
                yield node.module


def test_core_imports_only_stdlib_and_itself():
    # Third-party packages the core addon declares (__manifest__.py).
    allowed_third_party = {"crypto.py": {"cryptography"}, "http.py": {"requests"}}
    for path in sorted(CORE.glob("*.py")):
        for name in _imported_modules(path):
            if name.startswith("."):
                # Relative imports must stay inside core/.
                assert not name.startswith(".."), (path.name, name)
                continue
            top = name.split(".")[0]
            if top in allowed_third_party.get(path.name, set()):
                continue
            assert top in sys.stdlib_module_names, (path.name, name)

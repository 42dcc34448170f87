"""Inside Odoo the QuickBooks core takes the core addon's modules from
``odoo.addons.distribution_sync.core``: the very classes the Odoo side catches
(``except PayloadError``); in the pure tier from the bare package, without
odoo."""

import importlib
import importlib.util
import sys
import types
from pathlib import Path

import pytest

import distribution_sync.core.errors as bare_errors
from distribution_sync.core import (
    canonical,
    documents,
    http,
    idempotency,
    mapping,
    money,
    readers,
    retry,
    signature,
)
from distribution_sync_quickbooks.core import errors, mappers, oauth, webhook

CORE_DIR = Path(mappers.__file__).parent
# Loaded in import order: the others import the readers of mappers.
MODULES = ["mappers", "errors", "webhook", "oauth"]


def test_pure_tier_uses_the_bare_core_addon():
    assert mappers.PayloadError is bare_errors.PayloadError
    assert errors.TransientError is bare_errors.TransientError
    assert issubclass(oauth.InvalidGrant, bare_errors.SyncError)
    assert webhook.signature is signature
    assert mappers.documents is documents
    assert "odoo" not in sys.modules


@pytest.fixture
def odoo_names(monkeypatch):
    """``odoo.addons.distribution_sync.core.*`` as other module objects (copies
    of the real ones), and the QuickBooks core package under its Odoo name."""
    for name in ("odoo", "odoo.addons", "odoo.addons.distribution_sync"):
        module = types.ModuleType(name)
        module.__path__ = []
        monkeypatch.setitem(sys.modules, name, module)
    core = types.ModuleType("odoo.addons.distribution_sync.core")
    core.__path__ = []
    monkeypatch.setitem(sys.modules, core.__name__, core)
    copies = {}
    for real in (
        bare_errors,
        canonical,
        money,
        mapping,
        documents,
        idempotency,
        retry,
        signature,
    ):
        short = real.__name__.rsplit(".", 1)[1]
        copy = types.ModuleType(f"{core.__name__}.{short}")
        copy.__dict__.update(
            {k: v for k, v in real.__dict__.items() if not k.startswith("__")}
        )
        copies[short] = copy
        setattr(core, short, copy)
        monkeypatch.setitem(sys.modules, copy.__name__, copy)
    # The copies hold new classes, so that "which errors module" shows.
    copies["errors"].PayloadError = type(
        "PayloadError", (bare_errors.PayloadError,), {}
    )
    # Modules that raise the core's errors run from their source, so that their
    # relative imports take the copies above, as they take Odoo's modules.
    for real in (http, readers):
        short = real.__name__.rsplit(".", 1)[1]
        name = f"{core.__name__}.{short}"
        spec = importlib.util.spec_from_file_location(name, real.__file__)
        module = importlib.util.module_from_spec(spec)
        monkeypatch.setitem(sys.modules, name, module)
        spec.loader.exec_module(module)
        setattr(core, short, module)
    package = types.ModuleType("odoo.addons.distribution_sync_quickbooks.core")
    package.__path__ = [str(CORE_DIR)]
    monkeypatch.setitem(sys.modules, package.__name__, package)
    return core


def load(monkeypatch, name):
    full = f"odoo.addons.distribution_sync_quickbooks.core.{name}"
    spec = importlib.util.spec_from_file_location(full, CORE_DIR / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, full, module)
    spec.loader.exec_module(module)
    return module


def test_inside_odoo_the_core_addon_comes_from_odoo_addons(odoo_names, monkeypatch):
    loaded = {name: load(monkeypatch, name) for name in MODULES}
    assert loaded["mappers"].errors is odoo_names.errors
    assert loaded["mappers"].PayloadError is odoo_names.errors.PayloadError
    assert loaded["mappers"].PayloadError is not bare_errors.PayloadError
    assert loaded["errors"].core_errors is odoo_names.errors
    assert loaded["mappers"].readers is odoo_names.readers
    assert loaded["webhook"].signature is odoo_names.signature
    assert loaded["oauth"].errors is odoo_names.errors
    # A reader's error is the Odoo side's class.
    with pytest.raises(odoo_names.errors.PayloadError):
        loaded["webhook"].events({})
    # The QuickBooks modules use each other under the Odoo name too.
    assert loaded["webhook"].load_json is loaded["mappers"].load_json


def test_the_folder_registers_the_addon_until_it_has_a_manifest(tmp_path, monkeypatch):
    """tests/pure/quickbooks/conftest.py: a bare package while the addon has
    no manifest, nothing once it has one (tests/conftest.py registers it)."""
    spec = importlib.util.spec_from_file_location(
        "quickbooks_folder_conftest", Path(__file__).with_name("conftest.py")
    )
    conftest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conftest)
    assert conftest.ADDON_DIR == CORE_DIR.parent
    # A stand-in addon under another name, so the real one stays loaded.
    addon = tmp_path / "quickbooks_probe_addon"
    (addon / "core").mkdir(parents=True)
    (addon / "__init__.py").write_text("raise ImportError('not a bare package')\n")
    (addon / "core" / "__init__.py").write_text("")
    (addon / "core" / "probe.py").write_text("VALUE = 42\n")
    names = [addon.name, f"{addon.name}.core", f"{addon.name}.core.probe"]
    for name in names:
        monkeypatch.delitem(sys.modules, name, raising=False)
    try:
        assert conftest.register_addon(addon) is True
        probe = importlib.import_module(f"{addon.name}.core.probe")
        assert probe.VALUE == 42
        assert conftest.register_addon(addon) is False  # registered already
    finally:
        for name in names:
            sys.modules.pop(name, None)
    (addon / "__manifest__.py").write_text("{}")
    assert conftest.register_addon(addon) is False
    assert addon.name not in sys.modules

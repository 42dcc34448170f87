"""Inside Odoo the carrier core takes the core addon's modules from
``odoo.addons.distribution_sync.core``: the very classes the Odoo side catches
(``except PayloadError``)."""

import importlib.util
import sys
import types
from pathlib import Path

import pytest

import distribution_sync.core.errors as bare_errors
from distribution_sync.core import (
    canonical,
    http,
    idempotency,
    readers,
    retry,
    shipment,
    signature,
    tracking,
)
from distribution_sync_carrier.core import common, easypost, shippo

CORE_DIR = Path(easypost.__file__).parent


def test_pure_tier_uses_the_bare_core_addon():
    assert common.PayloadError is bare_errors.PayloadError
    assert easypost.tracking is tracking
    assert shippo.errors is bare_errors
    assert "odoo" not in sys.modules


@pytest.fixture
def odoo_names(monkeypatch):
    """``odoo.addons.distribution_sync.core.*`` as other module objects (copies
    of the real ones), and the carrier core package under its Odoo name."""
    for name in ("odoo", "odoo.addons", "odoo.addons.distribution_sync"):
        module = types.ModuleType(name)
        module.__path__ = []
        monkeypatch.setitem(sys.modules, name, module)
    core = types.ModuleType("odoo.addons.distribution_sync.core")
    core.__path__ = []
    monkeypatch.setitem(sys.modules, core.__name__, core)
    for real in (
        canonical,
        bare_errors,
        http,
        idempotency,
        readers,
        retry,
        shipment,
        signature,
        tracking,
    ):
        short = real.__name__.rsplit(".", 1)[1]
        copy = types.ModuleType(f"{core.__name__}.{short}")
        copy.__dict__.update(
            {k: v for k, v in real.__dict__.items() if not k.startswith("__")}
        )
        setattr(core, short, copy)
        monkeypatch.setitem(sys.modules, copy.__name__, copy)
    package = types.ModuleType("odoo.addons.distribution_sync_carrier.core")
    package.__path__ = [str(CORE_DIR)]
    monkeypatch.setitem(sys.modules, package.__name__, package)
    return core


def load(monkeypatch, name):
    full = f"odoo.addons.distribution_sync_carrier.core.{name}"
    spec = importlib.util.spec_from_file_location(full, CORE_DIR / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, full, module)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["easypost", "shippo"])
def test_inside_odoo_the_core_addon_comes_from_odoo_addons(
    odoo_names, monkeypatch, name
):
    shared = load(monkeypatch, "common")
    module = load(monkeypatch, name)
    assert shared.readers is odoo_names.readers
    assert module.tracking is odoo_names.tracking
    assert module.errors is odoo_names.errors
    assert module.errors is not bare_errors
    assert module.PayloadError is odoo_names.errors.PayloadError

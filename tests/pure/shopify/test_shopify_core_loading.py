"""The Shopify core takes the core addon's modules under the right package name."""

import importlib.util
import sys
import types
from pathlib import Path

import distribution_sync.core.errors as bare_errors
from distribution_sync_shopify.core import _base, common

BASE_FILE = Path(_base.__file__)


def test_pure_tier_uses_the_bare_core_addon():
    assert _base.errors is bare_errors
    assert common.PayloadError is bare_errors.PayloadError
    assert "odoo" not in sys.modules


def test_inside_odoo_the_core_addon_comes_from_odoo_addons(monkeypatch):
    fake = {}
    for name in ("odoo", "odoo.addons", "odoo.addons.distribution_sync"):
        fake[name] = types.ModuleType(name)
        fake[name].__path__ = []
    core = types.ModuleType("odoo.addons.distribution_sync.core")
    core.__path__ = []
    for attr in ("canonical", "errors", "idempotency", "money", "signature"):
        setattr(
            core, attr, types.ModuleType(f"odoo.addons.distribution_sync.core.{attr}")
        )
    fake[core.__name__] = core
    for name, module in fake.items():
        monkeypatch.setitem(sys.modules, name, module)
    name = "odoo.addons.distribution_sync_shopify.core._base"
    spec = importlib.util.spec_from_file_location(name, BASE_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.errors is core.errors
    assert module.canonical is core.canonical
    assert module.errors is not bare_errors

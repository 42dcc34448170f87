"""Registers ``distribution_sync_quickbooks`` as a bare package for these
tests while the addon has no ``__manifest__.py`` yet (tests/conftest.py
registers the addons that have one), so that its ``core`` imports without
Odoo and without the addon's ``__init__.py``."""

import importlib.machinery
import sys
import types
from pathlib import Path

ADDON_DIR = Path(__file__).resolve().parents[3] / "distribution_sync_quickbooks"


def register_addon(addon_dir: Path = ADDON_DIR) -> bool:
    """Register ``addon_dir`` as a bare package unless it has a manifest (then
    tests/conftest.py does) or its name is imported already; True when
    registered here."""
    name = addon_dir.name
    if (addon_dir / "__manifest__.py").exists() or name in sys.modules:
        return False
    if not addon_dir.is_dir():
        return False
    spec = importlib.machinery.ModuleSpec(name, None, is_package=True)
    spec.submodule_search_locations = [str(addon_dir)]
    module = types.ModuleType(name)
    module.__spec__ = spec
    module.__path__ = [str(addon_dir)]
    module.__package__ = name
    sys.modules[name] = module
    return True


register_addon()

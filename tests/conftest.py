"""Test setup shared by every test folder.

Addons are registered as bare packages so that their pure modules (``core/``) import
without Odoo and without running the addon's ``__init__.py``.
"""

import importlib.machinery
import sys
import types
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def register_bare_addons(root: Path = REPO_ROOT) -> list[str]:
    """Register every addon directory under ``root`` as a bare package.

    An addon is a directory holding ``__manifest__.py``. Already imported modules of
    the same name are left alone. Returns the names registered.
    """
    root = Path(root)
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    registered = []
    for manifest in sorted(root.glob("*/__manifest__.py")):
        addon_dir = manifest.parent
        name = addon_dir.name
        if name in sys.modules:
            continue
        spec = importlib.machinery.ModuleSpec(name, None, is_package=True)
        spec.submodule_search_locations = [str(addon_dir)]
        module = types.ModuleType(name)
        module.__spec__ = spec
        module.__path__ = [str(addon_dir)]
        module.__package__ = name
        sys.modules[name] = module
        registered.append(name)
    return registered


register_bare_addons()

try:
    from hypothesis import settings
except ImportError:  # pragma: no cover - only the pure tests need hypothesis
    pass
else:
    # Shared CI machines are slow at times; a deadline would make tests flaky.
    settings.register_profile("distribution_sync", deadline=None)
    settings.load_profile("distribution_sync")

"""Makes ``distribution_sync_carrier`` importable as a bare package even before
its ``__manifest__.py`` exists (tests/conftest.py registers only directories
holding one); once it does, the package is registered there and this is a no-op.
"""

import importlib.machinery
import sys
import types
from pathlib import Path

NAME = "distribution_sync_carrier"
ADDON_DIR = Path(__file__).resolve().parents[3] / NAME

if NAME not in sys.modules:
    spec = importlib.machinery.ModuleSpec(NAME, None, is_package=True)
    spec.submodule_search_locations = [str(ADDON_DIR)]
    module = types.ModuleType(NAME)
    module.__spec__ = spec
    module.__path__ = [str(ADDON_DIR)]
    module.__package__ = NAME
    sys.modules[NAME] = module

"""pytest plugin for the addons' Odoo tests, loaded beside pytest-odoo by the Odoo tier.

* Each Odoo test carries its Odoo test tags as pytest markers (``-m "not
  post_install"``, ``-m distribution_sync_shopify``), with the addon's name as one
  more marker.
* Odoo's notice that its test framework is imported outside a test run is dropped:
  pytest-odoo imports it on purpose, and turns Odoo's test mode on per test module
  (turning it on for the whole run would run every addon's at_install tests while
  the registry loads).
* While a test runs, ``odoo.modules.module.current_test`` names it, as Odoo's own
  test runner does: HTTP requests made by an ``HttpCase`` then use that test's
  cursor, and Odoo's log lines say which test logged them.
"""

import logging
import re

import pytest

ADDON_RE = re.compile(r"(?:^|\baddons\.)(?P<addon>\w+)\.tests\.")
MARKER_RE = re.compile(r"^[A-Za-z_][\w]*$")


class _NoImportNotice(logging.Filter):
    def filter(self, record):
        return not record.getMessage().startswith("Importing test framework")


logging.getLogger("odoo.tests.common").addFilter(_NoImportNotice())


def _odoo_tags(item):
    instance_class = getattr(item, "cls", None)
    tags = set(getattr(instance_class, "test_tags", ()) or ())
    match = ADDON_RE.search(
        getattr(item, "module", None).__name__ if item.module else ""
    )
    if match:
        tags.add(match["addon"])
    return sorted(tag for tag in tags if MARKER_RE.match(tag))


def pytest_collection_modifyitems(config, items):
    for item in items:
        for tag in _odoo_tags(item):
            config.addinivalue_line("markers", f"{tag}: Odoo test tag {tag}")
            item.add_marker(getattr(pytest.mark, tag))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    from odoo.modules import module  # noqa: PLC0415 - Odoo is loaded by pytest-odoo

    instance = getattr(item, "instance", None)
    module.current_test = instance or False
    try:
        yield
    finally:
        module.current_test = False

# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
"""Web tours in headless Chromium for ``HttpCase`` tests.

Environment:

``DSYNC_BROWSER_REQUIRED=1``  a tour that cannot start a browser fails instead of
                              being skipped (Odoo's default), so that a machine
                              without Chromium cannot pass for a green run.
``DSYNC_SCREENSHOT_DIR``      where ``run_tour(..., screenshot=NAME)`` saves
                              ``NAME.png``, the page as the tour left it.
"""

import base64
import logging
import os
import unittest
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from unittest.mock import patch

from odoo.tests import common

_logger = logging.getLogger(__name__)

BROWSER_REQUIRED_ENV = "DSYNC_BROWSER_REQUIRED"
SCREENSHOT_DIR_ENV = "DSYNC_SCREENSHOT_DIR"
# seconds for the steps of a tour: Odoo's 60 is tight on a loaded CI machine
TOUR_TIMEOUT = 120
SCREENSHOT_TIMEOUT = 20


class ScreenshotBrowser(common.ChromeBrowser):
    """Odoo's headless Chromium, saving a PNG of its page to ``screenshot_path``
    when it stops."""

    screenshot_path = None

    def stop(self):
        # HttpCase.browser_js stops the browser in a `finally`: the last moment the
        # tour's page is still there, whether the tour passed or failed.
        if self.screenshot_path and getattr(self, "ws", None):
            self._save_screenshot(Path(self.screenshot_path))
        return super().stop()

    def _save_screenshot(self, path):
        try:
            result = self._websocket_request(
                "Page.captureScreenshot",
                params={"format": "png"},
                timeout=SCREENSHOT_TIMEOUT,
            )
            data = base64.b64decode(result["data"], validate=True)
        except (
            common.ChromeBrowserException,
            TimeoutError,
            FutureTimeout,
            KeyError,
            TypeError,
            ValueError,
        ) as exc:
            # a lost screenshot must not hide the tour's own result
            _logger.warning("No screenshot of the tour saved to %s: %s", path, exc)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        _logger.info("Screenshot of the tour saved to %s", path)


class BrowserTourMixin:
    """Runs web tours from an ``HttpCase`` (list it before ``HttpCase``)."""

    # wide enough for the desktop layout of the list and form views
    browser_size = "1400x900"

    def run_tour(
        self, url_path, tour_name, login="admin", screenshot=None, timeout=TOUR_TIMEOUT
    ):
        """Run the web tour ``tour_name`` from ``url_path`` as ``login``; the test
        fails when a step fails. Without a usable browser the test is skipped, or
        fails when ``DSYNC_BROWSER_REQUIRED=1``. With ``screenshot`` and
        ``DSYNC_SCREENSHOT_DIR`` set, the page at the end is saved as
        ``<DSYNC_SCREENSHOT_DIR>/<screenshot>.png``."""
        folder = os.environ.get(SCREENSHOT_DIR_ENV, "").strip()
        path = Path(folder) / f"{screenshot}.png" if screenshot and folder else None

        def browser(*args, **kwargs):
            instance = ScreenshotBrowser(*args, **kwargs)
            instance.screenshot_path = path
            return instance

        try:
            # browser_js makes its browser itself: the screenshot is taken by
            # handing it ours in place of Odoo's class
            with patch.object(common, "ChromeBrowser", browser):
                self.start_tour(url_path, tour_name, login=login, timeout=timeout)
        except unittest.SkipTest as exc:
            if os.environ.get(BROWSER_REQUIRED_ENV) == "1":
                self.fail(
                    f"tour {tour_name!r} could not run ({exc}) and "
                    f"{BROWSER_REQUIRED_ENV}=1: install Chromium (Debian: apt-get "
                    "install chromium) and websocket-client"
                )
            raise

"""A real headless browser for the report's tests: Debian's chromium driven by Playwright
(pip `playwright`, never `playwright install`: the browser is the system's).

Nothing may leave the machine: Playwright already turns off background networking, component
updates and sync; the extra flags below send the few requests left (on-demand components) to a
closed loopback port. The page's console errors and uncaught exceptions are collected."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

# Never our own --disable-features: the last one wins and would drop Playwright's list.
FLAGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-quic", "--disable-gpu",
         "--component-updater=url-source=http://127.0.0.1:9/"]


def unavailable(message: str) -> None:
    """Missing tools fail under CI (scripts/test.sh installs them), else skip."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message)
    pytest.skip(message)


class Page:
    """A page and what went wrong on it."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.errors: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"{exc.name}: {exc.message}"))
        self.requests: list[str] = []
        page.on("request", lambda request: self.requests.append(request.url))

    def _console(self, message: Any) -> None:
        if message.type in ("error", "assert"):
            self.errors.append(f"console.{message.type}: {message.text}")

    def open(self, path: Path, timeout_ms: float = 60_000) -> Page:
        self.page.goto(path.resolve().as_uri(), wait_until="load", timeout=timeout_ms)
        self.page.wait_for_selector("body[data-ready='1']", timeout=timeout_ms)
        return self

    @staticmethod
    def expect(locator: Any) -> Any:
        """Playwright's retrying assertions (the page's CSP forbids the eval that
        `wait_for_function` with a string needs)."""
        from playwright.sync_api import expect

        return expect(locator)


@contextmanager
def chromium(width: int = 1400, height: int = 900) -> Iterator[Callable[[], Page]]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed (pip install -e '.[dev]')")
    executable = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(executable).exists():
        unavailable("no chromium (scripts/test.sh installs Debian's)")
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=executable, headless=True,
                                         args=FLAGS, timeout=60_000)
        try:
            context = browser.new_context(viewport={"width": width, "height": height})
            yield lambda: Page(context.new_page())
        finally:
            browser.close()

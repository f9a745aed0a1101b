"""Headless Chromium (Debian's package, driven by Playwright) against the real server."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Locator,
    Page,
    Playwright,
    expect,
    sync_playwright,
)

from tests.realserver import RunningServer

# Playwright cannot download its own browsers here; it drives the system's Chromium.
_CHROMIUM_NAMES = ("chromium", "chromium-browser")
_CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--autoplay-policy=no-user-gesture-required",
]
_FAILED_RESOURCE = re.compile(
    r"^Failed to load resource: the server responded with a status of (\d+)"
)


_REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = _REPO / "build" / "screenshots"
"""Where the browser tests leave their screenshots: ignored by git, so a test run
leaves the working tree as it found it."""
DOCS = _REPO / "docs"
"""The copies the README shows, rewritten only with KOKORO_UPDATE_SCREENSHOTS=1."""


def save_screenshot(page: Page, name: str) -> Path:
    """The whole page as ``build/screenshots/NAME``; with KOKORO_UPDATE_SCREENSHOTS=1
    also over ``docs/NAME``, to refresh the README's pictures after a UI change."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    page.screenshot(path=path, full_page=True)
    if os.environ.get("KOKORO_UPDATE_SCREENSHOTS") == "1":
        shutil.copyfile(path, DOCS / name)
    return path


def chromium_path() -> str:
    """KOKORO_TEST_CHROMIUM, else Chromium on PATH; a missing browser fails the run."""
    path = os.environ.get("KOKORO_TEST_CHROMIUM") or next(
        filter(None, map(shutil.which, _CHROMIUM_NAMES)), None
    )
    if not path:
        pytest.fail(
            "Chromium is needed for the web UI tests and was not found. Install it "
            "(Debian: apt-get install -y chromium; .ci/run does this) or point "
            "KOKORO_TEST_CHROMIUM at a Chromium binary.",
            pytrace=False,
        )
    return path


def open_ui(page: Page, url: str) -> None:
    """Load the page and wait until it has the server's health and voices."""
    page.goto(url)
    expect(page.locator("#health")).to_have_attribute("data-state", "ok")
    expect(page.locator("#voice-list .voice")).not_to_have_count(0)


def expect_labelled_and_within(page: Page, controls: Locator, width: int) -> None:
    """Every one of ``controls`` has an accessible name, and the page is no wider
    than ``width`` (no sideways scrolling on a phone)."""
    for control in controls.all():
        expect(control).to_have_accessible_name(re.compile(r"\w"))
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@dataclass
class BrowserLog:
    """What the page reported: console errors and uncaught exceptions."""

    errors: list[str] = field(default_factory=list)

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text}")

    def on_page_error(self, error: Exception) -> None:
        self.errors.append(f"uncaught: {error}")

    def unexpected(self, *http_statuses: int) -> list[str]:
        """Errors other than Chromium's note about a response with one of
        ``http_statuses`` (it logs every 4xx a page receives, handled or not)."""
        allowed = {str(status) for status in http_statuses}
        return [
            error
            for error in self.errors
            if not (
                (match := _FAILED_RESOURCE.match(error.removeprefix("console: ")))
                and match.group(1) in allowed
            )
        ]


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = playwright.chromium.launch(executable_path=chromium_path(), args=_CHROMIUM_ARGS)
    yield chromium
    chromium.close()


@pytest.fixture
def browser_log() -> BrowserLog:
    return BrowserLog()


@pytest.fixture
def page(browser: Browser, browser_log: BrowserLog) -> Iterator[Page]:
    """A fresh page (own storage) at desktop size, its console errors collected."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    context.set_default_timeout(30_000)
    tab = context.new_page()
    tab.on("console", browser_log.on_console)
    tab.on("pageerror", browser_log.on_page_error)
    yield tab
    context.close()


@pytest.fixture
def web_url(server: RunningServer) -> str:
    return f"{server.base_url}/web/"

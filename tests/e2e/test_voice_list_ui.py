"""The voice list in the browser: every official voice with its grade, and what a voice
still needs where the server lacks a language's reader."""

from __future__ import annotations

import json

import httpx
from playwright.sync_api import Page, Route, expect

from tests.e2e.conftest import BrowserLog, open_ui
from tests.realserver import RunningServer


def test_the_official_voices_are_listed_with_their_grades(
    page: Page, web_url: str, browser_log: BrowserLog
) -> None:
    open_ui(page, web_url)
    # The server is shared with other browser tests, which may have saved a mix.
    expect(page.locator('#voice-list .voice[data-source="builtin"]')).to_have_count(54)
    heart = page.locator("#voice-list .voice", has=page.locator("#voice-af_heart"))
    expect(heart).to_contain_text("Heart")
    expect(heart.locator(".voice-meta")).to_have_text(
        "American English · female · built-in · grade A"
    )
    page.fill("#voice-search", "hindi")
    expect(page.locator("#voice-list .voice")).to_have_count(4)
    assert browser_log.unexpected() == []


def test_voices_whose_reader_is_missing_say_what_to_install(
    page: Page, web_url: str, server: RunningServer, browser_log: BrowserLog
) -> None:
    """A server without the Japanese extra lists its Japanese voices with the install
    command (the test server has the extra, so its answer is altered on the way)."""
    listed = httpx.get(f"{server.base_url}/v1/audio/voices").json()
    hint = "Japanese text needs the optional Japanese reader: install it with `uv sync --extra ja`"
    for voice in listed["voices"]:
        if voice["language"] == "ja":
            voice["requires"] = hint

    def without_japanese(route: Route) -> None:
        route.fulfill(status=200, content_type="application/json", body=json.dumps(listed))

    page.route("**/v1/audio/voices", without_japanese)
    open_ui(page, web_url)
    kumo = page.locator("#voice-list .voice", has=page.locator("#voice-jm_kumo"))
    expect(kumo.locator(".voice-requires")).to_have_text(hint)
    heart = page.locator("#voice-list .voice", has=page.locator("#voice-af_heart"))
    expect(heart.locator(".voice-requires")).to_have_count(0)
    assert browser_log.unexpected() == []

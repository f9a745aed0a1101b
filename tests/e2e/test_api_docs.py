"""The API docs page in headless Chromium with every other host cut off: it must
render from what this server serves alone, as on a machine without internet."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Request, Route, expect

from api.backends.fake import FakeBackend
from api.settings import Settings
from tests.e2e.conftest import BrowserLog
from tests.serverthread import ServerThread

# The docs need no model: the fake backend serves the same schema, and starts at once.
pytestmark = pytest.mark.browser


@pytest.fixture
def docs_server(settings: Settings) -> Iterator[str]:
    with ServerThread(settings, FakeBackend()) as running:
        yield running.url


class Offline:
    """Lets the page reach ``origin`` only; records every request the page made and
    aborts those to anywhere else (data: and blob: URLs are not requests to a host)."""

    def __init__(self, page: Page, origin: str) -> None:
        self.origin = origin
        self.requested: list[str] = []
        self.aborted: list[str] = []
        page.on("request", self.on_request)
        page.route("**/*", self.on_route)

    def same_origin(self, url: str) -> bool:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}" == self.origin

    def on_request(self, request: Request) -> None:
        if urlsplit(request.url).scheme not in ("data", "blob"):
            self.requested.append(request.url)

    def on_route(self, route: Route) -> None:
        if self.same_origin(route.request.url):
            route.continue_()
        else:
            self.aborted.append(route.request.url)
            route.abort("internetdisconnected")

    def elsewhere(self) -> list[str]:
        return self.aborted + [url for url in self.requested if not self.same_origin(url)]


def test_swagger_ui_renders_the_operations_offline(
    page: Page, docs_server: str, browser_log: BrowserLog
) -> None:
    offline = Offline(page, docs_server)
    page.goto(f"{docs_server}/docs")
    expect(page.locator(".info .title")).to_contain_text("Kokoro speech server")
    speech = page.locator(".opblock-summary-path", has_text="/v1/audio/speech").first
    expect(speech).to_be_visible()
    expect(page.locator(".opblock")).to_have_count(15)  # every operation in the schema
    # Open one: its request body schema comes from the same served schema.
    speech.click()
    expect(page.locator(".opblock.is-open .opblock-section-request-body")).to_be_visible()
    assert offline.elsewhere() == []
    assert f"{docs_server}/docs/assets/swagger-ui-bundle.js" in offline.requested
    assert f"{docs_server}/openapi.json" in offline.requested
    assert browser_log.unexpected() == []

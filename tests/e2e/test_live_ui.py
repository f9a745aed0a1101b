"""The web UI's live mode in a real headless Chromium: text fed word by word to the
stream-input WebSocket of ``kokoro-server serve`` (the real model), heard as it goes;
the server's refusals shown in its own words."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from pydantic import SecretStr
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from api.backends.fake import FakeBackend
from api.settings import Settings
from tests.e2e.conftest import BrowserLog, expect_labelled_and_within, open_ui, save_screenshot
from tests.realserver import RunningServer
from tests.serverthread import ServerThread

pytestmark = pytest.mark.browser

TEXT = (
    "Live mode speaks while the text is still arriving. "
    "Each sentence plays as soon as it is complete. "
    "The last one ends the stream."
)


def open_live(page: Page, url: str) -> None:
    open_ui(page, url)
    page.get_by_role("tab", name="Live").click()
    expect(page.get_by_role("tabpanel", name="Live")).to_be_visible()


def refusal(base_url: str, voice: str, first: dict[str, object]) -> dict[str, object]:
    """What the socket itself answers a plain client: its error message and close code."""
    address = f"{base_url.replace('http', 'ws', 1)}/v1/text-to-speech/{voice}/stream-input"
    with connect(address) as socket:
        socket.send(json.dumps(first))
        message: dict[str, object] = json.loads(socket.recv(timeout=30))
        with pytest.raises(ConnectionClosed):
            socket.recv(timeout=30)
        assert socket.close_code == message["code"]
    return message


@pytest.mark.model
def test_pasted_text_is_fed_word_by_word_and_heard_as_it_goes(
    page: Page, web_url: str, browser_log: BrowserLog
) -> None:
    open_live(page, web_url)
    expect(page.locator("#generate")).to_have_text("Speak live")
    page.locator("#voice-list label", has_text="Heart").click()
    expect(page.locator("#chosen-voice")).to_have_text("Heart (af_heart)")
    page.fill("#live-text", TEXT)
    expect(page.locator("#live-count")).to_contain_text(f"{len(TEXT)} characters")
    # 2 characters every 0.1 s: the feed takes over 6 s, the first sentence 2.5 s.
    page.fill("#live-pace", "2")

    page.click("#generate")
    progress = page.locator("#live-progress")
    # Sound while the text is still being sent: the first sentence is spoken early.
    sent_when_heard = page.wait_for_function(
        """() => Number(document.querySelector('.wave').dataset.position) > 0
            ? Number(document.getElementById('live-progress').dataset.sentChars) : null"""
    ).json_value()
    assert 0 < sent_when_heard < len(TEXT)
    # A word being heard is marked, one of the text's own.
    marked = page.wait_for_function(
        "() => document.querySelector('#live-sent mark')?.textContent || null"
    ).json_value()
    assert marked in TEXT.split()

    expect(progress).to_have_attribute("data-state", "done", timeout=60_000)
    expect(page.locator("#gen-status")).to_contain_text("Done:")
    seconds = float(progress.get_attribute("data-seconds") or 0)
    assert seconds > 1
    received = int(progress.get_attribute("data-bytes") or 0)
    assert received / 2 / 24000 == pytest.approx(seconds, abs=0.001)
    assert progress.get_attribute("data-sent-chars") == str(len(TEXT))
    assert page.locator("#live-sent").inner_text() == TEXT
    expect(page.locator("#live-unsent")).to_be_empty()
    expect(page.locator("#generate")).to_be_enabled()
    expect(page.locator("#stop")).to_be_disabled()

    take = page.locator("#history .take").first
    expect(take).to_have_attribute("data-kind", "live")
    expect(take.locator(".take-text")).to_contain_text(f"Live: {TEXT[:60]}")
    assert float(take.get_attribute("data-seconds") or 0) == pytest.approx(seconds, abs=0.01)

    page.evaluate("document.activeElement.blur()")
    save_screenshot(page, "web-live.png")
    page.set_viewport_size({"width": 375, "height": 740})
    controls = page.locator("#panel-live :is(input, textarea, button):visible, [role=tab]")
    expect_labelled_and_within(page, controls, 375)
    assert browser_log.unexpected() == []


@pytest.mark.model
def test_stop_closes_the_socket_and_the_audio_stops(
    page: Page, web_url: str, browser_log: BrowserLog
) -> None:
    open_live(page, web_url)
    page.fill("#live-text", TEXT)
    page.fill("#live-pace", "2")  # slow: the text is still being sent when Stop comes
    page.click("#generate")
    page.wait_for_function("() => Number(document.querySelector('.wave').dataset.position) > 0")
    page.click("#stop")
    progress = page.locator("#live-progress")
    expect(progress).to_have_attribute("data-state", "stopped")
    expect(page.locator("#gen-status")).to_have_text("Stopped.")
    expect(page.locator(".wave")).to_have_attribute("data-state", "paused")
    sent = int(progress.get_attribute("data-sent-chars") or 0)
    assert 0 < sent < len(TEXT)
    page.wait_for_timeout(500)  # nothing more is sent or received once stopped
    assert progress.get_attribute("data-sent-chars") == str(sent)
    expect(page.locator("#history .take")).to_have_count(0)
    assert browser_log.unexpected() == []


@pytest.mark.model
def test_an_unknown_voice_shows_the_servers_message(
    page: Page, web_url: str, server: RunningServer, browser_log: BrowserLog
) -> None:
    sent = refusal(server.base_url, "zz_nobody", {"text": " "})
    assert (sent["error"], sent["code"]) == ("voice_not_found", 1008)

    open_live(page, web_url)
    page.fill("#mix-spec", "zz_nobody")
    page.click("#mix-use")
    expect(page.locator("#chosen-voice")).to_have_text("Blend zz_nobody")
    page.fill("#live-text", TEXT)
    page.click("#generate")
    alert = page.get_by_role("alert")
    expect(alert.locator(".alert-message")).to_have_text(str(sent["message"]))
    expect(alert.locator(".alert-title")).to_have_text("Could not speak live (closed 1008)")
    expect(page.locator("#live-progress")).to_have_attribute("data-state", "failed")
    expect(page.locator("#gen-status")).to_have_text("Failed.")
    expect(page.locator("#generate")).to_be_enabled()
    assert browser_log.unexpected() == []


@pytest.fixture
def fake_server(settings: Settings) -> Iterator[str]:
    """A server with the fake backend: no model needed."""
    with ServerThread(settings, FakeBackend()) as running:
        yield running.url


@pytest.fixture
def keyed_server(settings: Settings) -> Iterator[str]:
    """A server with the fake backend that wants the key "sekrit"."""
    keyed = settings.model_copy(update={"api_keys": [SecretStr("sekrit")]})
    with ServerThread(keyed, FakeBackend()) as running:
        yield running.url


def test_the_key_goes_with_the_text_and_a_refusal_is_shown_as_sent(
    page: Page, keyed_server: str, browser_log: BrowserLog
) -> None:
    sent = refusal(keyed_server, "af_heart", {"text": " "})
    assert (sent["error"], sent["code"]) == ("invalid_api_key", 1008)

    page.goto(f"{keyed_server}/web/")
    expect(page.locator("#key-box")).to_have_attribute("open", "")  # the voice list's 401
    page.get_by_role("tab", name="Live").click()
    page.fill("#live-text", "Hello there. This is live.")
    page.click("#generate")
    alert = page.get_by_role("alert")
    expect(alert.locator(".alert-message")).to_have_text(str(sent["message"]))
    expect(alert.locator(".alert-title")).to_have_text("Could not speak live (closed 1008)")
    # The socket's refusal goes where the page's 401s go: the key field says why.
    expect(page.locator("#key-note")).to_have_text(
        f"The server asks for an API key: {sent['message']}"
    )
    progress = page.locator("#live-progress")
    expect(progress).to_have_attribute("data-state", "failed")

    page.fill("#api-key", "sekrit")
    page.press("#api-key", "Enter")
    expect(page.locator("#voice-af_heart")).to_be_attached()
    page.click("#generate")
    expect(progress).to_have_attribute("data-state", "done")
    assert float(progress.get_attribute("data-seconds") or 0) > 0
    expect(page.locator("#alert")).to_be_empty()
    assert browser_log.unexpected(401) == []


def test_text_goes_word_by_word_and_timed_words_are_found_in_it(
    page: Page, fake_server: str
) -> None:
    page.goto(f"{fake_server}/web/")
    result = page.evaluate(
        """async () => {
            const live = await import(new URL("js/live.js", document.baseURI));
            const text = "Hi  there.\\nA\\ttab, 42. ";
            // Each character 100 ms, as the server would time them.
            const aligned = (spoken) => ({
                chars: [...spoken],
                charStartTimesMs: [...spoken].map((_, i) => i * 100),
                charsDurationsMs: [...spoken].map(() => 100),
            });
            // The server tidied the spaces: each word is still found in the text as sent.
            const words = new live.SpokenWords("Hello   world. Again.");
            words.place(aligned("Hello world. "), 1.5);
            words.place(aligned("Again."), 2.1);
            const at = (seconds) => words.wordAt(seconds)?.from ?? null;
            return {
                pieces: live.textPieces(text),
                words: words.words.map(({ from, to, start, end }) => [from, to, start, end]),
                heard: [at(0.1), at(0.55), at(0.65), at(1.6), at(5)],
                paces: ["", "abc", "0", "7.4", "9999"].map(live.paceFrom),
                url: live.liveUrl("af_heart(2)+am_michael(1)").href,
            };
        }"""
    )
    assert result["pieces"] == ["Hi", "  there.", "\nA", "\ttab,", " 42.", " "]
    assert result["words"] == [
        [0, 5, 0, 0.5],
        [8, 14, pytest.approx(0.6), pytest.approx(1.2)],
        [15, 21, 1.5, pytest.approx(2.1)],
    ]
    assert result["heard"] == [0, 0, 8, 15, None]
    assert result["paces"] == [20, 20, 1, 7, 500]
    host = fake_server.removeprefix("http://")
    assert result["url"] == (
        f"ws://{host}/v1/text-to-speech/af_heart(2)%2Bam_michael(1)/stream-input"
        "?output_format=pcm_24000"
    )

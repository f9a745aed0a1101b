"""The web UI in a real headless Chromium against ``kokoro-server serve`` with the
real model: what a user does, and what they must see."""

from __future__ import annotations

import io
import json
import re
import wave
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, Route, expect

from tests.e2e.conftest import (
    BrowserLog,
    expect_labelled_and_within,
    open_ui,
    save_screenshot,
)
from tests.realserver import RunningServer

pytestmark = [pytest.mark.model, pytest.mark.browser]

# Three sentences: the first is spoken while the others are still being made.
TEXT = "Hello from the web page. The sound starts early. The rest follows while it plays."


def test_speech_plays_while_it_is_generated_and_downloads(
    page: Page, web_url: str, browser_log: BrowserLog
) -> None:
    open_ui(page, web_url)
    expect(page.locator("#health-text")).to_contain_text("onnx")
    page.fill("#text", TEXT)
    expect(page.locator("#text-count")).to_contain_text(f"{len(TEXT)} characters")
    page.fill("#voice-search", "kumo")
    expect(page.locator("#voice-list .voice")).to_have_count(1)
    page.locator("#voice-list label", has_text="Kumo").click()
    expect(page.locator("#chosen-voice")).to_have_text("Kumo (jm_kumo)")
    page.select_option("#format", "wav")

    page.click("#generate")
    # The moment the play head moves, the page must still be generating.
    status_when_heard = page.wait_for_function(
        """() => Number(document.querySelector('.wave').dataset.position) > 0
            ? document.getElementById('gen-status').textContent : null"""
    ).json_value()
    assert status_when_heard == "Generating…"
    expect(page.locator(".wave")).to_have_attribute("data-state", "playing")

    take = page.locator("#history .take").first
    expect(take).to_be_visible(timeout=60_000)
    first_audio_ms = int(take.get_attribute("data-first-audio-ms") or 0)
    done_ms = int(take.get_attribute("data-done-ms") or 0)
    seconds = float(take.get_attribute("data-seconds") or 0)
    assert 0 < first_audio_ms < done_ms
    assert seconds > 3
    expect(take).to_contain_text("jm_kumo")
    # The last chunk arrived as the stream ended: it is still being heard.
    position_at_end = float(page.locator(".wave").get_attribute("data-position") or 0)
    page.wait_for_function(
        "(then) => Number(document.querySelector('.wave').dataset.position) > then + 0.3",
        arg=position_at_end,
    )

    with page.expect_download() as download:
        page.click("#download")
    assert download.value.suggested_filename == "kokoro-jm_kumo-1.wav"
    with wave.open(io.BytesIO(Path(download.value.path()).read_bytes())) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (24000, 1, 2)
        assert wav.getnframes() / 24000 == pytest.approx(seconds, abs=0.01)

    # The README's pictures (docs/; KOKORO_UPDATE_SCREENSHOTS=1 refreshes them).
    save_screenshot(page, "web-desktop.png")
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    save_screenshot(page, "web-mobile.png")
    assert browser_log.unexpected() == []


def test_a_saved_mix_appears_in_the_voice_list(
    page: Page, web_url: str, server: RunningServer, browser_log: BrowserLog
) -> None:
    open_ui(page, web_url)
    voices_before = page.locator("#voice-list .voice").count()
    expect(page.locator("#mixer")).to_have_attribute("open", "")
    page.select_option("#mix-voice-1", "jf_alpha")
    page.select_option("#mix-voice-2", "jm_kumo")
    page.focus("#mix-weight-2")
    for _ in range(5):  # 50 -> 25, by keyboard
        page.keyboard.press("ArrowLeft")
    expect(page.locator("#mix-spec")).to_have_value("jf_alpha(50)+jm_kumo(25)")
    expect(page.locator(".mix-row output")).to_have_text(["67 %", "33 %"])

    page.click("#mix-preview")
    preview = page.locator("#history .take", has_text="Preview:")
    expect(preview).to_contain_text("jf_alpha(50)+jm_kumo(25)", timeout=60_000)

    page.fill("#mix-name", "web-blend")
    page.click("#mix-save button[type=submit]")
    expect(page.locator("#mix-status")).to_contain_text("Saved “web-blend”")
    expect(page.locator("#voice-list .voice")).to_have_count(voices_before + 1)
    saved = page.locator("#voice-list .voice", has=page.locator("#voice-web-blend"))
    expect(saved).to_contain_text("saved mix")
    expect(page.locator("#voice-web-blend")).to_be_checked()
    expect(page.locator("#chosen-voice")).to_have_text("Web Blend (web-blend)")
    listed = httpx.get(f"{server.base_url}/v1/audio/voices").json()["voices"]
    assert "web-blend" in {voice["id"] for voice in listed}
    assert browser_log.unexpected() == []


def test_server_errors_are_shown_as_sent(
    page: Page, web_url: str, server: RunningServer, browser_log: BrowserLog
) -> None:
    open_ui(page, web_url)
    alert = page.get_by_role("alert")
    text = "Wait [pause:99s] here."
    sent = httpx.post(
        f"{server.base_url}/v1/audio/speech",
        json={"input": text, "response_format": "pcm", "stream": True},
    )
    assert sent.status_code == 400
    page.fill("#text", text)
    page.click("#generate")
    expect(alert.locator(".alert-message")).to_have_text(sent.json()["error"]["message"])
    expect(alert).to_contain_text("HTTP 400")

    # A malformed blend: the message points at the character, over two lines.
    sent = httpx.post(
        f"{server.base_url}/v1/audio/voices/combine",
        json={"voices": "jf_alpha((2)", "name": "broken"},
    )
    assert sent.status_code == 400
    page.fill("#mix-spec", "jf_alpha((2)")
    page.fill("#mix-name", "broken")
    page.click("#mix-save button[type=submit]")
    message = sent.json()["error"]["message"]
    assert "\n" in message
    expect(alert.locator(".alert-message")).to_have_text(message)
    assert alert.locator(".alert-message").inner_text() == message

    page.get_by_role("button", name="Dismiss the message").click()
    expect(page.locator("#alert")).to_be_empty()
    assert browser_log.unexpected(400) == []


def test_a_401_asks_for_the_key_and_then_every_request_carries_it(
    page: Page, web_url: str, browser_log: BrowserLog
) -> None:
    # The server has no keys yet; stand in for one that wants "sekrit".
    seen: list[str | None] = []

    def guard(route: Route) -> None:
        authorization = route.request.headers.get("authorization")
        seen.append(authorization)
        if authorization == "Bearer sekrit":
            route.continue_()
            return
        error = {"message": "Give a valid API key.", "type": "authentication_error"}
        body = json.dumps({"error": error})
        route.fulfill(status=401, content_type="application/json", body=body)

    page.route(re.compile(r"/(v1/|health)"), guard)
    page.goto(web_url)
    expect(page.get_by_role("alert")).to_contain_text("Give a valid API key.")
    expect(page.locator("#key-box")).to_have_attribute("open", "")
    expect(page.locator("#api-key")).to_be_focused()
    expect(page.locator("#health-text")).to_have_text("API key needed")

    page.keyboard.type("sekrit")
    page.keyboard.press("Enter")
    expect(page.locator("#voice-jm_kumo")).to_be_attached()
    expect(page.locator("#health")).to_have_attribute("data-state", "ok")

    seen.clear()
    page.reload()  # the key was kept in this browser
    expect(page.locator("#voice-jm_kumo")).to_be_attached()
    expect(page.locator("#health")).to_have_attribute("data-state", "ok")
    assert seen
    assert set(seen) == {"Bearer sekrit"}
    assert browser_log.unexpected(401) == []


def test_every_control_is_labelled_and_usable_on_a_phone(
    page: Page, web_url: str, browser_log: BrowserLog
) -> None:
    page.set_viewport_size({"width": 375, "height": 740})
    open_ui(page, web_url)
    page.keyboard.press("Tab")
    expect(page.locator(".skip-link")).to_be_focused()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")  # from the text area to the next control
    assert page.evaluate("document.activeElement.id") == "open-file"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"

    page.locator("#mixer summary").click()
    controls = page.locator("input:visible, select:visible, textarea:visible, button:visible")
    assert controls.count() > 20
    expect_labelled_and_within(page, controls, 375)
    assert browser_log.unexpected() == []


def test_pcm_split_anywhere_decodes_and_makes_a_valid_wav(page: Page, web_url: str) -> None:
    open_ui(page, web_url)
    samples = [0, 1, -1, 32767, -32768, 1234, -4321, 77]
    result = page.evaluate(
        """async (samples) => {
            const { PcmDecoder, wavBlob } = await import(new URL("js/pcm.js", document.baseURI));
            const bytes = new Uint8Array(new Int16Array(samples).buffer);
            const decoder = new PcmDecoder();
            const chunks = [];
            const decoded = [];
            // Reads of 1, 2 and 3 bytes: samples split across reads.
            for (let at = 0, size = 1; at < bytes.length; at += size, size = (size % 3) + 1) {
                const chunk = bytes.slice(at, at + size);
                chunks.push(chunk);
                decoded.push(...decoder.push(chunk));
            }
            const wav = new Uint8Array(await wavBlob(chunks).arrayBuffer());
            return {
                decoded: decoded.map((x) => Math.round(x * 32768)),
                partial: decoder.hasPartialSample,
                wav: Array.from(wav),
            };
        }""",
        samples,
    )
    assert result["decoded"] == samples
    assert result["partial"] is False
    with wave.open(io.BytesIO(bytes(result["wav"]))) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (24000, 1, 2)
        frames = wav.readframes(wav.getnframes())
    assert [int.from_bytes(frames[i : i + 2], "little", signed=True) for i in range(0, 16, 2)] == (
        samples
    )


def test_blend_specs_and_voice_filters(page: Page, web_url: str) -> None:
    open_ui(page, web_url)
    result = page.evaluate(
        """async () => {
            const mixer = await import(new URL("js/mixer.js", document.baseURI));
            const voices = await import(new URL("js/voices.js", document.baseURI));
            const list = [
                { id: "af_heart", name: "Heart", language: "en-us", gender: "female" },
                { id: "bm_george", name: "George", language: "en-gb", gender: "male" },
                { id: "jm_kumo", name: "Kumo", language: "ja", gender: "male" },
            ];
            const ids = (found) => found.map((voice) => voice.id);
            return {
                two: mixer.blendSpec([{ voice: "a", weight: 60 }, { voice: "b", weight: 40 }]),
                zero: mixer.blendSpec([{ voice: "a", weight: 0 }, { voice: "b", weight: 5 }]),
                shares: mixer.shares([{ voice: "a", weight: 50 }, { voice: "b", weight: 25 }]),
                male: ids(voices.filterVoices(list, { gender: "male" })),
                british: ids(voices.filterVoices(list, { search: "british" })),
                japaneseMale: ids(voices.filterVoices(list, { language: "ja", search: "ku" })),
            };
        }"""
    )
    assert result["two"] == "a(60)+b(40)"
    assert result["zero"] == "b"
    assert result["shares"] == pytest.approx([200 / 3, 100 / 3])
    assert result["male"] == ["bm_george", "jm_kumo"]
    assert result["british"] == ["bm_george"]
    assert result["japaneseMale"] == ["jm_kumo"]

"""The web UI's dialogue mode in a real headless Chromium against ``kokoro-server
serve`` with the real model: speakers, turns, the script helper, errors, the draft."""

from __future__ import annotations

import io
import re
import wave
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import (
    BrowserLog,
    expect_labelled_and_within,
    open_ui,
    save_screenshot,
)
from tests.realserver import RunningServer

pytestmark = [pytest.mark.model, pytest.mark.browser]

# Short turns: the real model shares two cores here.
SPEAKERS = [
    ("host", "jf_alpha"),
    ("guest", "jm_kumo"),
    ("expert", "jf_nezumi"),
    ("caller", "jf_tebukuro"),
]
TURNS = [
    ("host", "Welcome back."),
    ("guest", "Glad to be here."),
    ("expert", "One more thing."),
    ("caller", "A quick question."),
]


def open_dialogue(page: Page, url: str) -> None:
    open_ui(page, url)
    page.get_by_role("tab", name="Dialogue").click()
    expect(page.get_by_role("tabpanel", name="Dialogue")).to_be_visible()


def speaker_row(page: Page, number: int) -> Locator:
    return page.locator("#dlg-speakers > li").nth(number - 1)


def turn_text(page: Page, number: int) -> Locator:
    return page.get_by_label(f"Turn {number} text", exact=True)


def turn_speaker(page: Page, number: int) -> Locator:
    return page.get_by_label(f"Turn {number} speaker", exact=True)


def test_a_four_speaker_dialogue_plays_while_it_is_generated(
    page: Page, web_url: str, browser_log: BrowserLog
) -> None:
    open_ui(page, web_url)
    # The tabs by keyboard: one tab stop, arrows switch.
    page.get_by_role("tab", name="Text").focus()
    page.keyboard.press("ArrowRight")
    dialogue_tab = page.get_by_role("tab", name="Dialogue")
    expect(dialogue_tab).to_be_focused()
    expect(dialogue_tab).to_have_attribute("aria-selected", "true")
    expect(page.locator("#panel-text")).to_be_hidden()
    expect(page.locator("#dlg-speakers > li")).to_have_count(2)

    page.click("#dlg-add-speaker")
    page.click("#dlg-add-speaker")
    expect(page.get_by_label("Name of speaker 4", exact=True)).to_be_focused()
    for number, (name, voice) in enumerate(SPEAKERS, start=1):
        page.get_by_label(f"Name of speaker {number}", exact=True).fill(name)
        page.get_by_label(f"Voice of speaker {number}", exact=True).select_option(voice)
    page.get_by_label("Speed of speaker 2", exact=True).fill("1.2")
    page.fill("#dlg-gap", "0.3")

    # Enter goes on to the next (empty) turn, then makes new ones for the next speaker.
    turn_text(page, 1).click()
    for number, (_, text) in enumerate(TURNS, start=1):
        expect(turn_text(page, number)).to_be_focused()
        page.keyboard.type(text)
        if number < len(TURNS):
            page.keyboard.press("Enter")
    for number, (name, text) in enumerate(TURNS, start=1):
        expect(turn_speaker(page, number).locator("option:checked")).to_have_text(name)
        expect(turn_text(page, number)).to_have_value(text)
    expect(page.locator("#dlg-count")).to_contain_text("4 turns by 4 speakers")
    page.select_option("#format", "wav")

    with page.expect_request(re.compile(r"/v1/audio/dialogue$")) as sent:
        page.click("#generate")
    assert sent.value.post_data_json == {
        "model": "kokoro",
        "turns": [{"speaker": name, "text": text} for name, text in TURNS],
        "speakers": {
            "host": "jf_alpha",
            "guest": {"voice": "jm_kumo", "speed": 1.2},
            "expert": "jf_nezumi",
            "caller": "jf_tebukuro",
        },
        "speed": 1,
        "gap": 0.3,
        "response_format": "pcm",
        "stream": True,
    }
    page.wait_for_function("() => Number(document.querySelector('.wave').dataset.position) > 0")
    expect(page.locator(".wave")).to_have_attribute("data-state", "playing")

    take = page.locator("#history .take").first
    expect(take).to_be_visible(timeout=60_000)
    expect(take).to_have_attribute("data-kind", "dialogue")
    expect(take.locator(".take-text")).to_have_text(
        "Dialogue: host: Welcome back. / guest: Glad to be here. / expert: One more thing. / "
        "caller: A quick question."
    )
    expect(take).to_contain_text("host: jf_alpha, guest: jm_kumo, expert: jf_nezumi")
    seconds = float(take.get_attribute("data-seconds") or 0)
    assert seconds > 3 * 0.3  # at least the three gaps

    with page.expect_download() as download:
        page.click("#download")
    assert download.value.suggested_filename == "kokoro-dialogue-1.wav"
    with wave.open(io.BytesIO(Path(download.value.path()).read_bytes())) as wav:
        assert wav.getnframes() / 24000 == pytest.approx(seconds, abs=0.01)

    page.locator("#dlg-paste summary").click()
    page.evaluate("document.activeElement.blur()")
    # The README's picture (docs/; KOKORO_UPDATE_SCREENSHOTS=1 refreshes it).
    save_screenshot(page, "web-dialogue.png")
    assert browser_log.unexpected() == []


def test_a_compressed_download_asks_the_dialogue_endpoint_again(
    page: Page, web_url: str, browser_log: BrowserLog
) -> None:
    open_dialogue(page, web_url)
    turn_text(page, 1).fill("Hi.")
    turn_text(page, 2).fill("Hello.")
    page.select_option("#format", "flac")
    page.click("#generate")
    take = page.locator("#history .take").first
    expect(take).to_be_visible(timeout=60_000)
    with (
        page.expect_request(re.compile(r"/v1/audio/dialogue$")) as sent,
        page.expect_download() as download,
    ):
        page.click("#download")
    body = sent.value.post_data_json
    assert (body["response_format"], body["stream"]) == ("flac", False)
    assert [turn["text"] for turn in body["turns"]] == ["Hi.", "Hello."]
    assert download.value.suggested_filename == "kokoro-dialogue-1.flac"
    assert Path(download.value.path()).read_bytes()[:4] == b"fLaC"
    assert browser_log.unexpected() == []


def test_a_pasted_script_becomes_turns_and_speakers(
    page: Page, web_url: str, browser_log: BrowserLog
) -> None:
    open_dialogue(page, web_url)
    page.locator("#dlg-paste summary").click()
    page.fill(
        "#dlg-script",
        "host: Welcome to the show.\n"
        "\n"
        "**Guest:** Thanks for having me.\n"
        "It is good to be here.\n"
        "producer: Ten seconds, at 10:30 sharp.\n"
        "We ask one thing: why?\n",
    )
    page.click("#dlg-script-add")
    expect(page.locator("#dlg-status")).to_have_text("Added 3 turns; new speakers: producer.")
    expect(page.locator("#dlg-turns > li")).to_have_count(3)  # the two empty turns went
    expected = [
        ("host", "Welcome to the show."),
        ("guest", "Thanks for having me.\nIt is good to be here."),
        ("producer", "Ten seconds, at 10:30 sharp.\nWe ask one thing: why?"),
    ]
    for number, (name, text) in enumerate(expected, start=1):
        expect(turn_speaker(page, number).locator("option:checked")).to_have_text(name)
        expect(turn_text(page, number)).to_have_value(text)
    expect(page.locator("#dlg-speakers > li")).to_have_count(3)
    expect(page.get_by_label("Name of speaker 3", exact=True)).to_have_value("producer")
    expect(turn_text(page, 1)).to_be_focused()
    expect(page.locator("#dlg-script")).to_have_value("")

    # Pasted again, the turns are added after the ones there.
    page.fill("#dlg-script", "host: Goodbye.")
    page.click("#dlg-script-add")
    expect(page.locator("#dlg-turns > li")).to_have_count(4)
    expect(turn_text(page, 4)).to_have_value("Goodbye.")
    assert browser_log.unexpected() == []


def test_an_unknown_voice_is_reported_on_its_speaker(
    page: Page, web_url: str, server: RunningServer, browser_log: BrowserLog
) -> None:
    open_dialogue(page, web_url)
    guest = speaker_row(page, 2)
    page.get_by_label("Voice of speaker 2", exact=True).select_option(label="Other voice or blend…")
    spec = page.get_by_label("Voice or blend of speaker 2", exact=True)
    expect(spec).to_be_focused()
    spec.fill("zz_nobody")
    turn_text(page, 1).fill("Hi.")
    turn_text(page, 2).fill("Hello.")
    sent = httpx.post(
        f"{server.base_url}/v1/audio/dialogue",
        json={
            "speakers": {"host": "jf_alpha", "guest": "zz_nobody"},
            "turns": [{"speaker": "host", "text": "Hi."}, {"speaker": "guest", "text": "Hello."}],
            "response_format": "pcm",
            "stream": True,
        },
    )
    assert sent.status_code == 404
    assert sent.json()["error"]["param"] == "speakers.guest"

    page.click("#generate")
    alert = page.get_by_role("alert")
    expect(alert.locator(".alert-message")).to_have_text(sent.json()["error"]["message"])
    expect(alert).to_contain_text("HTTP 404")
    expect(spec).to_have_attribute("aria-invalid", "true")
    expect(guest).to_have_class(re.compile(r"\binvalid\b"))
    expect(speaker_row(page, 1)).not_to_have_class(re.compile(r"\binvalid\b"))
    expect(page.locator('#panel-dialogue [aria-invalid="true"]')).to_have_count(1)

    spec.fill("jm_kumo")  # mended: no longer marked
    expect(spec).not_to_have_attribute("aria-invalid", "true")
    expect(guest).not_to_have_class(re.compile(r"\binvalid\b"))

    # A bad tag in a turn marks that turn.
    turn_text(page, 2).fill("Wait [pause:99s] here.")
    page.click("#generate")
    expect(alert).to_contain_text("HTTP 400")
    expect(turn_text(page, 2)).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#dlg-turns > li").nth(1)).to_have_class(re.compile(r"\binvalid\b"))
    expect(page.locator('#panel-dialogue [aria-invalid="true"]')).to_have_count(1)
    assert browser_log.unexpected(400, 404) == []


def test_the_draft_survives_a_reload(page: Page, web_url: str, browser_log: BrowserLog) -> None:
    open_dialogue(page, web_url)
    page.get_by_label("Name of speaker 1", exact=True).fill("narrator")
    page.get_by_label("Voice of speaker 2", exact=True).select_option(label="Other voice or blend…")
    page.get_by_label("Voice or blend of speaker 2", exact=True).fill("jf_alpha(1)+jm_kumo(1)")
    page.get_by_label("Speed of speaker 2", exact=True).fill("0.9")
    turn_text(page, 1).fill("Once upon a time.")
    turn_text(page, 2).fill("Yes?\nGo on.")
    turn_speaker(page, 2).select_option(label="narrator")
    page.fill("#dlg-gap", "1.2")
    page.locator("#dlg-paste summary").click()
    page.fill("#dlg-script", "guest: not added yet")

    page.reload()
    expect(page.locator("#health")).to_have_attribute("data-state", "ok")
    expect(page.get_by_role("tab", name="Dialogue")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_label("Name of speaker 1", exact=True)).to_have_value("narrator")
    expect(page.get_by_label("Voice or blend of speaker 2", exact=True)).to_have_value(
        "jf_alpha(1)+jm_kumo(1)"
    )
    expect(page.get_by_label("Speed of speaker 2", exact=True)).to_have_value("0.9")
    expect(turn_text(page, 1)).to_have_value("Once upon a time.")
    expect(turn_text(page, 2)).to_have_value("Yes?\nGo on.")
    expect(turn_speaker(page, 2).locator("option:checked")).to_have_text("narrator")
    expect(page.locator("#dlg-gap")).to_have_value("1.2")
    expect(page.locator("#dlg-script")).to_have_value("guest: not added yet")
    assert browser_log.unexpected() == []


def test_turns_move_and_go_by_keyboard_and_everything_fits_a_phone(
    page: Page, web_url: str, browser_log: BrowserLog
) -> None:
    page.set_viewport_size({"width": 375, "height": 740})
    open_dialogue(page, web_url)
    turn_text(page, 1).fill("First.")
    turn_text(page, 2).fill("Second.")
    turn_text(page, 2).press("Alt+ArrowUp")
    expect(turn_text(page, 1)).to_have_value("Second.")
    expect(turn_text(page, 1)).to_be_focused()
    page.get_by_role("button", name="Move turn 1 down").click()
    expect(turn_text(page, 2)).to_have_value("Second.")
    # Focus stays on a move button of the moved turn, now the last one.
    expect(page.get_by_role("button", name="Move turn 2 up")).to_be_focused()

    page.click("#dlg-add-turn")
    expect(turn_text(page, 3)).to_be_focused()
    expect(turn_speaker(page, 3).locator("option:checked")).to_have_text("host")
    page.keyboard.press("Backspace")  # an empty turn goes, back to the one before
    expect(page.locator("#dlg-turns > li")).to_have_count(2)
    expect(turn_text(page, 2)).to_be_focused()

    # Removing a speaker hands their turns on; nothing written is lost.
    page.get_by_role("button", name="Remove speaker 1").click()
    expect(page.locator("#dlg-status")).to_have_text("Removed host; their turn goes to guest.")
    expect(turn_speaker(page, 1).locator("option:checked")).to_have_text("guest")
    expect(page.get_by_role("button", name="Remove speaker 1")).to_be_disabled()

    page.locator("#dlg-paste summary").click()
    controls = page.locator(
        "#panel-dialogue :is(input, select, textarea, button):visible, [role=tab]"
    )
    assert controls.count() > 10
    expect_labelled_and_within(page, controls, 375)
    assert browser_log.unexpected() == []


def test_scripts_and_error_params_are_read_right(page: Page, web_url: str) -> None:
    open_ui(page, web_url)
    result = page.evaluate(
        """async () => {
            const { paramTarget, parseScript } =
                await import(new URL("js/dialogue.js", document.baseURI));
            return {
                script: parseScript([
                    "Intro without a name.",
                    "Dr. Jane Smith: Hello.",
                    "https://example.com is where we are.",
                    "司会：ようこそ。",
                    "**Guest**: Hi.",
                    "Welcome to the show: today, voices.",
                    "host:",
                    "Late text.",
                    "empty:",
                ].join("\\n")),
                params: [
                    "turns[2].speaker", "turns.3.text", "turns[0].text",
                    "speakers.a.b.speed", "speakers.guest", "speed", null,
                ].map(paramTarget),
            };
        }"""
    )
    assert result["script"] == [
        {"speaker": None, "text": "Intro without a name."},
        {"speaker": "Dr. Jane Smith", "text": "Hello.\nhttps://example.com is where we are."},
        {"speaker": "司会", "text": "ようこそ。"},
        {"speaker": "Guest", "text": "Hi.\nWelcome to the show: today, voices."},
        {"speaker": "host", "text": "Late text."},
    ]
    assert result["params"] == [
        {"turn": 2, "field": "speaker"},
        {"turn": 3, "field": "text"},
        {"turn": 0, "field": "text"},
        {"speaker": "a.b.speed"},
        {"speaker": "guest"},
        None,
        None,
    ]

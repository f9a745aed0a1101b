"""The pronunciation editor in the browser, against the real server: teach a word,
hear it, see its phonemes, take it back."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import BrowserLog, expect_labelled_and_within, open_ui
from tests.realserver import RunningServer

pytestmark = [pytest.mark.model, pytest.mark.browser]

# Made-up words: the server is shared with other tests, whose texts must not change.
WORD = "Zorblaxian"
PHONEMES = "zˈɔɹblæks"
RESPELLED = "qwindle"
LEXICON = "/v1/audio/lexicon/en-us"


@pytest.fixture
def clean_lexicon(server: RunningServer) -> Iterator[None]:
    yield
    for word in (WORD, RESPELLED):
        httpx.delete(f"{server.base_url}{LEXICON}/{word}")


def phonemes_of(server: RunningServer, text: str) -> str:
    response = httpx.post(f"{server.base_url}/dev/phonemize", json={"text": text, "language": "a"})
    result: str = response.json()["phonemes"]
    return result


def test_a_taught_word_is_previewed_saved_and_deleted(
    page: Page,
    web_url: str,
    server: RunningServer,
    browser_log: BrowserLog,
    clean_lexicon: None,
) -> None:
    open_ui(page, web_url)
    page.click("#lexicon summary")
    expect(page.locator("#lex-language")).to_have_value("en-us")
    expect(page.locator("#lex-count")).to_contain_text("American English")
    expect_labelled_and_within(page, page.locator("#lexicon :is(input, select, button)"), 1280)
    takes = page.locator("#history .take")
    takes_before = takes.count()

    # A draft is heard before it is saved: its phonemes are the ones written.
    page.fill("#lex-word", WORD)
    page.select_option("#lex-kind", "ipa")
    page.fill("#lex-value", PHONEMES)
    page.click("#lex-preview")
    expect(page.locator("#lex-phonemes")).to_have_text(PHONEMES)
    expect(takes).to_have_count(takes_before + 1, timeout=60_000)
    assert float(takes.first.get_attribute("data-seconds") or 0) > 0.2

    page.click("#lexicon button[type=submit]")
    expect(page.locator("#lex-status")).to_contain_text(f"Saved “{WORD}”")
    row = page.locator(f'#lex-entries li[data-word="{WORD}"]')
    expect(row).to_contain_text(f"said /{PHONEMES}/")
    assert httpx.get(f"{server.base_url}{LEXICON}").json()["entries"][WORD] == {"ipa": PHONEMES}

    # Saved, the word alone is said so, everywhere; the row's Preview says it too.
    row.get_by_role("button", name=f"Preview “{WORD}”").click()
    expect(page.locator("#lex-phonemes")).to_have_text(PHONEMES)
    expect(takes).to_have_count(takes_before + 2, timeout=60_000)
    assert phonemes_of(server, f"The {WORD} fleet.").split(" ")[1] == PHONEMES

    # A respelling is read as its text.
    page.fill("#lex-word", RESPELLED)
    page.select_option("#lex-kind", "respell")
    page.fill("#lex-value", "quick so")
    page.click("#lexicon button[type=submit]")
    expect(page.locator(f'#lex-entries li[data-word="{RESPELLED}"]')).to_contain_text(
        "said “quick so”"
    )
    page.fill("#lex-value", "")
    page.click("#lex-preview")
    expect(page.locator("#lex-phonemes")).to_have_text(phonemes_of(server, "quick so"))

    # A symbol the model does not know: the server's message, naming it.
    page.fill("#lex-word", "snowman")
    page.select_option("#lex-kind", "ipa")
    page.fill("#lex-value", "snˈO☃")
    page.click("#lexicon button[type=submit]")
    expect(page.locator("#alert")).to_contain_text("'☃'")
    expect(page.locator('#lex-entries li[data-word="snowman"]')).to_have_count(0)

    row.get_by_role("button", name=f"Delete “{WORD}”").click()
    expect(row).to_have_count(0)
    assert WORD not in httpx.get(f"{server.base_url}{LEXICON}").json()["entries"]
    assert PHONEMES not in phonemes_of(server, WORD)
    assert browser_log.unexpected(400) == []


def test_each_language_lists_its_own_words(
    page: Page, web_url: str, server: RunningServer, clean_lexicon: None
) -> None:
    httpx.put(f"{server.base_url}{LEXICON}", json={"entries": {RESPELLED: {"respell": "quick so"}}})
    open_ui(page, web_url)
    page.click("#lexicon summary")
    expect(page.locator(f'#lex-entries li[data-word="{RESPELLED}"]')).to_have_count(1)
    page.select_option("#lex-language", "en-gb")
    expect(page.locator("#lex-count")).to_contain_text("British English")
    expect(page.locator(f'#lex-entries li[data-word="{RESPELLED}"]')).to_have_count(0)

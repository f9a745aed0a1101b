"""LLM text read as prose: markdown without its markup, emoji dropped or named."""

from __future__ import annotations

import contextlib
import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.text.markdown import (
    CODE_OMITTED,
    EmojiMode,
    MarkdownNestingError,
    read_emoji,
    speakable_markdown,
)
from api.text.split import split_sentences

LLM_ANSWER = """\
# Getting started 🚀

Kokoro is a **small** and *fast* model; read [the guide](https://example.com/guide "Guide").

- Install the server 😀
- Pick a _voice_
- Press play 👍🏽

```python
print("hello")
```

| Voice | Accent |
|-------|--------|
| Heart | American |
| Emma | British |
"""

WORDS = re.compile(r"[A-Za-z0-9]+")


def words(text: str) -> list[str]:
    return WORDS.findall(text)


def test_an_llm_answer_is_read_without_its_markup() -> None:
    spoken = speakable_markdown(LLM_ANSWER)
    for markup in ("*", "#", "`", "|", "http", "example", "print", "_"):
        assert markup not in spoken
    assert not re.search(r"[^\x00-\x7f]", spoken)  # no emoji, nor what decorates them
    assert list(split_sentences(spoken)) == [
        "Getting started.",
        "Kokoro is a small and fast model; read the guide.",
        "Install the server.",
        "Pick a voice.",
        "Press play.",
        CODE_OMITTED,
        "Voice, Accent.",
        "Heart, American.",
        "Emma, British.",
    ]


def test_emoji_can_be_named_instead() -> None:
    spoken = speakable_markdown(LLM_ANSWER, emoji="name")
    assert "Getting started rocket." in spoken
    assert "Install the server grinning face." in spoken
    assert "Press play thumbs up sign." in spoken  # the skin tone is not read
    assert "fitzpatrick" not in spoken


@pytest.mark.parametrize(
    ("markdown", "spoken"),
    [
        pytest.param("## Setup", "Setup.", id="heading-gets-a-period"),
        pytest.param("## Ready?", "Ready?", id="heading-keeps-its-end"),
        pytest.param("Steps:\n===", "Steps:", id="setext-heading"),
        pytest.param("- one\n- two!", "one.\ntwo!", id="bullets"),
        pytest.param("1. Install\n2. Run", "1, Install.\n2, Run.", id="ordered"),
        pytest.param("2024. A year", "2024, A year.", id="ordered-as-written"),
        pytest.param("7) seven\n8) eight", "7, seven.\n8, eight.", id="ordered-start"),
        pytest.param("- a\n  - b\n    - c", "a.\nb.\nc.", id="nested"),
        pytest.param("a\nb  \nc", "a b\nc", id="soft-and-hard-breaks"),
        pytest.param("**bold** __strong__ *em* ~~gone~~", "bold strong em gone", id="emphasis"),
        pytest.param("2*3*4 is 24", "2*3*4 is 24", id="product-stays"),
        pytest.param("run `pip install x`", "run pip install x", id="inline-code"),
        pytest.param("~~~\ncode\n~~~", CODE_OMITTED, id="tilde-fence"),
        pytest.param("text\n\n    indented line", "text\nindented line", id="indented-is-read"),
        pytest.param("[docs](https://a.io/x)", "docs", id="link"),
        pytest.param("[docs][1]\n\n[1]: https://a.io", "docs", id="reference-link"),
        pytest.param("[x](javascript:alert(1))", "x", id="any-destination"),
        pytest.param("see <https://a.io/x>", "see https://a.io/x", id="autolink"),
        pytest.param("mail <a@b.io>", "mail a@b.io", id="email-autolink"),
        pytest.param("see https://a.io/x_y", "see https://a.io/x_y", id="bare-url"),
        pytest.param("![a red cat](cat.png)", "a red cat", id="image-alt"),
        pytest.param("> quoted *text*", "quoted text", id="blockquote"),
        pytest.param("above\n\n---\n\nbelow", "above\nbelow", id="thematic-break"),
        pytest.param("a <b>bold</b> <br> word", "a bold   word", id="html-inline"),
        pytest.param("List<String> and <T>", "List String  and  T", id="not-html"),
        pytest.param("<div>\n<p>kept</p>\n</div>", "kept", id="html-block"),
        pytest.param("<!-- a note -->\n\nafter", "after", id="html-comment"),
        pytest.param("<script>\nalert(1)\n</script>\n\nafter", "after", id="script"),
        pytest.param("Tom &amp; Jerry &lt;3", "Tom & Jerry <3", id="entities"),
        pytest.param("\\*not emphasis\\*", "*not emphasis*", id="escapes"),
        pytest.param("| a | |\n|---|---|\n| | d |", "a.\nd.", id="empty-cells"),
    ],
)
def test_each_construct_has_its_reading(markdown: str, spoken: str) -> None:
    assert speakable_markdown(markdown) == spoken


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("Say [Kokoro](/kˈOkəɹO/) twice.", id="pronunciation"),
        pytest.param("**[Kokoro](/kˈOkəɹO/)**", id="pronunciation-in-bold"),
        pytest.param("[pause:1.5s]", id="pause"),
        pytest.param("[voice:af_heart] Hi [voice: af_heart+am_adam] there", id="voices"),
        pytest.param("[voice: af_heart(2)+am_adam(1)]", id="weighted-blend"),
        pytest.param("[speed:1.2] fast [speed: 0.8x] slow", id="speed"),
        pytest.param("[PAUSE: 0.25 s]", id="spaced-pause"),
    ],
)
def test_pronunciations_and_tags_come_through_unchanged(text: str) -> None:
    spoken = speakable_markdown(text)
    for kept in re.findall(r"\[[^\]]*\](?:\(/[^)]*/\))?", text):
        assert kept in spoken


def test_a_tag_parsed_as_a_link_keeps_its_brackets() -> None:
    assert speakable_markdown("[pause:1s](later)") == "[pause:1s]"


def test_a_pronunciation_in_a_list_item_is_kept() -> None:
    assert speakable_markdown("- [Kokoro](/kˈOkəɹO/) speaks") == "[Kokoro](/kˈOkəɹO/) speaks."


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("The quick brown fox jumps over the lazy dog.", id="sentence"),
        pytest.param("I have 5 * 3 = 15 apples, a_b_c and #hashtags.", id="lone-markup"),
        pytest.param("It's 5 > 3 and 2 < 4; x_y = 1 & z.", id="comparisons"),
        pytest.param("Price: $5 (approx.) - see below!", id="punctuation"),
        pytest.param("Dear Jane,\nthanks for writing.\nBest, Tom", id="letter"),
    ],
)
def test_plain_text_keeps_its_words(text: str) -> None:
    spoken = speakable_markdown(text)
    assert words(spoken) == words(text)
    assert re.sub(r"\s+", " ", spoken) == re.sub(r"\s+", " ", text)


PLAIN = st.text(alphabet=st.sampled_from("abcXYZ019 .,;!?'\"()\n"), max_size=200)


@settings(max_examples=300, deadline=None)
@given(PLAIN)
def test_text_without_markup_characters_keeps_every_word(text: str) -> None:
    assert words(speakable_markdown(text)) == words(text)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_is_read_without_raising(text: str) -> None:
    with contextlib.suppress(MarkdownNestingError):  # only a text nested ten levels deep
        assert isinstance(speakable_markdown(text), str)


@pytest.mark.parametrize(
    ("text", "dropped", "named"),
    [
        pytest.param("Great job 🎉!", "Great job!", "Great job party popper!", id="before-end"),
        pytest.param("job🎉great", "job great", "job party popper great", id="between-words"),
        pytest.param("🎉 Start", " Start", "party popper Start", id="at-start"),
        pytest.param("I ❤️ it", "I it", "I heavy black heart it", id="variation-selector"),
        pytest.param("Hi 👋🏾 there", "Hi there", "Hi waving hand sign there", id="skin-tone"),
        pytest.param("us 🇺🇸 here", "us here", "us flag here", id="flag"),
        pytest.param("fam 👨‍👩‍👧 ok", "fam ok", "fam man woman girl ok", id="zwj-family"),
        pytest.param("hot 🔥🔥🔥", "hot", "hot fire", id="repeated-once"),
        pytest.param("1️⃣ first", "1 first", "1 first", id="keycap-digit"),
        pytest.param("#️⃣ tag", " tag", " tag", id="keycap-sign"),
        pytest.param(
            "done ✅ ✔ ☑",
            "done",
            "done white heavy check mark, heavy check mark, ballot box with check",
            id="checks",
        ),
        pytest.param("© 2024 ™ → ½", "© 2024 ™ → ½", "© 2024 ™ → ½", id="text-symbols-stay"),
        pytest.param(
            "日本語 and Ünïcödé", "日本語 and Ünïcödé", "日本語 and Ünïcödé", id="letters-stay"
        ),
    ],
)
def test_emoji_are_dropped_or_named(text: str, dropped: str, named: str) -> None:
    assert read_emoji(text, "drop") == dropped
    assert read_emoji(text, "name") == named


def test_a_heading_ending_in_an_emoji_keeps_its_own_end() -> None:
    assert speakable_markdown("# Done! 🎉") == "Done!"
    assert speakable_markdown("# Done 🎉") == "Done."


def test_nine_list_levels_are_read_and_ten_are_refused() -> None:
    nine = "".join("  " * level + f"- level{level}\n" for level in range(9))
    assert words(speakable_markdown(nine)) == [f"level{level}" for level in range(9)]
    with pytest.raises(MarkdownNestingError, match="nested"):
        speakable_markdown(nine + "  " * 9 + "- level9\n")


N = 90_000
HOSTILE = {
    "nested-list-lines": "".join("  " * (i % 200) + "- item\n" for i in range(N // 200)),
    "list-of-lists-line": "- " * (N // 2 - 1) + "a",
    "nested-quotes": "> " * (N // 2) + "a",
    "quote-list-mix": "".join("> " * (i % 30) + "- x\n" for i in range(N // 40)),
    "emphasis-run": "*a" * (N // 2),
    "strong-run": "**a" * (N // 3),
    "mixed-delimiters": "*_" * (N // 2),
    "open-brackets": "[" * N,
    "open-links": "[a](" * (N // 4),
    "nested-images": "![" * (N // 4) + "x" + "](a)" * (N // 4),
    "backticks": "`" * N,
    "backtick-runs": "".join("`" * i + "a" for i in range(1, 420)),
    "tags": "<b>" * (N // 3),
    "unclosed-tags": "<a" * (N // 2),
    "wide-table": "|a" * (N // 4) + "\n" + "|-" * (N // 4) + "\n",
    "long-table": "|a|b|\n|-|-|\n" + "|1|2|\n" * (N // 6),
    "emoji": "😀" * (N // 2),
    "zwj-chain": "👨\u200d" * (N // 3),
    "skin-tones": "🏽" * (N // 2),
    "money-list": "$" + "1," * 45_000,
}


@pytest.mark.parametrize("text", [pytest.param(t, id=name) for name, t in HOSTILE.items()])
@pytest.mark.parametrize("emoji", ["drop", "name"])
def test_hostile_inputs_finish_in_bounded_time(text: str, emoji: EmojiMode) -> None:
    started = time.perf_counter()
    with contextlib.suppress(MarkdownNestingError):
        speakable_markdown(text, emoji=emoji)
    elapsed = time.perf_counter() - started
    # A hang guard only (the slowest take about 1 s on two cores; the figures
    # are measured outside the suite): a quadratic pass takes minutes here.
    assert elapsed < 10.0, f"{elapsed:.2f} s"

"""SSML documents read as the tagged text the pipeline speaks."""

from __future__ import annotations

import time

import pytest

from api.text.ssml import MAX_DEPTH, SSMLError, is_ssml, ssml_to_text


def read(body: str, voice: str = "af_heart") -> str:
    return ssml_to_text(f"<speak>{body}</speak>", voice=voice)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('Hello <break time="2s"/> world.', "Hello [pause:2.000s] world."),
        ('a<break time="250ms"/>b', "a [pause:0.250s] b"),
        ('a<break strength="strong"/>b', "a [pause:0.750s] b"),
        ('a<break strength="none"/>b', "a b"),
        ("<p>One para</p><p><s>One</s><s>Two!</s></p>", "One para.\nOne.\nTwo!"),
        ('<say-as interpret-as="characters">AbC</say-as>', "ay bee see"),
        ('<say-as interpret-as="spell-out">R2</say-as>', "ar two"),
        (
            '<say-as interpret-as="cardinal">1,234</say-as>',
            "one thousand, two hundred and thirty-four",
        ),
        ('<say-as interpret-as="ordinal">21</say-as>', "twenty-first"),
        ('<say-as interpret-as="digits">907</say-as>', "nine zero seven"),
        (
            '<say-as interpret-as="date" format="dmy">5/3/2024</say-as>',
            "March fifth, twenty twenty-four",
        ),
        ('<say-as interpret-as="date" format="y">1999</say-as>', "nineteen ninety-nine"),
        (
            '<say-as interpret-as="telephone">555-0123</say-as>',
            "five five five, zero one two three",
        ),
        ('<say-as interpret-as="time">2:30pm</say-as>', "2:30pm"),
        ('I use <sub alias="engine x">nginx</sub>.', "I use engine x."),
        ('<phoneme alphabet="ipa" ph="ˈkoʊkəɹoʊ">Kokoro</phoneme>', "[Kokoro](/ˈkOkəɹO/)"),
        ('<phoneme alphabet="x-sampa" ph="k@">Kokoro</phoneme>', "Kokoro"),
        ('<prosody rate="slow">slow</prosody> back', "[speed:0.75] slow [speed:1] back"),
        (
            '<prosody rate="200%"><prosody rate="-50%">same</prosody></prosody>',
            "[speed:2] [speed:1] same [speed:2] [speed:1]",
        ),
        ('<prosody pitch="high">kept</prosody>', "kept"),
        ('<voice name="bm_george">Hi.</voice> Me.', "[voice:bm_george] Hi. [voice:af_heart] Me."),
        (
            "<emphasis>Loud</emphasis> <lang xml:lang='fr-FR'>oui</lang> <mark name='x'/>end",
            "Loud oui end",
        ),
        ('<audio src="https://example.com/a.mp3">fallback text</audio>', "fallback text"),
        ("<unknown>kept text</unknown>", "kept text"),
        ("Tom &amp; Jerry &lt;3", "Tom & Jerry <3"),
    ],
)
def test_elements_map_onto_the_pipeline(body: str, expected: str) -> None:
    assert read(body) == expected


def test_namespaces_and_declarations_are_fine() -> None:
    document = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<speak version="1.1" xmlns="http://www.w3.org/2001/10/synthesis" xml:lang="en-US">'
        '<s>Hi<break time="1s"/>there</s></speak>'
    )
    assert is_ssml(document)
    assert ssml_to_text(document, voice="af_heart") == "Hi [pause:1.000s] there."


@pytest.mark.parametrize("text", ["Hello", "<speaker>x</speaker>", "a <speak> b", "<p>x</p>"])
def test_only_a_speak_document_is_ssml(text: str) -> None:
    assert not is_ssml(text)


@pytest.mark.parametrize(
    ("document", "where"),
    [
        ("<speak>Hi <break time='2s'></speak>", "line 1, column"),
        ("<speak>\n<p>open\n</speak>", "line 3"),
        ("<speak>a & b</speak>", "line 1"),
    ],
)
def test_a_malformed_document_names_the_line_and_column(document: str, where: str) -> None:
    with pytest.raises(SSMLError, match=where):
        ssml_to_text(document, voice="af_heart")


@pytest.mark.parametrize(
    "body",
    ['<break time="soon"/>', '<break strength="huge"/>', '<prosody rate="warp">x</prosody>',
     '<prosody rate="10">x</prosody>', '<break time="5000s"/>'],
)  # fmt: skip
def test_bad_values_are_refused(body: str) -> None:
    with pytest.raises(SSMLError):
        read(body)


def test_the_root_must_be_speak() -> None:
    with pytest.raises(SSMLError, match="root"):
        ssml_to_text("<p>hi</p>", voice="af_heart")


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i > 1 else "&lol;" * 10}">' for i in range(1, 10))  # noqa: E501 - test data reads best on one line
    + "]><speak>&lol9;</speak>"
)  # fmt: skip
EXTERNAL = (
    '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><speak>&e;</speak>'
)


@pytest.mark.parametrize("document", [BILLION_LAUGHS, EXTERNAL])
def test_entities_and_doctypes_are_refused(document: str) -> None:
    with pytest.raises(SSMLError, match="DTD"):
        ssml_to_text(document, voice="af_heart")


def test_deep_nesting_is_refused_quickly() -> None:
    deep = "<speak>" + "<s>" * 10_000 + "x" + "</s>" * 10_000 + "</speak>"
    started = time.monotonic()
    with pytest.raises(SSMLError, match=str(MAX_DEPTH)):
        ssml_to_text(deep, voice="af_heart")
    assert time.monotonic() - started < 10  # a hang guard, not a benchmark
    assert read("<s>" * (MAX_DEPTH - 1) + "ok" + "</s>" * (MAX_DEPTH - 1)) == "ok."

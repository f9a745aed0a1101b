"""SSML and markdown through the speech, dialogue, phonemize and socket paths (fake backend)."""

from __future__ import annotations

import time

import httpx
import numpy as np
import pytest

from api.settings import Settings
from tests.api.test_stream_input import socket_server, socket_url, speak
from tests.api.test_text_features import pcm
from tests.unit.text.test_ssml import BILLION_LAUGHS, EXTERNAL

pytestmark = pytest.mark.anyio

SPEECH = "/v1/audio/speech"


async def phonemes(client: httpx.AsyncClient, text: str, **extra: object) -> str:
    response = await client.post("/dev/phonemize", json={"text": text, **extra})
    assert response.status_code == 200, response.text
    return str(response.json()["phonemes"])


@pytest.mark.parametrize(
    ("ssml", "tagged"),
    [
        ('<speak>Hello there. <break time="2s"/> How are you?</speak>', "Hello there. [pause:2s] How are you?"),  # noqa: E501 - test data reads best on one line
        ('<speak>One <voice name="bm_george">two</voice> three.</speak>', "One [voice:bm_george] two [voice:af_heart] three."),  # noqa: E501 - test data reads best on one line
        ('<speak>One <prosody rate="slow">two</prosody> three.</speak>', "One [speed:0.75] two [speed:1] three."),  # noqa: E501 - test data reads best on one line
        ("<speak><p>First</p><p>Second</p></speak>", "First.\nSecond."),
    ],
)  # fmt: skip
async def test_ssml_sounds_like_the_tags_it_maps_onto(
    client: httpx.AsyncClient, ssml: str, tagged: str
) -> None:
    assert np.array_equal(await pcm(client, ssml), await pcm(client, tagged))


async def test_a_slow_span_lengthens_that_span_only(client: httpx.AsyncClient) -> None:
    plain = await pcm(client, "<speak>One two three four.</speak>")
    slow = await pcm(client, '<speak>One <prosody rate="50%">two</prosody> three four.</speak>')
    # "two" is about a quarter of the words: twice as slow adds about that much.
    assert 1.1 < len(slow) / len(plain) < 1.6


async def test_ssml_is_read_on_the_phonemize_path(client: httpx.AsyncClient) -> None:
    sub = await phonemes(client, '<speak>I use <sub alias="engine x">nginx</sub>.</speak>')
    assert sub == await phonemes(client, "I use engine x.")
    ipa = await phonemes(
        client, '<speak><phoneme alphabet="ipa" ph="ˈkoʊkəɹoʊ">Kokoro</phoneme></speak>'
    )
    assert ipa == "kˈOkəɹO" or "kOkəɹO" in ipa.replace("ˈ", "")
    spelled = await phonemes(
        client, '<speak><say-as interpret-as="characters">TTS</say-as></speak>'
    )
    assert spelled == await phonemes(client, "tee tee ess")


async def test_the_input_format_can_be_said(client: httpx.AsyncClient) -> None:
    literal = await client.post(
        SPEECH, json={"input": "<speak>a < b", "input_format": "text", "response_format": "pcm"}
    )
    assert literal.status_code == 200
    forced = await client.post(
        SPEECH, json={"input": "Hello <break time='1s'/>", "input_format": "ssml"}
    )
    assert forced.status_code == 400
    assert forced.json()["error"]["code"] == "invalid_ssml"


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ("<speak>Hi <break time='2s'></speak>", "line 1, column"),
        (BILLION_LAUGHS, "DTD"),
        (EXTERNAL, "DTD"),
        ("<speak>" + "<s>" * 10_000 + "x" + "</s>" * 10_000 + "</speak>", "deeper"),
        ('<speak><break time="90s"/></speak>', "90"),
    ],
)
async def test_bad_ssml_is_a_400_that_says_why(
    client: httpx.AsyncClient, document: str, expected: str
) -> None:
    response = await client.post(SPEECH, json={"input": document})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] in ("invalid_ssml", "invalid_pause_tag")
    assert expected in error["message"]
    assert error["param"] == "input"


async def test_dialogue_turns_may_be_ssml(client: httpx.AsyncClient) -> None:
    body = {
        "speakers": {"a": {"voice": "af_heart"}, "b": {"voice": "bm_george"}},
        "turns": [
            {"speaker": "a", "text": '<speak>Hi <break time="1s"/> there.</speak>'},
            {"speaker": "b", "text": "<speak><voice name='af_bella'>Hello</voice> you.</speak>"},
        ],
        "response_format": "pcm",
    }
    response = await client.post("/v1/audio/dialogue", json=body)
    assert response.status_code == 200, response.text
    bad = {**body, "turns": [{"speaker": "a", "text": "<speak><p>open</speak>"}]}
    response = await client.post("/v1/audio/dialogue", json=bad)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "turns[0].text"


MARKDOWN = """# Shopping list

Here is **what** you _need_, see [the shop](https://example.com/shop) 🛒:

- Apples 🍎
- Bread

```python
print("hello")
```

Enjoy! 😀
"""


async def test_markdown_is_read_as_prose(client: httpx.AsyncClient) -> None:
    read = await phonemes(client, MARKDOWN)
    prose = "Shopping list.\nHere is what you need, see the shop:\nApples.\nBread.\n(code omitted).\nEnjoy!"  # noqa: E501 - test data reads best on one line
    assert read == await phonemes(client, prose, normalization_options={"markdown": False})
    raw = await phonemes(client, MARKDOWN, normalization_options={"markdown": False})
    assert raw != read


async def test_emoji_can_be_named(client: httpx.AsyncClient) -> None:
    named = await phonemes(client, "Well done 😀", normalization_options={"emoji": "name"})
    assert named == await phonemes(client, "Well done grinning face")
    assert await phonemes(client, "Well done 😀") == await phonemes(client, "Well done")


async def test_the_socket_reads_ssml_when_asked(settings: Settings) -> None:
    messages = [{"text": " "}, {"text": 'Hello <break time="1s"/> world. '}, {"text": ""}]
    with socket_server(settings) as served:
        ssml = await speak(socket_url(served, enable_ssml_parsing="true"), messages)
        plain = await speak(
            socket_url(served), [{"text": " "}, {"text": "Hello world. "}, {"text": ""}]
        )
        broken = await speak(
            socket_url(served, enable_ssml_parsing="true"),
            [{"text": " "}, {"text": "Tom & Jerry. "}],
        )
    assert ssml.final
    assert len(ssml.audio) - len(plain.audio) > 0.8 * 48_000  # the second of silence
    assert broken.error["error"] == "invalid_ssml"


NESTED_LISTS = "".join(f"{'  ' * (i % 9)}- item {i}\n" for i in range(9_000))[:90_000]


@pytest.mark.parametrize(
    "text",
    [NESTED_LISTS, "$" + "1," * 45_000, "- " * 45_000 + "deep", "*a" * 45_000, "[" * 90_000],
    ids=["nested-lists", "dollar-run", "deep-list", "emphasis-run", "brackets"],
)
async def test_hostile_markdown_is_read_in_bounded_time_or_refused(
    client: httpx.AsyncClient, text: str
) -> None:
    started = time.monotonic()
    response = await client.post("/dev/phonemize", json={"text": text})
    assert response.status_code in (200, 400), response.text
    if response.status_code == 400:
        assert response.json()["error"]["code"] in ("markdown_too_deep", "nothing_to_speak")
    assert time.monotonic() - started < 20  # a bound against super-linear work
    assert (await client.get("/health")).status_code == 200

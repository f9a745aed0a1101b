"""The pronunciation lexicon over the API (fake backend): its routes, and its entries
heard on the speaking paths and across a restart."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from wyoming.tts import Synthesize

from api.settings import Settings
from tests.api.test_speech import assert_openai_error
from tests.api.test_stream_input import socket_server, socket_url, speak
from tests.api.test_wyoming import connected, read_audio
from tests.appclient import running
from tests.serverthread import free_port

pytestmark = pytest.mark.anyio

LEXICON = "/v1/audio/lexicon"
KOKORO = "kˈOkəɹO"


async def put(client: httpx.AsyncClient, language: str, entries: dict[str, Any]) -> httpx.Response:
    return await client.put(f"{LEXICON}/{language}", json={"entries": entries})


async def phonemes(client: httpx.AsyncClient, text: str, language: str = "a") -> str:
    response = await client.post("/dev/phonemize", json={"text": text, "language": language})
    assert response.status_code == 200, response.text
    result: str = response.json()["phonemes"]
    return result


# -- the routes -----------------------------------------------------------------------------


async def test_put_merges_get_lists_delete_removes(client: httpx.AsyncClient) -> None:
    assert (await client.get(f"{LEXICON}/en-us")).json() == {"language": "en-us", "entries": {}}
    response = await put(
        client, "en", {"Kokoro": {"ipa": KOKORO}, "nginx": {"respell": "engine x"}}
    )
    assert response.status_code == 200, response.text
    both = {"Kokoro": {"ipa": KOKORO}, "nginx": {"respell": "engine x"}}
    assert response.json() == {"language": "en-us", "entries": both}
    # A merge keeps the others and replaces words given again.
    response = await put(client, "a", {"nginx": {"respell": "engine ex"}})
    assert response.json()["entries"] == {**both, "nginx": {"respell": "engine ex"}}
    assert (await client.get(f"{LEXICON}/A")).json() == response.json()
    response = await client.delete(f"{LEXICON}/en-us/nginx")
    assert response.status_code == 200
    assert response.json() == {
        "language": "en-us",
        "entries": {"Kokoro": {"ipa": KOKORO}},
        "deleted": "nginx",
    }
    assert (await client.get(f"{LEXICON}/en-us")).json()["entries"] == {"Kokoro": {"ipa": KOKORO}}


async def test_languages_are_kept_apart(client: httpx.AsyncClient) -> None:
    await put(client, "en-us", {"tomato": {"respell": "tomayto"}})
    await put(client, "b", {"tomato": {"respell": "tomahto"}})
    gb = (await client.get(f"{LEXICON}/en-gb")).json()
    assert gb == {"language": "en-gb", "entries": {"tomato": {"respell": "tomahto"}}}
    fr = (await client.get(f"{LEXICON}/fr")).json()
    assert fr == {"language": "fr-fr", "entries": {}}


async def test_phrases_and_words_with_slashes_can_be_deleted(client: httpx.AsyncClient) -> None:
    await put(client, "en", {"TCP/IP": {"respell": "T C P I P"}, "New York": {"respell": "NY"}})
    assert (await client.delete(f"{LEXICON}/en/TCP%2FIP")).status_code == 200
    assert (await client.delete(f"{LEXICON}/en/New%20York")).json()["entries"] == {}


@pytest.mark.parametrize(
    ("entries", "code", "param"),
    [
        ({"Kokoro": {"ipa": "kˈOkəɹO☃"}}, "invalid_ipa", "entries.Kokoro.ipa"),
        ({"Kokoro": {"ipa": ""}}, "invalid_ipa", "entries.Kokoro.ipa"),
        ({"Kokoro": {}}, "invalid_pronunciation", "entries.Kokoro"),
        (
            {"Kokoro": {"ipa": KOKORO, "respell": "ko ko ro"}},
            "invalid_pronunciation",
            "entries.Kokoro",
        ),
        ({"Kokoro": {"respell": "[pause:1s]"}}, "invalid_respelling", "entries.Kokoro.respell"),
        ({"": {"respell": "x"}}, "invalid_word", "entries."),
        ({"a\nb": {"respell": "x"}}, "invalid_word", "entries.a\nb"),
        ({"x" * 101: {"respell": "x"}}, "invalid_word", f"entries.{'x' * 101}"),
        ({"Kokoro": {"phonemes": KOKORO}}, "invalid_value", "entries.Kokoro.phonemes"),
    ],
)
async def test_bad_entries_are_400(
    client: httpx.AsyncClient, entries: dict[str, Any], code: str, param: str
) -> None:
    response = await put(client, "en-us", entries)
    assert_openai_error(response, 400, param)
    assert response.json()["error"]["code"] == code
    assert (await client.get(f"{LEXICON}/en-us")).json()["entries"] == {}


async def test_bad_ipa_names_the_symbols(client: httpx.AsyncClient) -> None:
    response = await put(client, "en-us", {"Kokoro": {"ipa": "kˈO☃kə∆"}})
    assert "'☃', '∆'" in response.json()["error"]["message"]


async def test_an_unknown_language_is_400(client: httpx.AsyncClient) -> None:
    for response in (
        await client.get(f"{LEXICON}/klingon"),
        await put(client, "klingon", {"x": {"respell": "y"}}),
        await client.delete(f"{LEXICON}/klingon/x"),
    ):
        assert_openai_error(response, 400, "language")
        assert response.json()["error"]["code"] == "unsupported_language"


async def test_deleting_an_absent_word_is_404(client: httpx.AsyncClient) -> None:
    response = await client.delete(f"{LEXICON}/en-us/absent")
    assert_openai_error(response, 404, "word")
    assert response.json()["error"]["code"] == "entry_not_found"


async def test_the_routes_are_in_the_schema(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert set(paths[f"{LEXICON}/{{language}}"]) == {"get", "put"}
    assert set(paths[f"{LEXICON}/{{language}}/{{word}}"]) == {"delete"}


# -- what the entries change ------------------------------------------------------------------


async def test_an_ipa_entry_changes_that_word_and_no_other(client: httpx.AsyncClient) -> None:
    others = ["Kokoros are nice", "KOKORO is nice", "xKokoro"]
    before = await phonemes(client, "Kokoro is nice")
    rest = await phonemes(client, "is nice")
    assert before.endswith(rest)
    others_before = [await phonemes(client, text) for text in others]
    british_before = await phonemes(client, "Kokoro", "b")
    await put(client, "en-us", {"Kokoro": {"ipa": KOKORO}})
    after = await phonemes(client, "Kokoro is nice")
    assert after == f"{KOKORO} {rest}"
    assert before != after
    # Other words, other cases of a word with a capital, other languages: as they were.
    assert [await phonemes(client, text) for text in others] == others_before
    assert await phonemes(client, "Kokoro", "b") == british_before


async def test_a_respelling_is_said_as_its_text(client: httpx.AsyncClient) -> None:
    plain = await phonemes(client, "I run nginx.")
    await put(client, "en-us", {"nginx": {"respell": "engine x"}})
    assert await phonemes(client, "I run NGINX.") == await phonemes(client, "I run engine x.")
    assert await phonemes(client, "I run nginx.") != plain


async def test_inline_forms_still_win(client: httpx.AsyncClient) -> None:
    await put(client, "en-us", {"Kokoro": {"ipa": KOKORO}})
    assert (
        await phonemes(client, "[Kokoro](/kəkˈɔɹO/) rocks")
        == f"kəkˈɔɹO {await phonemes(client, 'rocks')}"
    )


async def test_captions_show_the_word_with_an_ipa_entry(client: httpx.AsyncClient) -> None:
    await put(client, "en-us", {"Kokoro": {"ipa": KOKORO}, "nginx": {"respell": "engine x"}})
    body = {"input": "Kokoro runs nginx.", "response_format": "wav"}
    response = await client.post("/dev/captioned_speech", json=body)
    assert response.status_code == 200, response.text
    words = [stamp["word"] for stamp in response.json()["timestamps"]]
    assert words == ["Kokoro", "runs", "engine", "x"]


async def test_a_change_drops_the_cached_audio(settings: Settings) -> None:
    cached = settings.model_copy(update={"audio_cache_mb": 16})
    body = {"input": "Kokoro speaks.", "response_format": "wav", "stream": False}
    async with running(cached) as client:
        first = await client.post("/v1/audio/speech", json=body)
        assert (await client.post("/v1/audio/speech", json=body)).headers.get("x-cache") == "hit"
        await put(client, "en-us", {"Kokoro": {"ipa": "kˈOkəɹOkˈOkəɹO"}})
        changed = await client.post("/v1/audio/speech", json=body)
        assert changed.headers.get("x-cache") is None
        assert changed.content != first.content
        metrics = (await client.get("/metrics")).text
        assert "kokoro_audio_cache_hits_total 1.0" in metrics  # counted on across the change


async def test_entries_survive_a_restart(settings: Settings) -> None:
    async with running(settings) as client:
        await put(client, "en-us", {"Kokoro": {"ipa": KOKORO}})
    assert (settings.voices_dir / "lexicon" / "en-us.json").is_file()
    async with running(settings) as client:
        assert (await client.get(f"{LEXICON}/en-us")).json()["entries"] == {
            "Kokoro": {"ipa": KOKORO}
        }
        assert (await phonemes(client, "Kokoro")) == KOKORO


async def test_a_second_replica_sees_a_change(settings: Settings) -> None:
    async with running(settings) as one, running(settings) as two:
        await put(one, "en-us", {"nginx": {"respell": "engine x"}})
        assert (await two.get(f"{LEXICON}/en-us")).json()["entries"] == {
            "nginx": {"respell": "engine x"}
        }
        assert await phonemes(two, "nginx") == await phonemes(two, "engine x")


async def test_the_lexicon_applies_on_the_socket_and_wyoming_paths(settings: Settings) -> None:
    """The live doors read through the same lexicon: a long respelling makes the fake
    backend's audio (50 ms a token) longer there too."""
    port = free_port()
    messages = [{"text": " "}, {"text": "Kokoro."}, {"text": ""}]
    with socket_server(settings.model_copy(update={"wyoming_port": port})) as served:

        async def lengths() -> tuple[int, int]:
            socket = await speak(socket_url(served), messages)
            async with connected(port) as client:
                await client.write_event(Synthesize(text="Kokoro.").event())
                _, pcm = await read_audio(client)
            return len(socket.audio), len(pcm)

        before = await lengths()
        async with httpx.AsyncClient(base_url=served.url) as http:
            entry = {"Kokoro": {"respell": "a much much longer way of saying it"}}
            response = await http.put("/v1/audio/lexicon/en-us", json={"entries": entry})
            assert response.status_code == 200, response.text
        after = await lengths()
    assert after[0] > 2 * before[0]
    assert after[1] > 2 * before[1]

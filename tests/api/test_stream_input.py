"""The text-streaming WebSocket (ElevenLabs' ``stream-input`` shape), driven by a
plain ``websockets`` client against a real uvicorn server with the fake backend."""

from __future__ import annotations

import asyncio
import base64
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import av
import httpx
import pytest
from pydantic import SecretStr
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from api.backends.base import SAMPLE_RATE
from api.routes.stream_input import alignment
from api.settings import Settings
from api.text.timestamps import WordTimestamp
from tests.api.test_overload import Served, serving, wait_until

pytestmark = pytest.mark.anyio

THREE = "The first sentence is here. Then comes a second one! And is this the third?"
KEY = "sk-live-test"


def socket_url(served: Served, voice: str = "af_heart", **query: str) -> str:
    url = served.url.replace("http://", "ws://") + f"/v1/text-to-speech/{voice}/stream-input"
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


@dataclass
class Heard:
    messages: list[dict[str, Any]] = field(default_factory=list)
    close_code: int | None = None

    @property
    def audio(self) -> bytes:
        return b"".join(base64.b64decode(m["audio"]) for m in self.messages if m.get("audio"))

    @property
    def error(self) -> dict[str, Any]:
        errors = [m for m in self.messages if "error" in m]
        assert errors, self.messages
        return errors[-1]

    @property
    def final(self) -> bool:
        return bool(self.messages) and self.messages[-1] == {"isFinal": True}


async def listen(ws: ClientConnection, heard: Heard) -> None:
    try:
        async for raw in ws:
            heard.messages.append(json.loads(raw))
    except ConnectionClosed:
        pass
    heard.close_code = ws.close_code


async def speak(url: str, messages: list[dict[str, Any]], **connect_args: Any) -> Heard:
    """Send ``messages`` and hear everything until the server closes."""
    heard = Heard()
    async with connect(url, **connect_args) as ws:
        listener = asyncio.create_task(listen(ws, heard))
        for message in messages:
            try:
                await ws.send(json.dumps(message))
            except ConnectionClosed:
                break
        await asyncio.wait_for(listener, 30)
    return heard


def pieces_of(text: str, size: int) -> list[dict[str, Any]]:
    return [{"text": text[i : i + size]} for i in range(0, len(text), size)]


@contextmanager
def socket_server(settings: Settings, delay: float = 0.0) -> Iterator[Served]:
    with serving(settings, delay) as served:
        yield served
        wait_until(lambda: served.service.admission.in_flight == 0, "the slots to be freed")


async def test_text_in_pieces_is_spoken_with_alignment(settings: Settings) -> None:
    with socket_server(settings) as served:
        heard = await speak(
            socket_url(served),
            [
                {"text": " ", "voice_settings": {"stability": 0.5, "speed": 1.0}},
                *pieces_of(THREE, 5),
                {"text": ""},
            ],
        )
    assert heard.final, heard.messages[-3:]
    assert heard.close_code == 1000
    audio = [m for m in heard.messages if "audio" in m]
    assert all(m["isFinal"] is None for m in audio)
    # pcm_24000: 16-bit samples, three sentences at the fake's 50 ms a token.
    assert len(heard.audio) % 2 == 0
    assert len(heard.audio) / 2 / SAMPLE_RATE > 2.0
    # Each sentence is spoken as its own piece, with an alignment of its characters.
    aligned = [m["alignment"] for m in audio if m["alignment"] is not None]
    assert len(aligned) == 3
    assert " ".join("".join(a["chars"]) for a in aligned).split() == THREE.split()
    for a in aligned:
        assert len(a["chars"]) == len(a["charStartTimesMs"]) == len(a["charsDurationsMs"])
        assert a["charStartTimesMs"] == sorted(a["charStartTimesMs"])
        assert all(d >= 0 for d in a["charsDurationsMs"])
        assert a["charStartTimesMs"][-1] > 0


async def test_the_first_sentence_is_heard_before_the_text_ends(settings: Settings) -> None:
    with socket_server(settings) as served:
        heard = Heard()
        async with connect(socket_url(served)) as ws:
            listener = asyncio.create_task(listen(ws, heard))
            await ws.send(json.dumps({"text": " "}))
            for message in pieces_of(THREE, 3)[:-1]:
                await ws.send(json.dumps(message))
                await asyncio.sleep(0.03)
            got_audio_early = any("audio" in m for m in heard.messages)
            await ws.send(json.dumps({"text": THREE[-1:]}))
            await ws.send(json.dumps({"text": ""}))
            await asyncio.wait_for(listener, 30)
    assert got_audio_early
    assert heard.final


async def test_flush_speaks_an_unfinished_sentence(settings: Settings) -> None:
    with socket_server(settings) as served:
        heard = Heard()
        async with connect(socket_url(served)) as ws:
            await ws.send(json.dumps({"text": " "}))
            await ws.send(json.dumps({"text": "no full stop here", "flush": True}))
            # Heard before the stream ends: the flush asked for it.
            first = json.loads(await asyncio.wait_for(ws.recv(), 10))
            await ws.send(json.dumps({"text": ""}))
            await asyncio.wait_for(listen(ws, heard), 30)
    assert first["audio"]
    assert heard.final


async def test_speed_and_normalization_are_honoured(settings: Settings) -> None:
    text = [{"text": "I have 12 apples."}, {"text": ""}]
    with socket_server(settings) as served:
        normal = await speak(socket_url(served), [{"text": " "}, *text])
        faster = {"text": " ", "voice_settings": {"speed": 2}}
        fast = await speak(socket_url(served), [faster, *text])
        raw = await speak(
            socket_url(served, apply_text_normalization="off"), [{"text": " "}, *text]
        )
    assert len(fast.audio) < 0.7 * len(normal.audio)
    spoken = "".join(normal.messages[-2]["normalizedAlignment"]["chars"])
    assert "twelve" in spoken
    assert "".join(normal.messages[-2]["alignment"]["chars"]) == "I have 12 apples."
    assert "twelve" not in "".join(raw.messages[-2]["normalizedAlignment"]["chars"])


@pytest.mark.parametrize(
    ("output_format", "rate"),
    [("pcm_16000", 16000), ("pcm_44100", 44100), ("ulaw_8000", 8000), ("alaw_8000", 8000)],
)
async def test_raw_output_formats_have_their_rate(
    settings: Settings, output_format: str, rate: int
) -> None:
    messages = [{"text": " "}, {"text": THREE}, {"text": ""}]
    with socket_server(settings) as served:
        base = await speak(socket_url(served), messages)
        heard = await speak(socket_url(served, output_format=output_format), messages)
    seconds = len(base.audio) / 2 / SAMPLE_RATE
    width = 1 if output_format.startswith(("ulaw", "alaw")) else 2
    assert len(heard.audio) / width / rate == pytest.approx(seconds, abs=0.02)


async def test_mp3_output_decodes_at_its_rate(settings: Settings) -> None:
    messages = [{"text": " "}, {"text": THREE}, {"text": ""}]
    with socket_server(settings) as served:
        heard = await speak(socket_url(served, output_format="mp3_44100_128"), messages)
    with av.open(io.BytesIO(heard.audio)) as container:
        stream = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(stream))
        assert stream.sample_rate == 44100
    assert samples / 44100 > 2.0


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ({"output_format": "opus_48000_64"}, "invalid_output_format"),
        ({"inactivity_timeout": "500"}, "invalid_inactivity_timeout"),
        ({"apply_text_normalization": "maybe"}, "invalid_normalization"),
        ({"language_code": "tlh"}, "unsupported_language"),
    ],
)
async def test_bad_query_parameters_are_refused(
    settings: Settings, query: dict[str, str], error: str
) -> None:
    with socket_server(settings) as served:
        heard = await speak(socket_url(served, **query), [{"text": " "}])
    assert heard.error["error"] == error
    assert heard.error["message"]
    assert heard.close_code == 1008


async def test_an_unknown_voice_is_refused(settings: Settings) -> None:
    with socket_server(settings) as served:
        heard = await speak(socket_url(served, voice="nobody_here"), [{"text": " "}])
        blend = await speak(
            socket_url(served, voice="af_heart+am_adam"),
            [{"text": " "}, {"text": "A blend."}, {"text": ""}],
        )
    assert heard.error["error"] == "voice_not_found"
    assert "nobody_here" in heard.error["message"]
    assert heard.close_code == 1008
    assert blend.final


@pytest.mark.parametrize(
    "message",
    [
        b"\x00binary",
        "not json",
        "[1, 2]",
        '{"flush": true}',
        '{"text": 5}',
        '{"text": "x", "flush": "yes"}',
        '{"text": " ", "voice_settings": {"speed": 9}}',
    ],
)
async def test_malformed_messages_are_refused(settings: Settings, message: str | bytes) -> None:
    with socket_server(settings) as served:
        heard = Heard()
        async with connect(socket_url(served)) as ws:
            listener = asyncio.create_task(listen(ws, heard))
            if not str(message).startswith('{"text": " "'):
                await ws.send(json.dumps({"text": " "}))
            await ws.send(message)
            await asyncio.wait_for(listener, 30)
    assert heard.error["error"] in ("invalid_message", "invalid_speed")
    assert heard.close_code == 1008


async def test_a_flood_past_the_limit_is_refused(settings: Settings) -> None:
    flood = "Words of a flood. " * 100
    with socket_server(settings, delay=0.01) as served:
        heard = await speak(
            socket_url(served), [{"text": " "}] + [{"text": flood}] * 60 + [{"text": ""}]
        )
    assert heard.error["error"] == "input_too_long"
    assert "100000" in heard.error["message"]
    assert heard.close_code == 1008


async def test_a_vanished_client_stops_its_work(settings: Settings) -> None:
    long_text = "A sentence that takes a while to speak, again and again. " * 40
    with socket_server(settings, delay=0.05) as served:
        async with connect(socket_url(served)) as ws:
            await ws.send(json.dumps({"text": " "}))
            await ws.send(json.dumps({"text": long_text}))
            await asyncio.wait_for(ws.recv(), 30)
        # Gone mid-sentence: the slot comes back and the model stops.
        wait_until(lambda: served.service.admission.in_flight == 0, "the slot to be freed")
        calls = served.backend.calls
        await asyncio.sleep(0.5)
        assert served.backend.calls <= calls + 1
        async with httpx.AsyncClient(base_url=served.url) as http:
            metrics = (await http.get("/metrics")).text
    assert "kokoro_requests_in_flight 0.0" in metrics


async def test_an_idle_socket_times_out(settings: Settings) -> None:
    with socket_server(settings) as served:
        url = socket_url(served, inactivity_timeout="0.5")
        heard = Heard()
        async with connect(url) as ws:
            listener = asyncio.create_task(listen(ws, heard))
            await ws.send(json.dumps({"text": " "}))
            await ws.send(json.dumps({"text": "Spoken first."}))
            await asyncio.wait_for(listener, 30)
    assert any("audio" in m for m in heard.messages)
    assert heard.error["error"] == "input_timeout_exceeded"
    assert heard.close_code == 1008


async def test_a_busy_server_says_so(settings: Settings) -> None:
    one_slot = settings.model_copy(update={"inference_workers": 1, "max_queued_requests": 0})
    long_text = "A sentence that keeps the only slot busy for a while. " * 40
    with socket_server(one_slot, delay=0.05) as served:
        async with connect(socket_url(served)) as first:
            await first.send(json.dumps({"text": " "}))
            await first.send(json.dumps({"text": long_text}))
            await asyncio.wait_for(first.recv(), 30)
            heard = await speak(socket_url(served), [{"text": " "}, {"text": "Me too."}])
    assert heard.error["error"] == "server_busy"
    assert heard.close_code == 1013


@pytest.mark.parametrize(
    ("how", "works"),
    [
        ("none", False),
        ("wrong header", False),
        ("xi-api-key header", True),
        ("bearer header", True),
        ("query", True),
        ("query bearer", True),
        ("first message", True),
        ("first message authorization", True),
        ("wrong first message", False),
    ],
)
async def test_api_keys(settings: Settings, how: str, works: bool) -> None:
    keyed = settings.model_copy(update={"api_keys": [SecretStr(KEY)]})
    headers: dict[str, str] = {}
    query: dict[str, str] = {}
    first: dict[str, Any] = {"text": " "}
    match how:
        case "wrong header":
            headers["xi-api-key"] = "sk-wrong"
        case "xi-api-key header":
            headers["xi-api-key"] = KEY
        case "bearer header":
            headers["Authorization"] = f"Bearer {KEY}"
        case "query":
            query["authorization"] = KEY
        case "query bearer":
            query["authorization"] = f"Bearer%20{KEY}"
        case "first message":
            first["xi_api_key"] = KEY
        case "first message authorization":
            first["authorization"] = f"Bearer {KEY}"
        case "wrong first message":
            first["xi_api_key"] = "sk-wrong"
    with socket_server(keyed) as served:
        heard = await speak(
            socket_url(served, **query),
            [first, {"text": "Hello."}, {"text": ""}],
            additional_headers=headers,
        )
    if works:
        assert heard.final
    else:
        assert heard.error["error"] == "invalid_api_key"
        assert heard.close_code == 1008
        assert not heard.audio


def test_alignment_maps_sent_words_onto_spoken_ones() -> None:
    stamps = [WordTimestamp("I", 0.0, 0.1), WordTimestamp("have", 0.2, 0.5)]
    both = alignment("I have", stamps)
    assert both["alignment"]["chars"] == list("I have")
    assert both["alignment"]["charStartTimesMs"] == [0, 100, 200, 275, 350, 425]
    assert both["alignment"]["charsDurationsMs"] == [100, 100, 75, 75, 75, 75]
    # "12" was read as two words: the sent text's words share the speech by length.
    read = [WordTimestamp(w, i * 0.5, i * 0.5 + 0.4) for i, w in enumerate(["one", "two", "x"])]
    mixed = alignment("12 x", read)
    assert "".join(mixed["normalizedAlignment"]["chars"]) == "one two x"
    assert mixed["alignment"]["chars"] == list("12 x")
    assert mixed["alignment"]["charStartTimesMs"][-1] < 1400


async def test_the_messages_elevenlabs_sdk_sends_are_understood(settings: Settings) -> None:
    """The sequence their Python SDK's ``convert_realtime`` sends: a first message with
    ``voice_settings`` null and a ``generation_config``, then every piece with
    ``try_trigger_generation``, which must not cut speech into those pieces."""
    first = {
        "text": " ",
        "try_trigger_generation": True,
        "voice_settings": None,
        "generation_config": {"chunk_length_schedule": [50]},
    }
    words = [{"text": word + " ", "try_trigger_generation": True} for word in THREE.split()]
    with socket_server(settings) as served:
        heard = await speak(
            socket_url(served, model_id="eleven_flash_v2_5", output_format="mp3_44100_128"),
            [first, *words, {"text": ""}],
        )
    assert heard.final
    assert heard.close_code == 1000
    aligned = [m for m in heard.messages if m.get("alignment")]
    assert [len("".join(m["alignment"]["chars"]).split()) for m in aligned] == [5, 5, 5]


async def test_an_unfinished_sentence_is_spoken_before_the_socket_times_out(
    settings: Settings,
) -> None:
    with socket_server(settings) as served:
        url = socket_url(served, inactivity_timeout="0.5")
        heard = await speak(url, [{"text": " "}, {"text": "A sentence with no end"}])
    assert heard.audio
    assert heard.error["error"] == "input_timeout_exceeded"


async def test_a_socket_that_never_starts_times_out(settings: Settings) -> None:
    with socket_server(settings) as served:
        heard = await speak(socket_url(served, inactivity_timeout="0.3"), [])
    assert heard.error["error"] == "input_timeout_exceeded"
    assert heard.close_code == 1008

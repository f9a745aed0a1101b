"""The Wyoming door, driven by the ``wyoming`` package's own TCP client as Home
Assistant drives it, against a real uvicorn server (its lifespan starts the
Wyoming listener) with the fake backend."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import pytest
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.error import Error
from wyoming.event import Event
from wyoming.info import Describe, Info
from wyoming.ping import Ping, Pong
from wyoming.tts import (
    Synthesize,
    SynthesizeChunk,
    SynthesizeStart,
    SynthesizeStop,
    SynthesizeStopped,
    SynthesizeVoice,
)

from api.backends.base import SAMPLE_RATE
from api.backends.fake import FakeBackend
from api.settings import Settings
from tests.api.test_overload import Served, wait_until
from tests.serverthread import ServerThread, free_port

pytestmark = pytest.mark.anyio

THREE = "The first sentence is here. Then comes a second one! And is this the third?"


@contextmanager
def wyoming_server(settings: Settings, delay: float = 0.0) -> Iterator[tuple[Served, int]]:
    port = free_port()
    backend = FakeBackend(delay=delay)
    with ServerThread(settings.model_copy(update={"wyoming_port": port}), backend) as server:
        yield Served(server.url, server.app.state.speech, backend), port


@asynccontextmanager
async def connected(port: int) -> AsyncIterator[AsyncTcpClient]:
    client = AsyncTcpClient("127.0.0.1", port)
    await client.connect()
    try:
        yield client
    finally:
        await client.disconnect()


async def next_event(client: AsyncTcpClient) -> Event:
    event = await asyncio.wait_for(client.read_event(), 30)
    assert event is not None, "the server closed the connection"
    return event


async def read_audio(client: AsyncTcpClient) -> tuple[AudioStart, bytes]:
    """One ``audio-start`` ... ``audio-stop``: the start and the PCM in between."""
    first = await next_event(client)
    assert AudioStart.is_type(first.type), first
    start = AudioStart.from_event(first)
    pcm = bytearray()
    while True:
        event = await next_event(client)
        if AudioStop.is_type(event.type):
            return start, bytes(pcm)
        assert AudioChunk.is_type(event.type), event
        chunk = AudioChunk.from_event(event)
        assert (chunk.rate, chunk.width, chunk.channels) == (SAMPLE_RATE, 2, 1)
        pcm += chunk.audio


async def expect_error(client: AsyncTcpClient, code: str) -> Error:
    event = await next_event(client)
    assert Error.is_type(event.type), event
    error = Error.from_event(event)
    assert error.code == code, error
    assert error.text
    return error


async def still_usable(client: AsyncTcpClient) -> None:
    await client.write_event(Ping(text="still there?").event())
    event = await next_event(client)
    assert Pong.is_type(event.type)
    assert Pong.from_event(event).text == "still there?"


async def test_describe_lists_every_voice_and_streaming(settings: Settings) -> None:
    with wyoming_server(settings) as (_, port):
        async with connected(port) as client:
            await client.write_event(Describe().event())
            event = await next_event(client)
    info = Info.from_event(event)
    (program,) = info.tts
    assert program.supports_synthesize_streaming
    names = {voice.name for voice in program.voices}
    assert len(names) >= 50
    assert {"af_heart", "bf_emma", "ff_siwis"} <= names
    heart = next(v for v in program.voices if v.name == "af_heart")
    assert heart.languages == ["en-US"]
    assert heart.attribution.name
    assert heart.version
    assert heart.description
    assert next(v for v in program.voices if v.name == "bf_emma").languages == ["en-GB"]


async def test_synthesize_answers_24khz_16bit_mono_pcm(settings: Settings) -> None:
    with wyoming_server(settings) as (served, port):
        async with connected(port) as client:
            await client.write_event(Synthesize(text="Hello from the kitchen.").event())
            start, pcm = await read_audio(client)
            # The same connection takes the next request, with a voice picked by name.
            await client.write_event(
                Synthesize(text="And again.", voice=SynthesizeVoice(name="bf_emma")).event()
            )
            _, again = await read_audio(client)
        wait_until(lambda: served.service.admission.in_flight == 0, "the slot to be freed")
    assert (start.rate, start.width, start.channels) == (SAMPLE_RATE, 2, 1)
    assert len(pcm) > SAMPLE_RATE  # more than half a second of 16-bit samples
    assert len(pcm) % 2 == 0
    assert len(again) > 0


async def test_blends_and_languages_pick_voices(settings: Settings) -> None:
    with wyoming_server(settings) as (_, port):
        async with connected(port) as client:
            blend = SynthesizeVoice(name="af_heart+am_adam")
            await client.write_event(Synthesize(text="A blend speaks.", voice=blend).event())
            await read_audio(client)
            french = SynthesizeVoice(language="fr-FR")
            await client.write_event(Synthesize(text="Bonjour à tous.", voice=french).event())
            await read_audio(client)
            klingon = SynthesizeVoice(language="tlh")
            await client.write_event(Synthesize(text="Qapla'.", voice=klingon).event())
            await expect_error(client, "unsupported_language")


async def test_an_unknown_voice_is_an_error_and_the_connection_stays(settings: Settings) -> None:
    with wyoming_server(settings) as (_, port):
        async with connected(port) as client:
            nobody = SynthesizeVoice(name="nobody_here")
            await client.write_event(Synthesize(text="Hello.", voice=nobody).event())
            error = await expect_error(client, "voice_not_found")
            assert "nobody_here" in error.text
            await still_usable(client)
            await client.write_event(Synthesize(text="Now it works.").event())
            await read_audio(client)


async def test_malformed_events_are_errors_and_the_connection_stays(settings: Settings) -> None:
    small = settings.model_copy(update={"max_input_chars": 1000})
    limit = 4 * small.max_input_chars + 64 * 1024
    with wyoming_server(small) as (_, port):
        async with connected(port) as client:
            writer = client._writer
            assert writer is not None
            writer.write(b"this is not json\n")
            await expect_error(client, "malformed_event")
            writer.write(b'["a", "list"]\n')
            await expect_error(client, "malformed_event")
            writer.write(b'{"type": "synthesize", "data": {"text": 42}}\n')
            await expect_error(client, "malformed_event")
            writer.write(b'{"type": "synthesize", "data_length": -3}\n')
            await expect_error(client, "malformed_event")
            # An event larger than any request may be: read past, never held.
            header = {"type": "synthesize", "data_length": limit + 10}
            writer.write(json.dumps(header).encode() + b"\n" + b" " * (limit + 10))
            error = await expect_error(client, "malformed_event")
            assert str(limit) in error.text
            await client.write_event(Event(type="transcribe"))
            await expect_error(client, "unsupported_event")
            await client.write_event(SynthesizeStop().event())
            await expect_error(client, "no_stream")
            await client.write_event(Synthesize(text="x" * 1001).event())
            await expect_error(client, "input_too_long")
            await still_usable(client)
            await client.write_event(Synthesize(text="Still speaking.").event())
            await read_audio(client)


async def test_streamed_text_is_spoken_before_it_ends(settings: Settings) -> None:
    pieces = [THREE[i : i + 2] for i in range(0, len(THREE), 2)]
    assert len(pieces) >= 38
    with wyoming_server(settings) as (served, port):
        async with connected(port) as client:
            await client.write_event(SynthesizeStart(voice=SynthesizeVoice("af_heart")).event())
            events: list[Event] = []
            audio_started = asyncio.Event()
            started_before_last = False

            async def collect() -> None:
                while True:
                    event = await next_event(client)
                    events.append(event)
                    if AudioStart.is_type(event.type):
                        audio_started.set()
                    if SynthesizeStopped.is_type(event.type):
                        return

            reading = asyncio.create_task(collect())
            for i, piece in enumerate(pieces):
                await client.write_event(SynthesizeChunk(text=piece).event())
                await asyncio.sleep(0.02)
                if i == len(pieces) - 2:
                    # Before the last chunk: the first sentence has long been complete.
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(audio_started.wait(), 10)
                    started_before_last = audio_started.is_set()
            # Home Assistant sends the whole text again for servers without streaming.
            await client.write_event(Synthesize(text=THREE).event())
            await client.write_event(SynthesizeStop().event())
            await asyncio.wait_for(reading, 30)
        wait_until(lambda: served.service.admission.in_flight == 0, "the slot to be freed")
    assert started_before_last
    types = [e.type for e in events]
    assert types[0] == "audio-start"
    assert types[-2:] == ["audio-stop", "synthesize-stopped"]
    assert types.count("audio-start") == 1
    pcm = b"".join(AudioChunk.from_event(e).audio for e in events if e.type == "audio-chunk")
    # Three sentences at the fake's 50 ms a token: well over two seconds.
    assert len(pcm) / 2 / SAMPLE_RATE > 2.0


async def test_a_failed_stream_still_ends_with_synthesize_stopped(settings: Settings) -> None:
    small = settings.model_copy(update={"max_input_chars": 100})
    with wyoming_server(small) as (_, port):
        async with connected(port) as client:
            await client.write_event(SynthesizeStart(voice=SynthesizeVoice("nobody")).event())
            await expect_error(client, "voice_not_found")
            await client.write_event(SynthesizeChunk(text="Ignored.").event())
            await client.write_event(SynthesizeStop().event())
            assert SynthesizeStopped.is_type((await next_event(client)).type)
            # A flood past the stream's limit stops the stream with an error.
            await client.write_event(SynthesizeStart().event())
            for _ in range(12):
                await client.write_event(SynthesizeChunk(text="word " * 2).event())
            await expect_error(client, "input_too_long")
            await client.write_event(SynthesizeStop().event())
            assert SynthesizeStopped.is_type((await next_event(client)).type)
            await still_usable(client)


async def test_a_vanished_client_stops_its_work(settings: Settings) -> None:
    long_text = "A sentence that takes a while to speak, again and again. " * 40
    with wyoming_server(settings, delay=0.05) as (served, port):
        async with connected(port) as client:
            await client.write_event(Synthesize(text=long_text).event())
            assert AudioStart.is_type((await next_event(client)).type)
            await next_event(client)
        # The connection is gone mid-speech: the slot comes back and the model stops.
        wait_until(lambda: served.service.admission.in_flight == 0, "the slot to be freed")
        calls = served.backend.calls
        await asyncio.sleep(0.5)
        assert served.backend.calls <= calls + 1
        async with connected(port) as client:
            await client.write_event(SynthesizeStart().event())
            await client.write_event(SynthesizeChunk(text=long_text[:200]).event())
            assert AudioStart.is_type((await next_event(client)).type)
        wait_until(lambda: served.service.admission.in_flight == 0, "the stream's slot")


async def test_a_busy_server_says_so(settings: Settings) -> None:
    one_slot = settings.model_copy(update={"inference_workers": 1, "max_queued_requests": 0})
    long_text = "A sentence that keeps the only slot busy for a while. " * 40
    with wyoming_server(one_slot, delay=0.05) as (served, port):
        async with connected(port) as first, connected(port) as second:
            await first.write_event(Synthesize(text=long_text).event())
            assert AudioStart.is_type((await next_event(first)).type)
            await second.write_event(Synthesize(text="Me too.").event())
            error = await expect_error(second, "server_busy")
            assert "Retry after" in error.text
            await second.write_event(SynthesizeStart().event())
            await second.write_event(SynthesizeChunk(text="Streamed, me too. ").event())
            await expect_error(second, "server_busy")
            await second.write_event(SynthesizeStop().event())
            assert SynthesizeStopped.is_type((await next_event(second)).type)
            await still_usable(second)
        wait_until(lambda: served.service.admission.in_flight == 0, "the slots to be freed")

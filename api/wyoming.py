"""The Wyoming door: Home Assistant's protocol for voice services, over TCP.

Events are read and written by the ``wyoming`` package (JSON header lines,
optional data and payload bytes). This module answers them:

- ``describe``: an ``info`` with one TTS program listing every voice (name,
  description, languages, attribution, version) and saying that streaming
  synthesis is supported.
- ``synthesize``: ``audio-start``, ``audio-chunk`` events of 24 kHz 16-bit mono
  PCM as the speech is made, ``audio-stop``.
- ``synthesize-start``, ``synthesize-chunk`` ..., ``synthesize-stop``: the text
  goes to a live session (``api.live``), which speaks each sentence as soon as
  its text is complete; the audio comes as one ``audio-start`` ... ``audio-stop``,
  then ``synthesize-stopped``. The ``synthesize`` Home Assistant sends inside a
  stream (the same text, for servers without streaming) is ignored.

Requests are checked by ``api.intake`` and run on the same scheduler and
admission as HTTP requests. What is refused (an unknown voice, oversized text, a
busy server, a malformed event) gets an ``error`` event with a snake_case code,
and the connection stays open for the next request.

The library's reader gives up on a connection at the first line it cannot
parse and reads whatever length a header announces; ``_GuardedReader`` sits in
front of it so that a bad event is skipped (and answered with an error) and no
event may make the server hold more than ``max_event_bytes``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
from typing import Any

from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.error import Error
from wyoming.event import Event, async_read_event
from wyoming.info import Attribution, Describe, Info, TtsProgram, TtsVoice
from wyoming.ping import Ping, Pong
from wyoming.server import AsyncEventHandler, AsyncServer
from wyoming.tts import (
    Synthesize,
    SynthesizeChunk,
    SynthesizeStart,
    SynthesizeStop,
    SynthesizeStopped,
    SynthesizeVoice,
)

from api import __version__, intake
from api.admission import ServerBusyError
from api.audio.wav import to_pcm16
from api.backends.base import SAMPLE_RATE, Audio
from api.live import LiveOptions, LiveSpeech, SessionEndedError, live_audio
from api.settings import Settings
from api.speech import SpeechJob, SpeechService, pacing_for
from api.text.g2p import missing_reader
from api.voices.store import Voice

logger = logging.getLogger(__name__)

KOKORO = Attribution(name="hexgrad (Kokoro-82M)", url="https://huggingface.co/hexgrad/Kokoro-82M")
CHUNK_SAMPLES = SAMPLE_RATE // 4
"""Samples per ``audio-chunk`` (a quarter second: a model chunk is cut into these)."""

_LANGUAGE_TAGS = {"en-us": "en-US", "en-gb": "en-GB", "fr-fr": "fr-FR", "pt-br": "pt-BR"}
_VOICE_LANGUAGES = {"cmn": "zh"}


def language_tag(language: str | None) -> str | None:
    """The BCP 47 tag Home Assistant knows for a voice's language (``en-US``, ``zh``)."""
    if language is None:
        return None
    language = _VOICE_LANGUAGES.get(language, language)
    return _LANGUAGE_TAGS.get(language, language)


def _describe_voice(voice: Voice) -> str:
    parts = [voice.name]
    if voice.gender:
        parts.append(voice.gender)
    if voice.spec:
        parts.append(f"mix of {voice.spec}")
    if voice.official is not None:
        parts.append(f"grade {voice.official.overall_grade}")
    return ", ".join(parts)


def tts_info(service: SpeechService) -> Info:
    """What ``describe`` answers: one program, every voice this server can speak with
    (voices whose reader is not installed here are left out)."""
    voices = [
        TtsVoice(
            name=voice.id,
            attribution=KOKORO,
            installed=True,
            description=_describe_voice(voice),
            version=__version__,
            languages=[tag] if (tag := language_tag(voice.language)) else [],
        )
        for voice in service.voices.all()
        if missing_reader(voice.language) is None
    ]
    program = TtsProgram(
        name="kokoro",
        attribution=KOKORO,
        installed=True,
        description="Kokoro-82M text to speech",
        version=__version__,
        voices=voices,
        supports_synthesize_streaming=True,
    )
    return Info(tts=[program])


class BadEventError(ValueError):
    """An event that cannot be read; the connection goes on with the next one."""


class _GuardedReader:
    """The connection's reader as ``async_read_event`` sees it, with limits.

    Each header line is checked before the library parses it (a JSON object
    with a string ``type`` and sane lengths); an event over ``max_bytes`` is
    read past in small pieces, never held. What is wrong is kept in
    ``problem`` (the library turns every ``ValueError`` into "no event")."""

    _SKIP_BYTES = 64 * 1024

    def __init__(self, reader: asyncio.StreamReader, max_bytes: int) -> None:
        self._reader = reader
        self._max_bytes = max_bytes
        self.problem: str | None = None

    def at_eof(self) -> bool:
        return self._reader.at_eof()

    async def readline(self) -> bytes:
        self.problem = None
        try:
            line = await self._reader.readline()
        except ValueError:
            await self._skip_line()
            self._fail("an event header line is longer than the reader's 64 KiB limit")
        if not line.strip():
            if line and not self._reader.at_eof():
                self._fail("an empty line is not an event")
            return line
        try:
            header = json.loads(line)
        except ValueError:
            self._fail("an event header is not valid JSON")
        if not isinstance(header, dict) or not isinstance(header.get("type"), str):
            self._fail("an event header must be a JSON object with a string 'type'")
        lengths = [header.get("data_length") or 0, header.get("payload_length") or 0]
        if not all(isinstance(n, int) and n >= 0 for n in lengths):
            self._fail("'data_length' and 'payload_length' must be whole numbers of bytes")
        if not isinstance(header.get("data", {}), dict):
            self._fail("an event's 'data' must be a JSON object")
        if sum(lengths) > self._max_bytes:
            await self._skip(sum(lengths))
            self._fail(
                f"the {header['type']!r} event is {sum(lengths)} bytes long; the most an "
                f"event may be here is {self._max_bytes} bytes"
            )
        return line

    async def readexactly(self, n: int) -> bytes:
        return await self._reader.readexactly(n)

    def _fail(self, problem: str) -> Any:
        self.problem = problem
        raise BadEventError(problem)

    async def _skip_line(self) -> None:
        while True:
            try:
                rest = await self._reader.readline()
            except ValueError:
                continue
            if not rest or rest.endswith(b"\n"):
                return

    async def _skip(self, n: int) -> None:
        while n > 0:
            piece = await self._reader.read(min(n, self._SKIP_BYTES))
            if not piece:
                return
            n -= len(piece)


def _audio_events(audio: Audio) -> list[Event]:
    pcm = to_pcm16(audio)
    step = CHUNK_SAMPLES * 2
    return [
        AudioChunk(rate=SAMPLE_RATE, width=2, channels=1, audio=pcm[i : i + step]).event()
        for i in range(0, len(pcm), step)
    ]


def _voice_of(voice: SynthesizeVoice | None, service: SpeechService, default: str) -> LiveOptions:
    """What a request's ``voice`` asks for: a voice by name (any spec), or only a
    language, which picks the default voice if it speaks it, else the best graded
    official voice that does."""
    name = voice.name if voice is not None else None
    language = voice.language if voice is not None else None
    if name is not None and not isinstance(name, str):
        raise intake.RequestRejectedError(
            "invalid", "'voice.name' must be a string", code="invalid_voice", param="voice.name"
        )
    if name:
        return LiveOptions(voice=name)
    if language is not None and not isinstance(language, str):
        raise intake.RequestRejectedError(
            "invalid",
            "'voice.language' must be a string",
            code="invalid_language",
            param="voice.language",
        )
    if not language:
        return LiveOptions(voice=default)
    return LiveOptions(voice=_voice_for_language(service, language, default))


def _voice_for_language(service: SpeechService, language: str, default: str) -> str:
    wanted = language.replace("_", "-").lower()
    base = wanted.split("-")[0]

    def matches(voice: Voice) -> int:
        tag = (language_tag(voice.language) or "").lower()
        return 2 if tag == wanted else 1 if tag.split("-")[0] == base else 0

    default_voice = intake.resolve_voice(service.voices, default)
    if matches(default_voice):
        return default
    candidates = [v for v in service.voices.all() if v.official is not None and matches(v)]
    if not candidates:
        raise intake.RequestRejectedError(
            "not_found",
            f"No voice here speaks {language!r}.",
            code="unsupported_language",
            param="voice.language",
        )
    best = min(candidates, key=lambda v: (-matches(v), _grade_rank(v), v.id))
    return best.id


def _grade_rank(voice: Voice) -> tuple[str, int]:
    """Sorts the official grades best first: A+, A, A-, B+, ..."""
    grade = voice.official.overall_grade if voice.official is not None else "Z"
    return grade[:1], {"+": 0, "": 1, "-": 2}.get(grade[1:], 3)


class KokoroEventHandler(AsyncEventHandler):
    """One Wyoming connection."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        service: SpeechService,
        settings: Settings,
    ) -> None:
        super().__init__(reader, writer)
        self.service = service
        self.settings = settings
        self._events = _GuardedReader(reader, 4 * settings.max_input_chars + 64 * 1024)
        self._live: LiveSpeech | None = None
        self._live_failed = False
        self._speaking: asyncio.Task[None] | None = None

    async def run(self) -> None:
        """Events until the client leaves; one that cannot be read is answered with an
        error and skipped (the library's own loop would hang up)."""
        try:
            while True:
                try:
                    event = await async_read_event(self._events)  # type: ignore[arg-type]
                except (asyncio.IncompleteReadError, ConnectionError):
                    break
                if event is None:
                    if self._events.problem is None:
                        break  # the client closed the connection
                    await self._error(self._events.problem, "malformed_event")
                    continue
                await self.handle_event(event)
        finally:
            await self.disconnect()

    async def disconnect(self) -> None:
        """The client left: whatever it asked for stops now."""
        await self._stop_speaking()
        self._live = None

    async def handle_event(self, event: Event) -> bool:
        try:
            await self._handle(event)
        except (KeyError, TypeError, AttributeError, ValueError) as e:
            await self._error(f"malformed {event.type!r} event: {e}", "malformed_event")
        return True

    async def _handle(self, event: Event) -> None:
        if Describe.is_type(event.type):
            await self.write_event(tts_info(self.service).event())
        elif Ping.is_type(event.type):
            await self.write_event(Pong(text=Ping.from_event(event).text).event())
        elif SynthesizeStart.is_type(event.type):
            await self._start_stream(SynthesizeStart.from_event(event).voice)
        elif SynthesizeChunk.is_type(event.type):
            await self._stream_text(_text_of(SynthesizeChunk.from_event(event).text))
        elif SynthesizeStop.is_type(event.type):
            await self._stop_stream()
        elif Synthesize.is_type(event.type):
            if self._live is not None or self._live_failed:
                return  # the whole text again, inside a stream: for servers without one
            request = Synthesize.from_event(event)
            await self._stop_speaking(wait=True)
            await self._speak_once(_text_of(request.text), request.voice)
        else:
            await self._error(
                f"this server does not handle {event.type!r} events", "unsupported_event"
            )

    async def _error(self, text: str, code: str) -> None:
        with contextlib.suppress(ConnectionError):
            await self.write_event(Error(text=text, code=code).event())

    async def _refused(self, e: Exception) -> None:
        if isinstance(e, intake.RequestRejectedError):
            await self._error(e.message, e.code)
        elif isinstance(e, ServerBusyError):
            await self._error(
                e.message,
                "server_busy",
            )
        else:
            logger.exception("Wyoming synthesis failed", exc_info=e)
            await self._error(f"synthesis failed: {e}", "synthesis_failed")

    # -- one request ------------------------------------------------------------------

    async def _speak_once(self, text: str, voice: SynthesizeVoice | None) -> None:
        try:
            options = _voice_of(voice, self.service, self.settings.default_voice)
            job = intake.speech_job(
                self.service,
                self.settings.text_limits,
                text=text,
                voice=options.voice,
                param="text",
                voice_param="voice.name",
            )
        except intake.RequestRejectedError as e:
            await self._refused(e)
            return
        self._speaking = asyncio.create_task(self._speak_job(job))

    async def _speak_job(self, job: SpeechJob) -> None:
        pacing = pacing_for(job, listener=True)
        try:
            slot = self.service.admission.admit(pacing)
        except ServerBusyError as e:
            await self._refused(e)
            return
        started = False
        try:
            limit = self.settings.request_timeout_s or math.inf
            async with asyncio.timeout(limit):
                async with contextlib.aclosing(self.service.stream(job, pacing=pacing)) as chunks:
                    async for audio in chunks:
                        started = await self._send_audio(audio, started)
            await self._end_audio(started)
        except TimeoutError:
            await self._error("the request ran past the server's time limit", "request_timeout")
        except ConnectionError:
            pass
        except Exception as e:  # noqa: BLE001 - the client hears why, the connection stays
            await self._refused(e)
        finally:
            slot.release()

    async def _send_audio(self, audio: Audio, started: bool) -> bool:
        if not started:
            await self.write_event(AudioStart(rate=SAMPLE_RATE, width=2, channels=1).event())
        for event in _audio_events(audio):
            await self.write_event(event)
        return True

    async def _end_audio(self, started: bool) -> None:
        if not started:
            await self.write_event(AudioStart(rate=SAMPLE_RATE, width=2, channels=1).event())
        await self.write_event(AudioStop().event())

    async def _stop_speaking(self, *, wait: bool = False) -> None:
        task, self._speaking = self._speaking, None
        if task is None:
            return
        if not wait:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    # -- streaming synthesis ----------------------------------------------------------

    async def _start_stream(self, voice: SynthesizeVoice | None) -> None:
        await self._stop_speaking(wait=True)
        self._live, self._live_failed = None, False
        try:
            options = _voice_of(voice, self.service, self.settings.default_voice)
            live = LiveSpeech(
                self.service,
                self.settings.text_limits,
                options,
                voice_param="voice.name",
                text_param="text",
            )
        except intake.RequestRejectedError as e:
            self._live_failed = True
            await self._refused(e)
            return
        self._live = live
        self._speaking = asyncio.create_task(self._speak_live(live))

    async def _stream_text(self, text: str) -> None:
        if self._live_failed:
            return  # the stream was refused: its text goes nowhere until its stop
        if self._live is None:
            await self._error(
                "'synthesize-chunk' outside a stream: send 'synthesize-start' first", "no_stream"
            )
            return
        try:
            self._live.add(text)
        except (intake.RequestRejectedError, SessionEndedError) as e:
            await self._fail_stream(e)

    async def _fail_stream(self, e: Exception) -> None:
        self._live, self._live_failed = None, True
        await self._stop_speaking()
        if isinstance(e, SessionEndedError):
            await self._error(str(e), "stream_ended")
        else:
            await self._refused(e)

    async def _stop_stream(self) -> None:
        live, self._live = self._live, None
        if live is not None:
            live.end()
            await self._stop_speaking(wait=True)
        elif not self._live_failed:
            await self._error("'synthesize-stop' outside a stream", "no_stream")
            return
        self._live_failed = False
        await self.write_event(SynthesizeStopped().event())

    async def _speak_live(self, live: LiveSpeech) -> None:
        started = False
        try:
            async with contextlib.aclosing(live_audio(self.service, live)) as chunks:
                async for audio in chunks:
                    started = await self._send_audio(audio, started)
            await self._end_audio(started)
        except ConnectionError:
            pass
        except Exception as e:  # noqa: BLE001 - the client hears why, the connection stays
            self._live, self._live_failed = None, True
            if started:
                with contextlib.suppress(ConnectionError):
                    await self.write_event(AudioStop().event())
            await self._refused(e)


def _text_of(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError("'text' must be a string")
    return value


async def start_wyoming_server(service: SpeechService, settings: Settings) -> AsyncServer:
    """Listen for Wyoming on ``settings.host`` and ``settings.wyoming_port`` (not
    blocking); ``stop()`` the result at shutdown."""
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    server = AsyncServer.from_uri(f"tcp://{host}:{settings.wyoming_port}")

    def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> KokoroEventHandler:
        return KokoroEventHandler(reader, writer, service=service, settings=settings)

    await server.start(handler)
    logger.info("Wyoming listening on tcp://%s:%s", settings.host, settings.wyoming_port)
    return server

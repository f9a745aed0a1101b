"""The text-streaming WebSocket, in the shape of ElevenLabs' ``stream-input``.

``/v1/text-to-speech/{voice_id}/stream-input``: a voice agent sends its LLM's
answer as it is written, and hears each sentence as soon as its text is
complete. The messages follow ElevenLabs' text-to-speech WebSocket, so their
SDKs and agent-framework plugins work with their base URL pointed here:

- Client: a first message (``{"text": " "}``, optionally ``voice_settings``
  and a key), then ``{"text": "...", "flush": bool}`` messages of any size,
  then ``{"text": ""}`` to end.
- Server: ``{"audio": base64, "isFinal": null, "alignment": ...,
  "normalizedAlignment": ...}`` messages, then ``{"isFinal": true}`` and a
  normal close. A refused request gets ``{"message", "error", "code"}`` and a
  close with that code (1008: the client's mistake; 1013: the server is busy;
  1011: the server failed).

The text goes to a live session (``api.live``): the same checks, chunking,
normalization, tags, scheduler and admission as ``POST /v1/audio/speech``.
What is accepted and what is ignored is written down in docs/live.md.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import math
import re
from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from api import intake
from api.admission import ServerBusyError
from api.audio.convert import Conversion, ConvertingEncoder
from api.backends.base import Audio, supports_timing
from api.captions import CaptionedChunk, caption_timestamps, captioned_chunks
from api.deps import key_matches
from api.live import LiveOptions, LivePiece, LiveSpeech, SessionEndedError
from api.settings import Settings
from api.speech import SpeechService
from api.text.normalize import NormalizationOptions
from api.text.timestamps import WordTimestamp

logger = logging.getLogger(__name__)

router = APIRouter()

POLICY = 1008
"""Close code for the client's mistakes (a bad key, voice, message or format)."""
TRY_AGAIN = 1013
"""Close code when the server is busy."""
FAILED = 1011
"""Close code when the server failed."""

MP3_RATES = (22050, 24000, 44100)
MP3_BIT_RATES = (32, 48, 64, 96, 128, 160, 192)
PCM_RATES = (8000, 16000, 22050, 24000, 44100, 48000)


def _output_formats() -> dict[str, Conversion]:
    formats = {f"pcm_{rate}": Conversion("pcm", rate) for rate in PCM_RATES}
    formats["ulaw_8000"] = Conversion("ulaw", 8000)
    formats["alaw_8000"] = Conversion("alaw", 8000)
    for rate in MP3_RATES:
        for kbps in MP3_BIT_RATES:
            formats[f"mp3_{rate}_{kbps}"] = Conversion("mp3", rate, kbps * 1000)
    return formats


OUTPUT_FORMATS = _output_formats()
"""``output_format`` values this socket speaks; the default is ``pcm_24000``, the
model's own rate."""

_SPEED_RANGE = (0.25, 4.0)


class SocketRefusedError(Exception):
    """Said to the client as an error message, then the socket closes with ``close_code``."""

    def __init__(self, message: str, error: str, close_code: int = POLICY) -> None:
        super().__init__(message)
        self.message = message
        self.error = error
        self.close_code = close_code


def _refused(e: Exception) -> SocketRefusedError:
    if isinstance(e, SocketRefusedError):
        return e
    if isinstance(e, intake.RequestRejectedError):
        return SocketRefusedError(e.message, e.code)
    if isinstance(e, SessionEndedError):
        return SocketRefusedError(str(e), "stream_ended")
    if isinstance(e, ServerBusyError):
        return SocketRefusedError(
            e.message,
            "server_busy",
            TRY_AGAIN,
        )
    logger.exception("stream-input synthesis failed", exc_info=e)
    return SocketRefusedError(f"synthesis failed: {e}", "synthesis_failed", FAILED)


def _bearer(value: str | None) -> str | None:
    if not value:
        return None
    scheme, _, rest = value.partition(" ")
    return rest.strip() if scheme.lower() == "bearer" and rest.strip() else value.strip()


def _handshake_key(websocket: WebSocket) -> str | None:
    """A key sent with the handshake: ElevenLabs' ``xi-api-key`` header, our Bearer
    header, or (for browsers, which cannot set headers) the query string."""
    headers, query = websocket.headers, websocket.query_params
    for value in (
        headers.get("xi-api-key"),
        _bearer(headers.get("authorization")),
        query.get("xi_api_key"),
        query.get("xi-api-key"),
        _bearer(query.get("authorization")),
    ):
        if value:
            return value
    return None


def _message_key(message: dict[str, Any]) -> str | None:
    for value in (message.get("xi_api_key"), message.get("xi-api-key")):
        if isinstance(value, str) and value:
            return value
    authorization = message.get("authorization")
    return _bearer(authorization) if isinstance(authorization, str) else None


def _check_key(settings: Settings, key: str | None) -> None:
    if key is None:
        raise SocketRefusedError(
            "You didn't provide an API key. Send it in the 'xi-api-key' or 'Authorization: "
            "Bearer KEY' header, the 'authorization' query parameter, or the first "
            "message's 'xi_api_key'.",
            "invalid_api_key",
        )
    if not key_matches(key, settings.api_keys):
        raise SocketRefusedError("Incorrect API key provided.", "invalid_api_key")


@dataclass(frozen=True)
class StreamOptions:
    """What the handshake's query string asks for."""

    conversion: Conversion
    inactivity_timeout_s: float
    normalize: bool
    lang_code: str | None
    ssml: bool


def _stream_options(websocket: WebSocket, settings: Settings) -> StreamOptions:
    query = websocket.query_params
    output_format = query.get("output_format") or "pcm_24000"
    conversion = OUTPUT_FORMATS.get(output_format)
    if conversion is None:
        raise SocketRefusedError(
            f"output_format {output_format!r} is not offered here; use one of: "
            + ", ".join(OUTPUT_FORMATS),
            "invalid_output_format",
        )
    timeout_s = settings.ws_inactivity_timeout_s
    if (asked := query.get("inactivity_timeout")) is not None:
        try:
            timeout_s = float(asked)
        except ValueError:
            timeout_s = math.nan
        if not 0 < timeout_s <= 180:
            raise SocketRefusedError(
                "inactivity_timeout must be a number of seconds above 0 and at most 180",
                "invalid_inactivity_timeout",
            )
    normalization = query.get("apply_text_normalization") or "auto"
    if normalization not in ("auto", "on", "off"):
        raise SocketRefusedError(
            "apply_text_normalization must be 'auto', 'on' or 'off'", "invalid_normalization"
        )
    ssml = (query.get("enable_ssml_parsing") or "false").lower()
    if ssml not in ("true", "false"):
        raise SocketRefusedError(
            "enable_ssml_parsing must be 'true' or 'false'", "invalid_ssml_flag"
        )
    return StreamOptions(
        conversion=conversion,
        inactivity_timeout_s=timeout_s,
        normalize=normalization != "off",
        lang_code=query.get("language_code") or None,
        ssml=ssml == "true",
    )


def _message(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A client message as a JSON object, or ``SocketRefusedError``."""
    if raw.get("bytes") is not None:
        raise SocketRefusedError("messages are JSON text, not binary frames", "invalid_message")
    try:
        message = json.loads(raw.get("text") or "")
    except ValueError as e:
        raise SocketRefusedError(f"a message is not valid JSON: {e}", "invalid_message") from e
    if not isinstance(message, dict):
        raise SocketRefusedError("a message must be a JSON object", "invalid_message")
    text = message.get("text")
    if not isinstance(text, str):
        raise SocketRefusedError("every message needs a string 'text'", "invalid_message")
    if not isinstance(message.get("flush", False), bool):
        raise SocketRefusedError("'flush' must be true or false", "invalid_message")
    return message


def _speed(message: dict[str, Any]) -> float:
    settings = message.get("voice_settings") or {}
    if not isinstance(settings, dict):
        raise SocketRefusedError("'voice_settings' must be an object", "invalid_message")
    speed = settings.get("speed", 1.0)
    low, high = _SPEED_RANGE
    if isinstance(speed, bool) or not isinstance(speed, int | float) or not low <= speed <= high:
        raise SocketRefusedError(
            f"voice_settings.speed must be a number from {low} to {high}", "invalid_speed"
        )
    return float(speed)


# -- alignment ------------------------------------------------------------------------

_WORD = re.compile(r"\S+")


def _spread(text: str, spans: list[tuple[int, int, float, float]]) -> dict[str, list[Any]]:
    """Per-character timing of ``text``: each (char_from, char_to, start_s, end_s) span's
    characters share its time evenly; characters between spans (spaces) fill the gap."""
    chars = list(text)
    starts = [0.0] * len(chars)
    ends = [0.0] * len(chars)
    previous_end, cursor = 0.0, 0
    for first, last, start, end in spans:
        for i in range(cursor, first):
            starts[i], ends[i] = previous_end, max(start, previous_end)
        step = (end - start) / max(last - first, 1)
        for k, i in enumerate(range(first, last)):
            starts[i], ends[i] = start + k * step, start + (k + 1) * step
        previous_end, cursor = end, last
    for i in range(cursor, len(chars)):
        starts[i] = ends[i] = previous_end
    return {
        "chars": chars,
        "charStartTimesMs": [round(s * 1000) for s in starts],
        "charsDurationsMs": [round((e - s) * 1000) for s, e in zip(starts, ends, strict=True)],
    }


def alignment(text: str, timestamps: list[WordTimestamp]) -> dict[str, dict[str, list[Any]]]:
    """ElevenLabs' ``alignment`` (the text as sent) and ``normalizedAlignment`` (as
    spoken: numbers, units, ... read out) of one piece, from its words' timestamps.

    A word as sent takes the time of the spoken word it became when the two
    texts have as many words; otherwise (a number read as three words) the
    piece's speech is spread over the sent text's words by their lengths."""
    normalized = " ".join(t.word for t in timestamps)
    spans, cursor = [], 0
    for stamp in timestamps:
        spans.append((cursor, cursor + len(stamp.word), stamp.start_time, stamp.end_time))
        cursor += len(stamp.word) + 1
    sent = list(_WORD.finditer(text))
    if len(sent) == len(timestamps):
        sent_spans = [
            (m.start(), m.end(), t.start_time, t.end_time)
            for m, t in zip(sent, timestamps, strict=True)
        ]
    elif sent and timestamps:
        begin, finish = timestamps[0].start_time, timestamps[-1].end_time
        total = sum(len(m.group()) for m in sent)
        sent_spans, done = [], 0
        for m in sent:
            start = begin + (finish - begin) * done / total
            done += len(m.group())
            sent_spans.append((m.start(), m.end(), start, begin + (finish - begin) * done / total))
    else:
        sent_spans = []
    return {
        "alignment": _spread(text, sent_spans),
        "normalizedAlignment": _spread(normalized, spans),
    }


@dataclass
class _Spoken:
    audio: Audio
    alignment: dict[str, dict[str, list[Any]]] | None


async def _piece_audio(
    service: SpeechService, live: LiveSpeech, piece: LivePiece
) -> AsyncGenerator[_Spoken, None]:
    """One piece's audio chunks as they are made; the last carries the piece's
    alignment (timed from the piece's first audio) where the backend has timings."""
    job = piece.job
    if not supports_timing(service.backend):
        stream = service.stream(job, schedule=piece.schedule, pacing=live.pacing)
        async with contextlib.aclosing(stream) as chunks:
            async for audio in chunks:
                yield _Spoken(audio, None)
        return
    timed: list[CaptionedChunk] = []
    made = captioned_chunks(service, job, piece.schedule, final=live.pacing.mark_final)
    async with contextlib.aclosing(service.run_chunks(made, pacing=live.pacing)) as chunks:
        async for chunk in chunks:
            service.count_audio(chunk.audio)
            timed.append(replace(chunk, audio=_NO_AUDIO))
            # The plan marks its last chunk before handing it out: that one carries
            # the alignment; the others leave at once.
            aligned = None
            if live.pacing.final:
                aligned = alignment(job.text, caption_timestamps(service, job, timed))
            yield _Spoken(chunk.audio, aligned)


_NO_AUDIO = np.zeros(0, dtype=np.float32)


def _timed_out(timeout_s: float) -> SocketRefusedError:
    return SocketRefusedError(
        f"Have not received new text for {timeout_s:g} seconds; closing the connection "
        "(send a space to keep it open).",
        "input_timeout_exceeded",
    )


class _Socket:
    """One stream-input connection: the reader (this task) and the speaker (a task)."""

    def __init__(self, websocket: WebSocket, service: SpeechService, settings: Settings) -> None:
        self.websocket = websocket
        self.service = service
        self.settings = settings
        self._send_lock = asyncio.Lock()
        self._speaking: asyncio.Task[None] | None = None
        self._failure: SocketRefusedError | None = None

    async def send(self, message: dict[str, Any]) -> None:
        async with self._send_lock:
            await self.websocket.send_text(json.dumps(message, separators=(",", ":")))

    async def refuse(self, e: SocketRefusedError) -> None:
        with contextlib.suppress(Exception):
            await self.send({"message": e.message, "error": e.error, "code": e.close_code})
            await self.websocket.close(e.close_code, e.error[:100])

    async def run(self) -> None:
        websocket, settings = self.websocket, self.settings
        await websocket.accept()
        try:
            key = _handshake_key(websocket)
            if settings.api_keys and key is not None:
                _check_key(settings, key)
            options = _stream_options(websocket, settings)
            try:
                first = await self._receive(options.inactivity_timeout_s)
            except TimeoutError:
                raise _timed_out(options.inactivity_timeout_s) from None
            if settings.api_keys and key is None:
                _check_key(settings, _message_key(first))
            live = LiveSpeech(
                self.service,
                settings.text_limits,
                LiveOptions(
                    voice=websocket.path_params["voice_id"],
                    speed=_speed(first),
                    lang_code=options.lang_code,
                    ssml=options.ssml,
                    normalization=None
                    if options.normalize
                    else NormalizationOptions(normalize=False),
                ),
                voice_param="voice_id",
                text_param="text",
            )
            self._speaking = asyncio.create_task(self._speak(live, options.conversion))
            await self._read(live, first, options.inactivity_timeout_s)
        except SocketRefusedError as e:
            await self._stop()
            await self.refuse(e)
        except (WebSocketDisconnect, ConnectionError):
            await self._stop()  # the client left: its work stops now
        except Exception as e:  # noqa: BLE001 - the client hears why before the close
            await self._stop()
            await self.refuse(_refused(e))

    async def _stop(self) -> None:
        task, self._speaking = self._speaking, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _receive(self, timeout_s: float) -> dict[str, Any]:
        raw = await asyncio.wait_for(self.websocket.receive(), timeout_s)
        if raw["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(raw.get("code", 1000))
        return _message(raw)

    async def _read(self, live: LiveSpeech, first: dict[str, Any], timeout_s: float) -> None:
        message: dict[str, Any] | None = first
        while True:
            if message is not None:
                self._take(live, message)
                if live.ended:
                    break
            try:
                message = await self._receive(timeout_s)
            except TimeoutError:
                if self._speaking is not None and self._speaking.done():
                    break
                if live.feed.pending.strip():
                    # Quiet with a sentence unfinished: speak it, then time out.
                    live.flush()
                    message = None
                    continue
                if live.slot is not None:
                    message = None  # still speaking, or its listener still playing
                    continue
                raise _timed_out(timeout_s) from None
            if self._speaking is not None and self._speaking.done():
                break
        # The stream has ended: its speaker finishes, then says so.
        if self._speaking is not None:
            done = self._speaking
            self._speaking = None
            await done
        if self._failure is not None:
            raise self._failure

    def _take(self, live: LiveSpeech, message: dict[str, Any]) -> None:
        text = message["text"]
        if text == "":
            live.end()
            return
        live.add(text)
        # ``try_trigger_generation`` (their SDK sends it with every piece) is ignored:
        # the feed decides when a piece is worth speaking.
        if message.get("flush"):
            live.flush()

    async def _speak(self, live: LiveSpeech, conversion: Conversion) -> None:
        encoder = ConvertingEncoder(conversion)
        try:
            async with contextlib.aclosing(live.pieces()) as pieces:
                async for piece in pieces:
                    async with contextlib.aclosing(
                        _piece_audio(self.service, live, piece)
                    ) as spoken:
                        async for part in spoken:
                            await self._send_audio(encoder.encode(part.audio), part.alignment)
            await self._send_audio(encoder.finalize(), None)
            await self.send({"isFinal": True})
            await self.websocket.close(1000)
        except (WebSocketDisconnect, ConnectionError, asyncio.CancelledError):
            raise
        except Exception as e:  # noqa: BLE001 - said to the client by the reader
            self._failure = _refused(e)
            with contextlib.suppress(Exception):
                # Wake the reader, which is waiting for a message, to say it.
                await self.refuse(self._failure)
        finally:
            encoder.close()

    async def _send_audio(self, audio: bytes, aligned: dict[str, Any] | None) -> None:
        if not audio and aligned is None:
            return
        message: dict[str, Any] = {
            "audio": base64.b64encode(audio).decode(),
            "isFinal": None,
            "normalizedAlignment": None,
            "alignment": None,
        }
        if aligned is not None:
            message.update(aligned)
        await self.send(message)


@router.websocket("/v1/text-to-speech/{voice_id}/stream-input")
async def stream_input(websocket: WebSocket, voice_id: str) -> None:
    """Text in as it is written, speech out as soon as each sentence is complete
    (ElevenLabs' text-to-speech WebSocket; see docs/live.md)."""
    app = websocket.app
    await _Socket(websocket, app.state.speech, app.state.settings).run()

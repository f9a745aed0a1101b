"""Live speech: text that arrives in pieces, spoken as soon as enough of it is there.

A voice agent's LLM writes its answer a few tokens at a time; Home Assistant
streams its response the same way. Both doors that take such text (the
text-streaming WebSocket and Wyoming's streaming synthesis) hand it to a
``LiveSpeech``, which cuts it into pieces worth speaking (``TextFeed``) and
speaks them one after another as jobs of the same speech path as HTTP: the
same checks (``api.intake``), chunking, normalization, tags, scheduler and
admission.

What makes a piece:

- A complete sentence, as soon as its end is there (``.``, ``!`` or ``?``
  followed by a space, or ending the text so far; abbreviations, initials and
  numbers such as "3." wait for what follows).
- While the listener has nothing to play (the first piece, or after the text
  ran out), a clause (a comma, a colon, ...) once it is ``EAGER_CLAUSE_CHARS``
  long, else the first ``EAGER_WORDS_CHARS`` or so of whole words, so that
  speech starts before the sentence is complete (as a request's first chunk
  does), never inside a word.
- Past ``CLAUSE_CHARS`` of a sentence with no end yet, its clauses; past
  ``MAX_PIECE_CHARS``, its words.
- Whatever is left when the client flushes or ends the stream.

A piece never ends inside a ``[...]`` tag, and a ``[voice:...]`` tag goes on
switching the voice in the pieces after it, as it would in one request.

A live session holds a request slot while it has text to speak and while its
listener still has audio to play (plus ``IDLE_GRACE_S``); an idle session
gives its slot back and asks for one again when text comes. The listener's
pacing carries over from piece to piece, so a piece that follows another is
due when the audio before it runs out, and one that follows silence is due
at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass

from api import intake
from api.admission import Slot
from api.backends.base import Audio
from api.scheduler import Pacing
from api.speech import SPEECH_SECONDS_PER_CHARACTER, SpeechJob, SpeechService
from api.text.checks import TextLimits, TextRejectedError, check_total_pause
from api.text.chunks import PLAN, ChunkSchedule
from api.text.normalize import NormalizationOptions
from api.text.split import ABBREVIATIONS, VoiceSwitch, split_segments
from api.voices.store import Voice

EAGER_CLAUSE_CHARS = 40
"""A clause this long is spoken on its own while the listener has nothing to play."""
EAGER_WORDS_CHARS = 30
"""While the listener has nothing to play, this many characters of whole words are
spoken without waiting for their sentence or clause to end: about the 30 tokens of
a request's first chunk (``PLAN``), which is cut between words the same way."""
CLAUSE_CHARS = 150
"""A sentence with no end yet is spoken clause by clause past this many characters."""
MAX_PIECE_CHARS = 300
"""A sentence with no end and no clause yet is spoken word by word past this many."""
COMPUTE_MARGIN = 1.5
"""A piece is made in one chunk only when the audio still playing lasts this many
times its expected computation."""
DEFAULT_COMPUTE_RATE = 0.5
"""Seconds of computation per second of audio assumed before any was measured (two
cores: about 0.3)."""
IDLE_GRACE_S = 2.0
"""How long a session with no text keeps its slot once its listener's audio ran out."""

FOLLOWING = ChunkSchedule(first_tokens=PLAN.max_tokens, first_clause_max=PLAN.max_tokens)
"""The chunks of a piece that follows audio still playing: the feed has cut it to
size, so it is one chunk where it fits. A piece that starts the listener's audio
(the first, or one after silence) takes ``PLAN``, whose short first chunk speaks
soonest."""

_SENTENCE_END = re.compile(r"[.!?…。！？][\"'”’)\]」』）]*(?:\s+|$)")
_CLAUSE_END = re.compile(r"[,;:—–、，；：](?:\s+)")
_SPACE = re.compile(r"\s+")


def _closes_sentence(text: str, end: int, at_end: bool) -> bool:
    """Whether the sentence-end match ending at ``end`` really ends a sentence."""
    before = text[:end].rstrip()
    words = before.split()
    last = words[-1] if words else ""
    if not last.endswith("."):
        return True
    bare = last.rstrip(".").strip("\"'“‘(")
    if bare.lower() in ABBREVIATIONS:
        return False
    if text[end : end + 1].islower():
        return False  # "the U.S. and ...", "costs 3. and ...": the sentence goes on
    if at_end:
        # "3." may be "3.14" cut by the tokenizer, "U." may be "U.S.": wait for more.
        return len(bare) > 1 and "." not in bare and not bare[-1:].isdigit()
    return True


def _inside_tag(text: str, cut: int, markup: bool = False) -> bool:
    """Whether ``text[:cut]`` ends inside an unclosed ``[...]`` (or, with ``markup``,
    an unclosed ``<...>``)."""
    head = text[:cut]
    if markup and head.rfind("<") > head.rfind(">"):
        return True
    return head.rfind("[") > head.rfind("]")


class TextFeed:
    """Text pushed in pieces; ``pop`` takes the next part worth speaking now.

    ``markup``: the text holds SSML elements, which a piece never ends inside."""

    def __init__(self, *, markup: bool = False) -> None:
        self._text = ""
        self._markup = markup

    @property
    def pending(self) -> str:
        return self._text

    def push(self, text: str) -> None:
        self._text += text

    def pop(self, *, eager: bool = False, flush: bool = False) -> str | None:
        """The next piece to speak (see the module), or None while there is none yet.

        ``eager``: the listener has nothing to play, so a long enough clause will do;
        ``flush``: everything there is, complete or not."""
        text = self._text
        cut = self._cut(text, eager)
        if cut is None and flush and text.strip():
            cut = len(text)
        if cut is None:
            if not text.strip():
                self._text = ""  # only spaces: nothing will ever come of them
            return None
        piece, self._text = text[:cut], text[cut:]
        return piece if piece.strip() else self.pop(eager=eager, flush=flush)

    def _cut(self, text: str, eager: bool) -> int | None:
        for match in _SENTENCE_END.finditer(text):
            at_end = match.end() == len(text)
            if _closes_sentence(text, match.end(), at_end) and not _inside_tag(
                text, match.end(), self._markup
            ):
                return match.end()
        newline = text.find("\n")
        if newline >= 0 and not _inside_tag(text, newline, self._markup):
            return newline + 1
        clause_at = EAGER_CLAUSE_CHARS if eager else CLAUSE_CHARS
        if len(text) >= clause_at:
            cuts = [
                m.end()
                for m in _CLAUSE_END.finditer(text)
                if m.end() >= clause_at and not _inside_tag(text, m.end(), self._markup)
            ]
            if cuts:
                return cuts[0]
        if eager and len(text) > EAGER_WORDS_CHARS:
            words = [
                m.end()
                for m in _SPACE.finditer(text, EAGER_WORDS_CHARS - 1)
                if not _inside_tag(text, m.end(), self._markup)
            ]
            if words:
                return words[0]
        if len(text) >= MAX_PIECE_CHARS:
            spaces = [
                m.end()
                for m in _SPACE.finditer(text, 0, MAX_PIECE_CHARS)
                if not _inside_tag(text, m.end(), self._markup)
            ]
            return spaces[-1] if spaces else MAX_PIECE_CHARS
        return None


class SessionEndedError(RuntimeError):
    """Text came after the session's end."""


@dataclass(frozen=True)
class LiveOptions:
    """What a live session's pieces are spoken with (checked by ``LiveSpeech``)."""

    voice: str
    speed: float = 1.0
    lang_code: str | None = None
    normalization: NormalizationOptions | None = None
    ssml: bool = False
    """Each piece is SSML content (elements within a sentence: ``<break/>``,
    ``<say-as>``, ``<phoneme>``, ``<sub>``, ...), read as a ``<speak>`` document."""


@dataclass(frozen=True)
class LivePiece:
    """A piece of a live session, ready to be spoken with ``schedule``."""

    job: SpeechJob
    schedule: ChunkSchedule


class LiveSpeech:
    """One live session: text in (``add``, ``flush``, ``end``), pieces out (``pieces``).

    The voice and language are checked when the session opens
    (``RequestRejectedError``); each piece's text is checked as a request's would
    be, and the session as a whole is held to the limits of one request (its
    characters and its pauses in all).
    """

    def __init__(
        self,
        service: SpeechService,
        limits: TextLimits,
        options: LiveOptions,
        *,
        voice_param: str = "voice",
        text_param: str = "text",
    ) -> None:
        self.service = service
        self.limits = limits
        self.options = options
        self.text_param = text_param
        self.voice: Voice = intake.resolve_voice(service.voices, options.voice, voice_param)
        self.language = intake.language_code(options.lang_code)
        self.feed = TextFeed(markup=options.ssml)
        self._form = intake.text_form(
            options.voice, options.normalization, "ssml" if options.ssml else "text"
        )
        self.received_chars = 0
        self._pause_s = 0.0
        self._flush = False
        self._ended = False
        self._changed = asyncio.Event()
        self.pacing = Pacing(listener=True)
        self.slot: Slot | None = None

    @property
    def ended(self) -> bool:
        return self._ended

    def add(self, text: str) -> None:
        """More text; over the session's character limit, ``RequestRejectedError``."""
        if self._ended:
            raise SessionEndedError("the stream has ended; open a new one")
        self.received_chars += len(text)
        if self.received_chars > self.limits.max_chars:
            raise intake.RequestRejectedError(
                "too_large",
                f"This stream has been sent {self.received_chars} characters; the limit is "
                f"{self.limits.max_chars} per stream. Open a new stream for more.",
                code="input_too_long",
                param=self.text_param,
            )
        self.feed.push(text)
        self._changed.set()

    def flush(self) -> None:
        """Speak what has been sent, complete or not."""
        self._flush = True
        self._changed.set()

    def end(self) -> None:
        """No more text: speak what is left, then ``pieces`` ends."""
        self._ended = True
        self._changed.set()

    def _next_text(self) -> str | None:
        eager = self.pacing.first_audio is None or self.pacing.slack_s() <= 0
        flush = self._flush or self._ended
        piece = self.feed.pop(eager=eager, flush=flush)
        if not self.feed.pending.strip():
            self._flush = False
        return piece

    def _job(self, text: str) -> SpeechJob | None:
        """The job for one piece (None: the piece has nothing to say, such as a lone
        tag's leftovers), or ``RequestRejectedError``."""
        if self.options.ssml:
            text = f"<speak>{text}</speak>"
        try:
            checked = intake.checked_text(text, self.limits, self.text_param, self._form)
        except intake.RequestRejectedError as e:
            if e.code in ("empty_input", "nothing_to_speak"):
                self._follow_voice_tags(text)
                return None
            raise
        self._pause_s += checked.pause_s
        try:
            check_total_pause(self._pause_s, self.limits, what="this stream")
        except TextRejectedError as e:
            raise intake.rejected_text(e, self.text_param) from e
        job = intake.tagged_job(
            self.service,
            checked,
            self.voice,
            speed=self.options.speed,
            language=self.language,
            normalization=self.options.normalization,
            param=self.text_param,
        )
        self._follow_voice_tags(checked.text, job)
        return job

    def _follow_voice_tags(self, text: str, job: SpeechJob | None = None) -> None:
        """The voice the last ``[voice:...]`` tag of ``text`` names goes on speaking."""
        specs = [s.spec for s in split_segments(text) if isinstance(s, VoiceSwitch)]
        if specs:
            voice = job.tag_voices[specs[-1]] if job is not None else None
            self.voice = voice or intake.resolve_voice(
                self.service.voices, specs[-1], self.text_param
            )

    async def _wait(self, within_s: float | None) -> bool:
        """Wait for news (text, flush, end); False when ``within_s`` passed first."""
        self._changed.clear()
        try:
            await asyncio.wait_for(self._changed.wait(), within_s)
        except TimeoutError:
            return False
        return True

    def _release(self) -> None:
        if self.slot is not None:
            self.slot.release()
            self.slot = None

    def _prepare_pacing(self, job: SpeechJob) -> ChunkSchedule:
        """The next piece is due when the audio before it runs out, or at once after
        silence (the listener starts again); returns the chunk plan it takes: one
        chunk where the audio still playing covers its computation, else ``PLAN``,
        whose short first chunk is ready soonest."""
        pacing = self.pacing
        piece_s = len(job.text) * SPEECH_SECONDS_PER_CHARACTER / job.speed
        schedule = FOLLOWING
        if pacing.first_audio is None or pacing.slack_s() <= 0:
            pacing.arrived = time.monotonic()
            pacing.first_audio = None
            pacing.audio_s = 0.0
            schedule = PLAN
        elif pacing.slack_s() < COMPUTE_MARGIN * piece_s * self._compute_rate():
            schedule = PLAN
        pacing.final = False
        pending = len(self.feed.pending) * SPEECH_SECONDS_PER_CHARACTER
        pacing.expected_audio_s = pacing.audio_s + piece_s + pending / job.speed
        return schedule

    def _compute_rate(self) -> float:
        rate = self.service.compute_rate
        return DEFAULT_COMPUTE_RATE if rate is None else rate

    async def pieces(self) -> AsyncGenerator[LivePiece, None]:
        """Each piece's job as soon as its text is there, until the session ends.

        The consumer speaks each job (with ``pacing``) before it asks for the next.
        A slot is taken before a job is handed out (``ServerBusyError`` when the
        server is full) and given back while the session idles; it is always given
        back when the iteration stops."""
        try:
            while True:
                text = self._next_text()
                if text is None:
                    if self._ended:
                        return
                    timeout = None
                    if self.slot is not None:
                        timeout = max(self.pacing.slack_s(), 0.0) + IDLE_GRACE_S
                    if not await self._wait(timeout):
                        self._release()
                    continue
                job = self._job(text)
                if job is None:
                    continue
                schedule = self._prepare_pacing(job)
                if self.slot is None:
                    self.slot = self.service.admission.admit(self.pacing)
                yield LivePiece(job, schedule)
        finally:
            self._release()


async def live_audio(service: SpeechService, live: LiveSpeech) -> AsyncGenerator[Audio, None]:
    """The audio of every piece of a live session, piece after piece, each piece
    on the shared scheduler with the session's pacing."""
    async with contextlib.aclosing(live.pieces()) as pieces:
        async for piece in pieces:
            stream = service.stream(piece.job, schedule=piece.schedule, pacing=live.pacing)
            async with contextlib.aclosing(stream) as chunks:
                async for audio in chunks:
                    yield audio

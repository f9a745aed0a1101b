"""SpeechService: text in, a stream of audio chunks out."""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import itertools
import math
import threading
import time
from collections.abc import AsyncGenerator, Callable, Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Protocol, TypeVar

import numpy as np

from api.admission import Admission
from api.audio.cache import AudioCache
from api.audio.silence import MARGIN_SECONDS, shape_silence, silence_pieces
from api.backends.base import SAMPLE_RATE, Audio, Backend, StopSignal, serving
from api.scheduler import DeadlineScheduler, Pacing
from api.text import inline
from api.text.chunks import (
    PLAN,
    ChunkSchedule,
    Vocabulary,
    pause_after,
    plan_chunks,
    split_phonemes,
)
from api.text.g2p import ENGLISH, G2P, g2p_language, language_for_text
from api.text.normalize import NormalizationOptions, normalize_text
from api.text.split import Pause, SpeedChange, VoiceSwitch, split_segments, split_sentences
from api.voices.store import Voice, VoiceStore

T = TypeVar("T")

_RATE_DECAY = 0.98
"""Weight of the past in the compute-rate estimate, per chunk."""

SPEECH_SECONDS_PER_CHARACTER = 0.056
"""Seconds of speech per character of English text at speed 1 (the benches' paragraph:
18.6 s for 330 characters), for estimates of a request's size; tags count as text."""
SPEECH_SECONDS_PER_PHONEME = 0.06
"""Seconds of speech per phoneme symbol (spaces included) at speed 1: the same
paragraph is 299 symbols in its chunks for 18.07 s of audio."""

SLACK_BUCKETS_S = (0.0, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0)
"""Upper bounds of the buckets of the chunk slack histogram (``/metrics``); the first
holds the late chunks (a histogram with a negative bound has no sum or count)."""

G2P_MAX_CHARS = 1000
"""Longest text handed to the G2P in one call (a sentence is cut at a clause, a word
or, for a word longer than this, anywhere)."""


@dataclass(frozen=True)
class Utterance:
    """A stretch of text spoken by one voice in one language."""

    text: str
    voice: Voice
    language: str
    speed: float = 1.0
    """Times the request's speed (``[speed:X]`` tags)."""
    end_pause: float | None = None
    """Silence after its last chunk in place of the one its punctuation calls for
    (0 before a ``[pause:Ns]`` tag, which replaces it)."""


class Lexicon(Protocol):
    """Pronunciations an operator fixed: ``apply`` rewrites a sentence before its G2P
    (a word into a respelling, or an inline ``[word](/phonemes/)`` form)."""

    def apply(self, text: str, language: str) -> str: ...


@dataclass(frozen=True)
class SpeechJob:
    """One validated request: what to say, with which voice, how fast."""

    text: str
    voice: Voice
    speed: float = 1.0
    language: str | None = None
    """Language to read every voice's text in (``lang_code``); None: each voice's own."""
    normalization: NormalizationOptions | None = None
    """English text normalization; None means the defaults (on)."""
    tag_voices: Mapping[str, Voice] = field(default_factory=dict)
    """The voices ``[voice:SPEC]`` tags in ``text`` name, resolved: SPEC -> voice."""

    def language_for(self, voice: Voice) -> str:
        return self.language or g2p_language(voice.language)

    @property
    def effective_language(self) -> str:
        return self.language_for(self.voice)

    def pieces(self) -> Iterator[Utterance | Pause]:
        """The text as utterances and pauses, in order, lazily; voice tags switch the
        voice (and, without ``language``, the language) until the next tag, speed
        tags the speed.

        A pause is exact between the speech around it: the utterance before it
        ends without its own punctuation pause, and the pause's silence leaves
        out the margin of silence kept at each edge of the speech next to it, so
        from the last sound before to the first after is the pause asked for."""
        previous: Utterance | Pause | None = None
        for piece in self._segments():
            if isinstance(piece, Pause):
                if isinstance(previous, Utterance):
                    yield replace(previous, end_pause=0.0)
                    previous = Pause(max(piece.seconds - MARGIN_SECONDS, 0.0))
                    continue
                if previous is not None:
                    yield previous
                previous = piece
                continue
            if isinstance(previous, Pause):
                yield Pause(max(previous.seconds - MARGIN_SECONDS, 0.0))
            elif previous is not None:
                yield previous
            previous = piece
        if previous is not None:
            yield previous

    def _segments(self) -> Iterator[Utterance | Pause]:
        voice, speed = self.voice, 1.0
        for segment in split_segments(self.text):
            if isinstance(segment, VoiceSwitch):
                voice = self.tag_voices[segment.spec]
            elif isinstance(segment, SpeedChange):
                speed = segment.factor
            elif isinstance(segment, Pause):
                yield segment
            elif segment.strip():
                yield Utterance(segment, voice, self.language_for(voice), speed)


def _seconds_of(item: object) -> float:
    """Seconds of audio in a chunk: an array, or anything with an ``audio`` array."""
    audio = getattr(item, "audio", item)
    return len(audio) / SAMPLE_RATE if isinstance(audio, np.ndarray) else 0.0


@dataclass(frozen=True)
class Dialogue:
    """Turns of a script, each a job with its speaker's voice and speed, spoken in
    order with ``gap`` seconds of silence between them."""

    turns: tuple[SpeechJob, ...]
    gap: float = 0.5

    @property
    def text(self) -> str:
        return "\n".join(turn.text for turn in self.turns)


Speakable = SpeechJob | Dialogue
Final = Callable[[], None]
"""Called by a chunk generator just before it yields its last chunk."""


def expected_speech_s(job: Speakable) -> float:
    """About how many seconds of speech ``job`` gives: a size for admission's
    estimates (pauses cost no compute, so they are not counted)."""
    if isinstance(job, Dialogue):
        return sum(expected_speech_s(turn) for turn in job.turns)
    return len(job.text) * SPEECH_SECONDS_PER_CHARACTER / job.speed


def pacing_for(job: Speakable, *, listener: bool) -> Pacing:
    """The pacing of a request for ``job``: a stream's (``listener``) or a complete
    file's, with its expected size for admission's estimates."""
    return Pacing(listener, expected_audio_s=expected_speech_s(job))


def with_last(items: Iterable[T], *, look_ahead: bool = True) -> Iterator[tuple[T, bool]]:
    """Each item and whether it is the last. Knowing that means reading one item
    ahead; with ``look_ahead`` False nothing is read early and no item is marked last."""
    iterator = iter(items)
    if not look_ahead:
        yield from ((item, False) for item in iterator)
        return
    try:
        current = next(iterator)
    except StopIteration:
        return
    for following in iterator:
        yield current, False
        current = following
    yield current, True


def read_sentences(
    text: str,
    language: str,
    normalization: NormalizationOptions | None = None,
    lexicon: Lexicon | None = None,
) -> Iterator[tuple[str, str]]:
    """Each sentence as the G2P reads it (the lexicon applied, then normalized where
    it is English; inline ``[word](/phonemes/)`` forms kept), with the language it
    is read in."""
    for written in split_sentences(text):
        sentence_language = language_for_text(written, language)
        sentence = written if lexicon is None else lexicon.apply(written, sentence_language)
        english = sentence_language in ENGLISH
        read = (
            inline.map_text(sentence, lambda part: normalize_text(part, normalization))
            if english
            else sentence
        )
        # espeak-ng's time grows with the square of what it is handed at once
        # (40,000 "1," took 31 s, 20,000 took 7 s): a run-on "sentence" is
        # read in pieces cut at its clauses, else its words.
        for piece in split_phonemes(read, G2P_MAX_CHARS):
            yield piece, sentence_language


class SpeechService:
    """Wires text processing, voices and the backend; owns the inference threads.

    Text is split and phonemized lazily, one chunk ahead of the audio, so a long
    input starts speaking at once and never sits fully in memory as phonemes.

    All requests share one pool of inference threads. A request hands the pool
    one chunk at a time and queues its next chunk only when the previous one is
    done, with the time it is due (``api.scheduler``: earliest deadline first),
    so a short request is never stuck behind all of a long one.

    ``admission`` takes requests on while the capacity measured from the
    compute rate holds them (``capacity_headroom`` of it; 0: not looked at),
    at most ``workers + max_queued`` at once. ``audio_cache`` keeps finished
    responses for repeats (off at 0 bytes).
    """

    def __init__(
        self,
        backend: Backend,
        voices: VoiceStore,
        vocabulary: Vocabulary,
        g2p: G2P,
        *,
        workers: int = 1,
        max_queued: int = 0,
        capacity_headroom: float = 0.0,
        audio_cache_bytes: int = 0,
        lexicon: Lexicon | None = None,
    ) -> None:
        self.backend = backend
        self.voices = voices
        self.vocabulary = vocabulary
        self.g2p = g2p
        self.lexicon = lexicon
        self.admission = Admission(
            workers + max_queued,
            workers=workers,
            rate=lambda: self.compute_rate,
            headroom=capacity_headroom,
        )
        self.audio_cache = AudioCache(audio_cache_bytes)
        self._scheduler = DeadlineScheduler(workers)
        self._counts_lock = threading.Lock()
        self._waiting = 0
        self._audio_samples = 0
        self._late_chunks = 0
        self._compute_s = 0.0
        self._computed_audio_s = 0.0
        self._slack_counts = [0] * (len(SLACK_BUCKETS_S) + 1)
        self._slack_sum = 0.0

    @property
    def queue_depth(self) -> int:
        """Requests whose next chunk waits for a free inference worker."""
        return self._waiting

    @property
    def audio_seconds(self) -> float:
        """Seconds of audio handed to responses since the start."""
        return self._audio_samples / SAMPLE_RATE

    @property
    def late_chunks(self) -> int:
        """Chunks of streams that were ready only after their listener ran out."""
        return self._late_chunks

    @property
    def compute_rate(self) -> float | None:
        """Seconds of inference per second of audio delivered (the model's padding cut
        away), a running mean over recent chunks (None before any)."""
        if self._computed_audio_s == 0:
            return None
        return self._compute_s / self._computed_audio_s

    def chunk_slack(self) -> tuple[list[tuple[float, int]], float]:
        """The slack histogram of stream chunks: (upper bound, cumulative count) per
        bucket, the last one infinite, and the sum of the slacks."""
        with self._counts_lock:
            counts, total = list(self._slack_counts), self._slack_sum
        bounds = [*SLACK_BUCKETS_S, math.inf]
        return list(zip(bounds, itertools.accumulate(counts), strict=True)), total

    def count_compute(self, seconds: float, audio: Audio) -> None:
        """One chunk's inference time and the audio it gave (for ``compute_rate``)."""
        with self._counts_lock:
            # An exponential mean over about the last 50 chunks, weighted by audio.
            self._compute_s = self._compute_s * _RATE_DECAY + seconds
            self._computed_audio_s = self._computed_audio_s * _RATE_DECAY + len(audio) / SAMPLE_RATE

    def _count_slack(self, slack_s: float) -> None:
        """A stream's chunk is ready ``slack_s`` before its listener runs out (late if < 0)."""
        with self._counts_lock:
            self._slack_counts[bisect.bisect_left(SLACK_BUCKETS_S, slack_s)] += 1
            self._slack_sum += slack_s
            if slack_s < 0:
                self._late_chunks += 1

    def count_audio(self, audio: Audio) -> None:
        with self._counts_lock:
            self._audio_samples += len(audio)

    def read_sentences(
        self, text: str, language: str, normalization: NormalizationOptions | None = None
    ) -> Iterator[tuple[str, str]]:
        """``read_sentences`` with this service's lexicon."""
        return read_sentences(text, language, normalization, self.lexicon)

    def _sentence_phonemes(
        self, text: str, language: str, normalization: NormalizationOptions | None
    ) -> Iterator[str]:
        for sentence, sentence_language in self.read_sentences(text, language, normalization):
            phonemes = self.vocabulary.clean(
                inline.phonemize(self.g2p, sentence, sentence_language)
            )
            if not self.vocabulary.is_silent(phonemes):
                yield phonemes

    def phoneme_chunks(
        self,
        text: str,
        language: str,
        schedule: ChunkSchedule = PLAN,
        normalization: NormalizationOptions | None = None,
    ) -> Iterator[str]:
        """Phoneme chunks (at most 510 symbols, one token each) sized along ``schedule``."""
        return plan_chunks(self._sentence_phonemes(text, language, normalization), schedule)

    def token_chunks(
        self, text: str, language: str, schedule: ChunkSchedule = PLAN
    ) -> Iterator[list[int]]:
        """Token-id chunks (at most 510 ids) sized along ``schedule``."""
        for chunk in self.phoneme_chunks(text, language, schedule):
            yield self.vocabulary.encode(chunk)

    def synthesize(
        self, job: Speakable, schedule: ChunkSchedule = PLAN, final: Final | None = None
    ) -> Generator[Audio, None, None]:
        """Blocking: audio for each chunk of ``job``, in order, ready to be joined:
        the model's edge silence is cut to the pause the chunk's end calls for,
        ``[pause:Ns]`` tags become exactly that much silence, and a dialogue's
        turns are separated by exactly its gap. ``final`` is called just before
        the last chunk is yielded (the plan is read one chunk ahead to know it),
        so that its consumer need not ask for one more to learn that none is left."""
        if isinstance(job, SpeechJob):
            yield from self._synthesize_job(job, schedule, final=final)
            return
        for turn, last in with_last(job.turns):
            gap = None if last else job.gap
            yield from self._synthesize_job(turn, schedule, gap, final if last else None)

    def _synthesize_job(
        self,
        job: SpeechJob,
        schedule: ChunkSchedule,
        end_pause: float | None = None,
        final: Final | None = None,
    ) -> Generator[Audio, None, None]:
        for piece, last in with_last(job.pieces()):
            piece_final = final if last else None
            if isinstance(piece, Pause):
                extra = end_pause if last and end_pause is not None else 0.0
                for silence, last_silence in with_last(silence_pieces(piece.seconds + extra)):
                    if last_silence and piece_final is not None:
                        piece_final()
                    yield silence
                continue
            chunks = self.phoneme_chunks(piece.text, piece.language, schedule, job.normalization)
            own_end = end_pause if last and end_pause is not None else piece.end_pause
            yield from self._speak(
                chunks, piece.voice, job.speed * piece.speed, own_end, piece_final
            )

    def synthesize_phonemes(
        self, phonemes: str, voice: Voice, speed: float = 1.0
    ) -> Generator[Audio, None, None]:
        """Blocking: audio for phonemes given directly (Kokoro's alphabet)."""
        cleaned = self.vocabulary.clean(phonemes)
        if not self.vocabulary.is_silent(cleaned):
            yield from self._speak(plan_chunks([cleaned], PLAN), voice, speed)

    def _speak(
        self,
        chunks: Iterator[str],
        voice: Voice,
        speed: float,
        end_pause: float | None = None,
        final: Final | None = None,
    ) -> Generator[Audio, None, None]:
        """Synthesize and shape each chunk; ``end_pause`` replaces the last chunk's
        punctuation pause; ``final`` is called before the last one is yielded. (Both
        read the plan one chunk ahead: a sentence's G2P, not a model call.)"""
        look_ahead = end_pause is not None or final is not None
        for phonemes, last in with_last(chunks, look_ahead=look_ahead):
            tokens = self.vocabulary.encode(phonemes)
            started = time.perf_counter()
            audio = self.backend.synthesize(tokens, voice.style_for(len(tokens)), speed)
            seconds = time.perf_counter() - started
            pause = end_pause if last and end_pause is not None else pause_after(phonemes) / speed
            shaped = shape_silence(audio, pause_seconds=pause)
            self.count_compute(seconds, shaped)
            if last and final is not None:
                final()
            yield shaped

    def synthesize_all(self, job: Speakable) -> Audio:
        """Blocking: the whole utterance as one array."""
        chunks = list(self.synthesize(job))
        return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)

    async def stream(
        self,
        job: Speakable,
        *,
        schedule: ChunkSchedule = PLAN,
        prefetch: int = 1,
        listener: bool = True,
        pacing: Pacing | None = None,
    ) -> AsyncGenerator[Audio, None]:
        """Audio chunks of ``job`` as they are made (see ``run_chunks``)."""
        pacing = pacing or pacing_for(job, listener=listener)
        chunks = self.run_chunks(
            self.synthesize(job, schedule, final=pacing.mark_final),
            prefetch=prefetch,
            pacing=pacing,
        )
        async with contextlib.aclosing(chunks):
            async for audio in chunks:
                self.count_audio(audio)
                yield audio

    async def stream_phonemes(
        self, phonemes: str, voice: Voice, speed: float = 1.0, pacing: Pacing | None = None
    ) -> AsyncGenerator[Audio, None]:
        """Audio chunks for phonemes in Kokoro's alphabet, as they are made."""
        chunks = self.run_chunks(self.synthesize_phonemes(phonemes, voice, speed), pacing=pacing)
        async with contextlib.aclosing(chunks):
            async for audio in chunks:
                self.count_audio(audio)
                yield audio

    async def run_chunks(
        self,
        chunks: Generator[T, None, None],
        *,
        prefetch: int = 1,
        pacing: Pacing | None = None,
    ) -> AsyncGenerator[T, None]:
        """The items of a blocking generator, each computed on the inference threads.

        A producer task computes up to ``prefetch`` items ahead of the consumer,
        so chunk k+1 is computed while chunk k is encoded and sent. Each chunk is
        queued with its deadline (``pacing``, which the request's admission slot
        shares; by default a complete file's): for a listener, when the audio
        made so far runs out for someone playing it from its first chunk; for a
        complete file, a few seconds later. Closing the iterator (a client
        that went away, a time limit) cancels the producer: no further chunk is
        started, and the one running is stopped where the backend can stop it.
        """
        pacing = pacing or Pacing(listener=False)
        queue: asyncio.Queue[T | BaseException | None] = asyncio.Queue(maxsize=prefetch)
        state = {"queued": False, "abandoned": False}
        stop = StopSignal()

        def next_chunk() -> T | None:
            with self._counts_lock:
                if state["abandoned"]:
                    return None  # the consumer left while this waited: do not start it
                state["queued"] = False
                self._waiting -= 1
            with pacing.computing(), serving(stop):
                return next(chunks, None)

        async def produce() -> None:
            try:
                while True:
                    with self._counts_lock:
                        state["queued"] = True
                        self._waiting += 1
                    due = pacing.deadline()
                    future = self._scheduler.submit(due, next_chunk)
                    item = await asyncio.wrap_future(future)
                    if pacing.listener and pacing.first_audio is not None:
                        self._count_slack(due - time.monotonic())
                    if item is not None:
                        pacing.handed_out(_seconds_of(item))
                    await queue.put(item)
                    if item is None:
                        return
                    if pacing.final:
                        # The generator said that was its last chunk: the stream ends
                        # now, not when a worker gets round to asking it for another
                        # (a job due after every stream that is behind).
                        await queue.put(None)
                        return
            except Exception as e:  # noqa: BLE001 - handed to the consumer, raised there
                await queue.put(e)
            finally:
                with self._counts_lock:
                    state["abandoned"] = True
                    if state["queued"]:
                        state["queued"] = False
                        self._waiting -= 1

        producer = asyncio.create_task(produce())
        try:
            while (item := await queue.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            producer.cancel()
            # A chunk still running on a worker thread is stopped part-way where
            # the backend can (ONNX Runtime's terminate flag), else it finishes
            # there; the generator is closed once no thread is inside it.
            stop.stop()
            with contextlib.suppress(ValueError):
                chunks.close()

    def check_language(self, language: str) -> None:
        """Raise ``LanguageError`` unless text in ``language`` can be phonemized here."""
        self.g2p.ensure_available(language)

    def close(self) -> None:
        self._scheduler.shutdown()

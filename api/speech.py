"""SpeechService: text in, a stream of audio chunks out."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from api.audio.silence import shape_silence
from api.backends.base import Audio, Backend
from api.text.chunks import (
    STREAMING,
    WHOLE,
    ChunkSchedule,
    Vocabulary,
    pause_after,
    plan_chunks,
)
from api.text.g2p import g2p_language
from api.text.split import split_sentences
from api.voices.store import Voice, VoiceStore

G2P = Callable[[str, str], str]
"""(text, language) -> phonemes in Kokoro's alphabet."""


@dataclass(frozen=True)
class SpeechJob:
    """One validated request: what to say, with which voice, how fast."""

    text: str
    voice: Voice
    speed: float = 1.0
    language: str | None = None

    @property
    def effective_language(self) -> str:
        return self.language or g2p_language(self.voice.language)


class SpeechService:
    """Wires text processing, voices and the backend; owns the inference threads.

    Text is split and phonemized lazily, one chunk ahead of the audio, so a long
    input starts speaking at once and never sits fully in memory as phonemes.

    All requests share one pool of inference threads. A request hands the pool
    one chunk at a time and queues its next chunk only when the previous one is
    done, so the pool's FIFO queue serves concurrent requests in turn: a short
    request is never stuck behind all of a long one.
    """

    def __init__(
        self,
        backend: Backend,
        voices: VoiceStore,
        vocabulary: Vocabulary,
        g2p: G2P,
        *,
        workers: int = 1,
    ) -> None:
        self.backend = backend
        self.voices = voices
        self.vocabulary = vocabulary
        self._g2p = g2p
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kokoro-infer")

    def _sentence_phonemes(self, text: str, language: str) -> Iterator[str]:
        for sentence in split_sentences(text):
            phonemes = self.vocabulary.clean(self._g2p(sentence, language))
            if not self.vocabulary.is_silent(phonemes):
                yield phonemes

    def phoneme_chunks(
        self, text: str, language: str, schedule: ChunkSchedule = WHOLE
    ) -> Iterator[str]:
        """Phoneme chunks (at most 510 symbols, one token each) sized along ``schedule``."""
        return plan_chunks(self._sentence_phonemes(text, language), schedule)

    def token_chunks(
        self, text: str, language: str, schedule: ChunkSchedule = WHOLE
    ) -> Iterator[list[int]]:
        """Token-id chunks (at most 510 ids) sized along ``schedule``."""
        for chunk in self.phoneme_chunks(text, language, schedule):
            yield self.vocabulary.encode(chunk)

    def synthesize(
        self, job: SpeechJob, schedule: ChunkSchedule = WHOLE
    ) -> Generator[Audio, None, None]:
        """Blocking: audio for each chunk of ``job``, in order, ready to be joined:
        the model's edge silence is cut to the pause the chunk's end calls for."""
        for phonemes in self.phoneme_chunks(job.text, job.effective_language, schedule):
            tokens = self.vocabulary.encode(phonemes)
            audio = self.backend.synthesize(tokens, job.voice.style_for(len(tokens)), job.speed)
            yield shape_silence(audio, pause_seconds=pause_after(phonemes) / job.speed)

    def synthesize_all(self, job: SpeechJob) -> Audio:
        """Blocking: the whole utterance as one array."""
        chunks = list(self.synthesize(job))
        return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)

    async def stream(
        self, job: SpeechJob, *, schedule: ChunkSchedule = STREAMING, prefetch: int = 1
    ) -> AsyncIterator[Audio]:
        """Audio chunks as they are made.

        A producer task synthesizes up to ``prefetch`` chunks ahead of the
        consumer, so chunk k+1 is computed while chunk k is encoded and sent.
        Closing the iterator (a client that went away) cancels the producer:
        no further chunk is started.
        """
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Audio | BaseException | None] = asyncio.Queue(maxsize=prefetch)
        chunks = self.synthesize(job, schedule)

        async def produce() -> None:
            try:
                while True:
                    audio = await loop.run_in_executor(self._executor, next, chunks, None)
                    await queue.put(audio)
                    if audio is None:
                        return
            except Exception as e:  # noqa: BLE001 - handed to the consumer, raised there
                await queue.put(e)

        producer = asyncio.create_task(produce())
        try:
            while (item := await queue.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            producer.cancel()
            # A chunk still running on a worker thread finishes there; the
            # generator is closed once no thread is inside it.
            with contextlib.suppress(ValueError):
                chunks.close()

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

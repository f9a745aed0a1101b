"""SpeechService: text in, a stream of audio chunks out."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from api.backends.base import Audio, Backend
from api.text.chunks import Vocabulary, split_phonemes
from api.text.g2p import language_for_voice
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
        return self.language or language_for_voice(self.voice.id)


class SpeechService:
    """Wires text processing, voices and the backend; owns the inference threads.

    Text is split and phonemized lazily, one chunk ahead of the audio, so a long
    input starts speaking at once and never sits fully in memory as phonemes.
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

    def token_chunks(self, text: str, language: str) -> Iterator[list[int]]:
        """Token-id chunks of at most 510 ids, sentence by sentence."""
        for sentence in split_sentences(text):
            phonemes = self.vocabulary.clean(self._g2p(sentence, language))
            for piece in split_phonemes(phonemes):
                tokens = self.vocabulary.encode(piece)
                if tokens:
                    yield tokens

    def synthesize(self, job: SpeechJob) -> Iterator[Audio]:
        """Blocking: audio for each chunk of ``job``, in order."""
        for tokens in self.token_chunks(job.text, job.effective_language):
            style = job.voice.style_for(len(tokens))
            yield self.backend.synthesize(tokens, style, job.speed)

    def synthesize_all(self, job: SpeechJob) -> Audio:
        """Blocking: the whole utterance as one array."""
        chunks = list(self.synthesize(job))
        return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)

    async def stream(self, job: SpeechJob) -> AsyncIterator[Audio]:
        """Audio chunks as they are made; each step runs on an inference thread.

        Closing the iterator (a client that went away) stops before the next chunk.
        """
        loop = asyncio.get_running_loop()
        chunks = self.synthesize(job)
        try:
            while True:
                audio = await loop.run_in_executor(self._executor, next, chunks, None)
                if audio is None:
                    return
                yield audio
        finally:
            chunks.close()

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

"""Inference threads that take chunks earliest deadline first.

Every stream has a listener who plays it from its first audio: its next chunk
is due when the audio already sent runs out. A new request's first chunk is
due at once, so it goes ahead of chunks for streams that are seconds ahead of
their listeners; a complete file is due as if its listener started a little
later (``COMPLETE_FILE_SLACK_S``). With one FIFO queue, by contrast, a new
request waited behind one chunk of every stream, however far ahead those
streams were.

The scheduler only orders work; each request still hands it one chunk at a
time (``SpeechService.run_chunks``), so a request never holds more than one
place in the queue. A future batched GPU backend would take the several
earliest chunks at once from the same heap.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")

COMPLETE_FILE_SLACK_S = 5.0
"""A complete file's chunks are due as if a listener started this much after it came."""


@dataclass
class Pacing:
    """When a request's next chunk is due (``time.monotonic`` seconds)."""

    listener: bool
    """True for a stream: someone plays it from its first audio on."""
    arrived: float = field(default_factory=time.monotonic)
    first_audio: float | None = None
    audio_s: float = 0.0
    """Seconds of audio handed out so far."""
    expected_audio_s: float = 0.0
    """Seconds of speech the whole request is expected to give (0: unknown)."""
    computing_since: float | None = None
    """When its chunk now on a worker started (None: none is)."""
    last_compute_s: float = 0.0
    """Seconds its last finished chunk took on a worker."""
    final: bool = False
    """Its chunk generator has said that the chunk it is yielding is the last."""

    def mark_final(self) -> None:
        self.final = True

    @contextmanager
    def computing(self) -> Iterator[None]:
        """Around the computation of one of its chunks on a worker."""
        self.computing_since = started = time.monotonic()
        try:
            yield
        finally:
            self.computing_since = None
            self.last_compute_s = time.monotonic() - started

    def deadline(self) -> float:
        if not self.listener:
            return self.arrived + COMPLETE_FILE_SLACK_S + self.audio_s
        if self.first_audio is None:
            return self.arrived
        return self.first_audio + self.audio_s

    def handed_out(self, seconds: float) -> None:
        if self.first_audio is None:
            self.first_audio = time.monotonic()
        self.audio_s += seconds

    def remaining_audio_s(self) -> float:
        """Seconds of the expected audio not handed out yet."""
        return max(self.expected_audio_s - self.audio_s, 0.0)

    def slack_s(self) -> float:
        """Seconds until the next chunk is due (negative: the listener has run dry)."""
        return self.deadline() - time.monotonic()

    def spare_s(self, growth: float) -> float:
        """Seconds of compute another request may take before this one's next chunk
        would be late: its slack less what its next chunk still needs, taken as
        ``growth`` times its last one (chunks grow by up to that much)."""
        now = time.monotonic()
        expected = growth * self.last_compute_s
        running = 0.0 if self.computing_since is None else now - self.computing_since
        return self.deadline() - now - max(expected - running, 0.0)


class DeadlineScheduler:
    """``workers`` threads running submitted jobs, the earliest deadline first."""

    def __init__(self, workers: int, *, thread_name_prefix: str = "kokoro-infer") -> None:
        self._heap: list[tuple[float, int, Callable[[], Any], Future[Any]]] = []
        self._ready = threading.Condition()
        self._order = itertools.count()
        self._closed = False
        self._threads = [
            threading.Thread(target=self._work, name=f"{thread_name_prefix}_{i}", daemon=True)
            for i in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, deadline: float, job: Callable[[], T]) -> Future[T]:
        """Run ``job`` when it is the earliest due; a cancelled future is skipped."""
        future: Future[T] = Future()
        with self._ready:
            if self._closed:
                raise RuntimeError("the scheduler is shut down")
            heapq.heappush(self._heap, (deadline, next(self._order), job, future))
            self._ready.notify()
        return future

    def _work(self) -> None:
        while True:
            with self._ready:
                while not self._heap and not self._closed:
                    self._ready.wait()
                if not self._heap:
                    return
                _, _, job, future = heapq.heappop(self._heap)
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(job())
            except BaseException as e:  # noqa: BLE001 - handed to whoever awaits the future
                future.set_exception(e)

    def shutdown(self) -> None:
        """Cancel what waits, let running jobs finish, and stop the threads."""
        with self._ready:
            self._closed = True
            pending, self._heap = self._heap, []
            self._ready.notify_all()
        for *_, future in pending:
            future.cancel()
        for thread in self._threads:
            thread.join()

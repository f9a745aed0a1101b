"""Repeats cost nothing: finished responses kept in memory, keyed by all that shapes them.

An assistant says "The front door is open." many times a day. The second time,
the bytes of the first response (any format, streamed, complete or SSE) are
sent again at once, byte for byte, without taking a request slot or any
compute. The key is a digest of everything that changes the bytes: the text
as it will be read (after ``check_text``), each voice's pack itself (so a
saved mix that is replaced under the same name is a new key), speed,
language, normalization options, format and delivery, a dialogue's turns and
gap. Only responses that ran to their end are kept; the least recently used
go first when the budget (``KOKORO_AUDIO_CACHE_MB``) is full, and no single
response may take more than an eighth of it.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

from api.voices.store import Voice

_LARGEST_SHARE = 8
"""One response may use at most 1/8 of the budget, so one long file cannot empty it."""


@dataclass(frozen=True)
class CachedResponse:
    content: bytes
    media_type: str


class AudioCache:
    """A thread-safe LRU of finished responses, bounded in bytes; 0 bytes: off."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, CachedResponse] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self.generation = 0
        """Counts ``clear`` calls: part of every key, so that a response made before a
        clear and kept after it is never served."""

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0

    @property
    def largest_entry(self) -> int:
        return self.max_bytes // _LARGEST_SHARE

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def get(self, key: str) -> CachedResponse | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry

    def clear(self) -> None:
        """Forget every response (what they say may now be said differently)."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0
            self.generation += 1

    def put(self, key: str, entry: CachedResponse) -> None:
        size = len(entry.content)
        if not self.enabled or size > self.largest_entry:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= len(old.content)
            self._entries[key] = entry
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, dropped = self._entries.popitem(last=False)
                self._bytes -= len(dropped.content)


def voice_digest(voice: Voice) -> str:
    """The sha256 of a voice's pack (0.5 MB: well under a millisecond)."""
    return hashlib.sha256(voice.pack.tobytes()).hexdigest()


def response_key(parts: Iterable[object]) -> str:
    """A digest of ``parts`` (JSON-able values) in order."""
    text = json.dumps(list(parts), ensure_ascii=True, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("ascii")).hexdigest()

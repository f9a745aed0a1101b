"""Admission control: how many synthesis requests the server takes on at once.

The inference pool serves admitted requests in turn, chunk by chunk, so every
admitted request slows the others down. Past a bound the server refuses new
requests at once (the routes answer 429 with ``Retry-After``) instead of
letting them pile up behind the others until every client times out.
"""

from __future__ import annotations

import math
import threading
import time

_SMOOTHING = 0.2
"""Weight of the newest hold time in the running mean (an exponential average)."""
MAX_RETRY_AFTER_S = 60


class ServerBusyError(RuntimeError):
    """Every request slot is taken."""

    def __init__(self, limit: int, retry_after_s: int) -> None:
        super().__init__(f"all {limit} request slots are in use")
        self.limit = limit
        self.retry_after_s = retry_after_s


class Slot:
    """One admitted request. ``release`` frees it; a second call does nothing."""

    def __init__(self, admission: Admission) -> None:
        self._admission = admission
        self._started = time.monotonic()
        self._released = False

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._admission._release(time.monotonic() - self._started)


class Admission:
    """At most ``limit`` requests hold a slot at once; ``admit`` never waits."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self._lock = threading.Lock()
        self._in_flight = 0
        self._mean_hold_s: float | None = None

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def admit(self) -> Slot:
        """A slot, or ``ServerBusyError`` at once when all are taken."""
        with self._lock:
            if self._in_flight >= self.limit:
                raise ServerBusyError(self.limit, self.retry_after_s())
            self._in_flight += 1
        return Slot(self)

    def retry_after_s(self) -> int:
        """When a slot is likely to be free, in whole seconds (1 to 60).

        Requests hold their slots for ``mean_hold`` seconds on average and
        ``limit`` of them run at once, so one ends every ``mean_hold / limit``
        seconds or so.
        """
        if self._mean_hold_s is None:
            return 1
        estimate = math.ceil(self._mean_hold_s / self.limit)
        return min(max(estimate, 1), MAX_RETRY_AFTER_S)

    def _release(self, held_s: float) -> None:
        with self._lock:
            self._in_flight -= 1
            if self._mean_hold_s is None:
                self._mean_hold_s = held_s
            else:
                self._mean_hold_s += _SMOOTHING * (held_s - self._mean_hold_s)

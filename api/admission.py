"""Admission control: which synthesis requests the server takes on, by its capacity.

The inference pool serves admitted requests chunk by chunk, earliest deadline
first (``api.scheduler``), so every admitted request takes compute from the
others. The pool's capacity is measured, not configured: ``rate`` is the
compute one second of audio costs on this machine and backend (a running mean
over recent chunks), so ``workers / rate`` listeners can be served in real
time. A request is admitted while the requests in progress stay within that
capacity (times ``headroom``), or when it is short enough to be made out of
the audio the streams in progress already hold in hand (their slack), and
never beyond the explicit cap ``limit``. Otherwise it is refused at once (the
routes answer 429 with ``Retry-After``, from the same estimate) instead of
joining streams that would then run dry.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from api.scheduler import Pacing
from api.text.chunks import PLAN

_SMOOTHING = 0.2
"""Weight of the newest hold time in the running mean (an exponential average)."""
MAX_RETRY_AFTER_S = 60
SLACK_MARGIN_S = 0.3
"""Audio a stream must still hold in hand after a short request has been slotted in."""


class ServerBusyError(RuntimeError):
    """No request can be taken on now; ``retry_after_s`` says when one likely can."""

    def __init__(self, reason: str, retry_after_s: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after_s = retry_after_s

    @property
    def message(self) -> str:
        """What every door tells the client."""
        return f"The server is busy: {self.reason}. Retry after {self.retry_after_s} s."


class Slot:
    """One admitted request. ``release`` frees it; a second call does nothing."""

    def __init__(self, admission: Admission, pacing: Pacing, *, beyond_capacity: bool) -> None:
        self._admission = admission
        self.pacing = pacing
        """When the request's chunks are due; its stream's producer updates it."""
        self.beyond_capacity = beyond_capacity
        """Admitted on the slack of the others (a short request), not on capacity."""
        self._started = time.monotonic()
        self._released = False

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._admission._release(self, time.monotonic() - self._started)


class Admission:
    """Takes requests on while the measured capacity and the cap ``limit`` allow;
    ``admit`` never waits.

    ``rate`` gives the compute one second of audio costs (None before any was
    measured: the cap alone decides); ``headroom`` is the share of the
    capacity that may be used (0: capacity is not looked at, only the cap).
    """

    def __init__(
        self,
        limit: int,
        *,
        workers: int = 1,
        rate: Callable[[], float | None] = lambda: None,
        headroom: float = 0.0,
    ) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        if not 0 <= headroom <= 1:
            raise ValueError("headroom must be between 0 and 1")
        self.limit = limit
        self.workers = workers
        self.headroom = headroom
        self._rate = rate
        self._lock = threading.Lock()
        self._active: set[Slot] = set()
        self._mean_hold_s: float | None = None

    @property
    def in_flight(self) -> int:
        return len(self._active)

    def capacity(self) -> float | None:
        """Real-time streams the pool can serve at once (None before a measurement)."""
        rate = self._rate()
        if rate is None or rate <= 0:
            return None
        return self.workers / rate

    def min_slack_s(self) -> float | None:
        """Seconds of audio the least-served request in progress has in hand (None if none)."""
        with self._lock:
            slacks = [slot.pacing.slack_s() for slot in self._active]
        return min(slacks) if slacks else None

    def admit(self, pacing: Pacing | None = None) -> Slot:
        """A slot for a request paced by ``pacing``, or ``ServerBusyError`` at once."""
        pacing = pacing or Pacing(listener=False)
        with self._lock:
            if len(self._active) >= self.limit:
                raise ServerBusyError(
                    f"all {self.limit} request slots are in use", self._retry_after_s()
                )
            beyond = False
            capacity = self.capacity() if self.headroom > 0 else None
            if self._active and capacity is not None:
                usable = capacity * self.headroom
                if len(self._active) + 1 > usable:
                    if not self._fits_in_slack(pacing):
                        raise ServerBusyError(
                            f"the {len(self._active)} requests in progress use this machine's "
                            f"measured capacity (about {capacity:.1f} real-time streams)",
                            self._retry_after_s(),
                        )
                    beyond = True
            slot = Slot(self, pacing, beyond_capacity=beyond)
            self._active.add(slot)
        return slot

    def _fits_in_slack(self, pacing: Pacing) -> bool:
        """Whether the request's whole compute fits in what every request in progress
        has in hand beyond its own next chunk, with one such request beyond capacity
        at a time (a worker finishes the chunk it runs before it takes another)."""
        rate = self._rate()
        if rate is None or pacing.expected_audio_s <= 0:
            return False
        if any(slot.beyond_capacity for slot in self._active):
            return False
        cost_s = pacing.expected_audio_s * rate / self.workers
        least = min(slot.pacing.spare_s(PLAN.growth) for slot in self._active)
        return least - cost_s >= SLACK_MARGIN_S

    def _retry_after_s(self) -> int:
        """When a request is likely to be taken on, in whole seconds (1 to 60).

        The request in progress nearest its end frees its share first: its
        audio still to make, at the compute rate, on a pool shared by all of
        them. Without estimates, requests hold their slots ``mean_hold``
        seconds on average and ``limit`` of them run at once.
        """
        rate = self._rate()
        ends = (
            [
                slot.pacing.remaining_audio_s() * rate * len(self._active) / self.workers
                for slot in self._active
                if slot.pacing.expected_audio_s > 0
            ]
            if rate is not None
            else []
        )
        if ends:
            estimate = math.ceil(min(ends))
        elif self._mean_hold_s is not None:
            estimate = math.ceil(self._mean_hold_s / self.limit)
        else:
            estimate = 1
        return min(max(estimate, 1), MAX_RETRY_AFTER_S)

    def _release(self, slot: Slot, held_s: float) -> None:
        with self._lock:
            self._active.discard(slot)
            if self._mean_hold_s is None:
                self._mean_hold_s = held_s
            else:
                self._mean_hold_s += _SMOOTHING * (held_s - self._mean_hold_s)

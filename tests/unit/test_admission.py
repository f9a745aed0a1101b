"""Admission by measured capacity, the slack of streams in progress, and the cap."""

from __future__ import annotations

import time

import pytest

from api.admission import SLACK_MARGIN_S, Admission, ServerBusyError
from api.scheduler import Pacing


def playing(audio_s: float, expected_s: float = 60.0, started_s_ago: float = 0.0) -> Pacing:
    """A stream whose listener started ``started_s_ago`` and was handed ``audio_s``."""
    pacing = Pacing(listener=True, expected_audio_s=expected_s)
    pacing.first_audio = time.monotonic() - started_s_ago
    pacing.audio_s = audio_s
    return pacing


def test_before_any_measurement_the_cap_alone_decides() -> None:
    admission = Admission(3, rate=lambda: None, headroom=0.9)
    slots = [admission.admit(playing(1.0)) for _ in range(3)]
    with pytest.raises(ServerBusyError, match="all 3 request slots are in use"):
        admission.admit()
    slots[0].release()
    admission.admit()


@pytest.mark.parametrize(
    ("rate", "workers", "admitted"),
    [
        pytest.param(0.25, 1, 3, id="4 streams of capacity, 3.6 usable"),
        pytest.param(0.5, 1, 1, id="2 streams of capacity, 1.8 usable"),
        pytest.param(0.5, 2, 3, id="two workers double it"),
        pytest.param(2.0, 1, 1, id="slower than real time: one at a time"),
    ],
)
def test_streams_are_taken_on_while_the_measured_capacity_holds_them(
    rate: float, workers: int, admitted: int
) -> None:
    admission = Admission(100, workers=workers, rate=lambda: rate, headroom=0.9)
    for _ in range(admitted):
        admission.admit(playing(0.0))  # no audio in hand: no slack to spare
    assert admission.in_flight == admitted
    with pytest.raises(ServerBusyError, match="measured capacity") as refused:
        admission.admit(playing(0.0))
    assert f"{workers / rate:.1f} real-time streams" in refused.value.reason


def test_headroom_zero_admits_by_the_cap_alone() -> None:
    admission = Admission(4, rate=lambda: 2.0, headroom=0.0)
    for _ in range(4):
        admission.admit(playing(0.0))
    with pytest.raises(ServerBusyError, match="slots"):
        admission.admit()


def test_the_first_request_is_always_taken() -> None:
    admission = Admission(4, rate=lambda: 50.0, headroom=0.9)
    admission.admit(playing(0.0))


def test_a_short_request_is_slotted_into_the_slack_of_the_streams() -> None:
    admission = Admission(10, rate=lambda: 0.5, headroom=0.9)
    admission.admit(playing(audio_s=10.0, started_s_ago=2.0))  # 8 s in hand
    # 2 s of speech costs 1 s of compute: it fits in the 8 s, beyond capacity.
    short = admission.admit(Pacing(listener=True, expected_audio_s=2.0))
    assert short.beyond_capacity
    # One such request at a time.
    with pytest.raises(ServerBusyError, match="capacity"):
        admission.admit(Pacing(listener=True, expected_audio_s=2.0))
    short.release()
    # A long one does not fit: 20 s of speech is 10 s of compute.
    with pytest.raises(ServerBusyError, match="capacity"):
        admission.admit(Pacing(listener=True, expected_audio_s=20.0))
    # Nor when the stream's own next chunk needs what it has in hand: its last one
    # took 6 s and the one now running may take 1.5 times that (9 s, 1 s of it done).
    busy = Admission(10, rate=lambda: 0.5, headroom=0.9)
    stream = playing(audio_s=10.0, started_s_ago=2.0)
    stream.last_compute_s = 6.0
    stream.computing_since = time.monotonic() - 1.0
    busy.admit(stream)
    with pytest.raises(ServerBusyError, match="capacity"):
        busy.admit(Pacing(listener=True, expected_audio_s=2.0))  # 8 - 8 s spare < 1 + 0.3
    stream.last_compute_s = 2.0  # the running one 3 s, 1 s of it done: 8 - 2 = 6 s spare
    busy.admit(Pacing(listener=True, expected_audio_s=2.0))
    # Nor a short one when the streams have nothing in hand.
    stalled = Admission(10, rate=lambda: 0.5, headroom=0.9)
    stalled.admit(playing(audio_s=1.0 + SLACK_MARGIN_S / 2, started_s_ago=0.0))
    with pytest.raises(ServerBusyError):
        stalled.admit(Pacing(listener=True, expected_audio_s=2.0))


def test_retry_after_is_when_the_request_nearest_its_end_is_done() -> None:
    admission = Admission(10, rate=lambda: 0.5, headroom=0.9)
    admission.admit(playing(audio_s=10.0, expected_s=20.0))  # 10 s to make: 5 s of compute
    with pytest.raises(ServerBusyError) as refused:
        admission.admit(playing(0.0, expected_s=30.0))
    assert refused.value.retry_after_s == 5


def test_retry_after_shares_the_pool_among_the_requests_in_progress() -> None:
    admission = Admission(10, rate=lambda: 0.2, headroom=1.0)
    for expected in (40.0, 30.0, 50.0, 45.0):  # capacity 5, 4 taken
        admission.admit(playing(audio_s=0.0, expected_s=expected))
    admission.admit(playing(0.0))  # the fifth fits
    with pytest.raises(ServerBusyError) as refused:
        admission.admit(playing(0.0))
    # The nearest end: 30 s of audio at 0.2 on a pool shared by 5 requests.
    assert refused.value.retry_after_s == 30


def test_bad_headroom_is_refused() -> None:
    with pytest.raises(ValueError, match="headroom"):
        Admission(3, headroom=1.5)

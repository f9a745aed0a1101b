"""The inference threads take chunks earliest deadline first (api.scheduler)."""

from __future__ import annotations

import threading
import time

import pytest

from api.scheduler import COMPLETE_FILE_SLACK_S, DeadlineScheduler, Pacing


def test_waiting_jobs_run_earliest_deadline_first() -> None:
    scheduler = DeadlineScheduler(1)
    release = threading.Event()
    ran: list[str] = []
    try:
        busy = scheduler.submit(0.0, release.wait)  # holds the only thread
        futures = [
            scheduler.submit(deadline, lambda name=name: ran.append(name))
            for name, deadline in [("late", 30.0), ("first", 10.0), ("second", 20.0)]
        ]
        release.set()
        busy.result(timeout=10)
        for future in futures:
            future.result(timeout=10)
        assert ran == ["first", "second", "late"]
    finally:
        scheduler.shutdown()


def test_a_cancelled_job_is_skipped_and_shutdown_cancels_what_waits() -> None:
    scheduler = DeadlineScheduler(1)
    release = threading.Event()
    ran: list[str] = []
    busy = scheduler.submit(0.0, release.wait)
    cancelled = scheduler.submit(1.0, lambda: ran.append("cancelled"))
    kept = scheduler.submit(2.0, lambda: ran.append("kept"))
    assert cancelled.cancel()
    release.set()
    kept.result(timeout=10)
    assert ran == ["kept"]
    waiting = scheduler.submit(5.0, lambda: ran.append("never"))
    blocker = threading.Event()
    scheduler.submit(0.0, blocker.wait)
    threading.Timer(0.2, blocker.set).start()
    scheduler.shutdown()
    assert busy.done()
    assert waiting.cancelled() or ran[-1] == "never"
    with pytest.raises(RuntimeError, match="shut down"):
        scheduler.submit(0.0, lambda: None)


def test_a_stream_is_due_when_its_listener_runs_out_of_audio() -> None:
    pacing = Pacing(listener=True)
    assert pacing.deadline() == pacing.arrived  # the first chunk: at once
    pacing.handed_out(2.5)
    assert pacing.first_audio is not None
    assert pacing.deadline() == pytest.approx(pacing.first_audio + 2.5)
    pacing.handed_out(4.0)
    assert pacing.deadline() == pytest.approx(pacing.first_audio + 6.5)
    assert 0 < pacing.slack_s() <= 6.5


def test_a_complete_file_is_due_a_little_later_than_a_listener() -> None:
    pacing = Pacing(listener=False)
    assert pacing.deadline() == pacing.arrived + COMPLETE_FILE_SLACK_S
    pacing.handed_out(3.0)
    assert pacing.deadline() == pytest.approx(pacing.arrived + COMPLETE_FILE_SLACK_S + 3.0)
    assert time.monotonic() < pacing.deadline()

from __future__ import annotations

import contextlib
import time

import pytest

from api.text.split import MAX_PAUSE_SECONDS, Pause, PauseTagError, check_pause_tags, split_segments


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("Hello [pause:1.5s] world", ["Hello ", Pause(1.5), " world"]),
        ("[pause:2]Start", [Pause(2.0), "Start"]),
        ("End.[PAUSE: 0.25 s]", ["End.", Pause(0.25)]),
        ("a[pause:1s][pause:1s]b", ["a", Pause(1.0), Pause(1.0), "b"]),
        ("No tags at all.", ["No tags at all."]),
        ("[pause:60s]", [Pause(60.0)]),
    ],
)
def test_pause_tags_split_the_text(text: str, segments: list[object]) -> None:
    check_pause_tags(text)
    assert list(split_segments(text)) == segments


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Wait [pause:abc] here", "Malformed pause tag '[pause:abc]' at character 6"),
        ("Wait [pause:1.5ms]", "Malformed"),
        ("Wait [pause:-1s]", "Malformed"),
        ("Wait [pause:1.5s", "Malformed"),
        ("Wait [pause:61s]", f"the most is {MAX_PAUSE_SECONDS:g} s"),
        ("Wait [pause:999.5s]", "asks for 999.5 s"),
    ],
)
def test_bad_pause_tags_are_refused_saying_which(text: str, message: str) -> None:
    with pytest.raises(PauseTagError, match=message.replace("[", r"\[").replace(".", r"\.")):
        check_pause_tags(text)


@pytest.mark.parametrize(
    "text",
    ["[pause:" * 20_000, "[pause:1" * 12_000, "[" * 100_000, "[pause:1.5s]" * 8_000],
)
def test_adversarial_tag_input_is_fast(text: str) -> None:
    started = time.perf_counter()
    with contextlib.suppress(PauseTagError):
        check_pause_tags(text)
    list(split_segments(text))
    assert time.perf_counter() - started < 2.0

"""[voice:SPEC] tags: parsed with the pause tags, malformed ones reported."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.text.split import Pause, TagError, VoiceSwitch, check_tags, split_segments


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("[voice:af_heart] Hello.", [VoiceSwitch("af_heart"), " Hello."]),
        (
            "A [VOICE: jf_alpha(1)+jm_kumo(1) ] B [pause:1s] C",
            ["A ", VoiceSwitch("jf_alpha(1)+jm_kumo(1)"), " B ", Pause(1.0), " C"],
        ),
        ("[voice:a-b][voice:c]", [VoiceSwitch("a-b"), VoiceSwitch("c")]),
        ("no tags", ["no tags"]),
    ],
)
def test_voice_tags_split_the_text(text: str, segments: list[object]) -> None:
    check_tags(text)
    assert list(split_segments(text)) == segments


def test_check_returns_each_named_spec_once_in_order() -> None:
    assert check_tags("[voice:b] x [voice:a] y [voice:b] z") == ["b", "a"]


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("Hi [voice:] there", 4),
        ("[voice:af_heart", 1),
        ("ok [voice:  ]", 4),
        ("[voice:a[b]]", 1),
        ("[voice:a\nb]", 1),
    ],
)
def test_malformed_voice_tags_name_their_position(text: str, where: int) -> None:
    with pytest.raises(TagError, match=f"Malformed voice tag .* at character {where};") as raised:
        check_tags(text)
    assert raised.value.kind == "voice"


_ANY_TAG = re.compile(r"\[(voice|pause):", re.IGNORECASE)


@given(st.text(alphabet=st.sampled_from(list("[]:voicepaus 12.s+()_\nab")), max_size=80))
def test_any_text_either_fails_cleanly_or_leaves_no_tag_in_the_pieces(text: str) -> None:
    try:
        check_tags(text)
    except TagError:
        return
    for segment in split_segments(text):
        if isinstance(segment, str):
            assert not _ANY_TAG.search(segment), segment


@pytest.mark.parametrize(
    "text", ["[voice:" * 20_000, "[voice:" + "a" * 100_000, "[voice:a]" * 20_000 + "[voice:"]
)
def test_adversarial_tags_finish_quickly(text: str) -> None:
    started = time.perf_counter()
    try:
        check_tags(text)
        list(split_segments(text))
    except TagError:
        pass
    # Linear: well under a second; catastrophic backtracking: minutes. Room for load.
    assert time.perf_counter() - started < 10.0

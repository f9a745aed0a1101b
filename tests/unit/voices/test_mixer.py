"""Voice specs: parsing (with positions in errors) and blend arithmetic."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.voices.mixer import BlendCancelsError, VoiceSpecError, blend, parse_voice_spec
from api.voices.packs import PACK_SHAPE

NAMES = ["af_bella", "jf_alpha", "jm_kumo", "bm_george"]


def pack(seed: int) -> npt.NDArray[np.float32]:
    return np.random.default_rng(seed).normal(size=PACK_SHAPE).astype(np.float32)


PACKS = {name: pack(index) for index, name in enumerate(NAMES)}


def weights(spec: str) -> list[tuple[str, float]]:
    return [(t.name, round(t.weight, 6)) for t in parse_voice_spec(spec).terms]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("af_bella", [("af_bella", 1.0)]),
        ("af_bella+jf_alpha", [("af_bella", 0.5), ("jf_alpha", 0.5)]),
        ("af_bella(2)+jf_alpha(1)", [("af_bella", 0.666667), ("jf_alpha", 0.333333)]),
        ("af_bella(0.7)+jf_alpha(0.3)", [("af_bella", 0.7), ("jf_alpha", 0.3)]),
        ("  af_bella ( 0.7 )  +  jf_alpha(.3) ", [("af_bella", 0.7), ("jf_alpha", 0.3)]),
        ("af_bella-jf_alpha", [("af_bella", 1.0), ("jf_alpha", -1.0)]),
        ("af_bella(2)-jf_alpha(0.5)", [("af_bella", 1.0), ("jf_alpha", -0.25)]),
        ("AF_Bella", [("af_bella", 1.0)]),
    ],
)
def test_specs_parse_to_normalized_weights(spec: str, expected: list[tuple[str, float]]) -> None:
    assert weights(spec) == expected


@pytest.mark.parametrize(
    ("spec", "position", "problem"),
    [
        ("", 1, "empty"),
        ("af_bella+", 10, "expected a voice name"),
        ("+af_bella", 1, "expected a voice name"),
        ("-af_bella", 1, "expected a voice name"),
        ("af_bella(0)", 10, "above 0"),
        ("af_bella(x)", 10, "expected a weight"),
        ("af_bella(2", 11, "expected ')'"),
        ("af_bella jf_alpha", 10, "expected '+' or '-'"),
        ("af_bella+jf_alpha!", 18, "unexpected character"),
        ("af_bella(1)(2)", 12, "expected '+' or '-'"),
        ("af_bella(5000)", 10, "at most 1000"),
        ("+".join(["af_bella"] * 17), 145, "at most 16"),
    ],
)
def test_malformed_specs_say_where(spec: str, position: int, problem: str) -> None:
    with pytest.raises(VoiceSpecError) as caught:
        parse_voice_spec(spec)
    assert caught.value.position + 1 == position
    assert problem in str(caught.value)
    assert f"character {position}" in str(caught.value)


def test_hyphenated_names_are_names_when_they_exist() -> None:
    known = {"my-voice", "a-b-c"}
    spec = parse_voice_spec("my-voice+a-b-c-jf_alpha", is_known=known.__contains__)
    assert [(t.name, t.weight > 0) for t in spec.terms] == [
        ("my-voice", True),
        ("a-b-c", True),
        ("jf_alpha", False),
    ]
    # With spaces around it, "-" always subtracts.
    assert parse_voice_spec("my - voice", is_known=known.__contains__).names == ["my", "voice"]


def test_canonical_form_round_trips() -> None:
    spec = parse_voice_spec("af_bella(2)+jf_alpha(1)-jm_kumo(0.1)")
    again = parse_voice_spec(str(spec))
    assert [(t.name, round(t.weight, 3)) for t in again.terms] == [
        (t.name, round(t.weight, 3)) for t in spec.terms
    ]


def test_blend_is_the_weighted_sum() -> None:
    mixed = blend(parse_voice_spec("af_bella(3)+jf_alpha(1)"), PACKS)
    np.testing.assert_allclose(
        mixed, 0.75 * PACKS["af_bella"] + 0.25 * PACKS["jf_alpha"], atol=1e-6
    )
    assert mixed.dtype == np.float32


def test_subtraction_moves_away_and_keeps_the_scale() -> None:
    mixed = blend(parse_voice_spec("af_bella-jf_alpha(0.3)"), PACKS)
    direction = PACKS["af_bella"] - 0.3 * PACKS["jf_alpha"]
    cosine = (mixed * direction).sum(-1) / (
        np.linalg.norm(mixed, axis=-1) * np.linalg.norm(direction, axis=-1)
    )
    np.testing.assert_allclose(cosine, 1.0, atol=1e-5)
    np.testing.assert_allclose(
        np.linalg.norm(mixed, axis=-1), np.linalg.norm(PACKS["af_bella"], axis=-1), rtol=1e-5
    )


@pytest.mark.parametrize(
    "spec", ["af_bella-af_bella", "af_bella(2)-af_bella(2)", "af_bella+jf_alpha-af_bella-jf_alpha"]
)
def test_a_blend_that_cancels_out_is_refused(spec: str) -> None:
    with pytest.raises(BlendCancelsError, match="cancels itself out"):
        blend(parse_voice_spec(spec), PACKS)


def test_subtracting_almost_all_of_a_voice_leaves_that_voice() -> None:
    mixed = blend(parse_voice_spec("af_bella-af_bella(0.99)"), PACKS)
    np.testing.assert_allclose(mixed, PACKS["af_bella"], rtol=1e-4, atol=1e-5)


names = st.sampled_from(NAMES)
weight_values = st.floats(min_value=0.01, max_value=100, allow_nan=False)


@given(st.lists(st.tuples(names, weight_values), min_size=1, max_size=6))
def test_property_added_weights_sum_to_one(terms: list[tuple[str, float]]) -> None:
    spec = "+".join(f"{name}({weight!r})" for name, weight in terms)
    parsed = parse_voice_spec(spec)
    assert sum(t.weight for t in parsed.terms) == pytest.approx(1.0)
    assert [t.name for t in parsed.terms] == [name for name, _ in terms]


@given(names, st.lists(weight_values, min_size=1, max_size=5))
def test_property_a_voice_blended_with_itself_is_itself(name: str, ws: list[float]) -> None:
    spec = "+".join(f"{name}({w!r})" for w in ws)
    np.testing.assert_allclose(
        blend(parse_voice_spec(spec), PACKS), PACKS[name], rtol=1e-5, atol=1e-6
    )


@given(st.text(alphabet="abz_-+()0123456789. !", max_size=40))
def test_property_parser_never_fails_unexpectedly(spec: str) -> None:
    error: VoiceSpecError | None = None
    try:
        parsed = parse_voice_spec(spec)
    except VoiceSpecError as e:
        error = e
    if error is not None:
        assert 0 <= error.position <= len(spec)
    else:
        assert parsed.terms
        assert sum(t.weight for t in parsed.terms if t.weight > 0) == pytest.approx(1.0)


@given(st.lists(st.tuples(names, weight_values), min_size=2, max_size=4))
def test_property_blend_is_finite_and_bounded(terms: list[tuple[str, float]]) -> None:
    spec = "+".join(f"{name}({weight!r})" for name, weight in terms)
    mixed = blend(parse_voice_spec(spec), PACKS)
    bound = max(np.abs(p).max() for p in PACKS.values())
    assert np.isfinite(mixed).all()
    assert np.abs(mixed).max() <= bound + 1e-5

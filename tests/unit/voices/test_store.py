"""Voice packs: built-in ones, user imports, validation and lookup."""

from __future__ import annotations

import contextlib
import logging
import re
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.voices.official import official_voices
from api.voices.store import (
    PACK_SHAPE,
    VOICE_NAME,
    ProtectedVoiceError,
    UnknownVoiceError,
    Voice,
    VoiceError,
    VoicePack,
    VoiceStore,
    check_voice_settings,
    validate_pack,
)
from api.weights import ModelFiles

BUILTIN_VOICES = sorted(official_voices())


def _pack(fill: float = 0.5) -> VoicePack:
    return np.full(PACK_SHAPE, fill, dtype=np.float32)


def _numbered_pack() -> VoicePack:
    """Row i holds the value i everywhere, so a chosen row is recognizable."""
    rows = np.arange(PACK_SHAPE[0], dtype=np.float32).reshape(-1, 1, 1)
    return np.broadcast_to(rows, PACK_SHAPE).copy()


@pytest.fixture
def voices_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "voices"
    directory.mkdir()
    return directory


# --- the store ----------------------------------------------------------------------------


def test_loads_the_official_builtin_voices(model_files: ModelFiles) -> None:
    store = VoiceStore()
    assert store.ids() == BUILTIN_VOICES
    assert {voice.source for voice in store.all()} == {"builtin"}
    assert all(voice.pack.shape == PACK_SHAPE for voice in store.all())
    assert all(voice.pack.dtype == np.float32 for voice in store.all())


def test_builtin_voices_are_distinct(model_files: ModelFiles) -> None:
    packs = [voice.pack for voice in VoiceStore().all()]
    assert not any(np.array_equal(packs[0], other) for other in packs[1:])


def test_npy_packs_in_the_voices_dir_are_imported(
    model_files: ModelFiles, voices_dir: Path
) -> None:
    np.save(voices_dir / "my_voice.npy", _pack(0.25))
    np.save(voices_dir / "flat.npy", _pack(0.75).reshape(510, 256))

    store = VoiceStore(voices_dir)

    assert store.ids() == sorted([*BUILTIN_VOICES, "my_voice", "flat"])
    assert store.get("my_voice").source == "imported"
    assert store.get("jf_alpha").source == "builtin"
    assert float(store.get("my_voice").pack[0, 0, 0]) == 0.25
    assert store.get("flat").pack.shape == PACK_SHAPE


def test_a_missing_voices_dir_is_fine(model_files: ModelFiles, tmp_path: Path) -> None:
    assert VoiceStore(tmp_path / "absent").ids() == BUILTIN_VOICES


def test_every_voice_file_format_is_read_and_other_files_ignored(
    model_files: ModelFiles, voices_dir: Path
) -> None:
    np.save(voices_dir / "single.npy", _pack())
    np.savez(voices_dir / "several.bin", xf_one=_pack(1.0), xm_two=_pack(2.0))
    (voices_dir / "several.bin.npz").rename(voices_dir / "several.bin")
    (voices_dir / "notes.txt").write_text("hi")
    (voices_dir / "index.json").write_text('{"voices": {}}')
    store = VoiceStore(voices_dir)
    assert store.ids() == sorted([*BUILTIN_VOICES, "single", "xf_one", "xm_two"])
    assert {store.get(n).source for n in ("single", "xf_one", "xm_two")} == {"imported"}


def test_file_names_are_lowercased(model_files: ModelFiles, voices_dir: Path) -> None:
    np.save(voices_dir / "AF_Mine.npy", _pack())
    assert "af_mine" in VoiceStore(voices_dir)


def test_unusable_packs_are_skipped_and_logged(
    model_files: ModelFiles, voices_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    np.save(voices_dir / "good.npy", _pack())
    np.save(voices_dir / "wrong_shape.npy", np.zeros((10, 256), dtype=np.float32))
    (voices_dir / "garbage.npy").write_bytes(b"not numpy")

    with caplog.at_level(logging.WARNING, logger="api.voices.store"):
        store = VoiceStore(voices_dir)

    assert "good" in store
    assert "wrong_shape" not in store
    assert "garbage" not in store
    logged = caplog.text
    assert "wrong_shape.npy" in logged
    assert "garbage.npy" in logged
    assert "Traceback" not in logged  # one line each, not a stack trace
    assert sorted(store.skipped) == ["garbage.npy", "wrong_shape.npy"]
    assert "(10, 256)" in store.skipped["wrong_shape.npy"]
    # Nothing the user put there is touched.
    assert (voices_dir / "garbage.npy").read_bytes() == b"not numpy"


def test_a_truncated_saved_voice_is_skipped_and_the_rest_load(
    model_files: ModelFiles, voices_dir: Path
) -> None:
    store = VoiceStore(voices_dir)
    store.save_mix("kept", "jf_alpha+jm_kumo")
    store.save_mix("cut", "jf_alpha(2)+jm_kumo(1)")
    data = (voices_dir / "cut.npy").read_bytes()
    (voices_dir / "cut.npy").write_bytes(data[: len(data) // 2])

    restarted = VoiceStore(voices_dir)

    assert "kept" in restarted
    assert "cut" not in restarted
    assert list(restarted.skipped) == ["cut.npy"]
    assert (voices_dir / "cut.npy").stat().st_size == len(data) // 2


@pytest.mark.parametrize("index", ["{not json", '{"voices": []}', "[]"])
def test_an_unreadable_index_is_set_aside_not_overwritten(
    model_files: ModelFiles, voices_dir: Path, caplog: pytest.LogCaptureFixture, index: str
) -> None:
    store = VoiceStore(voices_dir)
    store.save_mix("warm", "jf_alpha+jm_kumo")
    (voices_dir / "index.json").write_text(index)

    restarted = VoiceStore(voices_dir)
    restarted.save_mix("cool", "jf_nezumi")  # writes a new index

    assert "warm" in restarted  # the pack still loads, as an imported file
    kept = list(voices_dir.glob("index.json.unreadable-*"))
    assert [path.read_text() for path in kept] == [index]
    assert "index.json" in restarted.skipped
    assert "unreadable" in caplog.text


@pytest.mark.parametrize("name", ["has space", "a" * 65, "dots.in.name"])
def test_invalid_voice_file_names_are_skipped(
    model_files: ModelFiles, voices_dir: Path, name: str
) -> None:
    np.save(voices_dir / f"{name}.npy", _pack())
    assert VoiceStore(voices_dir).ids() == BUILTIN_VOICES


def test_a_user_pack_cannot_replace_a_builtin_voice(
    model_files: ModelFiles, voices_dir: Path
) -> None:
    np.save(voices_dir / "jf_alpha.npy", _pack(9.0))
    voice = VoiceStore(voices_dir).get("jf_alpha")
    assert voice.source == "builtin"
    assert not np.all(voice.pack == 9.0)


def test_contains(model_files: ModelFiles) -> None:
    store = VoiceStore()
    assert "jm_kumo" in store
    assert "af_bella" in store
    assert "zz_nobody" not in store
    assert 42 not in store


def test_get_strips_whitespace(model_files: ModelFiles) -> None:
    assert VoiceStore().get("  jf_nezumi\n").id == "jf_nezumi"


def test_unknown_voice_suggests_close_matches(model_files: ModelFiles) -> None:
    with pytest.raises(UnknownVoiceError) as error:
        VoiceStore().get("jf_alpah")
    assert error.value.name == "jf_alpah"
    assert error.value.suggestions[0] == "jf_alpha"
    assert len(error.value.suggestions) <= 3
    assert "did you mean jf_alpha" in str(error.value)


def test_unknown_voice_without_close_match_has_no_suggestion(model_files: ModelFiles) -> None:
    with pytest.raises(UnknownVoiceError) as error:
        VoiceStore().get("zzzzzzzzzzzz")
    assert error.value.suggestions == []
    assert str(error.value) == "Voice 'zzzzzzzzzzzz' not found"


def test_unknown_voice_error_is_a_lookup_error() -> None:
    assert issubclass(UnknownVoiceError, LookupError)


# --- validate_pack ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("array", "problem"),
    [
        pytest.param(np.zeros((509, 1, 256), dtype=np.float32), "shape", id="too-few-rows"),
        pytest.param(np.zeros((510, 2, 256), dtype=np.float32), "shape", id="two-styles"),
        pytest.param(np.zeros((510, 128), dtype=np.float32), "shape", id="narrow-flat"),
        pytest.param(np.zeros(510 * 256, dtype=np.float32), "shape", id="one-dimensional"),
        pytest.param(np.zeros(PACK_SHAPE, dtype=np.int16), "dtype", id="int16"),
        pytest.param(np.zeros(PACK_SHAPE, dtype=np.int64), "dtype", id="int64"),
        pytest.param(np.zeros(PACK_SHAPE, dtype=bool), "dtype", id="bool"),
        pytest.param(np.zeros(PACK_SHAPE, dtype=np.complex64), "dtype", id="complex"),
    ],
)
def test_validate_pack_rejects_naming_the_file(
    array: npt.NDArray[np.generic], problem: str
) -> None:
    with pytest.raises(VoiceError, match=rf"^/voices/bad\.npy: .*{problem}"):
        validate_pack(array, "/voices/bad.npy")


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_validate_pack_rejects_non_finite_values(value: float) -> None:
    array = _pack()
    array[123, 0, 45] = value
    with pytest.raises(VoiceError, match=r"^odd\.npy: .*NaN or infinite"):
        validate_pack(array, "odd.npy")


def test_validate_pack_accepts_the_flat_510_by_256_layout() -> None:
    flat = np.arange(510 * 256, dtype=np.float32).reshape(510, 256)
    pack = validate_pack(flat, "flat.npy")
    assert pack.shape == PACK_SHAPE
    assert np.array_equal(pack[:, 0, :], flat)


def test_validate_pack_converts_float64_to_contiguous_float32() -> None:
    array = np.asfortranarray(np.full(PACK_SHAPE, 0.5, dtype=np.float64))
    pack = validate_pack(array, "f64.npy")
    assert pack.dtype == np.float32
    assert pack.flags.c_contiguous
    assert float(pack[509, 0, 255]) == 0.5


# --- Voice --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token_count", "row"),
    [(1, 0), (2, 1), (100, 99), (509, 508), (510, 509), (0, 0), (-5, 0), (511, 509), (10**6, 509)],
)
def test_style_for_picks_row_n_minus_1_clamped(token_count: int, row: int) -> None:
    style = Voice("af_test", _numbered_pack(), "imported").style_for(token_count)
    assert style.shape == (1, 256)
    assert np.all(style == row)


@pytest.mark.parametrize(
    ("voice_id", "name", "gender", "language"),
    [
        ("af_bella", "Bella", "female", "en-us"),
        ("bm_george", "George", "male", "en-gb"),
        ("jf_alpha", "Alpha", "female", "ja"),
        ("jm_kumo", "Kumo", "male", "ja"),
        ("zf_xiao_bei", "Xiao Bei", "female", "cmn"),
        ("ff_siwis", "Siwis", "female", "fr-fr"),
        ("my-voice", "My Voice", None, None),
        ("qf_unknown", "Unknown", "female", None),
        ("ax_odd", "Ax Odd", None, None),
    ],
)
def test_name_gender_and_language_come_from_the_id(
    voice_id: str, name: str, gender: str | None, language: str | None
) -> None:
    voice = Voice(voice_id, _pack(), "imported")
    assert (voice.name, voice.gender, voice.language) == (name, gender, language)


# --- voice names from users (URL paths, form fields) -----------------------------------------


@pytest.fixture(scope="module")
def shared_store(
    model_files: ModelFiles, tmp_path_factory: pytest.TempPathFactory
) -> tuple[VoiceStore, Path]:
    root = tmp_path_factory.mktemp("names")
    return VoiceStore(root / "voices"), root


NAMES = (
    st.text(max_size=70)
    | st.text(alphabet="a-z_./\\\x00 ", max_size=12)
    | st.sampled_from(
        ["..", ".", "../x", "/etc/passwd", "a/../../b", "jf_alpha", "alloy", "a" * 64, "warm\n"]
    )
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=NAMES)
def test_any_name_is_saved_inside_the_voices_dir_or_refused(
    shared_store: tuple[VoiceStore, Path], name: str
) -> None:
    store, root = shared_store
    saved: Voice | None = None
    with contextlib.suppress(VoiceError, ProtectedVoiceError):
        saved = store.save_mix(name, "jf_alpha", overwrite=True)
    if saved is None:
        # Refused: not a name, or a built-in one (every official voice, the OpenAI names).
        builtin = {v.id for v in store.all() if v.official is not None} | {"alloy"}
        assert not VOICE_NAME.match(name) or name in builtin
        with pytest.raises((ProtectedVoiceError, UnknownVoiceError)):
            store.delete(name)
    else:
        path = root / "voices" / f"{name}.npy"
        assert re.fullmatch(r"[a-z0-9_-]{1,64}", name)
        assert path.is_file()
        store.delete(name)
        assert not path.exists()
    # Nothing was ever written beside the voices directory.
    assert [path.name for path in root.iterdir()] in ([], ["voices"])


def test_an_unknown_default_voice_stops_the_start_naming_the_setting() -> None:
    store = VoiceStore()
    check_voice_settings(store, "af_heart(2)+am_michael(1)")  # a blend is a fine default
    with pytest.raises(VoiceError, match="KOKORO_DEFAULT_VOICE is 'zz_nobody'"):
        check_voice_settings(store, "zz_nobody")

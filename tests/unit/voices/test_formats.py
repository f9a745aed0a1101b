"""Voice pack files: .pt (without torch), .npy, .npz/.bin; and refusing hostile ones."""

from __future__ import annotations

import io
import os
import pickle
import struct
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.voices.formats import SUPPORTED_SUFFIXES, pt_bytes, read_voice_packs
from api.voices.official import official_voices
from api.voices.packs import PACK_SHAPE, VoiceError, VoicePack

SHARED_VOICES = Path(__file__).parents[4] / "shared" / "voices"
NUMEL = PACK_SHAPE[0] * PACK_SHAPE[1] * PACK_SHAPE[2]
CONTIGUOUS_STRIDE = (PACK_SHAPE[1] * PACK_SHAPE[2], PACK_SHAPE[2], 1)


def _pack(seed: int = 0) -> VoicePack:
    return np.random.default_rng(seed).standard_normal(PACK_SHAPE).astype(np.float32)


# --- building torch files by hand, independently of the module under test -----------------
# The opcodes below are the ones torch.save writes (pickle protocol 2); see the
# disassembly of any file in ../shared/voices.


def _global(module: str, name: str) -> bytes:
    return pickle.GLOBAL + f"{module}\n{name}\n".encode()


def _text(value: str) -> bytes:
    encoded = value.encode()
    return pickle.BINUNICODE + struct.pack("<I", len(encoded)) + encoded


def _int(value: int) -> bytes:
    return pickle.BININT + struct.pack("<i", value)


def _ints(values: tuple[int, ...]) -> bytes:
    return pickle.MARK + b"".join(_int(value) for value in values) + pickle.TUPLE


def _tensor(
    key: str = "0",
    *,
    numel: int = NUMEL,
    offset: int = 0,
    shape: tuple[int, ...] = PACK_SHAPE,
    stride: tuple[int, ...] = CONTIGUOUS_STRIDE,
    storage: str = "FloatStorage",
) -> bytes:
    """Opcodes that leave one rebuilt tensor on the stack."""
    storage_id = (
        pickle.MARK
        + _text("storage")
        + _global("torch", storage)
        + _text(key)
        + _text("cpu")
        + _int(numel)
        + pickle.TUPLE
    )
    hooks = _global("collections", "OrderedDict") + pickle.EMPTY_TUPLE + pickle.REDUCE
    args = (
        pickle.MARK
        + storage_id
        + pickle.BINPERSID
        + _int(offset)
        + _ints(shape)
        + _ints(stride)
        + pickle.NEWFALSE
        + hooks
        + pickle.TUPLE
    )
    return _global("torch._utils", "_rebuild_tensor_v2") + args + pickle.REDUCE


def _parameter(tensor: bytes) -> bytes:
    """What torch.save writes for an nn.Parameter wrapping ``tensor``."""
    hooks = _global("collections", "OrderedDict") + pickle.EMPTY_TUPLE + pickle.REDUCE
    args = pickle.MARK + tensor + pickle.NEWTRUE + hooks + pickle.TUPLE
    return _global("torch._utils", "_rebuild_parameter") + args + pickle.REDUCE


def _dict(items: dict[str, bytes]) -> bytes:
    entries = b"".join(_text(key) + value for key, value in items.items())
    return pickle.EMPTY_DICT + pickle.MARK + entries + pickle.SETITEMS


def _pickled(body: bytes) -> bytes:
    return pickle.PROTO + b"\x02" + body + pickle.STOP


def _torch_file(
    pickled: bytes,
    storages: dict[str, bytes] | None = None,
    *,
    prefix: str = "voice",
    byteorder: bytes | None = b"little",
) -> bytes:
    """A zip laid out as torch.save lays it out (without its alignment padding)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(f"{prefix}/data.pkl", pickled)
        if byteorder is not None:
            archive.writestr(f"{prefix}/byteorder", byteorder)
        for key, raw in (storages or {}).items():
            archive.writestr(f"{prefix}/data/{key}", raw)
        archive.writestr(f"{prefix}/version", b"3\n")
    return buffer.getvalue()


def _single_tensor_file(raw: bytes, **tensor: Any) -> bytes:
    return _torch_file(_pickled(_tensor(**tensor)), {"0": raw})


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def _npz(arrays: dict[str, np.ndarray], *, compressed: bool = False) -> bytes:
    buffer = io.BytesIO()
    if compressed:
        np.savez_compressed(buffer, **arrays)
    else:
        np.savez(buffer, **arrays)
    return buffer.getvalue()


def _zip(members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _zip_bomb(name: str, size: int, others: dict[str, bytes]) -> bytes:
    """``others`` plus a deflated member of ``size`` zero bytes, under 300 KiB packed."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for other, content in others.items():
            archive.writestr(other, content)
        with archive.open(name, "w", force_zip64=True) as member:
            chunk = bytes(1 << 20)
            for _ in range(size // len(chunk)):
                member.write(chunk)
            member.write(bytes(size % len(chunk)))
    return buffer.getvalue()


# --- the official packs -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def official_packs() -> dict[str, VoicePack]:
    files = sorted(SHARED_VOICES.glob("*.pt"))
    if not files:
        pytest.skip(f"no official voice packs at {SHARED_VOICES} (the shared data folder)")
    packs: dict[str, VoicePack] = {}
    for path in files:
        read = read_voice_packs(path.read_bytes(), path.name)
        assert list(read) == [path.stem]
        packs.update(read)
    return packs


def test_every_official_pack_reads_as_a_finite_float32_pack(
    official_packs: dict[str, VoicePack],
) -> None:
    for name, pack in official_packs.items():
        assert pack.shape == PACK_SHAPE, name
        assert pack.dtype == np.float32, name
        assert pack.flags.c_contiguous, name
        assert np.isfinite(pack).all(), name


def test_official_packs_are_distinct(official_packs: dict[str, VoicePack]) -> None:
    fingerprints = {pack.tobytes() for pack in official_packs.values()}
    assert len(fingerprints) == len(official_packs)


def test_official_packs_read_from_pt_equal_the_builtin_ones_exactly(
    official_packs: dict[str, VoicePack],
) -> None:
    builtin = official_voices()
    compared = [name for name in official_packs if name in builtin]
    assert len(compared) == 54
    for name in compared:
        np.testing.assert_array_equal(official_packs[name], builtin[name].open())


# --- pt_bytes ---------------------------------------------------------------------------------


def test_pt_bytes_round_trips_exactly() -> None:
    pack = _pack()
    packs = read_voice_packs(pt_bytes(pack), "My_Voice.pt")
    assert list(packs) == ["my_voice"]
    np.testing.assert_array_equal(packs["my_voice"], pack)
    assert packs["my_voice"].dtype == np.float32


def test_pt_bytes_is_deterministic_and_laid_out_as_torch_writes() -> None:
    blob = pt_bytes(_pack())
    assert blob == pt_bytes(_pack())
    with zipfile.ZipFile(io.BytesIO(blob)) as archive:
        infos = archive.infolist()
        assert [info.filename for info in infos] == [
            "archive/data.pkl",
            "archive/byteorder",
            "archive/data/0",
            "archive/version",
        ]
        assert archive.read("archive/version") == b"3\n"
        assert archive.read("archive/byteorder") == b"little"
    for info in infos:
        assert info.compress_type == zipfile.ZIP_STORED
        data_start = info.header_offset + 30 + len(info.filename) + len(info.extra)
        assert data_start % 64 == 0, info.filename


def test_pt_bytes_stores_float32_whatever_it_is_given() -> None:
    pack = _pack()
    as_float64 = pack.astype(np.float64).reshape(PACK_SHAPE[0], PACK_SHAPE[2])
    np.testing.assert_array_equal(read_voice_packs(pt_bytes(as_float64), "v.pt")["v"], pack)


def test_pt_bytes_refuses_a_malformed_pack() -> None:
    with pytest.raises(VoiceError, match="shape"):
        pt_bytes(np.zeros((3, 256), dtype=np.float32))


# --- reading .pt files ------------------------------------------------------------------------


def test_pth_suffix_and_path_are_handled_like_pt() -> None:
    pack = _pack()
    for filename in ("uploads/Af_Test.PTH", "C:\\voices\\af_test.pth", "af_test.pt"):
        assert list(read_voice_packs(pt_bytes(pack), filename)) == ["af_test"]


def test_reads_a_file_without_byteorder_record() -> None:
    pack = _pack()
    blob = _torch_file(_pickled(_tensor()), {"0": pack.tobytes()}, byteorder=None)
    np.testing.assert_array_equal(read_voice_packs(blob, "v.pt")["v"], pack)


def test_reads_big_endian_storage() -> None:
    pack = _pack()
    blob = _torch_file(_pickled(_tensor()), {"0": pack.astype(">f4").tobytes()}, byteorder=b"big")
    np.testing.assert_array_equal(read_voice_packs(blob, "v.pt")["v"], pack)


@pytest.mark.parametrize(
    ("storage", "dtype"),
    [("HalfStorage", "<f2"), ("DoubleStorage", "<f8")],
)
def test_half_and_double_storages_become_float32(storage: str, dtype: str) -> None:
    stored = _pack().astype(dtype)
    blob = _single_tensor_file(stored.tobytes(), storage=storage)
    pack = read_voice_packs(blob, "v.pt")["v"]
    assert pack.dtype == np.float32
    np.testing.assert_array_equal(pack, stored.astype(np.float32))


def test_bfloat16_storage_becomes_float32() -> None:
    bits = _pack().view(np.uint32)
    stored = (bits >> 16).astype("<u2")  # bfloat16 is the high half of a float32
    blob = _single_tensor_file(stored.tobytes(), storage="BFloat16Storage")
    expected = (bits & 0xFFFF0000).view(np.float32)
    np.testing.assert_array_equal(read_voice_packs(blob, "v.pt")["v"], expected)


def test_non_contiguous_tensor() -> None:
    pack = _pack()
    # torch.save of a permuted tensor keeps the permuted storage and its strides.
    storage = np.ascontiguousarray(pack.transpose(2, 1, 0))
    blob = _single_tensor_file(storage.tobytes(), stride=(1, 510, 510))
    np.testing.assert_array_equal(read_voice_packs(blob, "v.pt")["v"], pack)


def test_tensor_at_an_offset_in_a_larger_storage() -> None:
    pack = _pack()
    storage = np.concatenate([_pack(seed=1), pack])
    blob = _single_tensor_file(storage.tobytes(), numel=2 * NUMEL, offset=NUMEL)
    np.testing.assert_array_equal(read_voice_packs(blob, "v.pt")["v"], pack)


def test_two_dimensional_tensor_is_reshaped() -> None:
    pack = _pack()
    blob = _single_tensor_file(pack.tobytes(), shape=(510, 256), stride=(256, 1))
    np.testing.assert_array_equal(read_voice_packs(blob, "v.pt")["v"], pack)


def test_saved_parameter() -> None:
    pack = _pack()
    blob = _torch_file(_pickled(_parameter(_tensor())), {"0": pack.tobytes()})
    np.testing.assert_array_equal(read_voice_packs(blob, "v.pt")["v"], pack)


def test_dict_with_one_tensor_is_named_after_the_file() -> None:
    pack = _pack()
    blob = _torch_file(_pickled(_dict({"voice": _tensor()})), {"0": pack.tobytes()})
    packs = read_voice_packs(blob, "AF_Mine.pt")
    assert list(packs) == ["af_mine"]
    np.testing.assert_array_equal(packs["af_mine"], pack)


def test_dict_with_several_tensors_is_named_by_key() -> None:
    first, second = _pack(1), _pack(2)
    pickled = _pickled(_dict({"af_one": _tensor("0"), "af_two": _tensor("1")}))
    blob = _torch_file(pickled, {"0": first.tobytes(), "1": second.tobytes()})
    packs = read_voice_packs(blob, "mixed.pt")
    assert sorted(packs) == ["af_one", "af_two"]
    np.testing.assert_array_equal(packs["af_one"], first)
    np.testing.assert_array_equal(packs["af_two"], second)


def test_dict_of_views_into_one_storage() -> None:
    first, second = _pack(1), _pack(2)
    views = {
        "a": _tensor(numel=2 * NUMEL),
        "b": _tensor(numel=2 * NUMEL, offset=NUMEL),
    }
    blob = _torch_file(_pickled(_dict(views)), {"0": np.concatenate([first, second]).tobytes()})
    packs = read_voice_packs(blob, "shared.pt")
    np.testing.assert_array_equal(packs["a"], first)
    np.testing.assert_array_equal(packs["b"], second)


# --- .npy, .npz and .bin ----------------------------------------------------------------------


def test_npy_round_trip() -> None:
    pack = _pack()
    packs = read_voice_packs(_npy(pack), "Af_Mine.NPY")
    assert list(packs) == ["af_mine"]
    np.testing.assert_array_equal(packs["af_mine"], pack)


@pytest.mark.parametrize(
    "stored",
    [
        _pack().astype(np.float64),
        _pack().astype(">f4"),
        np.asfortranarray(_pack()),
        _pack().reshape(510, 256),
    ],
    ids=["float64", "big-endian", "fortran-order", "2-d"],
)
def test_npy_variants(stored: np.ndarray) -> None:
    pack = read_voice_packs(_npy(stored), "v.npy")["v"]
    assert pack.dtype == np.float32
    assert pack.flags.c_contiguous
    np.testing.assert_array_equal(pack, stored.astype(np.float32).reshape(PACK_SHAPE))


@pytest.mark.parametrize("compressed", [False, True], ids=["stored", "deflated"])
@pytest.mark.parametrize("suffix", [".npz", ".bin"])
def test_archive_round_trip(suffix: str, compressed: bool) -> None:
    arrays = {"af_one": _pack(1), "bm_two": _pack(2)}
    packs = read_voice_packs(_npz(arrays, compressed=compressed), f"voices{suffix}")
    assert sorted(packs) == sorted(arrays)
    for name, array in arrays.items():
        np.testing.assert_array_equal(packs[name], array)


def test_an_npz_of_builtin_voices_reads() -> None:
    builtin = {name: official_voices()[name].open() for name in ("af_heart", "jm_kumo")}
    buffer = io.BytesIO()
    np.savez(buffer, **builtin)
    packs = read_voice_packs(buffer.getvalue(), "voices.npz")
    assert sorted(packs) == sorted(builtin)
    for name, pack in builtin.items():
        np.testing.assert_array_equal(packs[name], pack)


# --- refusing bad input -----------------------------------------------------------------------


@pytest.mark.parametrize("filename", ["voice.wav", "voice", "voice.pt.gz", ".pt"])
def test_unknown_suffix_lists_the_supported_ones(filename: str) -> None:
    with pytest.raises(VoiceError, match="unsupported voice file type") as caught:
        read_voice_packs(pt_bytes(_pack()), filename)
    assert filename in str(caught.value)
    assert all(suffix in str(caught.value) for suffix in SUPPORTED_SUFFIXES)


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        (pt_bytes(_pack())[:1000], "cut.pt"),
        (pt_bytes(_pack())[:-10], "cut.pt"),
        (b"not a zip at all", "text.pt"),
        (b"", "empty.pth"),
        (pickle.dumps(np.zeros(3)), "legacy.pt"),
        (_npz({"a": _pack()})[:5000], "cut.npz"),
        (b"\x00" * 64, "zeros.bin"),
        (_npy(_pack())[:5000], "cut.npy"),
        (b"\x93NUMPY", "stub.npy"),
        (b"plain text", "text.npy"),
    ],
    ids=[
        "truncated-pt",
        "pt-without-end-record",
        "pt-not-a-zip",
        "empty",
        "bare-pickle",
        "truncated-npz",
        "bin-not-a-zip",
        "truncated-npy",
        "npy-stub",
        "npy-not-npy",
    ],
)
def test_unreadable_files_raise_voice_error(data: bytes, filename: str) -> None:
    with pytest.raises(VoiceError) as caught:
        read_voice_packs(data, filename)
    assert str(caught.value).startswith(f"{filename}: ")


def test_corrupted_storage_fails_its_checksum() -> None:
    blob = bytearray(pt_bytes(_pack()))
    blob[100_000] ^= 0xFF
    with pytest.raises(VoiceError, match="damaged"):
        read_voice_packs(bytes(blob), "v.pt")


def test_zip_without_torch_pickle_is_not_a_pt_file() -> None:
    with pytest.raises(VoiceError, match="not a PyTorch file"):
        read_voice_packs(_npz({"a": _pack()}), "v.pt")


class _Exploit:
    """Pickles into a call of os.system, the classic malicious-pickle payload."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return os.system, (self.command,)


def test_malicious_pickle_is_refused_and_never_runs(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    payload = pickle.dumps(_Exploit(f"touch {marker}"), protocol=2)
    pickle.loads(payload)  # the payload is live: unpickled normally, it runs
    assert marker.exists()
    marker.unlink()

    with pytest.raises(VoiceError, match="system") as caught:
        read_voice_packs(_torch_file(payload), "evil.pt")
    assert "evil.pt" in str(caught.value)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("os", "system"),
        ("posix", "system"),
        ("builtins", "eval"),
        ("subprocess", "check_output"),
        ("torch", "load"),
        ("torch._utils", "_rebuild_device_tensor_from_numpy"),
        ("numpy", "frombuffer"),
    ],
)
def test_globals_beyond_tensors_are_refused(tmp_path: Path, module: str, name: str) -> None:
    marker = tmp_path / "pwned"
    pickled = _pickled(
        _global(module, name)
        + pickle.MARK
        + _text(f"touch {marker}")
        + pickle.TUPLE
        + pickle.REDUCE
    )
    with pytest.raises(VoiceError, match=f"{module}.{name}"):
        read_voice_packs(_torch_file(pickled), "evil.pt")
    assert not marker.exists()


def test_malicious_global_inside_the_tensor_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    call = _global("os", "system") + pickle.MARK + _text(f"touch {marker}") + pickle.TUPLE
    hidden = _tensor().replace(
        _int(0) + _ints(PACK_SHAPE), call + pickle.REDUCE + _ints(PACK_SHAPE)
    )
    with pytest.raises(VoiceError, match=r"os\.system"):
        read_voice_packs(_torch_file(_pickled(hidden), {"0": _pack().tobytes()}), "evil.pt")
    assert not marker.exists()


@pytest.mark.parametrize(
    "opcodes",
    [
        # BUILD sets attributes on the object below it: here the tensor rebuilder.
        _global("torch._utils", "_rebuild_tensor_v2")
        + pickle.EMPTY_DICT
        + _text("__call__")
        + _int(0)
        + pickle.SETITEM
        + pickle.BUILD,
        _global("collections", "OrderedDict") + pickle.EMPTY_TUPLE + pickle.NEWOBJ,
        pickle.BYTEARRAY8 + struct.pack("<Q", 3) + b"abc",
        pickle.EXT1 + b"\x01",
    ],
    ids=["build", "newobj", "bytearray8", "ext1"],
)
def test_pickle_opcodes_beyond_tensors_are_refused(opcodes: bytes) -> None:
    with pytest.raises(VoiceError, match="opcode"):
        read_voice_packs(_torch_file(_pickled(opcodes)), "odd.pt")
    pack = _pack()
    np.testing.assert_array_equal(read_voice_packs(pt_bytes(pack), "v.pt")["v"], pack)


def test_memo_index_that_would_exhaust_memory_is_refused() -> None:
    # Unchecked, the C unpickler would reserve 2**31 memo slots (16 GiB) for this.
    pickled = _pickled(pickle.NONE + pickle.LONG_BINPUT + struct.pack("<I", 1 << 31))
    with pytest.raises(VoiceError, match="memo slot 2147483648"):
        read_voice_packs(_torch_file(pickled), "memo.pt")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (_int(7), "holds a Python int"),
        (pickle.EMPTY_LIST, "holds a Python list"),
        (pickle.EMPTY_DICT, "empty dict"),
        (_dict({"voice": _tensor(), "version": _int(1)}), "'version' is a Python int"),
        (_tensor(storage="LongStorage"), "LongStorage"),
        (_tensor(stride=(256, 256, 2)), "reaches past its storage"),
        (_tensor(offset=1), "reaches past its storage"),
        (_tensor(numel=2 * NUMEL), "fewer than"),
        (_tensor(key="missing"), "no member 'voice/data/missing'"),
        (_tensor(shape=(510, 1), stride=(256, 256, 1)), "differ in rank"),
        (_tensor(shape=(1 << 20, 1 << 20, 1 << 20), stride=(0, 0, 0)), "too large"),
        (_tensor(stride=(256, -256, 1)), "holds -256"),
        (_tensor().replace(_text("storage"), _text("module")), "persistent id"),
        (b"\xff", "not a readable tensor pickle"),
    ],
    ids=[
        "int",
        "list",
        "empty-dict",
        "dict-with-non-tensor",
        "integer-storage",
        "stride-out-of-bounds",
        "offset-out-of-bounds",
        "storage-too-short",
        "missing-storage",
        "rank-mismatch",
        "huge-shape",
        "negative-stride",
        "unknown-persistent-id",
        "garbage-opcode",
    ],
)
def test_pickles_that_do_not_hold_a_pack_are_refused(body: bytes, message: str) -> None:
    blob = _torch_file(_pickled(body), {"0": _pack().tobytes()})
    with pytest.raises(VoiceError, match=message) as caught:
        read_voice_packs(blob, "odd.pt")
    assert str(caught.value).startswith("odd.pt: ")


_SHORT = np.zeros((100, 1, 256), np.float32)


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        (_single_tensor_file(_SHORT.tobytes(), numel=_SHORT.size, shape=_SHORT.shape), "v.pt"),
        (_npy(_SHORT), "v.npy"),
        (_npz({"short": _SHORT}), "v.npz"),
    ],
    ids=["pt", "npy", "npz"],
)
def test_wrong_shape_is_refused(data: bytes, filename: str) -> None:
    with pytest.raises(VoiceError, match=r"shape \(100, 1, 256\)") as caught:
        read_voice_packs(data, filename)
    assert str(caught.value).startswith(filename)


@pytest.mark.parametrize("suffix", [".pt", ".npy", ".npz"])
def test_nan_is_refused(suffix: str) -> None:
    pack = _pack()
    pack[3, 0, 7] = np.nan
    writers = {
        ".pt": lambda p: _single_tensor_file(p.tobytes()),
        ".npy": _npy,
        ".npz": lambda p: _npz({"a": p}),
    }
    data = writers[suffix](pack)
    with pytest.raises(VoiceError, match="NaN"):
        read_voice_packs(data, f"v{suffix}")


def test_pt_bytes_refuses_non_finite_values() -> None:
    pack = _pack()
    pack[0, 0, 0] = np.inf
    with pytest.raises(VoiceError, match="infinite"):
        pt_bytes(pack)


@pytest.mark.parametrize(
    "stored",
    [np.zeros(PACK_SHAPE, np.int32), np.zeros(PACK_SHAPE, np.complex64)],
    ids=["int32", "complex64"],
)
def test_npy_of_non_float_dtype_is_refused(stored: np.ndarray) -> None:
    with pytest.raises(VoiceError, match="dtype"):
        read_voice_packs(_npy(stored), "v.npy")


def test_npy_of_python_objects_is_refused_without_unpickling(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    buffer = io.BytesIO()
    np.save(buffer, np.array([_Exploit(f"touch {marker}")], dtype=object), allow_pickle=True)
    with pytest.raises(VoiceError, match="dtype object"):
        read_voice_packs(buffer.getvalue(), "evil.npy")
    assert not marker.exists()


def _npy_claiming(shape: str, data: bytes = b"") -> bytes:
    """A version 1.0 .npy file whose header claims ``shape`` for float32 ``data``."""
    header = f"{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}".encode()
    header = header.ljust(118) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + data


@pytest.mark.parametrize(
    "shape", ["(-2, 3)", "(-1,)", "(-510, -256)", "(0, 10000000000000000000)", str((1,) * 9)]
)
def test_npy_header_with_impossible_shape_is_refused(shape: str) -> None:
    with pytest.raises(VoiceError, match="impossible shape"):
        read_voice_packs(_npy_claiming(shape, _pack().tobytes()), "v.npy")


def test_npy_header_with_boolean_dimension_is_read_as_its_integer() -> None:
    with pytest.raises(VoiceError, match=r"shape \(1,\)"):
        read_voice_packs(_npy_claiming("(True,)", _pack().tobytes()), "v.npy")


def test_npy_header_claiming_more_data_than_present_is_refused() -> None:
    with pytest.raises(VoiceError, match="truncated"):
        read_voice_packs(_npy_claiming("(510, 9, 256)", _pack().tobytes()), "v.npy")


def test_npy_header_helper_writes_what_numpy_reads() -> None:
    pack = _pack()
    assert np.array_equal(np.load(io.BytesIO(_npy_claiming(str(PACK_SHAPE), pack.tobytes()))), pack)


def test_npz_with_too_many_members_is_refused() -> None:
    members = {f"v{i}.npy": b"" for i in range(257)}
    with pytest.raises(VoiceError, match="257 files"):
        read_voice_packs(_zip(members), "many.npz")


def test_empty_npz_is_refused() -> None:
    with pytest.raises(VoiceError, match="no voice packs"):
        read_voice_packs(_zip({}), "empty.npz")


def test_bzip2_member_is_refused() -> None:
    data = _zip({"a.npy": _npy(_pack())}, compression=zipfile.ZIP_BZIP2)
    with pytest.raises(VoiceError, match="unsupported compression"):
        read_voice_packs(data, "v.npz")


@pytest.mark.parametrize(
    ("member", "filename", "others"),
    [
        ("voice/data/0", "bomb.pt", {"voice/data.pkl": _pickled(_tensor())}),
        ("big.npy", "bomb.npz", {}),
    ],
)
def test_member_unpacking_past_64_mib_is_refused_before_unpacking(
    member: str, filename: str, others: dict[str, bytes]
) -> None:
    data = _zip_bomb(member, (64 << 20) + 1, others)
    assert len(data) < 512 << 10
    with pytest.raises(VoiceError, match="would unpack to 67108865 bytes"):
        read_voice_packs(data, filename)


def test_oversized_pickle_is_refused() -> None:
    padding = pickle.BINBYTES + struct.pack("<I", 1 << 20) + bytes(1 << 20) + pickle.POP
    with pytest.raises(VoiceError, match="would unpack"):
        read_voice_packs(_torch_file(_pickled(padding + _tensor())), "fat.pt")


# --- properties: damaged input only ever raises VoiceError ----------------------------------

_VALID_PICKLE = _pickled(_dict({"a": _tensor("0"), "b": _tensor("0", offset=0)}))
_STORAGE = _pack().tobytes()


# A damaged header can look like a Python 2 .npy (numpy warns) or hold a text
# string opcode with a stray escape (pickletools warns); both are refused anyway.
_IGNORE_PICKLETOOLS_ESCAPE = pytest.mark.filterwarnings(
    "ignore:invalid escape sequence:DeprecationWarning"
)
_IGNORE_NUMPY_PYTHON2_HEADER = pytest.mark.filterwarnings(
    "ignore:Reading `.npy` or `.npz` file required:UserWarning"
)


@_IGNORE_PICKLETOOLS_ESCAPE
@_IGNORE_NUMPY_PYTHON2_HEADER
@settings(max_examples=150, deadline=1000)
@given(
    position=st.integers(0, len(_VALID_PICKLE) - 1),
    replacement=st.binary(min_size=1, max_size=8),
    cut=st.integers(1, len(_VALID_PICKLE)),
)
def test_property_damaged_pickles_raise_only_voice_error(
    position: int, replacement: bytes, cut: int
) -> None:
    damaged = (_VALID_PICKLE[:position] + replacement + _VALID_PICKLE[position + 1 :])[:cut]
    try:
        packs = read_voice_packs(_torch_file(damaged, {"0": _STORAGE}), "v.pt")
    except VoiceError:
        return
    assert all(pack.shape == PACK_SHAPE for pack in packs.values())


@_IGNORE_PICKLETOOLS_ESCAPE
@_IGNORE_NUMPY_PYTHON2_HEADER
@settings(max_examples=100, deadline=1000)
@given(
    suffix=st.sampled_from(SUPPORTED_SUFFIXES),
    cut=st.integers(0, 4096),
    noise=st.binary(max_size=64),
)
def test_property_truncated_or_noisy_files_raise_only_voice_error(
    suffix: str, cut: int, noise: bytes
) -> None:
    source = _npy(_pack()) if suffix == ".npy" else pt_bytes(_pack())
    if suffix in (".npz", ".bin"):
        source = _npz({"a": _pack()})
    with pytest.raises(VoiceError):
        read_voice_packs(source[:cut] + noise, f"v{suffix}")

"""Voice pack files in the formats people share them in, read and written without PyTorch.

Kokoro voices circulate as PyTorch ``.pt`` files (one tensor per file, as the
model's authors publish them), as numpy ``.npy`` arrays, and as ``.npz``
archives of many packs (``voices.bin`` of kokoro-onnx is one). Every file is
untrusted input: a ``.pt`` file is a pickle, and unpickling it normally can run
any code, so the reader here rebuilds tensors with a restricted unpickler that
knows only the handful of names and opcodes a tensor needs, and refuses
everything else.
Sizes are checked before anything is decompressed, so a small upload cannot
expand into gigabytes.
"""

from __future__ import annotations

import io
import math
import pickle
import pickletools
import reprlib
import struct
import zipfile
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Literal

import numpy as np
import numpy.typing as npt

from api.voices.packs import PACK_SHAPE, VoiceError, VoicePack, validate_pack

SUPPORTED_SUFFIXES: tuple[str, ...] = (".pt", ".pth", ".npy", ".npz", ".bin")

# A pack is 510 KiB of float32 (1 MiB as float64); these bounds leave room for
# any honest file and stop archives that decompress into more than that.
_MAX_MEMBER_BYTES = 64 << 20
_MAX_ARCHIVE_BYTES = 256 << 20
_MAX_PICKLE_BYTES = 256 << 10
_MAX_PACKS = 256
_MAX_TENSOR_DIMS = 8
_MAX_TENSOR_ELEMENTS = _MAX_MEMBER_BYTES // 4
# Deflate output per read is bounded by the requested size; bzip2 and lzma
# decompress a whole member at once, so they could expand without limit.
_SAFE_COMPRESSION = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)

# Storage class name in a torch pickle -> little-endian numpy dtype of its bytes.
# bfloat16 has no numpy dtype: its raw 16-bit words are widened to float32 below.
_STORAGE_DTYPES = {
    "FloatStorage": "<f4",
    "DoubleStorage": "<f8",
    "HalfStorage": "<f2",
    "BFloat16Storage": "<u2",
}
_BFLOAT16 = "BFloat16Storage"

# The pickle opcodes that torch.save (protocol 2, or 3-4 when asked) uses for
# tensors and dicts of them. Anything else (BUILD, object instantiation, buffers,
# the copyreg extension registry) is refused before the unpickler sees the bytes.
_ALLOWED_OPCODES = frozenset(
    {
        "PROTO", "FRAME", "STOP", "MARK", "POP", "POP_MARK", "DUP",
        "NONE", "NEWTRUE", "NEWFALSE", "BININT", "BININT1", "BININT2", "LONG1", "BINFLOAT",
        "SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8",
        "EMPTY_TUPLE", "TUPLE", "TUPLE1", "TUPLE2", "TUPLE3",
        "EMPTY_LIST", "APPEND", "APPENDS", "LIST",
        "EMPTY_DICT", "DICT", "SETITEM", "SETITEMS",
        "BINPUT", "LONG_BINPUT", "BINGET", "LONG_BINGET", "MEMOIZE",
        "GLOBAL", "STACK_GLOBAL", "REDUCE", "BINPERSID",
    }
)  # fmt: skip
# The C unpickler grows its memo to the largest index a PUT names, so a 12-byte
# pickle naming index 2**31 would allocate gigabytes; an honest index is below
# the number of opcodes, so below the pickle's length.
_MEMO_OPCODES = frozenset({"BINPUT", "LONG_BINPUT", "BINGET", "LONG_BINGET"})
_ByteOrder = Literal["<", ">"]

# Format 3.0 differs from 2.0 only in allowing utf-8 field names, which a float
# array never has; numpy writes 1.0 unless the header is huge.
_NPY_HEADER_READERS = {
    (1, 0): np.lib.format.read_array_header_1_0,
    (2, 0): np.lib.format.read_array_header_2_0,
}

_PT_ALIGNMENT = 64
_PT_PREFIX = "archive"
_PT_PADDING_FIELD = b"FB"  # the zip extra-field id torch uses for its alignment padding


def read_voice_packs(data: bytes, filename: str) -> dict[str, VoicePack]:
    """Parse a voice file's bytes; the suffix of ``filename`` picks the reader.

    ``.pt``/``.pth`` and ``.npy`` hold one pack, named after the file's stem
    (lowercased); ``.npz``/``.bin`` hold several, named by their archive keys.
    Every pack goes through ``validate_pack``; any unreadable or malformed input
    raises ``VoiceError`` naming ``filename``.
    """
    # Uploads may carry a client's full path, with either kind of separator.
    basename = PurePosixPath(filename.replace("\\", "/")).name
    suffix = PurePosixPath(basename).suffix.lower()
    stem = basename[: len(basename) - len(suffix)].lower()
    if suffix in (".pt", ".pth"):
        return _read_torch(data, filename, stem)
    if suffix == ".npy":
        return {stem: validate_pack(_parse_npy(data, filename), filename)}
    if suffix in (".npz", ".bin"):
        return _read_npz(data, filename)
    supported = ", ".join(SUPPORTED_SUFFIXES)
    found = f"'{suffix}'" if suffix else "no suffix"
    raise VoiceError(
        f"{filename}: unsupported voice file type ({found}); expected one of {supported}"
    )


def pt_bytes(pack: VoicePack) -> bytes:
    """A PyTorch ``.pt`` file holding ``pack`` as one float32 (510, 1, 256) tensor.

    Written as ``torch.save`` writes it (a zip archive, storages aligned to 64
    bytes), so ``torch.load(..., weights_only=True)`` loads it, without torch
    being imported here.
    """
    values = validate_pack(pack, "pack")
    storage = values.astype("<f4").tobytes()
    members = {
        f"{_PT_PREFIX}/data.pkl": _tensor_pickle(values.size, PACK_SHAPE),
        f"{_PT_PREFIX}/byteorder": b"little",
        f"{_PT_PREFIX}/data/0": storage,
        f"{_PT_PREFIX}/version": b"3\n",
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, content in members.items():
            archive.writestr(_aligned_member(name, buffer.tell()), content)
    return buffer.getvalue()


# --- zip archives ---------------------------------------------------------------------------


class _ZipReader:
    """Reads an untrusted zip archive's members within size limits."""

    def __init__(self, data: bytes, filename: str, kind: str) -> None:
        self.filename = filename
        self._budget = _MAX_ARCHIVE_BYTES
        try:
            self.archive = zipfile.ZipFile(io.BytesIO(data))
        # Untrusted bytes: zipfile reports damage with many exception types.
        except Exception as e:
            raise VoiceError(f"{filename}: not {kind}, or a truncated one ({e})") from e

    def names(self) -> list[str]:
        return self.archive.namelist()

    def read(self, name: str, limit: int = _MAX_MEMBER_BYTES) -> bytes:
        try:
            info = self.archive.getinfo(name)
        except KeyError as e:
            raise VoiceError(f"{self.filename}: archive has no member '{name}'") from e
        if info.file_size > min(limit, self._budget):
            raise VoiceError(
                f"{self.filename}: archive member '{name}' would unpack to {info.file_size} "
                f"bytes, more than a voice file may hold ({min(limit, self._budget)})"
            )
        if info.compress_type not in _SAFE_COMPRESSION:
            raise VoiceError(
                f"{self.filename}: archive member '{name}' uses an unsupported compression "
                f"(method {info.compress_type}); store or deflate it"
            )
        try:
            with self.archive.open(info) as member:
                # zipfile stops at the size the header declares (a longer stream then
                # fails its CRC check), and deflate never returns more than asked for.
                content = member.read(info.file_size + 1)
        except Exception as e:
            raise VoiceError(
                f"{self.filename}: archive member '{name}' is damaged or encrypted ({e})"
            ) from e
        self._budget -= len(content)
        return content


# --- .npy and .npz --------------------------------------------------------------------------


def _parse_npy(data: bytes, origin: str) -> npt.NDArray[np.generic]:
    """The array in ``.npy`` bytes, its header checked before any memory is reserved."""
    stream = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(stream)
        read_header = _NPY_HEADER_READERS.get(version)
        header = read_header(stream) if read_header is not None else None
    # Untrusted bytes: numpy parses the header with ast and tokenize, which raise
    # SyntaxError, tokenize.TokenError and more besides ValueError.
    except Exception as e:
        raise VoiceError(f"{origin}: not a .npy array ({type(e).__name__}: {e})") from e
    if header is None:
        raise VoiceError(f"{origin}: unsupported .npy format version {version}")
    fortran_order, dtype = header[1], header[2]
    # numpy checks that the dimensions are integers, which lets through negative or
    # enormous ones (and bools); a zero-size array may still claim any of them.
    shape = tuple(int(size) for size in header[0])
    if len(shape) > _MAX_TENSOR_DIMS or any(
        not 0 <= size <= _MAX_TENSOR_ELEMENTS for size in shape
    ):
        raise VoiceError(f"{origin}: .npy header has an impossible shape {_short(shape)}")
    if dtype.kind != "f" or dtype.hasobject:
        raise VoiceError(f"{origin}: array has dtype {dtype}, expected float32")
    count = math.prod(shape)
    available = len(data) - stream.tell()
    if count * dtype.itemsize > available:
        raise VoiceError(
            f"{origin}: .npy array is truncated ({available} bytes of data for shape {shape})"
        )
    flat = np.frombuffer(data, dtype=dtype, count=count, offset=stream.tell())
    return flat.reshape(shape, order="F" if fortran_order else "C")


def _read_npz(data: bytes, filename: str) -> dict[str, VoicePack]:
    reader = _ZipReader(data, filename, "an .npz archive")
    names = reader.names()
    if not names:
        raise VoiceError(f"{filename}: archive holds no voice packs")
    if len(names) > _MAX_PACKS:
        raise VoiceError(f"{filename}: archive holds {len(names)} files, at most {_MAX_PACKS}")
    packs: dict[str, VoicePack] = {}
    for name in names:
        key = name.removesuffix(".npy")
        if key in packs:
            raise VoiceError(f"{filename}: archive holds '{key}' twice")
        origin = f"{filename}:{key}"
        packs[key] = validate_pack(_parse_npy(reader.read(name), origin), origin)
    return packs


# --- .pt: reading -----------------------------------------------------------------------------


class _RefusedPickleError(Exception):
    """data.pkl asks for something a tensor never needs."""


@dataclass(frozen=True, slots=True)
class _StorageType:
    """Stands in for ``torch.FloatStorage`` and its kin inside the pickle."""

    name: str


@dataclass(frozen=True, slots=True)
class _Storage:
    """A storage's values, widened to float32: one flat array."""

    values: npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class _Tensor:
    """A rebuilt tensor: a strided view of its storage's values."""

    values: npt.NDArray[np.float32]


def _short(value: object) -> str:
    """``repr`` cut to a line: values in error messages come from untrusted files."""
    limited = reprlib.Repr()  # its keyword arguments are Python 3.12+
    limited.maxlevel = 2
    limited.maxstring = limited.maxother = 60
    return limited.repr(value)


def _int_tuple(value: object, what: str) -> tuple[int, ...]:
    if not isinstance(value, tuple) or len(value) > _MAX_TENSOR_DIMS:
        raise _RefusedPickleError(f"tensor {what} is not a tuple of at most {_MAX_TENSOR_DIMS}")
    numbers: list[int] = []
    for item in value:
        if not isinstance(item, int) or item < 0:
            raise _RefusedPickleError(f"tensor {what} {_short(value)} holds {_short(item)}")
        numbers.append(item)
    return tuple(numbers)


class _RebuildTensor:
    """Stands in for ``torch._utils._rebuild_tensor(_v2)``: a view of a storage.

    Instances have no attributes to set, so a pickle's BUILD opcode cannot alter them.
    """

    __slots__ = ()

    def __call__(
        self, storage: object, offset: object, shape: object, stride: object, *_: object
    ) -> _Tensor:
        if not isinstance(storage, _Storage):
            raise _RefusedPickleError("tensor is not built on a storage")
        if not isinstance(offset, int) or offset < 0:
            raise _RefusedPickleError(f"tensor storage offset {_short(offset)} is invalid")
        sizes = _int_tuple(shape, "shape")
        strides = _int_tuple(stride, "stride")
        if len(sizes) != len(strides):
            raise _RefusedPickleError(f"tensor shape {sizes} and stride {strides} differ in rank")
        if math.prod(sizes) > _MAX_TENSOR_ELEMENTS:
            raise _RefusedPickleError(f"tensor shape {sizes} is too large for a voice pack")
        values = storage.values
        if math.prod(sizes) == 0:
            return _Tensor(np.zeros(sizes, dtype=np.float32))
        # as_strided trusts its arguments, so every element it can reach must lie
        # inside the storage; strides are non-negative, so the last one is the farthest.
        last = offset + sum((size - 1) * step for size, step in zip(sizes, strides, strict=True))
        if last >= values.size:
            raise _RefusedPickleError(
                f"tensor of shape {sizes} at offset {offset} with stride {strides} "
                f"reaches past its storage of {values.size} elements"
            )
        view = np.lib.stride_tricks.as_strided(
            values[offset:],
            shape=sizes,
            strides=tuple(step * values.itemsize for step in strides),
            writeable=False,
        )
        return _Tensor(view)


class _RebuildParameter:
    """Stands in for ``torch._utils._rebuild_parameter``: a saved ``nn.Parameter``."""

    __slots__ = ()

    def __call__(self, data: object, *_: object) -> _Tensor:
        if not isinstance(data, _Tensor):
            raise _RefusedPickleError("parameter does not wrap a tensor")
        return data


class _TensorUnpickler(pickle.Unpickler):
    """Rebuilds the tensors of a torch ``data.pkl`` and refuses every other global.

    ``find_class`` is the only way a pickle reaches code, so allowing just these
    names means no pickle can run anything but the stand-ins below. It hands out
    fresh stand-ins, never shared module objects, so one file cannot tamper with
    how the next is read.
    """

    def __init__(
        self, pickled: bytes, reader: _ZipReader, prefix: str, byteorder: _ByteOrder
    ) -> None:
        super().__init__(io.BytesIO(pickled))
        self._reader = reader
        self._prefix = prefix
        self._byteorder = byteorder
        self._storages: dict[str, _Storage] = {}

    def find_class(self, module: str, name: str) -> object:
        if module == "torch._utils" and name in ("_rebuild_tensor_v2", "_rebuild_tensor"):
            return _RebuildTensor()
        if module == "torch._utils" and name == "_rebuild_parameter":
            return _RebuildParameter()
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(name)
        if module == "collections" and name == "OrderedDict":
            # A builtin type: its attributes cannot be set, calling it builds an empty dict.
            return OrderedDict
        if module == "torch" and name.endswith("Storage"):
            raise _RefusedPickleError(
                f"holds a tensor of torch.{name}; a voice pack is floating point "
                "(float32, float16, bfloat16 or float64)"
            )
        raise _RefusedPickleError(
            f"data.pkl refers to {module}.{name}, which a voice pack never needs; refused"
        )

    def persistent_load(self, pid: object) -> _Storage:
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise _RefusedPickleError(f"data.pkl has an unknown persistent id {_short(pid)}")
        _, storage_type, key, _location, numel = pid
        if not isinstance(storage_type, _StorageType):
            raise _RefusedPickleError(
                f"storage type {_short(storage_type)} is not a tensor storage"
            )
        if not isinstance(key, str) or not isinstance(numel, int) or numel < 0:
            raise _RefusedPickleError(f"storage reference {_short(pid)} is malformed")
        cached = self._storages.get(key)
        if cached is None:
            cached = self._storages[key] = self._load_storage(storage_type.name, key, numel)
        return cached

    def _load_storage(self, type_name: str, key: str, numel: int) -> _Storage:
        raw = self._reader.read(f"{self._prefix}data/{key}")
        dtype = np.dtype(_STORAGE_DTYPES[type_name]).newbyteorder(self._byteorder)
        if len(raw) < numel * dtype.itemsize:
            raise _RefusedPickleError(
                f"storage {key} holds {len(raw)} bytes, fewer than its {numel} elements need"
            )
        words = np.frombuffer(raw, dtype=dtype, count=numel)
        if type_name == _BFLOAT16:
            # bfloat16 is the high half of a float32: shift the bits into place.
            values = (words.astype(np.uint32) << 16).view(np.float32)
        else:
            values = words.astype(np.float32)
        return _Storage(values)


def _read_torch(data: bytes, filename: str, stem: str) -> dict[str, VoicePack]:
    # torch.save has written zip archives since PyTorch 1.6; older files are plain pickles.
    reader = _ZipReader(data, filename, "a PyTorch zip archive (torch.save, PyTorch 1.6+)")
    pickles = [name for name in reader.names() if _is_torch_pickle(name)]
    if len(pickles) != 1:
        found = "none" if not pickles else ", ".join(pickles)
        raise VoiceError(
            f"{filename}: not a PyTorch file (a zip archive with one '<name>/data.pkl' "
            f"member; found {found})"
        )
    prefix = pickles[0].removesuffix("data.pkl")
    byteorder: _ByteOrder = "<"
    if f"{prefix}byteorder" in reader.names():
        recorded = reader.read(f"{prefix}byteorder", limit=16)
        if recorded not in (b"little", b"big"):
            raise VoiceError(f"{filename}: unknown byte order {recorded!r}")
        byteorder = "<" if recorded == b"little" else ">"
    pickled = reader.read(pickles[0], limit=_MAX_PICKLE_BYTES)
    try:
        _check_opcodes(pickled)
        loaded: object = _TensorUnpickler(pickled, reader, prefix, byteorder).load()
    except VoiceError:
        raise
    except _RefusedPickleError as e:
        raise VoiceError(f"{filename}: {e}") from e
    # Untrusted bytes: the unpickler reports malformed input with many exception types.
    except Exception as e:
        raise VoiceError(
            f"{filename}: data.pkl is not a readable tensor pickle ({type(e).__name__}: {e})"
        ) from e
    return {
        name: validate_pack(tensor.values, origin)
        for name, (origin, tensor) in _tensors_by_name(loaded, filename, stem).items()
    }


def _check_opcodes(pickled: bytes) -> None:
    """Refuse opcodes a tensor pickle never holds, and memo indices that would exhaust memory."""
    for opcode, arg, _ in pickletools.genops(pickled):
        if opcode.name not in _ALLOWED_OPCODES:
            raise _RefusedPickleError(
                f"data.pkl uses the pickle opcode {opcode.name}, which a saved tensor never needs"
            )
        if opcode.name in _MEMO_OPCODES and isinstance(arg, int) and arg > len(pickled):
            raise _RefusedPickleError(f"data.pkl names memo slot {arg} in {len(pickled)} bytes")


def _is_torch_pickle(name: str) -> bool:
    parts = name.split("/")
    return len(parts) == 2 and parts[1] == "data.pkl"


def _tensors_by_name(loaded: object, filename: str, stem: str) -> dict[str, tuple[str, _Tensor]]:
    """Pack name -> (origin for messages, tensor) for what data.pkl held."""
    if isinstance(loaded, _Tensor):
        return {stem: (filename, loaded)}
    if not isinstance(loaded, dict):
        raise VoiceError(
            f"{filename}: holds a Python {type(loaded).__name__}, "
            "expected a tensor or a dict of tensors"
        )
    if not loaded:
        raise VoiceError(f"{filename}: holds an empty dict, expected a tensor")
    if len(loaded) > _MAX_PACKS:
        raise VoiceError(f"{filename}: holds {len(loaded)} entries, at most {_MAX_PACKS}")
    tensors: dict[str, tuple[str, _Tensor]] = {}
    for key, value in loaded.items():
        if not isinstance(key, str) or not isinstance(value, _Tensor):
            raise VoiceError(
                f"{filename}: entry {_short(key)} is a Python {type(value).__name__}, "
                "not a tensor (a voice file holds a tensor or a dict of tensors)"
            )
        tensors[key] = (f"{filename}:{key}", value)
    if len(tensors) == 1:
        # A single tensor saved as {"voice": tensor} is still the file's one pack.
        return {stem: next(iter(tensors.values()))}
    return tensors


# --- .pt: writing -----------------------------------------------------------------------------


def _tensor_pickle(numel: int, shape: tuple[int, ...]) -> bytes:
    """data.pkl for one contiguous float32 tensor on storage '0', as torch.save writes it.

    The opcodes are written by hand because ``pickle.Pickler`` can only refer to a
    global (``torch._utils._rebuild_tensor_v2``, ``torch.FloatStorage``) by
    importing it, and this server does not depend on torch.
    """
    stride = tuple(math.prod(shape[i + 1 :]) for i in range(len(shape)))
    storage_id = (
        pickle.MARK
        + _str_op("storage")
        + _global_op("torch", "FloatStorage")
        + _str_op("0")
        + _str_op("cpu")
        + _int_op(numel)
        + pickle.TUPLE
    )
    rebuild_args = (
        pickle.MARK
        + storage_id
        + pickle.BINPERSID  # the storage, loaded from archive/data/0
        + _int_op(0)  # storage offset
        + _tuple_op(shape)
        + _tuple_op(stride)
        + pickle.NEWFALSE  # requires_grad
        + _global_op("collections", "OrderedDict")  # backward hooks: none
        + pickle.EMPTY_TUPLE
        + pickle.REDUCE
        + pickle.TUPLE
    )
    return (
        pickle.PROTO
        + bytes([2])
        + _global_op("torch._utils", "_rebuild_tensor_v2")
        + rebuild_args
        + pickle.REDUCE
        + pickle.STOP
    )


def _global_op(module: str, name: str) -> bytes:
    return pickle.GLOBAL + f"{module}\n{name}\n".encode()


def _str_op(text: str) -> bytes:
    encoded = text.encode()
    return pickle.BINUNICODE + struct.pack("<I", len(encoded)) + encoded


def _int_op(value: int) -> bytes:
    if 0 <= value <= 0xFF:
        return pickle.BININT1 + struct.pack("<B", value)
    if 0 <= value <= 0xFFFF:
        return pickle.BININT2 + struct.pack("<H", value)
    return pickle.BININT + struct.pack("<i", value)


def _tuple_op(values: tuple[int, ...]) -> bytes:
    return pickle.MARK + b"".join(_int_op(value) for value in values) + pickle.TUPLE


def _aligned_member(name: str, offset: int) -> zipfile.ZipInfo:
    """A stored member whose data starts on a 64-byte boundary, as torch aligns storages.

    ``torch.load(mmap=True)`` maps storages straight from the file and wants them
    aligned; the padding goes in an extra field of the local header.
    """
    info = zipfile.ZipInfo(name)  # 1980-01-01 timestamp: the same pack gives the same bytes
    header = 30 + len(name.encode()) + 4  # local file header, name, extra-field header
    padding = -(offset + header) % _PT_ALIGNMENT
    info.extra = _PT_PADDING_FIELD + struct.pack("<H", padding) + b"Z" * padding
    return info

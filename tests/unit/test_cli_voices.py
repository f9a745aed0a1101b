"""`kokoro-server voices list|import`, with URL imports from a local HTTP server."""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from api.cli import main
from api.voices.formats import pt_bytes
from api.weights import ModelFiles


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, model_files: ModelFiles) -> Path:
    """KOKORO_* pointing at the session's model directory and an empty voices directory."""
    monkeypatch.setenv("KOKORO_MODEL_DIR", str(model_files.directory))
    voices_dir = tmp_path / "voices"
    monkeypatch.setenv("KOKORO_VOICES_DIR", str(voices_dir))
    monkeypatch.chdir(tmp_path)
    return voices_dir


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A local HTTP server on 127.0.0.1 serving the files of a folder."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", root
    server.shutdown()
    thread.join()


def a_pack(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(510, 1, 256)).astype(np.float32)


def test_import_from_a_url_records_its_sha256(
    environment: Path, served: tuple[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    url, root = served
    data = pt_bytes(a_pack())
    (root / "af_remote.pt").write_bytes(data)
    assert main(["voices", "import", f"{url}/af_remote.pt"]) == 0
    assert "imported af_remote" in capsys.readouterr().out
    entry = json.loads((environment / "index.json").read_text())["voices"]["af_remote"]
    assert entry["sha256"] == hashlib.sha256(data).hexdigest()
    assert entry["origin"] == f"{url}/af_remote.pt"
    np.testing.assert_array_equal(np.load(environment / "af_remote.npy"), a_pack())


def test_import_from_a_path_with_a_name_then_list(
    environment: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "whatever.npy"
    np.save(source, a_pack(1))
    assert main(["voices", "import", str(source), "--name", "bf_mine"]) == 0
    capsys.readouterr()
    assert main(["voices", "list"]) == 0
    listing = capsys.readouterr().out
    assert "bf_mine" in listing
    assert "imported" in listing
    assert "alloy" in listing  # the OpenAI names are listed too


def test_a_download_over_the_limit_is_refused_and_leaves_nothing(
    environment: Path,
    served: tuple[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, root = served
    (root / "big.pt").write_bytes(pt_bytes(a_pack()))
    monkeypatch.setenv("KOKORO_MAX_VOICE_FILE_BYTES", "100000")
    assert main(["voices", "import", f"{url}/big.pt"]) == 2
    assert "larger than the limit of 100000 bytes" in capsys.readouterr().err
    assert not environment.exists() or not any(environment.iterdir())


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("/nowhere/voice.pt", "cannot read"),
        ("ftp://example.invalid/voice.pt", "unsupported URL scheme"),
    ],
)
def test_unreachable_sources_are_clear_errors(
    environment: Path, source: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["voices", "import", source]) == 2
    assert message in capsys.readouterr().err


def test_a_missing_url_is_a_clear_error(
    environment: Path, served: tuple[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    url, _ = served
    assert main(["voices", "import", f"{url}/absent.pt"]) == 2
    assert "cannot download" in capsys.readouterr().err


def test_a_bad_file_is_a_clear_error(
    environment: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "bad.npy"
    np.save(source, np.zeros((3, 3), np.float32))
    assert main(["voices", "import", str(source)]) == 2
    assert "bad.npy" in capsys.readouterr().err

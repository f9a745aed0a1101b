"""The README's examples, run as written against the real server.

Each ```bash block that talks to the server (curl, ``kokoro-server say`` and
``voices``) runs in a shell with the server's address in place of
127.0.0.1:8880, curl made to fail on an HTTP error, and ``uv run kokoro-server``
meaning this environment's ``kokoro-server``; every file it writes must be what
it says it is. The ```python block runs with the official client. Blend specs,
tagged texts and the settings example quoted inline are checked too. A new
bash block must either run here or be named in ``NOT_RUN_HERE`` with the test
that covers it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from api.settings import Settings
from api.voices.formats import read_voice_packs
from api.voices.store import VoiceStore, check_voice_settings
from tests.realserver import RunningServer
from tests.wavcheck import decoded_seconds

pytestmark = pytest.mark.model

README = Path(__file__).resolve().parents[2] / "README.md"
README_ADDRESS = "http://127.0.0.1:8880"
BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
INLINE = re.compile(r"`([^`\n]+)`")
BLEND = re.compile(r"[a-z]{2}_[a-z]+(?:\([\d.]+\))?(?:\s*[+-]\s*[a-z]{2}_[a-z]+(?:\([\d.]+\))?)+")
# Bash blocks that start long-running things; each is exercised elsewhere.
NOT_RUN_HERE = {
    "uv run kokoro-server serve": "tests/realserver.py starts exactly this",
    "bash scripts/test.sh": "it is the command that runs this test",
    "docker compose": "docker/test-image.sh builds and runs the image in CI",
}
AUDIO_SUFFIXES = {".wav", ".mp3", ".opus", ".flac", ".aac"}


def blocks(language: str) -> list[str]:
    return [body for lang, body in BLOCK.findall(README.read_text()) if lang == language]


def runnable_bash_blocks() -> list[str]:
    runnable = []
    for body in blocks("bash"):
        if any(command in body for command in NOT_RUN_HERE):
            continue
        runnable.append(body)
    return runnable


def inline_snippets() -> list[str]:
    text = BLOCK.sub("", README.read_text())
    return INLINE.findall(text)


def test_every_bash_block_is_run_or_accounted_for() -> None:
    every = blocks("bash")
    runnable = runnable_bash_blocks()
    assert len(runnable) >= 4
    skipped = [body for body in every if body not in runnable]
    for body in skipped:
        assert "curl" not in body, f"a block that talks to the server is not run:\n{body}"


@pytest.fixture(scope="module")
def cli_env(tmp_path_factory: pytest.TempPathFactory, baked_dir: Path) -> dict[str, str]:
    """The CLI as a user runs it: the baked model, a voices directory of its own."""
    return {
        **os.environ,
        "KOKORO_MODEL_DIR": str(baked_dir),
        "KOKORO_VOICES_DIR": str(tmp_path_factory.mktemp("cli-voices")),
    }


def _shell_prelude() -> str:
    kokoro_server = Path(sys.executable).with_name("kokoro-server")
    return f"""set -euo pipefail
curl() {{ command curl --fail-with-body --silent --show-error "$@"; }}
uv() {{
    if [ "$1" = run ] && [ "$2" = kokoro-server ]; then shift 2; "{kokoro_server}" "$@";
    else command uv "$@"; fi
}}
"""


def _check_written_file(path: Path) -> None:
    assert path.is_file(), f"the example did not write {path.name}"
    data = path.read_bytes()
    if path.suffix in AUDIO_SUFFIXES:
        assert decoded_seconds(data) > 0.3, path.name
    elif path.suffix == ".pt":
        assert len(read_voice_packs(data, path.name)) == 1


@pytest.mark.parametrize("index", range(len(runnable_bash_blocks())))
def test_a_bash_example_works_as_written(
    index: int, server: RunningServer, cli_env: dict[str, str], tmp_path: Path
) -> None:
    body = runnable_bash_blocks()[index]
    script = body.replace(README_ADDRESS, server.base_url)
    result = subprocess.run(
        ["bash", "-c", _shell_prelude() + script],
        cwd=tmp_path,
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"{body}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    for name in re.findall(r"(?:-o|--output)\s+(\S+)", body):
        _check_written_file(tmp_path / name)


def test_the_python_example_works_as_written(server: RunningServer, tmp_path: Path) -> None:
    (example,) = blocks("python")
    code = example.replace(f"{README_ADDRESS}/v1", f"{server.base_url}/v1")
    code = code.replace("...  # play or store each piece as it arrives", "received.append(chunk)")
    code = "received = []\n" + code + "\nassert sum(map(len, received)) > 24_000\n"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    _check_written_file(tmp_path / "hello.wav")


def test_every_blend_quoted_in_the_readme_blends(server: RunningServer) -> None:
    specs = [snippet for snippet in inline_snippets() if BLEND.fullmatch(snippet)]
    assert "af_heart-jf_alpha(0.3)" in specs
    for spec in specs:
        response = httpx.post(
            f"{server.base_url}/v1/audio/voices/combine", json={"voices": spec}, timeout=60
        )
        assert response.status_code == 200, (spec, response.text)


def test_every_tagged_text_quoted_in_the_readme_speaks(server: RunningServer) -> None:
    texts = [
        snippet
        for snippet in inline_snippets()
        if re.search(r"\[voice:[a-z]", snippet)
        and re.search(r"\w", re.sub(r"\[.*?\]", "", snippet))
    ]
    assert texts
    for text in texts:
        response = httpx.post(
            f"{server.base_url}/v1/audio/speech",
            json={"input": text, "response_format": "wav"},
            timeout=120,
        )
        assert response.status_code == 200, (text, response.text)
        assert decoded_seconds(response.content) > 0.2


def test_the_settings_examples_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The table's example values are accepted, and the voices they name exist."""
    lines = README.read_text().splitlines()
    row = next(line for line in lines if line.startswith("| `KOKORO_OPENAI_VOICES`"))
    example = next(s for s in INLINE.findall(row) if s.startswith("{"))
    monkeypatch.setenv("KOKORO_OPENAI_VOICES", example)
    settings = Settings(voices_dir=tmp_path)
    assert settings.openai_voices == json.loads(example)
    store = VoiceStore(tmp_path, openai_voices=settings.openai_voices)
    check_voice_settings(store, settings.default_voice)

"""The kokoro-server command line: serve, say and bake."""

from __future__ import annotations

import argparse
import io
import os
import re
import shutil
import subprocess
import sys
import wave
from pathlib import Path

import pytest

import api.app
from api.app import load_service
from api.backends.fake import FakeBackend
from api.cli import build_parser, main
from api.settings import Settings
from api.speech import SpeechService
from api.voices.official import OFFICIAL_DIR
from api.weights import (
    MODEL_FILE,
    SHA256_FILE,
    TIMED_MODEL_FILE,
    TIMED_SHA256_FILE,
    VOCAB_FILE,
    ModelFiles,
    sha256_of,
)
from tests.wavcheck import decoded_seconds


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """KOKORO_* pointing into tmp_path, no .env file: the CLI cannot touch a real model dir."""
    for name in list(os.environ):
        if name.upper().startswith("KOKORO_"):
            monkeypatch.delenv(name)
    model_dir = tmp_path / "unused-model-dir"
    monkeypatch.setenv("KOKORO_MODEL_DIR", str(model_dir))
    monkeypatch.setenv("KOKORO_VOICES_DIR", str(tmp_path / "voices"))
    monkeypatch.chdir(tmp_path)
    return model_dir


@pytest.fixture
def no_model_loading(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object, **__: object) -> tuple[SpeechService, str]:
        raise AssertionError("the model must not be loaded")

    monkeypatch.setattr(api.app, "load_service", refuse)


@pytest.fixture
def fake_model(monkeypatch: pytest.MonkeyPatch, model_files: ModelFiles) -> None:
    """`say` runs against the real model directory but speaks with the fake backend."""
    monkeypatch.setenv("KOKORO_MODEL_DIR", str(model_files.directory))

    def with_fake_backend(settings: Settings) -> tuple[SpeechService, str]:
        return load_service(settings, backend=FakeBackend())

    monkeypatch.setattr(api.app, "load_service", with_fake_backend)


# --- parser -------------------------------------------------------------------------------


def test_parser_reads_say_arguments() -> None:
    args = build_parser().parse_args(
        ["say", "hello", "-o", "out.wav", "--voice", "jm_kumo", "--speed", "1.5"]
    )
    assert (args.command, args.text, args.output, args.voice, args.speed) == (
        "say",
        "hello",
        "out.wav",
        "jm_kumo",
        1.5,
    )


def test_parser_say_defaults() -> None:
    args = build_parser().parse_args(["say", "hello", "-o", "out.pcm"])
    assert (args.voice, args.speed) == (None, 1.0)


def test_parser_reads_serve_overrides() -> None:
    args = build_parser().parse_args(["serve", "--host", "0.0.0.0", "--port", "9000"])
    assert (args.host, args.port) == ("0.0.0.0", 9000)


def test_parser_reads_bake_directory() -> None:
    assert build_parser().parse_args(["bake", "/tmp/model"]).directory == "/tmp/model"


def command_paths(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> list[list[str]]:
    """Every command line that has a help page: the program and each (sub)command."""
    found = [list(path)]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += command_paths(sub, (*path, name))
    return found


# Markup a docstring may carry: ``literal``, `interpreted`, :role:`x`, **bold**.
_MARKUP = re.compile(r"`|:[a-z]+:|\*\*")


def test_every_help_page_is_plain_text(capsys: pytest.CaptureFixture[str]) -> None:
    paths = command_paths(build_parser())
    assert ["voices", "import"] in paths
    assert len(paths) == 8  # the program, serve, say, voices, its two, bake, convert-weights
    for path in paths:
        with pytest.raises(SystemExit) as done:
            main([*path, "--help"])
        assert done.value.code == 0
        page = capsys.readouterr().out
        assert page.startswith(f"usage: kokoro-server {' '.join(path)}".rstrip()), path
        assert not _MARKUP.search(page), (path, page)
        # Each page says what its command does, not only its options.
        description = page.split("\n\n")[1]
        assert description[:1].isupper(), (path, description)


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param([], id="no-command"),
        pytest.param(["dance"], id="unknown-command"),
        pytest.param(["say", "hello"], id="say-without-output"),
        pytest.param(["serve", "--port", "eighty"], id="non-numeric-port"),
        pytest.param(["say", "hi", "-o", "x.wav", "--speed", "fast"], id="non-numeric-speed"),
        pytest.param(["bake"], id="bake-without-directory"),
    ],
)
def test_bad_arguments_exit_with_code_2(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as error:
        main(argv)
    assert error.value.code == 2


# --- say ----------------------------------------------------------------------------------


@pytest.mark.usefixtures("no_model_loading")
@pytest.mark.parametrize("speed", ["9", "0.1", "-1", "4.01"])
def test_say_rejects_speed_out_of_range_before_loading(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], speed: str, isolated_environment: Path
) -> None:
    output = tmp_path / "out.wav"
    assert main(["say", "hello", "-o", str(output), "--speed", speed]) == 2
    assert "--speed" in capsys.readouterr().err
    assert not output.exists()
    assert not isolated_environment.exists()


@pytest.mark.usefixtures("no_model_loading")
@pytest.mark.parametrize("name", ["out.m4a", "out", "out.wav.txt", "wav"])
def test_say_rejects_an_output_with_an_unknown_suffix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, isolated_environment: Path
) -> None:
    assert main(["say", "hello", "-o", str(tmp_path / name)]) == 2
    assert "must end in one of .mp3" in capsys.readouterr().err
    assert not (tmp_path / name).exists()
    assert not isolated_environment.exists()


@pytest.mark.usefixtures("no_model_loading")
@pytest.mark.parametrize("text", ["", "   \n"])
def test_say_rejects_blank_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    assert main(["say", text, "-o", str(tmp_path / "out.wav")]) == 2
    assert "is empty" in capsys.readouterr().err


@pytest.mark.usefixtures("no_model_loading")
def test_say_reads_blank_stdin_as_nothing_to_say(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("  \n"))
    assert main(["say", "-", "-o", str(tmp_path / "out.wav")]) == 2
    assert "is empty" in capsys.readouterr().err


@pytest.mark.usefixtures("fake_model")
def test_say_writes_a_wav_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "hello.WAV"
    assert main(["say", "Hello there.", "-o", str(output), "--voice", "jm_kumo"]) == 0

    with wave.open(str(output), "rb") as reader:
        assert (reader.getnchannels(), reader.getframerate()) == (1, 24_000)
        assert reader.getnframes() > 0
    assert f"wrote {output}" in capsys.readouterr().out


@pytest.mark.usefixtures("fake_model")
def test_say_writes_raw_pcm_from_stdin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("Hello there."))
    output = tmp_path / "hello.pcm"
    assert main(["say", "-", "-o", str(output)]) == 0

    data = output.read_bytes()
    assert len(data) > 0
    assert len(data) % 2 == 0
    assert not data.startswith(b"RIFF")


@pytest.mark.usefixtures("fake_model")
def test_say_with_an_unknown_voice_exits_2_with_a_suggestion(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "out.wav"
    assert main(["say", "Hello.", "-o", str(output), "--voice", "jm_kumoo"]) == 2
    assert "jm_kumo" in capsys.readouterr().err
    assert not output.exists()


# --- bake ---------------------------------------------------------------------------------


def test_bake_writes_the_five_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], isolated_environment: Path
) -> None:
    target = tmp_path / "baked"
    assert main(["bake", str(target)]) == 0

    assert sorted(path.name for path in target.iterdir()) == sorted(
        [MODEL_FILE, TIMED_MODEL_FILE, TIMED_SHA256_FILE, SHA256_FILE, VOCAB_FILE]
    )
    expected = (target / SHA256_FILE).read_text().split()[0]
    assert sha256_of(target / MODEL_FILE) == expected
    out = capsys.readouterr().out
    assert f"baked {target}" in out
    assert expected in out
    assert not isolated_environment.exists()


def test_bake_into_an_unusable_path_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["bake", str(blocker / "model")]) == 1
    assert "error: Cannot prepare the model directory" in capsys.readouterr().err


@pytest.mark.usefixtures("fake_model")
@pytest.mark.parametrize("suffix", [".mp3", ".opus", ".aac", ".flac"])
def test_say_writes_codec_formats(tmp_path: Path, suffix: str) -> None:
    output = tmp_path / f"hello{suffix}"
    assert main(["say", "Hello there. Twice.", "-o", str(output)]) == 0
    assert decoded_seconds(output.read_bytes()) > 0.5


def test_a_bad_setting_is_a_one_line_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], isolated_environment: Path
) -> None:
    monkeypatch.setenv("KOKORO_PORT", "eighty")
    assert main(["voices", "list"]) == 2
    assert "KOKORO_PORT" in capsys.readouterr().err


def test_serve_refuses_a_corrupted_model_with_a_message(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    model_files: ModelFiles,
) -> None:
    broken = tmp_path / "model"
    broken.mkdir()
    for name in (MODEL_FILE, SHA256_FILE, VOCAB_FILE):
        (broken / name).write_bytes((model_files.directory / name).read_bytes())
    with (broken / MODEL_FILE).open("r+b") as handle:
        handle.truncate(1000)
    monkeypatch.setenv("KOKORO_MODEL_DIR", str(broken))
    assert main(["serve", "--port", "1"]) == 1
    error = capsys.readouterr().err
    assert "is corrupted" in error
    assert MODEL_FILE in error


@pytest.mark.usefixtures("fake_model")
def test_say_follows_voice_tags(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "tags.pcm"
    text = "[voice:jm_kumo] Hello. [voice:jf_alpha(1)+jm_kumo(1)] Bye."
    assert main(["say", text, "-o", str(output)]) == 0
    assert output.stat().st_size > 0
    assert main(["say", "[voice:zz_nobody] Hi.", "-o", str(tmp_path / "x.wav")]) == 2
    assert "zz_nobody" in capsys.readouterr().err
    assert not (tmp_path / "x.wav").exists()


def _broken_model_dir(source: ModelFiles, target: Path, name: str, keep_bytes: int) -> Path:
    """A copy of a model directory with ``name`` cut to its first ``keep_bytes`` bytes."""
    target.mkdir()
    for file in (
        MODEL_FILE,
        TIMED_MODEL_FILE,
        TIMED_SHA256_FILE,
        SHA256_FILE,
        VOCAB_FILE,
    ):
        (target / file).write_bytes((source.directory / file).read_bytes())
    with (target / name).open("r+b") as handle:
        handle.truncate(keep_bytes)
    return target


@pytest.mark.parametrize("name", [VOCAB_FILE, TIMED_MODEL_FILE])
def test_serve_refuses_a_truncated_file_with_one_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    model_files: ModelFiles,
    name: str,
) -> None:
    broken = _broken_model_dir(model_files, tmp_path / "model", name, keep_bytes=1000)
    monkeypatch.setenv("KOKORO_MODEL_DIR", str(broken))
    assert main(["serve", "--port", "1"]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert error.startswith("error: ")
    assert str(broken / name) in error
    assert "Delete it and start again" in error


def test_serve_refuses_a_damaged_official_voice_with_one_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    model_files: ModelFiles,
) -> None:
    copied = tmp_path / "official"
    shutil.copytree(OFFICIAL_DIR, copied)
    with (copied / "af_heart.bin").open("r+b") as handle:
        handle.truncate(1000)
    monkeypatch.setattr("api.voices.official.OFFICIAL_DIR", copied)
    monkeypatch.setenv("KOKORO_MODEL_DIR", str(model_files.directory))
    assert main(["serve", "--port", "1"]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert error.startswith(f"error: {copied / 'af_heart.bin'} is damaged")


def test_serve_as_a_process_exits_1_with_one_line_and_no_traceback(
    tmp_path: Path, model_files: ModelFiles
) -> None:
    broken = _broken_model_dir(model_files, tmp_path / "model", MODEL_FILE, keep_bytes=1 << 20)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOKORO_")}
    result = subprocess.run(
        [sys.executable, "-m", "api.cli", "serve", "--port", "1"],
        env={**env, "KOKORO_MODEL_DIR": str(broken), "KOKORO_VOICES_DIR": str(tmp_path / "v")},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert str(broken / MODEL_FILE) in lines[0]
    assert "is corrupted" in lines[0]
    assert "Delete it and start again" in lines[0]


def test_serve_refuses_an_openai_voice_mapped_to_nothing_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], model_files: ModelFiles
) -> None:
    monkeypatch.setenv("KOKORO_MODEL_DIR", str(model_files.directory))
    monkeypatch.setenv("KOKORO_OPENAI_VOICES", '{"alloy": "af_nobody"}')
    assert main(["serve", "--port", "1"]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert "KOKORO_OPENAI_VOICES" in error

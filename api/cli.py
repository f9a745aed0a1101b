"""``kokoro-server``: serve the API, speak a text to a file, or bake a model directory."""

from __future__ import annotations

import argparse
import importlib.util
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from api.settings import Settings

if TYPE_CHECKING:
    from starlette.types import ASGIApp

    from api.voices.store import VoiceStore

# The help text is written for a terminal: plain words, not the module's docstring,
# whose reStructuredText markup argparse would print as it is.
_DESCRIPTION = (
    "The Kokoro text-to-speech server: serve the OpenAI-compatible API, speak a text "
    "into an audio file, list or import voices, or prepare a model directory."
)

_FORMAT_BY_SUFFIX = {
    ".mp3": "mp3",
    ".opus": "opus",
    ".ogg": "opus",
    ".aac": "aac",
    ".flac": "flac",
    ".wav": "wav",
    ".pcm": "pcm",
}


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


def run_server(app: ASGIApp, settings: Settings) -> None:
    """Serve ``app`` with uvicorn until SIGTERM or SIGINT.

    On the signal uvicorn stops accepting connections and lets the requests in
    flight (streams included) finish for up to ``shutdown_grace_s`` seconds,
    then cuts the rest, shuts the app down and returns.
    """
    import uvicorn  # noqa: PLC0415

    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        log_config=None,
        timeout_graceful_shutdown=settings.shutdown_grace_s,
    )


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from api.app import create_app, open_voice_store  # noqa: PLC0415
    from api.backends.select import Probe, choose  # noqa: PLC0415
    from api.voices.store import check_voice_settings  # noqa: PLC0415
    from api.weights import ensure_model_dir  # noqa: PLC0415

    overrides = {key: value for key in ("host", "port") if (value := getattr(args, key))}
    settings = settings.model_copy(update=overrides)
    # Fail before the server starts, with a one-line message, if the model
    # files are missing or corrupted, an OpenAI voice maps to nothing, or the
    # backend cannot run here (main() prints these errors).
    ensure_model_dir(settings.model_dir)
    check_voice_settings(open_voice_store(settings), settings.default_voice)
    choose(settings.backend, settings.device, Probe.detect())
    run_server(create_app(settings), settings)
    return 0


def _say(args: argparse.Namespace, settings: Settings) -> int:
    from api.app import load_service  # noqa: PLC0415
    from api.audio.encoder import StreamingEncoder  # noqa: PLC0415
    from api.speech import SpeechJob  # noqa: PLC0415
    from api.text.checks import TextRejectedError, check_text  # noqa: PLC0415
    from api.voices.mixer import VoiceSpecError  # noqa: PLC0415
    from api.voices.store import UnknownVoiceError  # noqa: PLC0415

    text = sys.stdin.read() if args.text == "-" else args.text
    try:
        checked = check_text(text, settings.text_limits, what="the text")
    except TextRejectedError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if not 0.25 <= args.speed <= 4.0:
        print("error: --speed must be between 0.25 and 4.0", file=sys.stderr)
        return 2
    output = Path(args.output)
    audio_format = _FORMAT_BY_SUFFIX.get(output.suffix.lower())
    if audio_format is None:
        suffixes = ", ".join(_FORMAT_BY_SUFFIX)
        print(f"error: the output file must end in one of {suffixes}", file=sys.stderr)
        return 2
    service, _ = load_service(settings)
    try:
        try:
            voice = service.voices.resolve(args.voice or settings.default_voice)
            tag_voices = {spec: service.voices.resolve(spec) for spec in checked.voice_specs}
        except (UnknownVoiceError, VoiceSpecError) as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        job = SpeechJob(text=checked.text, voice=voice, speed=args.speed, tag_voices=tag_voices)
        encoder = StreamingEncoder(audio_format, streaming=False)
        for audio in service.synthesize(job):
            encoder.encode(audio)
    finally:
        service.close()
    output.write_bytes(encoder.finalize())
    print(f"wrote {output} ({encoder.seconds:.2f} s of audio)")
    return 0


def _open_store(settings: Settings) -> VoiceStore:
    from api.app import open_voice_store  # noqa: PLC0415

    return open_voice_store(settings)


def _voices_list(_: argparse.Namespace, settings: Settings) -> int:
    store = _open_store(settings)
    print(f"{'id':<24} {'source':<9} {'language':<8} {'gender':<7} spec")
    for voice in store.all():
        print(
            f"{voice.id:<24} {voice.source:<9} {voice.language or '-':<8} "
            f"{voice.gender or '-':<7} {voice.spec or ''}"
        )
    for alias, spec in sorted(store.openai_voices.items()):
        print(f"{alias:<24} {'openai':<9} {'-':<8} {'-':<7} {spec}")
    return 0


def _voices_import(args: argparse.Namespace, settings: Settings) -> int:
    from api.voices.download import DownloadError, fetch_voice_file  # noqa: PLC0415
    from api.voices.store import (  # noqa: PLC0415
        ProtectedVoiceError,
        VoiceError,
        VoiceExistsError,
    )

    try:
        data, filename = fetch_voice_file(args.source, settings.max_voice_file_bytes)
        voices = _open_store(settings).import_packs(
            data, filename, name=args.name, origin=args.source, overwrite=args.overwrite
        )
    except (DownloadError, VoiceError, ProtectedVoiceError, VoiceExistsError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for voice in voices:
        print(f"imported {voice.id} into {settings.voices_dir}")
    print("A running server sees new files after a restart; POST /v1/audio/voices adds them live.")
    return 0


def _bake(args: argparse.Namespace, _: Settings) -> int:
    from api.weights import bake  # noqa: PLC0415

    files = bake(Path(args.directory))
    print(
        f"baked {files.directory}: {files.model.name} (sha256 {files.sha256}), "
        f"{files.timed_model.name}, vocab, voices"
    )
    return 0


def _convert_weights(args: argparse.Namespace, settings: Settings) -> int:
    from api.backends.convert import convert_weights  # noqa: PLC0415
    from api.backends.select import TORCH_INSTALL  # noqa: PLC0415
    from api.weights import ensure_model_dir  # noqa: PLC0415

    if importlib.util.find_spec("torch") is None:
        print(
            f"error: converting the weights needs PyTorch: run `{TORCH_INSTALL}`", file=sys.stderr
        )
        return 1
    files = ensure_model_dir(Path(args.model_dir) if args.model_dir else settings.model_dir)
    if files.torch_weights.exists() and not args.force:
        print(f"{files.torch_weights} exists (use --force to convert again)")
        return 0
    for check in convert_weights(files):
        print(check)
    print(f"wrote {files.torch_weights}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kokoro-server", description=_DESCRIPTION)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser(
        "serve",
        help="run the HTTP server",
        description="Run the HTTP server until SIGTERM or Ctrl+C; every KOKORO_* "
        "setting applies (see the README).",
    )
    serve.add_argument("--host", help="interface to listen on (default: KOKORO_HOST)")
    serve.add_argument("--port", type=int, help="port (default: KOKORO_PORT, 8880)")
    serve.set_defaults(run=_serve)

    say = commands.add_parser(
        "say",
        help="speak TEXT into an audio file",
        description="Speak TEXT into an audio file, without a server.",
    )
    say.add_argument("text", help="the text to speak, or - to read standard input")
    say.add_argument(
        "-o",
        "--output",
        required=True,
        help="output file; its suffix picks the format (.mp3 .opus .aac .flac .wav .pcm)",
    )
    say.add_argument("--voice", help="voice name (default: KOKORO_DEFAULT_VOICE)")
    say.add_argument("--speed", type=float, default=1.0, help="0.25 to 4.0 (default 1.0)")
    say.set_defaults(run=_say)

    voices = commands.add_parser(
        "voices", help="list or import voices", description="List or import voices."
    ).add_subparsers(dest="voices_command", required=True)
    voices_list = voices.add_parser(
        "list",
        help="list every voice and OpenAI voice name",
        description="List every voice (built-in, imported, saved mixes) and OpenAI voice name.",
    )
    voices_list.set_defaults(run=_voices_list)
    voices_import = voices.add_parser(
        "import",
        help="import a voice file (.pt .pth .npy .npz .bin) from a path or URL",
        description="Import a voice file (.pt .pth .npy .npz .bin) from a path or an "
        "http(s) URL into KOKORO_VOICES_DIR.",
    )
    voices_import.add_argument("source", help="file path, or an http(s) URL")
    voices_import.add_argument("--name", help="name for a single-voice file (default: its stem)")
    voices_import.add_argument("--overwrite", action="store_true", help="replace a saved voice")
    voices_import.set_defaults(run=_voices_import)

    bake = commands.add_parser(
        "bake",
        help="write model, vocabulary and voices into DIRECTORY",
        description="Write the model and its timed variant, their sha256, the vocabulary "
        "and the voices into DIRECTORY, for KOKORO_MODEL_DIR (an image build does this).",
    )
    bake.add_argument("directory", help="where to write the files (created if missing)")
    bake.set_defaults(run=_bake)

    convert = commands.add_parser(
        "convert-weights",
        help="convert the bundled model's weights for the torch backend, checked stage by stage",
        description="Convert the bundled model's weights for the torch backend, compare "
        "both models stage by stage, and write the weights only if every stage passes.",
    )
    convert.add_argument("--model-dir", help="model directory (default: KOKORO_MODEL_DIR)")
    convert.add_argument("--force", action="store_true", help="convert even if already done")
    convert.set_defaults(run=_convert_weights)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as e:
        for problem in e.errors():
            name = "KOKORO_" + "_".join(str(part) for part in problem["loc"]).upper()
            print(f"error: {name}: {problem['msg']}", file=sys.stderr)
        return 2
    _configure_logging(settings.log_level)
    from api.backends.base import BackendUnavailableError  # noqa: PLC0415
    from api.voices.official import OfficialVoicesError  # noqa: PLC0415
    from api.voices.store import VoiceError  # noqa: PLC0415
    from api.weights import ModelFilesError  # noqa: PLC0415

    try:
        code: int = args.run(args, settings)
    except (ModelFilesError, OfficialVoicesError, BackendUnavailableError, VoiceError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())

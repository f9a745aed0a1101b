"""Request and response bodies, with OpenAI's field names."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from api.text.normalize import NormalizationOptions

ResponseFormat = Literal["mp3", "opus", "aac", "flac", "wav", "pcm"]

ACCEPTED_MODELS = ("kokoro", "tts-1", "tts-1-hd", "gpt-4o-mini-tts")
"""Model names a speech request may give; OpenAI's names all mean Kokoro here."""


class VoiceRef(BaseModel):
    """OpenAI's object form of a voice: ``{"id": "..."}``."""

    id: str = Field(min_length=1, max_length=1000)


class AudioRequest(BaseModel):
    """The output options speech and dialogue requests share."""

    model_config = ConfigDict(extra="ignore")

    model: str = Field(default="kokoro", description=f"One of {', '.join(ACCEPTED_MODELS)}.")
    response_format: ResponseFormat = Field(default="mp3", description="Audio format.")
    speed: float = Field(default=1.0, ge=0.25, le=4.0, description="0.25 to 4.0.")
    stream: bool | None = Field(
        default=None,
        description=(
            "true: send audio as it is generated (chunked); false: one complete file. "
            "Default: streamed, except wav, which is sent complete so its header holds "
            "true sizes (ask for stream: true to get a wav with unknown-length sizes)."
        ),
    )
    stream_format: Literal["audio", "sse"] = Field(
        default="audio",
        description="'sse' sends Server-Sent Events with base64 audio deltas instead of raw bytes.",
    )
    lang_code: str | None = Field(
        default=None,
        description=(
            "Language to read the text in, overriding each voice's: a Kokoro letter "
            "(a, b, e, f, h, i, j, p, z) or a name "
            "(en-us, en-gb, es, fr-fr, hi, it, ja, pt-br, cmn)."
        ),
    )
    normalization_options: NormalizationOptions | None = Field(
        default=None,
        description=(
            "Text normalization switches: English numbers, money, dates, URLs ...; markdown "
            "read as prose and emoji dropped or named (every language)."
        ),
    )
    input_format: Literal["auto", "text", "ssml"] = Field(
        default="auto",
        description=(
            "How the text is written. 'auto': an SSML document (starting with <speak>) is "
            "read as SSML, anything else as text; 'text': never SSML; 'ssml': always."
        ),
    )

    @property
    def streamed(self) -> bool:
        if self.stream is None:
            return self.response_format != "wav"
        return self.stream


class SpeechRequest(AudioRequest):
    """Body of ``POST /v1/audio/speech``."""

    input: str = Field(description="The text to speak.")
    voice: str | VoiceRef | None = Field(
        default=None, description="Voice name; the server's default voice when omitted."
    )
    instructions: str | None = Field(
        default=None, description="Accepted for compatibility with gpt-4o-mini-tts; ignored."
    )

    @property
    def voice_name(self) -> str | None:
        return self.voice.id if isinstance(self.voice, VoiceRef) else self.voice


class DialogueSpeaker(BaseModel):
    """A speaker's voice, and optionally a speed of their own."""

    model_config = ConfigDict(extra="forbid")

    voice: str = Field(min_length=1, max_length=1000, description="Voice name or blend spec.")
    speed: float | None = Field(
        default=None, ge=0.25, le=4.0, description="This speaker's speed; the request's if unset."
    )


class DialogueTurn(BaseModel):
    speaker: str = Field(min_length=1, max_length=100, description="A key of ``speakers``.")
    text: str = Field(description="What the speaker says; voice and pause tags work here too.")


class DialogueRequest(AudioRequest):
    """Body of ``POST /v1/audio/dialogue``: a script read by several voices."""

    turns: list[DialogueTurn] = Field(min_length=1, max_length=20_000)
    speakers: dict[str, DialogueSpeaker] = Field(
        min_length=1,
        max_length=64,
        description='Speaker -> voice (``"af_heart"``) or ``{"voice", "speed"}``.',
    )

    @field_validator("speakers", mode="before")
    @classmethod
    def _voice_shorthand(cls, value: object) -> object:
        # "host": "af_heart" is short for "host": {"voice": "af_heart"}; expanding it
        # first keeps errors about one shape (``speakers.host.speed``), not a union's.
        if isinstance(value, dict):
            return {k: {"voice": v} if isinstance(v, str) else v for k, v in value.items()}
        return value

    gap: float = Field(
        default=0.5,
        ge=0.0,
        le=10.0,
        description="Seconds of silence after each turn's speech (at least the 0.05 s tail).",
    )


class VoiceInfo(BaseModel):
    id: str
    name: str
    language: str | None
    gender: str | None
    source: str
    """builtin, imported or mix."""
    spec: str | None = None
    """For a mix: the blend it was made from."""
    quality: str | None = None
    """For an official voice: its publisher's overall grade (A best, F worst)."""
    target_quality: str | None = None
    """For an official voice: its publisher's grade for the training data."""
    requires: str | None = None
    """What must be installed before this voice can read text in its own language
    (the Japanese reader is optional); absent when nothing is missing."""


class SkippedVoiceFile(BaseModel):
    file: str
    """A file in the voices directory that could not be loaded (left as it is)."""
    reason: str


class VoiceList(BaseModel):
    voices: list[VoiceInfo]
    openai_voices: dict[str, str] | None = None
    """OpenAI voice name -> the voice or blend it stands for."""
    skipped_files: list[SkippedVoiceFile] | None = None
    """Files of the voices directory skipped at start, and why."""


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "kokoro-server"
    backend: str
    """The inference backend serving this model (``onnx`` or ``torch``)."""
    device: str
    """Where it runs (``cpu`` or ``cuda``)."""


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    backend: str
    device: str
    model_sha256: str
    voices: int
    api_key_required: bool = False
    """Whether the API needs ``Authorization: Bearer KEY`` (KOKORO_API_KEYS is set)."""


class ErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None
    code: str = Field(description="What went wrong, in snake_case; never null.")


class ErrorBody(BaseModel):
    error: ErrorDetail

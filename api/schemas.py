"""Request and response bodies, with OpenAI's field names."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.text.normalize import NormalizationOptions

ResponseFormat = Literal["mp3", "opus", "aac", "flac", "wav", "pcm"]

ACCEPTED_MODELS = ("kokoro", "tts-1", "tts-1-hd", "gpt-4o-mini-tts")
"""Model names a speech request may give; OpenAI's names all mean Kokoro here."""


class VoiceRef(BaseModel):
    """OpenAI's object form of a voice: ``{"id": "..."}``."""

    id: str = Field(min_length=1, max_length=1000)


class SpeechRequest(BaseModel):
    """Body of ``POST /v1/audio/speech``."""

    model_config = ConfigDict(extra="ignore")

    model: str = Field(default="kokoro", description=f"One of {', '.join(ACCEPTED_MODELS)}.")
    input: str = Field(description="The text to speak.")
    voice: str | VoiceRef | None = Field(
        default=None, description="Voice name; the server's default voice when omitted."
    )
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
            "Language to read the text in, overriding the voice's: a Kokoro letter "
            "(a, b, e, f, h, i, j, p, z) or a name "
            "(en-us, en-gb, es, fr-fr, hi, it, ja, pt-br, cmn)."
        ),
    )
    normalization_options: NormalizationOptions | None = Field(
        default=None,
        description="English text normalization switches (numbers, money, dates, URLs ...).",
    )
    instructions: str | None = Field(
        default=None, description="Accepted for compatibility with gpt-4o-mini-tts; ignored."
    )

    @property
    def streamed(self) -> bool:
        if self.stream is None:
            return self.response_format != "wav"
        return self.stream

    @property
    def voice_name(self) -> str | None:
        return self.voice.id if isinstance(self.voice, VoiceRef) else self.voice


class VoiceInfo(BaseModel):
    id: str
    name: str
    language: str | None
    gender: str | None
    source: str
    """builtin, imported or mix."""
    spec: str | None = None
    """For a mix: the blend it was made from."""


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
    code: str | None


class ErrorBody(BaseModel):
    error: ErrorDetail

"""Intake: what a client asked for, checked and made into a job, whatever door it came in by.

Every front door (the HTTP routes, the text-streaming WebSocket, the Wyoming
server) hands its text, voice and options to these functions and gets a
``SpeechJob`` (or a ``Dialogue``) back, or a ``RequestRejectedError`` that says
what is wrong in protocol-neutral terms: a ``problem`` kind, a message, the
field it is about and a snake_case code. Each door maps that onto its own
protocol (HTTP: a status and OpenAI's error body; Wyoming: an ``error`` event;
the WebSocket: an error message), so no door re-implements a check.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from api.speech import SpeechJob, SpeechService
from api.text.checks import (
    PLAIN,
    CheckedText,
    TextForm,
    TextLimits,
    TextRejectedError,
    check_text,
)
from api.text.g2p import LanguageError, language_for_text, parse_language
from api.text.normalize import NormalizationOptions
from api.voices.mixer import BlendCancelsError, VoiceSpecError
from api.voices.store import UnknownVoiceError, Voice, VoiceStore

Problem = Literal["invalid", "not_found", "too_large"]
"""What kind of refusal: malformed or unusable input, something named that does not
exist (a voice), or input over a size limit."""


class RequestRejectedError(ValueError):
    """A request that will not be spoken, before any audio exists."""

    def __init__(
        self, problem: Problem, message: str, *, code: str, param: str | None = None
    ) -> None:
        super().__init__(message)
        self.problem = problem
        self.message = message
        self.code = code
        self.param = param


def rejected_text(e: TextRejectedError, param: str) -> RequestRejectedError:
    """The intake error for text that ``check_text`` refused."""
    problem: Problem = "too_large" if e.code == "input_too_long" else "invalid"
    return RequestRejectedError(problem, e.message, code=e.code, param=param)


InputFormat = Literal["auto", "text", "ssml"]
"""How a request's text is written: ``auto`` reads a ``<speak>`` document as SSML and
anything else as text (markdown read as prose, unless the normalization options
say not to); ``text`` never reads SSML; ``ssml`` always does."""


def text_form(
    voice: str,
    normalization: NormalizationOptions | None = None,
    input_format: InputFormat = "auto",
) -> TextForm:
    """How to read a request's text before its tags (``check_text``)."""
    options = normalization or NormalizationOptions()
    normalizing = options.normalize
    ssml = {"auto": None, "text": False, "ssml": True}[input_format]
    return TextForm(
        ssml=ssml,
        voice=voice,
        markdown=normalizing and options.markdown,
        emoji=options.emoji if normalizing else None,
    )


def checked_text(
    text: str, limits: TextLimits, param: str = "input", form: TextForm = PLAIN
) -> CheckedText:
    """The text made safe and read in its ``form``, or why it will not be read (empty,
    too long, malformed SSML or tags, too much pause, nothing to speak)."""
    try:
        return check_text(text, limits, what=f"'{param}'", form=form)
    except TextRejectedError as e:
        raise rejected_text(e, param) from e


def resolve_voice(store: VoiceStore, spec: str, param: str = "voice") -> Voice:
    """The voice a name, OpenAI name, saved mix or blend spec means, or why not."""
    try:
        return store.resolve(spec)
    except BlendCancelsError as e:
        raise _invalid(e, param, "voice_blend_cancels") from e
    except VoiceSpecError as e:
        raise _invalid(e, param, "invalid_voice_spec") from e
    except UnknownVoiceError as e:
        raise RequestRejectedError("not_found", str(e), param=param, code="voice_not_found") from e


def _invalid(e: Exception, param: str, code: str) -> RequestRejectedError:
    return RequestRejectedError("invalid", str(e), param=param, code=code)


def language_code(code: str | None, param: str = "lang_code") -> str | None:
    """The reader language a client's language code names (None: each voice's own)."""
    try:
        return parse_language(code) if code else None
    except LanguageError as e:
        raise _invalid(e, param, "unsupported_language") from e


def check_readers(service: SpeechService, text: str, languages: Iterable[str], param: str) -> None:
    """The reader each language needs for ``text`` must be installed here (Japanese is
    an extra)."""
    try:
        for language in languages:
            service.check_language(language_for_text(text, language))
    except LanguageError as e:
        raise _invalid(e, param, "unsupported_language") from e


def tagged_job(
    service: SpeechService,
    checked: CheckedText,
    voice: Voice,
    *,
    speed: float = 1.0,
    language: str | None = None,
    normalization: NormalizationOptions | None = None,
    param: str = "input",
) -> SpeechJob:
    """A job for text that ``checked_text`` passed, with the voices its tags name
    resolved: an unknown voice in a tag is refused by name before any audio exists."""
    job = SpeechJob(
        text=checked.text,
        voice=voice,
        speed=speed,
        language=language,
        normalization=normalization,
        tag_voices={
            spec: resolve_voice(service.voices, spec, param=param) for spec in checked.voice_specs
        },
    )
    voices = (job.voice, *job.tag_voices.values())
    check_readers(
        service,
        job.text,
        (job.language_for(voice) for voice in voices),
        "lang_code" if language else param,
    )
    return job


def speech_job(
    service: SpeechService,
    limits: TextLimits,
    *,
    text: str,
    voice: str,
    speed: float = 1.0,
    lang_code: str | None = None,
    normalization: NormalizationOptions | None = None,
    param: str = "input",
    voice_param: str = "voice",
    input_format: InputFormat = "auto",
) -> SpeechJob:
    """Check a request to speak ``text`` with ``voice`` (a spec) and make its job."""
    form = text_form(voice, normalization, input_format)
    checked = checked_text(text, limits, param, form)
    resolved = resolve_voice(service.voices, voice, voice_param)
    return tagged_job(
        service,
        checked,
        resolved,
        speed=speed,
        language=language_code(lang_code),
        normalization=normalization,
        param=param,
    )

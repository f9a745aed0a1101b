"""The pronunciation lexicon over the API: list, merge and delete a language's entries."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, ConfigDict, Field

from api import intake
from api.deps import SpeechServiceDep
from api.errors import APIError
from api.lexicon import (
    MAX_ENTRIES,
    MAX_IPA_CHARS,
    MAX_RESPELL_CHARS,
    MAX_WORD_CHARS,
    LexiconError,
    Pronunciation,
    PronunciationLexicon,
    UnknownEntryError,
)
from api.schemas import ErrorBody

router = APIRouter(tags=["lexicon"])

_ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorBody} for code in (400, 404, 413, 501)
}

LanguagePath = Annotated[
    str,
    Path(
        max_length=32,
        description="Kokoro's letter or a language name, as a speech request's lang_code: "
        "'a' or 'en-us', 'b' or 'en-gb', 'es', 'fr', 'hi', 'it', 'ja', 'pt-br', 'zh'.",
    ),
]


class PronunciationEntry(BaseModel):
    """Exactly one of ``ipa`` and ``respell``."""

    model_config = ConfigDict(extra="forbid")

    ipa: str | None = Field(
        default=None,
        max_length=MAX_IPA_CHARS * 2,
        description="Phonemes in the model's alphabet (what POST /dev/phonemize shows), "
        "e.g. 'kˈOkəɹO'.",
    )
    respell: str | None = Field(
        default=None,
        max_length=MAX_RESPELL_CHARS * 2,
        description="Text read in the word's place, e.g. 'engine x' for 'nginx'.",
    )


class LexiconUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entries: dict[str, PronunciationEntry] = Field(
        max_length=MAX_ENTRIES,
        description=f"Word or phrase (at most {MAX_WORD_CHARS} characters) -> its "
        "pronunciation; added to the language's entries, replacing those of the same words.",
    )


class LexiconEntries(BaseModel):
    language: str = Field(description="The reader language the entries apply to.")
    entries: dict[str, PronunciationEntry]


class DeletedEntry(LexiconEntries):
    deleted: str = Field(description="The word removed.")


def get_lexicon(service: SpeechServiceDep) -> PronunciationLexicon:
    lexicon = service.lexicon
    if not isinstance(lexicon, PronunciationLexicon):
        raise APIError(501, "This server has no pronunciation lexicon.", code="no_lexicon")
    return lexicon


LexiconDep = Annotated[PronunciationLexicon, Depends(get_lexicon)]


def _language(code: str) -> str:
    language = intake.language_code(code, "language")
    assert language is not None  # a path parameter is never empty
    return language


def _listing(language: str, entries: dict[str, Pronunciation]) -> LexiconEntries:
    return LexiconEntries(
        language=language,
        entries={
            word: PronunciationEntry(ipa=entry.ipa, respell=entry.respell)
            for word, entry in sorted(entries.items())
        },
    )


@router.get("/v1/audio/lexicon/{language}", responses=_ERRORS, response_model_exclude_none=True)
async def get_lexicon_entries(language: LanguagePath, lexicon: LexiconDep) -> LexiconEntries:
    """The language's pronunciation entries, by word."""
    code = _language(language)
    return _listing(code, await asyncio.to_thread(lexicon.entries, code))


@router.put("/v1/audio/lexicon/{language}", responses=_ERRORS, response_model_exclude_none=True)
async def merge_lexicon_entries(
    language: LanguagePath, body: LexiconUpdate, lexicon: LexiconDep
) -> LexiconEntries:
    """Add entries to the language's lexicon (a word already there is replaced); every
    request after it, on every path, says those words so. Answers all the entries."""
    code = _language(language)
    changes = {word: (entry.ipa, entry.respell) for word, entry in body.entries.items()}
    try:
        entries = await asyncio.to_thread(lexicon.merge, code, changes)
    except LexiconError as e:
        raise APIError(400, str(e), param=e.param, code=e.code) from e
    return _listing(code, entries)


@router.delete(
    "/v1/audio/lexicon/{language}/{word:path}",
    responses=_ERRORS,
    response_model_exclude_none=True,
)
async def delete_lexicon_entry(
    language: LanguagePath,
    word: Annotated[str, Path(description="The word or phrase, URL-encoded.")],
    lexicon: LexiconDep,
) -> DeletedEntry:
    """Remove one word from the language's lexicon; answers the entries left."""
    code = _language(language)
    try:
        entries = await asyncio.to_thread(lexicon.delete, code, word)
    except UnknownEntryError as e:
        raise APIError(404, str(e), param="word", code="entry_not_found") from e
    return DeletedEntry(deleted=word, **_listing(code, entries).model_dump())

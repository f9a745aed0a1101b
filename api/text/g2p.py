"""Grapheme-to-phoneme with espeak-ng, mapped onto Kokoro's phoneme alphabet.

espeak-ng comes from ``espeakng-loader`` (library and data inside the wheel),
driven through ``phonemizer``. Kokoro v1.0 was trained on misaki's phoneme
conventions, which write diphthongs and affricates as single symbols
(``eɪ`` -> ``A``, ``aɪ`` -> ``I``, ``dʒ`` -> ``ʤ`` ...); espeak's output is
rewritten into those symbols so the model hears what it was trained on.
"""

from __future__ import annotations

import logging
import threading
from functools import cache
from typing import Any

logger = logging.getLogger(__name__)

DEFAULT_LANGUAGE = "en-us"

# First letter of a Kokoro voice name -> espeak language. Only the languages
# this build phonemizes are listed; other voices read English.
LANGUAGE_BY_VOICE_PREFIX: dict[str, str] = {"a": "en-us", "b": "en-gb"}

# espeak (with "^" tying the letters of one phoneme) -> misaki symbols.
# Longest keys are applied first, so a diphthong wins over its first letter.
_COMMON = {
    "ʔˌn̩": "tᵊn",
    "ʔn̩": "tᵊn",
    "ʔn": "tᵊn",
    "ʔ": "t",
    "a^ɪ": "I",
    "a^ʊ": "W",
    "d^ʒ": "ʤ",
    "e^ɪ": "A",
    "e": "A",
    "t^ʃ": "ʧ",
    "ɔ^ɪ": "Y",
    "ə^l": "ᵊl",
    "r": "ɹ",
    "x": "k",
    "ç": "k",
    "ɐ": "ə",
    "ɬ": "l",
    "ʲ": "",
}
_AMERICAN = {
    **_COMMON,
    "o^ʊ": "O",
    "ɜːɹ": "ɜɹ",
    "ɜː": "ɜɹ",
    "ɪ^ə": "iə",
    "ɪə": "iə",
    # espeak writes a linking r after r-coloured schwa ("parent" pˈɛɚɹənt);
    # spelled out it would double the ɹ.
    "ɚɹ": "əɹ",
    "ɚ": "əɹ",
    "ɾ": "T",
    "ː": "",
}
_BRITISH = {**_COMMON, "ə^ʊ": "Q", "e^ə": "ɛː", "i^ə": "ɪə", "ɚɹ": "əɹ", "ɚ": "əɹ"}


def _ordered(table: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(table.items(), key=lambda kv: -len(kv[0])))


_REWRITES = {"en-us": _ordered(_AMERICAN), "en-gb": _ordered(_BRITISH)}


SUPPORTED_LANGUAGES = frozenset(LANGUAGE_BY_VOICE_PREFIX.values())


def g2p_language(voice_language: str | None) -> str:
    """The language to phonemize in for a voice made for ``voice_language``."""
    return voice_language if voice_language in SUPPORTED_LANGUAGES else DEFAULT_LANGUAGE


def language_for_voice(voice_id: str, default: str = DEFAULT_LANGUAGE) -> str:
    """The language a voice speaks, from the first letter of its name."""
    return LANGUAGE_BY_VOICE_PREFIX.get(voice_id[:1], default)


def to_kokoro_phonemes(espeak_phonemes: str, language: str) -> str:
    """Rewrite espeak's IPA into the symbols Kokoro was trained on."""
    text = espeak_phonemes
    for source, target in _REWRITES.get(language, _REWRITES["en-us"]):
        text = text.replace(source, target)
    return text.replace("^", "")


@cache
def _configure_espeak() -> None:
    import espeakng_loader  # noqa: PLC0415 - only needed once espeak is used
    from phonemizer.backend.espeak.wrapper import EspeakWrapper  # noqa: PLC0415

    EspeakWrapper.set_library(espeakng_loader.get_library_path())
    EspeakWrapper.set_data_path(espeakng_loader.get_data_path())
    # phonemizer warns on every sentence whose word count changes; not useful here.
    logging.getLogger("phonemizer").setLevel(logging.ERROR)


class EspeakG2P:
    """Thread-safe text -> Kokoro phonemes.

    espeak-ng keeps global state and is not thread-safe (measured: 5 of 80
    phonemizations differed with 4 threads), so every call holds one lock.
    Phonemizing is fast next to inference, so the lock costs little.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._backends: dict[str, Any] = {}

    def _backend(self, language: str) -> Any:
        backend = self._backends.get(language)
        if backend is None:
            _configure_espeak()
            from phonemizer.backend import EspeakBackend  # noqa: PLC0415

            backend = EspeakBackend(
                language,
                preserve_punctuation=True,
                with_stress=True,
                tie="^",
                language_switch="remove-flags",
                logger=logging.getLogger("phonemizer"),
            )
            self._backends[language] = backend
        return backend

    def __call__(self, text: str, language: str = DEFAULT_LANGUAGE) -> str:
        if not text.strip():
            return ""
        with self._lock:
            result = self._backend(language).phonemize([text], strip=True)
        espeak = result[0] if result else ""
        return to_kokoro_phonemes(espeak, language).strip()

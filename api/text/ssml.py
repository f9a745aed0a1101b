"""SSML in: a ``<speak>`` document read as the tagged text the pipeline speaks.

Assistants, screen readers and cloud-TTS migrations send SSML. Each element
is mapped onto what the pipeline has (pauses, voice switches, speed spans,
inline phonemes, normalization):

- ``<break time="2s"/>`` or ``strength=`` -> ``[pause:2s]`` (exact silence,
  in place of the sentence's own pause); strengths: none 0, x-weak 0.1,
  weak 0.25, medium 0.5, strong 0.75, x-strong 1 s.
- ``<p>``, ``<s>``: each ends a sentence (a full stop is added when its text
  has no ending punctuation) and starts a new line.
- ``<prosody rate=...>``: a ``[speed:X]`` span (x-slow 0.5, slow 0.75,
  medium 1, fast 1.25, x-fast 1.5, ``80%``, ``+10%``, ``1.2``), nested spans
  multiplied; ``pitch`` and ``volume`` are not available and are ignored.
- ``<voice name=...>``: a ``[voice:...]`` span, any voice, blend or saved mix.
- ``<say-as interpret-as=...>``: characters/spell-out/verbatim (spelled letter
  by letter), cardinal/number, ordinal, digits, date (``format`` mdy, dmy,
  ymd, md, dm, ym, my, y), telephone (digit by digit in its groups); time,
  currency and unknown kinds are read by the normalizer as written.
- ``<sub alias=...>``: the alias is read.
- ``<phoneme alphabet="ipa" ph=...>``: an inline ``[word](/phonemes/)`` form,
  the IPA mapped onto the model's symbols as the G2P's is.
- ``<lang>``, ``<emphasis>``, ``<audio>``, ``<mark>`` and unknown elements:
  their text is read, the element ignored (``<audio>``'s text is its
  fallback; no audio is fetched).

The document is parsed by defusedxml (expat underneath, which needs no
recursion): no DTD, no entity expansion, no external entities. Documents
nested deeper than ``MAX_DEPTH`` are refused when read; a malformed one is
refused with the line and column where parsing stopped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from xml.etree.ElementTree import Element, ParseError

import defusedxml  # type: ignore[import-untyped]  # no type hints shipped
from defusedxml.ElementTree import fromstring  # type: ignore[import-untyped]
from num2words import num2words  # type: ignore[import-untyped]  # no type hints shipped

from api.text.g2p import ipa_to_kokoro

MAX_DEPTH = 64
"""Deepest element nesting read; deeper documents are refused."""

_SPEAK_START = re.compile(r"^\s*(?:<\?xml[^>]{0,200}\?>\s*)?<speak[\s>/]")
_SPEAK_TAG = re.compile(r"<speak[\s>/]")
_BREAK_STRENGTHS = {
    "none": 0.0,
    "x-weak": 0.1,
    "weak": 0.25,
    "medium": 0.5,
    "strong": 0.75,
    "x-strong": 1.0,
}
_RATES = {"x-slow": 0.5, "slow": 0.75, "medium": 1.0, "default": 1.0, "fast": 1.25, "x-fast": 1.5}
_TIME = re.compile(r"^\s*(\d{1,6}(?:\.\d{1,3})?)\s*(ms|s)?\s*$")
_RATE = re.compile(r"^\s*([+-]?)(\d{1,4}(?:\.\d{1,3})?)\s*(%?)\s*$")
_ENDS_SENTENCE = re.compile(r"[.!?…。！？:;]['\"”’)\]]*\s*$")
_LETTERS = {
    "a": "ay", "b": "bee", "c": "see", "d": "dee", "e": "ee", "f": "ef", "g": "gee",
    "h": "aitch", "i": "eye", "j": "jay", "k": "kay", "l": "el", "m": "em", "n": "en",
    "o": "oh", "p": "pee", "q": "cue", "r": "ar", "s": "ess", "t": "tee", "u": "you",
    "v": "vee", "w": "double you", "x": "ex", "y": "why", "z": "zee",
}  # fmt: skip
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")  # fmt: skip


class SSMLError(ValueError):
    """A document that cannot be read; the message says where and why."""


def is_ssml(text: str) -> bool:
    """Whether ``text`` is a ``<speak>`` document (what is read as SSML unasked): it
    starts with ``<speak``, or with an XML declaration or doctype and has one."""
    if _SPEAK_START.match(text) is not None:
        return True
    head = text.lstrip()[:9].lower()
    return head.startswith(("<?xml", "<!doctype")) and _SPEAK_TAG.search(text) is not None


@dataclass(frozen=True)
class _Context:
    speed: float
    voice: str


def _local(tag: object) -> str:
    name = tag if isinstance(tag, str) else ""
    return name.rsplit("}", 1)[-1].lower()


def _seconds(value: str) -> float:
    match = _TIME.match(value)
    if match is None:
        raise SSMLError(f"<break time={value!r}>: write a time like '2s' or '500ms'")
    number = float(match.group(1))
    return number / 1000 if match.group(2) == "ms" else number


def _pause(element: Element) -> str:
    if (time := element.get("time")) is not None:
        seconds = _seconds(time)
    else:
        strength = (element.get("strength") or "medium").lower()
        if strength not in _BREAK_STRENGTHS:
            raise SSMLError(
                f"<break strength={strength!r}>: use one of {', '.join(_BREAK_STRENGTHS)}"
            )
        seconds = _BREAK_STRENGTHS[strength]
    if seconds > 999:
        raise SSMLError(f"<break> asks for {seconds:g} s; the most a pause may be is 999 s")
    return f" [pause:{seconds:.3f}s] " if seconds > 0 else " "


def _rate(value: str) -> float:
    value = value.strip().lower()
    if value in _RATES:
        return _RATES[value]
    match = _RATE.match(value)
    if match is None:
        raise SSMLError(
            f"<prosody rate={value!r}>: use x-slow, slow, medium, fast, x-fast, '80%', '+10%' "
            "or a number"
        )
    sign, number, percent = match.groups()
    amount = float(number)
    if percent and sign:
        return 1 + (amount if sign == "+" else -amount) / 100
    if percent:
        return amount / 100
    return -amount if sign == "-" else amount


def _spelled(text: str) -> str:
    words = []
    for char in text:
        if char.isspace():
            continue
        if char.isdigit():
            words.append(num2words(int(char)))
        else:
            words.append(_LETTERS.get(char.lower(), char))
    return " ".join(words)


def _number(text: str, to: str = "cardinal") -> str:
    digits = re.sub(r"[,\s]", "", text)
    try:
        return str(num2words(int(digits), to=to)) if digits.lstrip("-").isdigit() else text
    except (OverflowError, NotImplementedError):
        return text


def _date(text: str, fmt: str) -> str:
    parts = [int(p) for p in re.findall(r"\d{1,4}", text)]
    fields = {"y": None, "m": None, "d": None} | dict(zip(fmt, parts, strict=False))
    year, month, day = fields["y"], fields["m"], fields["d"]
    if month is not None and not 1 <= month <= 12:
        return text
    words = []
    if month is not None:
        words.append(_MONTHS[month - 1])
    if day is not None:
        words.append(str(num2words(day, to="ordinal")))
    spoken = " ".join(words)
    if year is not None:
        spoken = f"{spoken}, {num2words(year, to='year')}" if spoken else num2words(year, to="year")
    return spoken or text


def _telephone(text: str) -> str:
    groups = re.findall(r"\d+", text)
    return ", ".join(" ".join(num2words(int(d)) for d in group) for group in groups) or text


def _digits(text: str) -> str:
    return " ".join(num2words(int(d)) for d in text if d.isdigit()) or text


_SAY_AS = {
    "characters": lambda e, t: _spelled(t),
    "spell-out": lambda e, t: _spelled(t),
    "verbatim": lambda e, t: _spelled(t),
    "letters": lambda e, t: _spelled(t),
    "cardinal": lambda e, t: _number(t),
    "number": lambda e, t: _number(t),
    "ordinal": lambda e, t: _number(t, "ordinal"),
    "digits": lambda e, t: _digits(t),
    "date": lambda e, t: _date(t, (e.get("format") or "mdy").lower()),
    "telephone": lambda e, t: _telephone(t),
}
"""``interpret-as`` kinds read here; others (time, currency, ...) go to the normalizer."""


def _say_as(element: Element, text: str) -> str:
    read = _SAY_AS.get((element.get("interpret-as") or "").lower())
    return text if read is None else str(read(element, text))


def _phoneme(element: Element, text: str, language: str) -> str:
    ph = (element.get("ph") or "").strip()
    alphabet = (element.get("alphabet") or "ipa").lower()
    word = re.sub(r"[\[\]()\n]", " ", text).strip() or "word"
    phonemes = re.sub(r"[/()\[\]\n]", "", ipa_to_kokoro(ph, language)).strip()
    if alphabet != "ipa" or not phonemes:
        return text
    return f"[{word[:100]}](/{phonemes[:300]}/)"


def _sentence(text: str) -> str:
    stripped = text.strip()
    if not stripped:
        return "\n"
    return f"\n{stripped}{'' if _ENDS_SENTENCE.search(stripped) else '.'}\n"


class _Reader:
    def __init__(self, voice: str, language: str) -> None:
        self.language = language
        self.root = _Context(1.0, voice)

    def read(self, element: Element, context: _Context, depth: int) -> str:
        if depth > MAX_DEPTH:
            raise SSMLError(f"the document nests elements deeper than {MAX_DEPTH}")
        name = _local(element.tag)
        if name == "break":
            return _pause(element) + (element.tail or "")
        inner = context
        if name == "prosody" and element.get("rate") is not None:
            speed = context.speed * _rate(element.get("rate") or "")
            if not 0.25 <= speed <= 4.0:
                raise SSMLError(f"<prosody rate={element.get('rate')!r}> asks for {speed:g} x")
            inner = _Context(speed, context.voice)
        elif name == "voice" and (element.get("name") or "").strip():
            inner = _Context(context.speed, (element.get("name") or "").strip())
        text = element.text or ""
        text += "".join(self.read(child, inner, depth + 1) for child in element)
        text = self._render(name, element, text, context, inner)
        return text + (element.tail or "")

    def _render(
        self, name: str, element: Element, text: str, outer: _Context, inner: _Context
    ) -> str:
        if name in ("p", "s", "paragraph", "sentence"):
            return _sentence(text)
        if name in ("say-as", "sub", "phoneme"):
            return self._replaced(name, element, text)
        if inner.speed != outer.speed:
            return f" [speed:{inner.speed:.3g}] {text} [speed:{outer.speed:.3g}] "
        if inner.voice != outer.voice:
            return f" [voice:{inner.voice}] {text} [voice:{outer.voice}] "
        return text

    def _replaced(self, name: str, element: Element, text: str) -> str:
        """What a ``say-as``, ``sub`` or ``phoneme`` element is read as."""
        if name == "say-as":
            return _say_as(element, text)
        if name == "sub":
            alias = element.get("alias")
            return alias if alias is not None else text
        return _phoneme(element, text, self.language)


def ssml_to_text(document: str, *, voice: str, language: str = "en-us") -> str:
    """The tagged text ``document`` means (see the module), or ``SSMLError``.

    ``voice`` is the request's voice spec: a ``<voice>`` span switches back to it."""
    try:
        root = fromstring(document, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except ParseError as e:
        line, column = getattr(e, "position", (0, 0))
        reason = str(e).split(":", 1)[0]
        raise SSMLError(f"malformed SSML at line {line}, column {column + 1}: {reason}") from e
    except defusedxml.DefusedXmlException as e:
        raise SSMLError(f"SSML may not use {type(e).__name__.removesuffix('Forbidden')}s") from e
    if _local(root.tag) != "speak":
        raise SSMLError(f"an SSML document's root is <speak>, not <{_local(root.tag)}>")
    reader = _Reader(voice, language)
    text = reader.read(root, reader.root, 0)
    return "\n".join(_lines(text))


def _lines(text: str) -> Iterator[str]:
    for line in text.split("\n"):
        collapsed = " ".join(line.split())
        if collapsed:
            yield collapsed

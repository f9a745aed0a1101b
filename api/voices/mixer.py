"""Voice specs and blending: ``af_bella(2)+jf_alpha(1)`` -> one voice pack.

Grammar (whitespace allowed between tokens)::

    spec   := term (("+" | "-") term)*
    term   := name ["(" weight ")"]
    name   := [a-z0-9_-]+        (a known voice; see below for "-")
    weight := a positive decimal number, e.g. 2, 0.7, .5

Arithmetic: the weights of the added terms are normalized to sum 1; a
subtracted term's weight is taken on the same scale. ``a(2)+b(1)`` is
2/3 a + 1/3 b; ``a-b(0.3)`` is a - 0.3 b. When anything is subtracted the
result is rescaled, row by row, to the norm of its added part, so it stays in
the range of style vectors the model was trained on.

Names may themselves contain "-": a hyphenated run such as ``my-voice`` is one
name when a voice of that name exists, otherwise "-" subtracts.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from api.voices.packs import PACK_SHAPE, VoicePack

MAX_TERMS = 16
_TOKEN = re.compile(
    r"\s*(?:(?P<number>(?:\d+(?:\.\d*)?|\.\d+)(?![a-z0-9_]))|(?P<name>[a-z0-9_]+)|(?P<op>[-+()]))"
)


class VoiceSpecError(ValueError):
    """A malformed voice spec; the message says where."""

    def __init__(self, spec: str, position: int, problem: str) -> None:
        pointer = f"{spec}\n{' ' * position}^"
        super().__init__(f"Invalid voice spec at character {position + 1}: {problem}\n{pointer}")
        self.spec = spec
        self.position = position
        self.problem = problem


CANCELLED = 1e-4
"""A blend whose rows shrink below this fraction of its added voices' size cancels
out: what is left is rounding noise, not a voice."""


class BlendCancelsError(VoiceSpecError):
    """A blend whose subtracted voices cancel its added ones (``a-a``)."""

    def __init__(self, spec: str) -> None:
        ValueError.__init__(
            self,
            f"The voice blend {spec!r} cancels itself out: what it subtracts equals "
            "what it adds, which leaves no voice. Subtract less, or other voices.",
        )
        self.spec = spec
        self.position = 0
        self.problem = "the blend cancels out"


@dataclass(frozen=True)
class VoiceTerm:
    name: str
    weight: float
    """Signed, normalized: the added terms' weights sum to 1."""


@dataclass(frozen=True)
class VoiceSpec:
    """A parsed blend; ``str()`` gives its canonical form."""

    terms: tuple[VoiceTerm, ...]

    @property
    def is_single(self) -> bool:
        return len(self.terms) == 1

    @property
    def names(self) -> list[str]:
        return [term.name for term in self.terms]

    @property
    def main_voice(self) -> str:
        """The voice with the largest added weight (it decides language and gender)."""
        return max(self.terms, key=lambda term: term.weight).name

    def __str__(self) -> str:
        if self.is_single:
            return self.terms[0].name
        parts = []
        for index, term in enumerate(self.terms):
            sign = "-" if term.weight < 0 else ("+" if index else "")
            parts.append(f"{sign}{term.name}({abs(term.weight):.4g})")
        return "".join(parts)


def _tokens(spec: str) -> list[tuple[str, str, int]]:
    """(kind, text, position) triples; kind is name, number or op."""
    tokens = []
    position = 0
    stripped_end = len(spec.rstrip())
    while position < stripped_end:
        match = _TOKEN.match(spec, position)
        if match is None or match.end() == position:
            bad = position + len(spec[position:]) - len(spec[position:].lstrip())
            raise VoiceSpecError(spec, bad, f"unexpected character {spec[bad]!r}")
        kind = match.lastgroup or "op"
        tokens.append((kind, match.group(kind), match.start(kind)))
        position = match.end()
    return tokens


def _join_hyphenated(
    tokens: list[tuple[str, str, int]], is_known: Callable[[str], bool]
) -> list[tuple[str, str, int]]:
    """Merge ``name - name`` runs into one name when that hyphenated voice exists."""
    merged: list[tuple[str, str, int]] = []
    index = 0
    while index < len(tokens):
        kind, text, position = tokens[index]
        if kind == "name":
            best_end, best_name = index, text
            end = index
            candidate = text
            while (
                end + 2 < len(tokens)
                and tokens[end + 1][1] == "-"
                and tokens[end + 2][0] == "name"
                and tokens[end + 1][2] == tokens[end][2] + len(tokens[end][1])  # no spaces
                and tokens[end + 2][2] == tokens[end + 1][2] + 1
            ):
                candidate = f"{candidate}-{tokens[end + 2][1]}"
                end += 2
                if is_known(candidate):
                    best_end, best_name = end, candidate
            merged.append(("name", best_name, position))
            index = best_end + 1
        else:
            merged.append(tokens[index])
            index += 1
    return merged


def parse_voice_spec(spec: str, is_known: Callable[[str], bool] = lambda _: False) -> VoiceSpec:
    """Parse ``spec``; raise ``VoiceSpecError`` saying where it is malformed.

    ``is_known`` tells whether a hyphenated name is a voice (see the module doc).
    """
    tokens = _join_hyphenated(_tokens(spec.lower()), is_known)
    if not tokens:
        raise VoiceSpecError(spec, 0, "empty voice spec")
    raw: list[tuple[str, float, int]] = []  # name, signed weight, position
    index = 0
    sign = 1.0
    while True:
        if index >= len(tokens):
            raise VoiceSpecError(spec, len(spec), "expected a voice name")
        kind, text, position = tokens[index]
        if kind != "name":
            raise VoiceSpecError(spec, position, f"expected a voice name, found {text!r}")
        index += 1
        weight = 1.0
        if index < len(tokens) and tokens[index][1] == "(":
            if index + 1 >= len(tokens) or tokens[index + 1][0] != "number":
                at = tokens[index + 1][2] if index + 1 < len(tokens) else len(spec)
                raise VoiceSpecError(spec, at, "expected a weight such as (0.5) or (2)")
            if index + 2 >= len(tokens) or tokens[index + 2][1] != ")":
                at = tokens[index + 2][2] if index + 2 < len(tokens) else len(spec)
                raise VoiceSpecError(spec, at, "expected ')'")
            weight = float(tokens[index + 1][1])
            if not 0 < weight <= 1000:
                raise VoiceSpecError(
                    spec, tokens[index + 1][2], "a weight must be above 0 and at most 1000"
                )
            index += 3
        raw.append((text, sign * weight, position))
        if len(raw) > MAX_TERMS:
            raise VoiceSpecError(spec, position, f"at most {MAX_TERMS} voices in one blend")
        if index == len(tokens):
            break
        kind, text, position = tokens[index]
        if text not in "+-" or kind != "op":
            raise VoiceSpecError(spec, position, f"expected '+' or '-', found {text!r}")
        sign = 1.0 if text == "+" else -1.0
        index += 1
    if raw[0][1] < 0:
        raise VoiceSpecError(spec, raw[0][2], "a blend must start with an added voice")
    total = sum(weight for _, weight, _ in raw if weight > 0)
    return VoiceSpec(tuple(VoiceTerm(name, weight / total) for name, weight, _ in raw))


def blend(spec: VoiceSpec, packs: dict[str, VoicePack]) -> VoicePack:
    """The pack ``spec`` describes, from the packs of its voices."""
    added = np.zeros(PACK_SHAPE, dtype=np.float64)
    subtracted = np.zeros(PACK_SHAPE, dtype=np.float64)
    for term in spec.terms:
        target = added if term.weight > 0 else subtracted
        target += abs(term.weight) * packs[term.name].astype(np.float64)
    if not subtracted.any():
        mixed: VoicePack = added.astype(np.float32)
        return mixed
    result = added - subtracted
    # Keep each row's size: subtraction changes the timbre, not the scale.
    norm_added = np.linalg.norm(added, axis=-1, keepdims=True)
    norm_result = np.linalg.norm(result, axis=-1, keepdims=True)
    if np.any(norm_result <= CANCELLED * norm_added):
        raise BlendCancelsError(str(spec))
    scale = np.divide(norm_added, norm_result, out=np.ones_like(norm_added), where=norm_result > 0)
    rescaled: VoicePack = (result * scale).astype(np.float32)
    return rescaled

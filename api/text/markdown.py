"""Text written by LLMs read as prose: markdown without its markup, emoji dropped or named.

Chat front ends send what the model wrote: markdown with headings, lists,
emphasis, links, code and tables, and emoji. Read as it is, espeak says
"asterisk asterisk" and "hash", spells URLs out and names every emoji, so the
text is parsed by a CommonMark parser (markdown-it-py, with the GitHub table
and strikethrough extensions) and its token stream is written out as sentences:

* Headings, list items and table rows are sentences of their own: each ends
  with a sentence end ("." is added unless it ends with . ! ? : ; or …) and a
  line break, which the sentence splitter cuts at. Paragraphs keep their own
  punctuation and end with a line break; a soft line break inside one is a
  space (hard-wrapped text reads on), a hard break (two spaces, a backslash)
  is a line break.
* Bullets are dropped. An ordered item keeps its number as written, read as
  a person reads a numbered list: "1. Install it" is "1, Install it." ("1."
  would be a sentence of its own, and "2024. A year" at a line's start is a
  list item too, whose number must not be lost).
* Emphasis, strong and strikethrough markers are dropped, their text kept;
  a ``*`` between two digits ("2*3*4", parsed as emphasis) stays, since it is
  a product. Inline code is kept as text (it is mostly a name).
* Fenced code blocks are not read: each is the sentence "(code omitted)."
  An indented code block is read as its lines: LLMs fence their code, while
  indented lines in plain text are mostly just indented text.
* Tables are read row by row, the header row too: each row is one sentence of
  its non-empty cells joined by ", ".
* Links keep their text and lose their URL; autolinks (``<https://...>``) and
  bare URLs are kept as written, for the normalizer to read. Images are read
  as their alt text. Link reference definitions are not read.
* Inline pronunciations, a link whose destination starts and ends with "/"
  (``[Kokoro](/kˈOkəɹO/)``: the word and its phonemes), come out as
  ``[text](/phonemes/)`` exactly, for the reader downstream. A link whose text
  is one of our tags (``[pause:1s](x)``) keeps the tag. The tags themselves
  (``[pause:1.5s]``, ``[voice:af_heart]``, ``[speed:1.2]``) are plain text to
  CommonMark and come through unchanged.
* HTML: comments, ``<script>`` and ``<style>`` blocks and the tags of known
  HTML elements are dropped, the text between them kept; ``<br>`` is a space.
  A tag that is no HTML element (``<placeholder>``, ``vector<int>``) is read
  as its name: in plain text it is a word in angle brackets.
* Blockquotes are read as their text; thematic breaks (``---``) are nothing.

Plain text without markdown keeps its words, with CommonMark's readings of
the few things that look like markup: a line of "- " or "1. " starts a list
(so "- 5 degrees" at a line's start loses its minus), ``# `` at a line's start
makes a heading, a line of ``---`` or ``===`` under a line makes that line a
heading, ``*word*`` and ``_word_`` are emphasis, backslash escapes lose their
backslash, and entities (``&amp;``) are decoded. A lone ``*`` between spaces
("5 * 3"), ``#tag`` and ``snake_case`` are plain text.

Emoji (``emoji="drop"``, the default) are removed with the spaces before
them, together with what only decorates them: variation selectors, zero-width
joiners, skin tones, tag characters and keycap marks (a keycap digit such as
"1️⃣" is kept as its digit). With ``emoji="name"`` each is read as its Unicode
name, lower-cased ("😀" -> "grinning face"), a flag as "flag", a run of the
same emoji once, different ones joined by commas.

Everything is linear in the input: markdown-it's parser is linear and caps
nesting (``maxNesting``, 20 levels: nine levels of lists, nineteen of quotes);
a text nested deeper is refused with ``MarkdownNestingError`` rather than read
in part, because the parser drops the rest of a container it stops descending
into.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import cache
from typing import Literal

from markdown_it import MarkdownIt
from markdown_it.token import Token

__all__ = ["EmojiMode", "MarkdownNestingError", "read_emoji", "speakable_markdown"]

EmojiMode = Literal["drop", "name"]

MAX_NESTING = 20
"""markdown-it's nesting cap (its CommonMark preset's): a list level takes two."""

CODE_OMITTED = "(code omitted)."
"""What a fenced code block is read as."""


class MarkdownNestingError(ValueError):
    """A text whose lists or blockquotes nest deeper than the parser follows."""


class _SpeechMarkdown(MarkdownIt):
    """CommonMark that keeps every link destination as written.

    Nothing here is rendered to HTML, so no destination is unsafe (the default
    refuses ``javascript:``, leaving the whole ``[text](javascript:...)`` to be
    read out), and an inline pronunciation's phonemes must not be percent-encoded.
    """

    def validateLink(self, url: str) -> bool:  # noqa: N802 - markdown-it's name
        return True

    def normalizeLink(self, url: str) -> str:  # noqa: N802 - markdown-it's name
        return url


@cache
def _parser() -> MarkdownIt:
    return _SpeechMarkdown("commonmark", {"maxNesting": MAX_NESTING}).enable(
        ["table", "strikethrough"]
    )


def speakable_markdown(text: str, *, emoji: EmojiMode = "drop") -> str:
    """``text`` (markdown) as the prose a person would read aloud; see the module docstring.

    Raises ``MarkdownNestingError`` for lists nested over nine levels deep (quotes
    over nineteen).
    """
    return _ProseWriter(emoji).write(_parser().parse(text))


# ---------------------------------------------------------------- markdown

_SENTENCE_END = frozenset(".!?:;…")
_CLOSERS = "\"')]”’»"
_TAG_TEXT = re.compile(r"(?i)(?:pause|voice|speed):")
_EMPHASIS = frozenset({"em_open", "em_close", "strong_open", "strong_close"})
_CONTAINERS = frozenset({"blockquote_open", "list_item_open"})
_HTML_ELEMENT_NAMES = (
    "a abbr address article aside b bdi bdo big blockquote body br caption center cite code col"
    " colgroup dd del details dfn div dl dt em figcaption figure font footer h1 h2 h3 h4 h5 h6"
    " head header hr html i img ins kbd label li main mark nav ol p picture pre q s samp section"
    " small source span strike strong sub summary sup table tbody td tfoot th thead time tr tt u"
    " ul var wbr"
)
_HTML_ELEMENTS = frozenset(_HTML_ELEMENT_NAMES.split())
_SKIPPED_HTML_BLOCK = re.compile(r"(?i)<(?:script|style|!--|\?|![A-Z]|!\[CDATA\[)")
# A tag, its name captured. Possessive repeats: a "<" never rescans what it failed on.
_HTML_TAG = re.compile(r"</?([A-Za-z][A-Za-z0-9-]*+)(?:[\s/][^<>]*+)?>|<!--[^<>]*+>")


def _html_tag(match: re.Match[str]) -> str:
    name = match.group(1)
    if name is None:  # a comment
        return ""
    name = name.lower()
    if name == "br":
        return " "
    return "" if name in _HTML_ELEMENTS else f" {match.group(1)} "


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return ""
    if text.rstrip(_CLOSERS)[-1:] not in _SENTENCE_END:
        text += "."
    return text


def _link_ends(link_open: Token, text: str) -> tuple[str, str]:
    """What is read before and after a link's text (``text`` is its start): its
    brackets and destination for an inline pronunciation, its brackets for a tag."""
    href = str(link_open.attrGet("href") or "")
    if link_open.markup != "autolink" and len(href) > 2 and href[0] == href[-1] == "/":
        return "[", f"]({href})"
    if _TAG_TEXT.match(text):
        return "[", "]"
    return "", ""


class _ProseWriter:
    """One pass over markdown-it's block tokens, each inline run read by ``_inline``."""

    def __init__(self, emoji: EmojiMode) -> None:
        self._emoji: EmojiMode = emoji
        self._lines: list[str] = []
        self._containers: list[str] = []
        self._prefix = ""  # an ordered item's number, until its first text
        self._row: list[str] | None = None
        self._in_heading = False

    def write(self, tokens: Sequence[Token]) -> str:
        for token in tokens:
            self._block(token)
        return "\n".join(line for line in self._lines if line)

    def _add(self, text: str, *, sentence: bool) -> None:
        # Emoji go before the sentence end is chosen: "Done! 🎉" ends with its "!".
        text = read_emoji(text, self._emoji)
        text = self._prefix + text if text.strip() else text
        if text.strip():
            self._prefix = ""
        self._lines.append(_sentence(text) if sentence else text.strip())

    def _block(self, token: Token) -> None:  # noqa: PLR0912 - one branch per token type
        kind = token.type
        if token.nesting == 1 and kind in _CONTAINERS and token.level >= MAX_NESTING - 1:
            raise MarkdownNestingError(
                f"Markdown nested too deeply: at most {(MAX_NESTING - 1) // 2} levels of lists "
                f"or {MAX_NESTING - 1} of quotes are read; flatten it or turn "
                "normalization_options.markdown off"
            )
        if kind == "inline":
            text = _inline(token.children or [])
            if self._row is not None:
                self._row.append(read_emoji(text, self._emoji).strip())
            else:
                in_item = bool(self._containers) and self._containers[-1] == "list_item_open"
                self._add(text, sentence=self._in_heading or in_item)
        elif kind == "heading_open":
            self._in_heading = True
        elif kind == "heading_close":
            self._in_heading = False
        elif kind in _CONTAINERS:
            self._containers.append(kind)
            if kind == "list_item_open" and token.info:  # an ordered item's number
                self._prefix += f"{token.info}, "  # after an outer one still unread
        elif kind in {"blockquote_close", "list_item_close"}:
            self._containers.pop()
            if self._prefix:  # an empty item ("3." alone on a line): its number
                self._lines.append(self._prefix.removesuffix(", ") + ".")
                self._prefix = ""
        elif kind == "tr_open":
            self._row = []
        elif kind == "tr_close" and self._row is not None:
            self._add(", ".join(cell for cell in self._row if cell), sentence=True)
            self._row = None
        elif kind == "fence":
            self._add(CODE_OMITTED, sentence=True)
        elif kind == "code_block":
            self._add(token.content, sentence=False)
        elif kind == "html_block" and not _SKIPPED_HTML_BLOCK.match(token.content):
            self._add(_HTML_TAG.sub(_html_tag, token.content), sentence=False)


def _inline(children: Sequence[Token]) -> str:
    parts: list[str] = []
    last_char = ""  # of what ``parts`` holds so far
    link_end = ""
    for index, child in enumerate(children):
        kind = child.type
        following = children[index + 1].content if index + 1 < len(children) else ""
        piece = ""
        if kind in {"text", "code_inline"}:
            piece = child.content
        elif kind == "softbreak":
            piece = " "
        elif kind == "hardbreak":
            piece = "\n"
        elif kind in _EMPHASIS:
            if last_char.isdigit() and following[:1].isdigit():
                piece = child.markup
        elif kind == "link_open":
            piece, link_end = _link_ends(child, following)
        elif kind == "link_close":
            piece, link_end = link_end, ""
        elif kind == "image":
            # The alt text's tokens: one level more, bounded by the parser's own.
            piece = _inline(child.children or [])
        elif kind == "html_inline":
            piece = _HTML_TAG.sub(_html_tag, child.content)
        if piece:
            parts.append(piece)
            last_char = piece[-1]
    return "".join(parts)


# ---------------------------------------------------------------- emoji

# Extended_Pictographic (Unicode's emoji-data), folded into blocks where a block is
# all pictographs, less the symbols that are text (© ® ™ ‼ ⁉ ℹ) and the dingbat
# digits (❶ ... ➓): emoji are what is drawn, not read.
_PICTOGRAPH = (
    "\u2194-\u2199\u21a9\u21aa\u231a\u231b\u2328\u23cf\u23e9-\u23f3\u23f8-\u23fa\u24c2"
    "\u25aa\u25ab\u25b6\u25c0\u25fb-\u25fe\u2600-\u2775\u2794-\u27bf\u2934\u2935"
    "\u2b05-\u2b07\u2b1b\u2b1c\u2b50\u2b55\u3030\u303d\u3297\u3299"
    "\U0001f000-\U0001f0ff\U0001f170-\U0001f1e5\U0001f201-\U0001faff"
)
_REGIONAL = "\U0001f1e6-\U0001f1ff"
# What only decorates an emoji: variation selectors, skin tones, tag characters.
_DECORATION = "\ufe0e\ufe0f\U0001f3fb-\U0001f3ff\U000e0020-\U000e007f"
_ONE_EMOJI = (
    rf"[{_REGIONAL}]{{2}}"  # a flag
    rf"|[{_PICTOGRAPH}{_REGIONAL}][{_DECORATION}]*+(?:\u200d[{_PICTOGRAPH}][{_DECORATION}]*+)*+\u200d?"
)
_EMOJI_CLUSTER = re.compile(_ONE_EMOJI)
# A run of emoji and the spaces before it; each emoji starts with a pictograph,
# so the repeats cannot split one run two ways.
_EMOJI_RUN = re.compile(rf"[ \t]*+(?:{_ONE_EMOJI})(?:[ \t]*+(?:{_ONE_EMOJI}))*+")
_KEYCAP = re.compile(r"([0-9#*])\ufe0f?\u20e3")
_STRAY = re.compile(rf"[{_DECORATION}\u20e3]")


def read_emoji(text: str, mode: EmojiMode = "drop") -> str:
    """``text`` with its emoji dropped (and the spaces before them) or named."""
    text = _KEYCAP.sub(lambda m: m.group(1) if m.group(1).isdigit() else "", text)
    text = _EMOJI_RUN.sub(_named_emoji if mode == "name" else _dropped_emoji, text)
    return _STRAY.sub("", text)


def _dropped_emoji(match: re.Match[str]) -> str:
    text, start, end = match.string, match.start(), match.end()
    before = text[start - 1 : start]
    after = text[end : end + 1]
    # "job🎉great" keeps its words apart; "great 🎉!" and "🎉 Great" need no space.
    return " " if before.isalnum() and after.isalnum() else ""


def _named_emoji(match: re.Match[str]) -> str:
    names: list[str] = []
    for cluster in _EMOJI_CLUSTER.finditer(match.group()):
        name = _emoji_name(cluster.group())
        if name and (not names or names[-1] != name):
            names.append(name)
    text, start, end = match.string, match.start(), match.end()
    before = " " if start > 0 and not text[start - 1].isspace() else ""
    after = " " if end < len(text) and text[end].isalnum() else ""
    return f"{before}{', '.join(names)}{after}"


def _emoji_name(cluster: str) -> str:
    first = cluster[0]
    if "\U0001f1e6" <= first <= "\U0001f1ff":
        return "flag"
    names = [
        unicodedata.name(char, "").lower()
        for char in cluster
        if char != "\u200d" and not _STRAY.match(char)
    ]
    return " ".join(name for name in names if name)

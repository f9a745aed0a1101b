"""English text normalization: numbers, money, dates, URLs ... spelled out as words.

espeak-ng reads "$3.50" as "dollar three point five zero" and "2024-03-15" as
a subtraction, so text is rewritten into the words a person would say before
it is split and phonemized. Each category is one pass over the text, in an
order where the specific patterns (emails, URLs, phone numbers, dates, times,
money) run before the general ones (years, units, plain numbers), and a last
pass reads any digit still left, so the output never holds a digit.

Readings are American English:

* Slash dates are month first (``03/04/2024`` is March fourth) unless the
  first number cannot be a month (``15/03/2024`` is March fifteenth).
* Numbers lose num2words' commas ("one thousand two hundred and thirty-four"):
  nobody pauses inside a number, and a comma would let the streaming chunker
  cut the number in two.
* A four-digit number is read as a year only where the text says it is one
  ("in 1999", "March 2021", "1990s"); elsewhere it is a cardinal.
* A dash between two numbers is "to" ("5-10 minutes", "pages 10–20"); a hyphen
  only between numbers of up to three digits, so "555-1234" stays a phone number.
* Sentence punctuation stays: "It costs $5." still ends with a period, while
  the periods of "3.5" and "Dr." are consumed, so they cannot end a sentence.

Every pattern is linear: repeats are bounded ({1,15}) and never nested inside
another unbounded repeat, so no input makes the regex engine backtrack.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Literal

from num2words import num2words  # type: ignore[import-untyped]  # no type hints shipped
from pydantic import BaseModel

__all__ = ["NormalizationOptions", "normalize_text"]


class NormalizationOptions(BaseModel):
    """Per-request switches (the request field ``normalization_options``)."""

    normalize: bool = True
    """Master switch: False leaves the text exactly as sent."""
    unit_normalization: bool = True
    """Read units after numbers: "10kg" -> "ten kilograms", "5 km/h"."""
    url_normalization: bool = True
    """Read URLs: "https://example.com/a-b" -> "example dot com slash a b"."""
    email_normalization: bool = True
    """Read emails: "jane.doe@example.com" -> "jane dot doe at example dot com"."""
    phone_normalization: bool = True
    """Read phone numbers digit by digit in their groups."""
    markdown: bool = True
    """Read markdown as prose: headings and list items as sentences, markup dropped,
    link text kept and URLs dropped, code blocks skipped; see ``api.text.markdown``."""
    emoji: Literal["drop", "name"] = "drop"
    """Emoji: "drop" leaves them out, "name" reads each by its Unicode name
    ("😀" -> "grinning face")."""


_Match = re.Match[str]
_Replacer = Callable[[_Match], str]

# ---------------------------------------------------------------- number words

_SCALES = {
    "k": "thousand",
    "thousand": "thousand",
    "m": "million",
    "mn": "million",
    "million": "million",
    "b": "billion",
    "bn": "billion",
    "billion": "billion",
    "t": "trillion",
    "tn": "trillion",
    "trillion": "trillion",
}


@lru_cache(maxsize=4096)
def _words(value: int, to: str = "cardinal") -> str:
    """num2words without its commas (see the module docstring); cached, as a long
    text says the same small numbers again and again (num2words takes 10 µs each)."""
    return str(num2words(value, lang="en", to=to)).replace(",", "")


def _digit_words(digits: str) -> str:
    return " ".join(_words(int(digit)) for digit in digits)


def _integer(digits: str) -> str:
    """A run of digits (commas allowed) as words; long or zero-led runs digit by digit."""
    digits = digits.replace(",", "")
    if len(digits) > 15 or (len(digits) > 1 and digits.startswith("0")):
        return _digit_words(digits)
    return _words(int(digits))


def _number(whole: str, fraction: str | None) -> str:
    if fraction:
        return f"{_integer(whole)} point {_digit_words(fraction)}"
    return _integer(whole)


def _plural(words: str) -> str:
    """Pluralize the last word of a spelled number: "nineteen ninety" -> "... nineties"."""
    if words.endswith("y"):
        return words[:-1] + "ies"
    if words.endswith("x"):
        return words + "es"
    return words + "s"


def _year_words(value: int) -> str:
    # num2words writes "nineteen oh-five"; the hyphen belongs in "ninety-nine" only.
    return str(num2words(value, lang="en", to="year")).replace("oh-", "oh ")


def _spaced(match: _Match, words: str) -> str:
    """``words`` with a space where the match touched a letter or digit."""
    text = match.string
    before = " " if match.start() > 0 and text[match.start() - 1].isalnum() else ""
    after = " " if match.end() < len(text) and text[match.end()].isalnum() else ""
    return f"{before}{words}{after}"


# Shared pieces of the patterns. A number is 1,234,567 (up to 18 digits) or a
# plain run of up to 15 digits, with an optional fraction.
_INT = r"(?:\d{1,3}(?:,\d{3}){1,5}|\d{1,15})"
_NUM = rf"({_INT})(?:\.(\d{{1,15}}))?"
_NOT_AFTER_NUMBER = r"(?<![\w.,])"
_NOT_BEFORE_DIGIT = r"(?!\d|[.,]\d)"

# ---------------------------------------------------------------- emails, URLs

_EMAIL = re.compile(
    r"(?<![\w.+-])([A-Za-z0-9][A-Za-z0-9._%+-]{0,63})@([A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){1,8})\b"
)
_URL_SYMBOLS = {
    ".": " dot ",
    "/": " slash ",
    ":": " colon ",
    "?": " question mark ",
    "=": " equals ",
    "&": " and ",
    "#": " hash ",
    "@": " at ",
    "%": " percent ",
    "~": " tilde ",
    "+": " plus ",
    "-": " ",
    "_": " ",
}
_URL_SYMBOL = re.compile(r"[./:?=&#@%~+_-]")
_EMAIL_SYMBOLS = {**_URL_SYMBOLS, "-": " dash ", "_": " underscore "}
_URL = re.compile(
    r"(?i)(?<![\w@./])(?:(?:https?|ftp)://|www\.)[^\s<>\"'()\[\]{}]{1,500}"
    # Bare domains with a common top-level domain, optionally with a path.
    r"|(?<![\w@./-])[a-z0-9][a-z0-9-]{0,62}(?:\.[a-z0-9-]{1,63}){0,4}"
    r"\.(?:com|org|net|io|dev|ai|app|edu|gov|co\.uk|info|me|tv)\b(?:/[^\s<>\"'()\[\]{}]{0,300})?"
)
_URL_TRAILING = ".,;:!?"


def _read_symbols(text: str, table: dict[str, str]) -> str:
    return _URL_SYMBOL.sub(lambda m: table[m.group()], text)


def _email(match: _Match) -> str:
    local = _read_symbols(match.group(1), _EMAIL_SYMBOLS)
    domain = _read_symbols(match.group(2), _EMAIL_SYMBOLS)
    return _spaced(match, f"{local} at {domain}")


def _url(match: _Match) -> str:
    url = match.group()
    stripped = url.rstrip(_URL_TRAILING)
    trailing = url[len(stripped) :]  # a sentence's own punctuation stays
    body = re.sub(r"(?i)^(?:https?|ftp)://", "", stripped).rstrip("/")
    body = re.sub(r"(?i)^www\.", "w w w.", body)
    return _spaced(match, _read_symbols(body, _URL_SYMBOLS)) + trailing


# ---------------------------------------------------------------- phone numbers

_PHONE = re.compile(
    # North American: (555) 123-4567, 555-123-4567, +1 555.123.4567, 1-800-555-1234.
    r"(?<![\w+(-])(?:(\+?1)[ .-]?)?(\(\d{3}\)|\d{3})[ .-](\d{3})[ .-](\d{4})(?![\w-])"
    # International, written with a +: +44 20 7946 0958.
    r"|(?<![\w+])(\+\d{1,3})((?:[ .-]\d{1,5}){1,5})(?![\w-])"
)


def _phone(match: _Match) -> str:
    groups: list[str] = re.findall(r"\+|\d{1,15}", match.group())
    digit_count = sum(len(g) for g in groups if g != "+")
    if digit_count < 7:
        return match.group()
    spoken = [("plus" if g == "+" else _digit_words(g)) for g in groups]
    # "plus" joins its country code: "plus four four, two zero, ...".
    if spoken and spoken[0] == "plus" and len(spoken) > 1:
        spoken[:2] = [f"plus {spoken[1]}"]
    return _spaced(match, ", ".join(spoken))


# ---------------------------------------------------------------- abbreviations

_TITLES = {
    "Dr": "Doctor",
    "Mr": "Mister",
    "Mrs": "Missus",
    "Ms": "Miz",
    "Prof": "Professor",
    "Jr": "Junior",
    "Sr": "Senior",
    "Mt": "Mount",
    "Ft": "Fort",
    "vs": "versus",
    "Vs": "versus",
    "approx": "approximately",
    "avg": "average",
    "max": "maximum",
    "incl": "including",
    "esp": "especially",
    "ca": "circa",
}
# Abbreviations that come after what they qualify, so they can end a sentence.
_ENDS_SENTENCE = frozenset({"Jr", "Sr", "avg", "max"})
_TITLE = re.compile(rf"\b({'|'.join(_TITLES)})\.(?=\s|$)")
_VERSUS = re.compile(r"\b[Vv]s\b(?!\.)")
_WITH = re.compile(r"(?<![\w/])([Ww])/(o\b)?(?=[\s,.;:!?]|$)")
_ROUND_THE_CLOCK = re.compile(r"(?<![\w/.,])24/7(?![\w/]|[.,]\d)")
_LATIN = {
    "e.g.": "for example",
    "i.e.": "that is",
    "etc.": "et cetera",
    "cf.": "compare",
    "a.k.a.": "also known as",
}
_LATIN_PATTERN = re.compile(r"(?i)(?<![\w.])(e\.g\.|i\.e\.|etc\.|cf\.|a\.k\.a\.)")
_SAINT_OR_STREET = re.compile(r"\bSt\.(?=\s|$)")
_NUMBER_SIGN = re.compile(r"\b(No|Nos|Fig)\.\s?(?=\d)|#(?=\d)")
_APPROXIMATELY = re.compile(r"~\s?(?=[$€£¥]?\d)")
_MINUS_BEFORE_MONEY = re.compile(r"(?<![\w.,])[-−](?=[$€£¥]\d)")
_SENTENCE_GOES_ON = re.compile(r"\s{1,20}[a-z0-9,;:]")


def _keeps_sentence_end(match: _Match) -> str:
    """ "." when the abbreviation also ended its sentence ("... and so on etc. Then")."""
    rest = match.string[match.end() : match.end() + 21]
    if not rest.strip() or (rest[:1].isspace() and not _SENTENCE_GOES_ON.match(rest)):
        return "."
    return ""


def _title(match: _Match) -> str:
    word = _TITLES[match.group(1)]
    # Titles come before a name; Jr./Sr. can end a sentence.
    if match.group(1) in _ENDS_SENTENCE:
        return word + _keeps_sentence_end(match)
    return word


def _with(match: _Match) -> str:
    word = "without" if match.group(2) else "with"
    return word.capitalize() if match.group(1) == "W" else word


def _latin(match: _Match) -> str:
    key = match.group(1).lower()
    words = _LATIN[key]
    if key == "etc.":
        return words + _keeps_sentence_end(match)
    return words


def _saint_or_street(match: _Match) -> str:
    # "Main St." (after a capitalized word) is a street, "St. Louis" a saint.
    before = match.string[max(0, match.start() - 30) : match.start()].split()
    if before and before[-1][:1].isupper() and before[-1][-1:].isalpha():
        return "Street" + _keeps_sentence_end(match)
    return "Saint"


def _number_sign(match: _Match) -> str:
    return _spaced(match, "figure " if match.group(1) == "Fig" else "number ")


# ---------------------------------------------------------------- dates

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_MONTH_BY_NAME = {name.lower(): number for number, name in enumerate(_MONTHS, 1)}
_MONTH_BY_NAME.update({name[:3].lower(): number for name, number in list(_MONTH_BY_NAME.items())})
_MONTH_BY_NAME["sept"] = 9
_MONTH_NAME = (
    r"(January|February|March|April|May|June|July|August|September|October|November|December"
    r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?"
)
_ISO_DATE = re.compile(r"(?<![\w.,/-])(\d{4})-(\d{2})-(\d{2})(?![\w/-]|[.,]\d)")
_SLASH_DATE = re.compile(r"(?<![\w.,/-])(\d{1,2})([/.-])(\d{1,2})\2(\d{4})(?![\w/-]|[.,]\d)")
_ORDINAL_SUFFIX = r"(?:st|nd|rd|th)?"
_MONTH_DAY_YEAR = re.compile(
    rf"\b{_MONTH_NAME}\s(\d{{1,2}}){_ORDINAL_SUFFIX}(?:(,?\s)(\d{{4}}))?(?![\w.,]\d|\w)"
)
_DAY_MONTH_YEAR = re.compile(
    rf"(?<![\w.,])(\d{{1,2}}){_ORDINAL_SUFFIX}\s(?:of\s)?{_MONTH_NAME}(?:(,?\s)(\d{{4}}))?(?![\w.,]\d|\w)"
)
_MONTH_YEAR = re.compile(rf"\b{_MONTH_NAME}(,?\s)(\d{{4}})(?![\w.,]\d|\w)")


def _month(number: str | int) -> str | None:
    value = int(number)
    return _MONTHS[value - 1] if 1 <= value <= 12 else None


def _date_words(month: str, day: int, year: str | None, day_first: bool = False) -> str:
    ordinal = _words(day, "ordinal")
    spoken = f"the {ordinal} of {month}" if day_first else f"{month} {ordinal}"
    return f"{spoken}, {_year_words(int(year))}" if year else spoken


def _iso_date(match: _Match) -> str:
    year, month_number, day = match.groups()
    month = _month(month_number)
    if month is None or not 1 <= int(day) <= 31:
        return match.group()
    return _spaced(match, _date_words(month, int(day), year))


def _slash_date(match: _Match) -> str:
    first, _, second, year = match.groups()
    # Month first (American) unless only the other order is possible.
    month_number, day = (second, first) if int(first) > 12 else (first, second)
    month = _month(month_number)
    if month is None or not 1 <= int(day) <= 31:
        return match.group()
    return _spaced(match, _date_words(month, int(day), year))


def _month_name(text: str) -> str:
    return _MONTHS[_MONTH_BY_NAME[text.lower()] - 1]


def _month_day_year(match: _Match) -> str:
    name, day, _, year = match.groups()
    if not 1 <= int(day) <= 31:
        return match.group()
    return _date_words(_month_name(name), int(day), year)


def _day_month_year(match: _Match) -> str:
    day, name, _, year = match.groups()
    if not 1 <= int(day) <= 31:
        return match.group()
    spoken = _date_words(_month_name(name), int(day), year, day_first=True)
    # "on the 3rd of March" already has its article.
    if match.string[max(0, match.start() - 4) : match.start()].lower() == "the ":
        spoken = spoken.removeprefix("the ")
    return spoken


def _month_year(match: _Match) -> str:
    name, separator, year = match.groups()
    return f"{_month_name(name)}{separator}{_year_words(int(year))}"


# ---------------------------------------------------------------- times

_CLOCK = re.compile(
    r"(?<![\w.,:])(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s?([AaPp])\.?[Mm]\.?(?![\w]))?(?![\d:]|[.,]\d)"
    # British "3.45 pm": a point instead of the colon, only with am/pm after it.
    r"|(?<![\w.,:])(\d{1,2})\.(\d{2})()\s?([AaPp])\.?[Mm]\.?(?!\w)"
)
_HOUR_MERIDIEM = re.compile(r"(?<![\w.,:])(\d{1,2})\s?([AaPp])\.?[Mm]\.?(?!\w)")


def _meridiem(letter: str | None, match: _Match) -> str:
    if not letter:
        return ""
    # "a.m." loses its periods, but one that also ended the sentence stays.
    ending = "." if match.group().endswith(".") and _keeps_sentence_end(match) else ""
    return f" {letter.upper()}M{ending}"


def _clock(match: _Match) -> str:
    groups = match.groups()
    hours, minutes, seconds, letter = groups[:4] if groups[0] is not None else groups[4:]
    hour, minute = int(hours), int(minutes)
    if hour > 24 or minute > 59 or (seconds and int(seconds) > 59) or (letter and hour > 12):
        return match.group()
    if minute == 0:
        spoken = _words(hour) + ("" if letter else " o'clock")
    elif minute < 10:
        spoken = f"{_words(hour)} oh {_words(minute)}"
    else:
        spoken = f"{_words(hour)} {_words(minute)}"
    if seconds:
        spoken += f" and {_words(int(seconds))} seconds"
    return _spaced(match, spoken + _meridiem(letter, match))


def _hour_meridiem(match: _Match) -> str:
    hours, letter = match.groups()
    if not 1 <= int(hours) <= 12:
        return match.group()
    return _spaced(match, _words(int(hours)) + _meridiem(letter, match))


# ---------------------------------------------------------------- money

# Symbol or code -> (one unit, many units, one hundredth, many hundredths).
_CURRENCIES: dict[str, tuple[str, str, str | None, str | None]] = {
    "$": ("dollar", "dollars", "cent", "cents"),
    "USD": ("dollar", "dollars", "cent", "cents"),
    "€": ("euro", "euros", "cent", "cents"),
    "EUR": ("euro", "euros", "cent", "cents"),
    "£": ("pound", "pounds", "penny", "pence"),
    "GBP": ("pound", "pounds", "penny", "pence"),
    "¥": ("yen", "yen", None, None),
    "JPY": ("yen", "yen", None, None),
    "₹": ("rupee", "rupees", "paisa", "paise"),
    "INR": ("rupee", "rupees", "paisa", "paise"),
}
_SCALE = r"(?:\s?(thousand|million|billion|trillion|[kKmMbBtT][nN]?)(?![\w-]))?"
# An amount ends before a comma and a digit that cannot start a thousands group:
# "$1,1,1" is one dollar and a list, "$1,2345" is no amount.
_NOT_BEFORE_AMOUNT = r"(?!\d|\.\d|,\d{3})"
_MONEY = re.compile(
    rf"(?<![\w$€£¥₹])([$€£¥₹])\s?{_NUM}{_SCALE}{_NOT_BEFORE_AMOUNT}"
    rf"|(?<![\w.,])\b(USD|EUR|GBP|JPY|INR)\s?{_NUM}{_SCALE}{_NOT_BEFORE_AMOUNT}"
    rf"|{_NOT_AFTER_NUMBER}{_NUM}{_SCALE}\s?(USD|EUR|GBP|JPY|INR)\b"
)


def _money(match: _Match) -> str:
    groups = match.groups()
    if groups[0] is not None:
        currency, whole, fraction, scale = groups[0:4]
    elif groups[4] is not None:
        currency, whole, fraction, scale = groups[4:8]
    else:
        whole, fraction, scale, currency = groups[8:12]
    one, many, cent, cents = _CURRENCIES[currency]
    if scale:
        amount = f"{_number(whole, fraction)} {_SCALES[scale.lower()]}"
        return _spaced(match, f"{amount} {many}")
    units = int(whole.replace(",", ""))
    if fraction and (cent is None or len(fraction) > 2):
        return _spaced(match, f"{_number(whole, fraction)} {many}")
    hundredths = int(fraction.ljust(2, "0")) if fraction else 0
    parts = []
    if units or not hundredths:
        parts.append(f"{_integer(whole)} {one if units == 1 else many}")
    if hundredths and cent and cents:
        parts.append(f"{_words(hundredths)} {cent if hundredths == 1 else cents}")
    return _spaced(match, " and ".join(parts))


# ---------------------------------------------------------------- years

_YEAR = r"(1[1-9]\d\d|20\d\d)"
_YEAR_CONTEXT = (
    r"(?i:in|since|by|until|till|from|through|year|circa|c\.|around|before|after|during"
    r"|early|late|mid|(?:spring|summer|autumn|fall|winter|class) of)"
)
_YEAR_SPAN = re.compile(
    rf"\b(?i:(from|between))\s{_YEAR}\s(?i:(to|and|until|till|through))\s{_YEAR}(?![\w%°]|[.,]\d)"
)
_YEAR_AFTER_WORD = re.compile(rf"\b({_YEAR_CONTEXT})(\s|-){_YEAR}(?![\w%°]|[.,]\d)")
_YEAR_ERA = re.compile(r"(?<![\w.,])(\d{1,4})\s?(AD|BC|BCE|CE)\b")
_YEAR_RANGE = re.compile(rf"(?<![\w.,]){_YEAR}\s?[-–]\s?{_YEAR}(?![\w]|[.,]\d)")
_DECADE = re.compile(r"(?<![\w.,])(?:'(\d0)|(1[1-9]\d0|20\d0|[1-9]0))'?s\b")


def _year_span(match: _Match) -> str:
    start_word, first, joiner, second = match.groups()
    return f"{start_word} {_year_words(int(first))} {joiner} {_year_words(int(second))}"


def _year_after_word(match: _Match) -> str:
    word, gap, year = match.groups()
    # "in 2000 kg" or "by 1500%" is a quantity, not a year.
    if _QUANTITY_AFTER.match(match.string, match.end()):
        return match.group()
    return f"{word}{gap}{_year_words(int(year))}"


def _year_era(match: _Match) -> str:
    year, era = match.groups()
    return _spaced(match, f"{_year_words(int(year))} {era}")  # espeak spells "BC" out


def _year_range(match: _Match) -> str:
    first, second = match.groups()
    return _spaced(match, f"{_year_words(int(first))} to {_year_words(int(second))}")


def _decade(match: _Match) -> str:
    short, full = match.groups()
    if short:
        return _spaced(match, _plural(_words(int(short))))
    value = int(full)
    words = _year_words(value) if value >= 1000 else _words(value)
    return _spaced(match, _plural(words))


# ---------------------------------------------------------------- ranges, products

# "5-10 minutes", "pages 10–20", "$5–10": a dash between two numbers is "to". A
# hyphen only between short numbers ("555-1234" is a phone number), an en dash
# between any two but years (read by _YEAR_RANGE); chains ("1-2-3") stay.
_NUMBER_RANGE = re.compile(
    rf"(?<![\w.,–-])({_INT}(?:\.\d{{1,15}})?)–({_INT}(?:\.\d{{1,15}})?)(?![\d–-]|[.,]\d)"
    r"|(?<![\w.,–-])(\d{1,3}(?:\.\d{1,3})?)-(\d{1,3}(?:\.\d{1,3})?)(?![\d–-]|[.,]\d)"
)
_PRODUCT = re.compile(r"(?<=\d)[ \t]?\*[ \t]?(?=[-−]?\d)")


def _number_range(match: _Match) -> str:
    if match.group(1) is not None:
        if _YEAR_RANGE.fullmatch(match.group()):
            return match.group()
        return f"{match.group(1)} to {match.group(2)}"
    return f"{match.group(3)} to {match.group(4)}"


# ---------------------------------------------------------------- units

# Symbol -> (singular, plural). Case matters: "MB" megabytes, "mb" is not read.
_UNITS: dict[str, tuple[str, str]] = {
    "km/h": ("kilometer per hour", "kilometers per hour"),
    "kph": ("kilometer per hour", "kilometers per hour"),
    "mph": ("mile per hour", "miles per hour"),
    "m/s": ("meter per second", "meters per second"),
    "km": ("kilometer", "kilometers"),
    "cm": ("centimeter", "centimeters"),
    "mm": ("millimeter", "millimeters"),
    "m": ("meter", "meters"),
    "mi": ("mile", "miles"),
    "ft": ("foot", "feet"),
    "kg": ("kilogram", "kilograms"),
    "mg": ("milligram", "milligrams"),
    "g": ("gram", "grams"),
    "lbs": ("pound", "pounds"),
    "lb": ("pound", "pounds"),
    "oz": ("ounce", "ounces"),
    "ml": ("milliliter", "milliliters"),
    "mL": ("milliliter", "milliliters"),
    "l": ("liter", "liters"),
    "L": ("liter", "liters"),
    "°C": ("degree Celsius", "degrees Celsius"),
    "°F": ("degree Fahrenheit", "degrees Fahrenheit"),
    "ºC": ("degree Celsius", "degrees Celsius"),
    "ºF": ("degree Fahrenheit", "degrees Fahrenheit"),
    "°": ("degree", "degrees"),
    "TB": ("terabyte", "terabytes"),
    "GB": ("gigabyte", "gigabytes"),
    "MB": ("megabyte", "megabytes"),
    "KB": ("kilobyte", "kilobytes"),
    "kB": ("kilobyte", "kilobytes"),
    "Gbps": ("gigabit per second", "gigabits per second"),
    "Mbps": ("megabit per second", "megabits per second"),
    "GHz": ("gigahertz", "gigahertz"),
    "MHz": ("megahertz", "megahertz"),
    "kHz": ("kilohertz", "kilohertz"),
    "Hz": ("hertz", "hertz"),
    "kW": ("kilowatt", "kilowatts"),
    "kWh": ("kilowatt hour", "kilowatt hours"),
    "W": ("watt", "watts"),
    "V": ("volt", "volts"),
    "mA": ("milliamp", "milliamps"),
    "ms": ("millisecond", "milliseconds"),
    "ns": ("nanosecond", "nanoseconds"),
    "µs": ("microsecond", "microseconds"),  # the micro sign
    "μs": ("microsecond", "microseconds"),  # the Greek mu
    "µm": ("micrometer", "micrometers"),
    "μm": ("micrometer", "micrometers"),
    "nm": ("nanometer", "nanometers"),
    "TiB": ("tebibyte", "tebibytes"),
    "GiB": ("gibibyte", "gibibytes"),
    "MiB": ("mebibyte", "mebibytes"),
    "KiB": ("kibibyte", "kibibytes"),
    "mAh": ("milliamp hour", "milliamp hours"),
    "kcal": ("kilocalorie", "kilocalories"),
    "dB": ("decibel", "decibels"),
    "rpm": ("revolution per minute", "revolutions per minute"),
    "fps": ("frame per second", "frames per second"),
    "px": ("pixel", "pixels"),
    "sec": ("second", "seconds"),
    "secs": ("second", "seconds"),
    "min": ("minute", "minutes"),
    "mins": ("minute", "minutes"),
    "h": ("hour", "hours"),
    "hr": ("hour", "hours"),
    "hrs": ("hour", "hours"),
    "yr": ("year", "years"),
    "yrs": ("year", "years"),
    "x": ("times", "times"),  # "10x faster", "2 x 4"
}
_UNIT_NAMES = "|".join(re.escape(unit) for unit in sorted(_UNITS, key=len, reverse=True))
_QUANTITY_AFTER = re.compile(rf"\s?(?:{_UNIT_NAMES}|%|percent)(?![\w/°])")
_UNIT = re.compile(rf"(?<![\w.,])([-−]?){_NUM}\s?({_UNIT_NAMES})(?![\w/°])")


def _unit(match: _Match) -> str:
    sign, whole, fraction, unit = match.groups()
    one, many = _UNITS[unit]
    is_one = not sign and not fraction and whole == "1"
    minus = "minus " if sign else ""
    return _spaced(match, f"{minus}{_number(whole, fraction)} {one if is_one else many}")


# ---------------------------------------------------------------- plain numbers

_ORDINAL = re.compile(rf"(?<![\w.,])({_INT})(?i:st|nd|rd|th)\b")
_FRACTION = re.compile(r"(?<![\w.,/])(\d)/(\d{1,2})(?![\w/]|[.,]\d)")
_MINUS = re.compile(r"(?<![\w.,)\]-])[-−](?=\d)")
# Versions and addresses: 1.2.3, 192.168.0.1 (a decimal has one point only).
_DOTTED = re.compile(r"(?<![\w.,])(\d{1,9}(?:\.\d{1,9}){2,9})(?![\w]|\.\d)")
_VERSION_PREFIX = re.compile(r"\bv(?=\d{1,9}\.\d)")
_PLAIN_NUMBER = re.compile(rf"{_NOT_AFTER_NUMBER}{_NUM}{_NOT_BEFORE_DIGIT}")
_DIGIT_POINT = re.compile(r"(?<=\d)\.(?=\d)")
_DIGITS = re.compile(r"\d{1,15}")


def _ordinal(match: _Match) -> str:
    digits = match.group(1).replace(",", "")
    if len(digits) > 15:
        return match.group()
    return _spaced(match, _words(int(digits), "ordinal"))


def _fraction(match: _Match) -> str:
    numerator, denominator = int(match.group(1)), int(match.group(2))
    if not 0 < numerator < denominator <= 10:
        return match.group()
    if denominator == 2:
        name = "half" if numerator == 1 else "halves"
    elif denominator == 4:
        name = "quarter" if numerator == 1 else "quarters"
    else:
        name = _words(denominator, "ordinal")
        name = name if numerator == 1 else _plural(name)
    return _spaced(match, f"{_words(numerator)} {name}")


def _dotted(match: _Match) -> str:
    parts = match.group(1).split(".")
    is_address = len(parts) == 4 and all(int(part) <= 255 for part in parts)
    joiner = " dot " if is_address else " point "
    return _spaced(match, joiner.join(_integer(part) for part in parts))


def _plain_number(match: _Match) -> str:
    return _spaced(match, _number(match.group(1), match.group(2)))


def _leftover_digits(match: _Match) -> str:
    """Digits the passes above left (runs over 15 digits, odd punctuation)."""
    text, start, end = match.string, match.start(), match.end()
    in_long_run = (start > 0 and text[start - 1].isdigit()) or (
        end < len(text) and text[end].isdigit()
    )
    words = _digit_words(match.group()) if in_long_run else _integer(match.group())
    return _spaced(match, words)


# ---------------------------------------------------------------- symbols

_SYMBOLS = {
    "&": "and",
    "+": "plus",
    "=": "equals",
    "%": "percent",
    "@": "at",
    "#": "hash",
    "×": "times",
    "÷": "divided by",
    "~": "about",
    "°": "degrees",
    "→": "to",
}
_SYMBOL = re.compile(r"[&+=%@#×÷~°→]")
_SPACES = re.compile(r"[ \t]{2,}")


def _symbol(match: _Match) -> str:
    text, start, end = match.string, match.start(), match.end()
    before = " " if start > 0 and not text[start - 1].isspace() else ""
    after = " " if end < len(text) and not text[end].isspace() and text[end] not in ".,;:!?" else ""
    return f"{before}{_SYMBOLS[match.group()]}{after}"


# ---------------------------------------------------------------- the pipeline

_Pass = tuple[re.Pattern[str], _Replacer | str]

_EMAIL_PASSES: tuple[_Pass, ...] = ((_EMAIL, _email),)
_URL_PASSES: tuple[_Pass, ...] = ((_URL, _url),)
_PHONE_PASSES: tuple[_Pass, ...] = ((_PHONE, _phone),)
_EARLY_PASSES: tuple[_Pass, ...] = (
    (_LATIN_PATTERN, _latin),
    (_TITLE, _title),
    (_VERSUS, "versus"),
    (_WITH, _with),
    (_ROUND_THE_CLOCK, "twenty-four seven"),
    (_SAINT_OR_STREET, _saint_or_street),
    (_NUMBER_SIGN, _number_sign),
    (_APPROXIMATELY, "approximately "),
    (_MINUS_BEFORE_MONEY, "minus "),
    (_NUMBER_RANGE, _number_range),
    (_PRODUCT, " times "),
    (_ISO_DATE, _iso_date),
    (_SLASH_DATE, _slash_date),
    (_MONTH_DAY_YEAR, _month_day_year),
    (_DAY_MONTH_YEAR, _day_month_year),
    (_MONTH_YEAR, _month_year),
    (_CLOCK, _clock),
    (_HOUR_MERIDIEM, _hour_meridiem),
    (_MONEY, _money),
    (_YEAR_SPAN, _year_span),
    (_YEAR_RANGE, _year_range),
    (_YEAR_ERA, _year_era),
    (_YEAR_AFTER_WORD, _year_after_word),
    (_DECADE, _decade),
)
_UNIT_PASSES: tuple[_Pass, ...] = ((_UNIT, _unit),)
_NUMBER_PASSES: tuple[_Pass, ...] = (
    (_ORDINAL, _ordinal),
    (_FRACTION, _fraction),
    (_MINUS, "minus "),
    (_VERSION_PREFIX, "version "),
    (_DOTTED, _dotted),
    (_PLAIN_NUMBER, _plain_number),
    (_DIGIT_POINT, " point "),
    (_DIGITS, _leftover_digits),
    (_SYMBOL, _symbol),
)


def normalize_text(text: str, options: NormalizationOptions | None = None) -> str:
    """Rewrite text so the English G2P reads it as a person would."""
    options = options or NormalizationOptions()
    if not options.normalize:
        return text
    passes: list[_Pass] = []
    if options.email_normalization:
        passes.extend(_EMAIL_PASSES)
    if options.url_normalization:
        passes.extend(_URL_PASSES)
    if options.phone_normalization:
        passes.extend(_PHONE_PASSES)
    passes.extend(_EARLY_PASSES)
    if options.unit_normalization:
        passes.extend(_UNIT_PASSES)
    passes.extend(_NUMBER_PASSES)
    for pattern, replacement in passes:
        text = pattern.sub(replacement, text)
    return _SPACES.sub(" ", text)

"""Numbers as users write them, in several languages' formats (pure Python).

* Decimal point or decimal comma: ``1.5`` and ``1,5`` are both one and a half.
* Thousands separators: ``2,000,000`` (English), ``2.000.000`` (German, Spanish, Italian),
  ``2 000 000`` / ``2 000 000`` (French, Nordic; also narrow no-break spaces), ``2'000'000``
  (Swiss) and the Indian ``20,00,000`` (lakh grouping).
* When both separators occur the last one is the decimal separator (``1.234,5`` / ``1,234.5``).
  A lone separator followed by exactly three digits (``1.500``, ``1,500``) groups thousands; any
  other lone separator is decimal (``1,5``, ``2.75``).
* Magnitudes: ``k``/``K``/``thousand``/``tausend``/``mil``, ``m``/``M``/``mm``/``mio``/``million``/
  ``millions``/``millones``/``milioni``, ``b``/``bn``/``billion``/``mrd``/``milliard(s)``, ``lakh``,
  ``crore``; number words ``one``…``twelve``, ``a``/``an`` ("a million"), ``half a``.

``to_number`` turns one numeral (digits and separators) into a float; ``NUMBER`` is the regex
that finds them; ``MAGNITUDES`` maps magnitude words to factors.
"""

from __future__ import annotations

import re

#: A numeral with optional grouping: 2,000,000 | 2.000.000 | 2 000 000 | 20,00,000 | 1.5 | 1,5
NUMBER = (
    r"(?:\d{1,3}(?:[ \u00a0\u202f']\d{3})+(?:[.,]\d+)?"
    r"|\d{1,2}(?:,\d{2})+,\d{3}(?:\.\d+)?"
    r"|\d+(?:[.,]\d+)*)"
)

MAGNITUDES: dict[str, float] = {
    "k": 1e3,
    "thousand": 1e3,
    "thousands": 1e3,
    "tausend": 1e3,
    "mil": 1e3,
    "m": 1e6,
    "mm": 1e6,
    "mio": 1e6,
    "million": 1e6,
    "millions": 1e6,
    "millionen": 1e6,
    "millones": 1e6,
    "milioni": 1e6,
    "b": 1e9,
    "bn": 1e9,
    "billion": 1e9,
    "billions": 1e9,
    "mrd": 1e9,
    "milliard": 1e9,
    "milliards": 1e9,
    "milliarden": 1e9,
    "t": 1e12,
    "trillion": 1e12,
    "lakh": 1e5,
    "lakhs": 1e5,
    "crore": 1e7,
    "crores": 1e7,
}
#: Longest first, so "mio" wins over "m" and "billion" over "b".
MAGNITUDE = (
    r"(?:" + "|".join(sorted((re.escape(k) for k in MAGNITUDES), key=len, reverse=True)) + r")"
)

WORD_NUMBERS: dict[str, float] = {
    "a": 1,
    "an": 1,
    "one": 1,
    "single": 1,
    "two": 2,
    "pair": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "dozen": 12,
    "sixteen": 16,
    "twenty": 20,
    "thirty": 30,
    "fifty": 50,
    "hundred": 100,
    "half a": 0.5,
}
WORD_NUMBER = r"(?:" + "|".join(sorted(WORD_NUMBERS, key=len, reverse=True)) + r")"

_GROUPED_SPACE = re.compile(r"^\d{1,3}(?:[ \u00a0\u202f']\d{3})+(?:[.,]\d+)?$")
_INDIAN = re.compile(r"^\d{1,2}(?:,\d{2})+,\d{3}(?:\.\d+)?$")


def to_number(text: str) -> float:
    """One numeral (no magnitude word) as a float; ``ValueError`` when it is not one."""
    s = text.strip()
    if _GROUPED_SPACE.match(s):
        s = re.sub(r"[ \u00a0\u202f']", "", s)
    elif _INDIAN.match(s):
        s = s.replace(",", "")
    has_dot, has_comma = "." in s, "," in s
    if has_dot and has_comma:
        decimal = "." if s.rfind(".") > s.rfind(",") else ","
        group = "," if decimal == "." else "."
        s = s.replace(group, "").replace(decimal, ".")
    elif has_dot or has_comma:
        sep = "." if has_dot else ","
        parts = s.split(sep)
        grouped = len(parts) > 2 or (len(parts) == 2 and len(parts[1]) == 3 and parts[0] != "0")
        if grouped and all(len(p) == 3 for p in parts[1:]) and 1 <= len(parts[0]) <= 3:
            s = "".join(parts)
        elif len(parts) == 2:
            s = parts[0] + "." + parts[1]
        else:
            raise ValueError(f"not a number: {text!r}")
    return float(s)


def scaled(numeral: str, magnitude: str | None) -> float:
    """``numeral`` (digits or a number word) times the factor of ``magnitude`` (may be None)."""
    word = numeral.strip().lower()
    base = WORD_NUMBERS[word] if word in WORD_NUMBERS else to_number(numeral)
    if magnitude:
        base *= MAGNITUDES[magnitude.strip().lower().rstrip(".")]
    return base

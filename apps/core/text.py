"""What counts as blank text, stated once for the services and the OpenAPI document.

A name, a filter or a message must hold at least one character that is neither whitespace nor a
control character. "Whitespace" differs between Python (``str.isspace``: also U+001C-U+001F and
U+0085) and JSON Schema's ECMAScript regexes (``\\s``: also U+FEFF), so ``.strip()`` on the server
and ``pattern: "\\S"`` in the document disagreed (``.ci/fuzz`` sent ``"\\u001f"``: schema-valid,
refused). ``NOT_BLANK`` lists the characters explicitly (the union of both whitespace sets and
every C0/C1 control character); both regex dialects read it the same way.
"""

from __future__ import annotations

import re

#: The characters a non-blank text needs one of something other than (a regex class body).
BLANK_CLASS = r"\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
#: JSON Schema ``pattern`` (unanchored: "contains a character that is not blank").
NOT_BLANK = rf"[^{BLANK_CLASS}]"

_NOT_BLANK = re.compile(NOT_BLANK)
_EDGES = re.compile(rf"^[{BLANK_CLASS}]+|[{BLANK_CLASS}]+$")


def is_blank(text: str) -> bool:
    """True when ``text`` holds nothing but whitespace and control characters."""
    return _NOT_BLANK.search(text) is None


def trimmed(text: str) -> str:
    """``text`` without blank characters at either end (``str.strip`` with the same set)."""
    return _EDGES.sub("", text)

"""The one blank-text rule: the services' check and the OpenAPI pattern agree."""

from __future__ import annotations

import re

import pytest

from apps.core.text import NOT_BLANK, is_blank, trimmed


@pytest.mark.parametrize(
    "text",
    ["", " ", "\t\n", "\x1f", "\x10", "\x00", "\x85", "\xa0", "\u3000", "\ufeff", " \u2028\x7f "],
)
def test_whitespace_and_control_characters_alone_are_blank(text):
    assert is_blank(text)
    assert trimmed(text) == ""
    assert re.search(NOT_BLANK, text) is None


@pytest.mark.parametrize("text", ["H100", " a ", "\x1fL4\x1f", "é", "\u200b", "-"])
def test_anything_else_is_not_blank(text):
    assert not is_blank(text)
    assert re.search(NOT_BLANK, text) is not None


def test_the_set_covers_python_and_ecmascript_whitespace():
    # every character Python's str.isspace() or ECMAScript's \s calls whitespace (the latter is
    # Python's set plus U+FEFF minus U+001C-U+001F and U+0085), and every control character
    for code in range(0x110000):
        char = chr(code)
        if char.isspace() or char == "\ufeff" or (code < 0x20 or 0x7F <= code <= 0x9F):
            assert is_blank(char), hex(code)


def test_trimmed_keeps_the_inside():
    assert trimmed("\x1f H100 SXM\ufeff\n") == "H100 SXM"

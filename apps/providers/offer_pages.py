"""Page requests over an ordered offer list: REST pages (``page``/``per_page``) and Relay cursors
(``first``/``after``/``last``/``before``). Both resolve to a ``[start, end)`` slice once the total
is known, and both cap a page at ``MAX_PAGE_SIZE`` rows.

Cursors are opaque to clients: base64 of ``"offer:<position>"`` in the ordered result. A cursor is
valid for the filter set and ordering it came from (the position is re-applied, which is what an
offset-paginated list can promise: a sync between two pages can shift rows by a place).
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Any, Protocol

from apps.core.errors import ValidationFailed

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_NUMBER = 1_000_000
_CURSOR_PREFIX = "offer:"
_CURSOR_BODY = re.compile(r"^offer:(0|[1-9][0-9]{0,8})$")


class PageRequest(Protocol):
    def bounds(self, total: int) -> tuple[int, int]: ...

    def cache_parts(self) -> dict[str, Any]: ...


def encode_cursor(position: int) -> str:
    return base64.b64encode(f"{_CURSOR_PREFIX}{position}".encode()).decode()


def decode_cursor(cursor: str, field: str) -> int:
    message = f"{field} is not a valid cursor: pass an edge's cursor or pageInfo's endCursor"
    if not isinstance(cursor, str) or not cursor or len(cursor) > 64:
        raise ValidationFailed(message, field=field)
    try:
        text = base64.b64decode(cursor.encode(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ValidationFailed(message, field=field) from exc
    found = _CURSOR_BODY.match(text)
    if not found:
        raise ValidationFailed(message, field=field)
    return int(found.group(1))


def _size(value: int | None, field: str, *, minimum: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationFailed(f"{field} must be an integer", field=field)
    if not minimum <= value <= MAX_PAGE_SIZE:
        raise ValidationFailed(
            f"{field} must be between {minimum} and {MAX_PAGE_SIZE}", field=field
        )
    return value


@dataclass(frozen=True)
class NumberedPage:
    """REST: ``page`` (1-based) of ``per_page`` rows."""

    page: int = 1
    per_page: int = DEFAULT_PAGE_SIZE

    def __post_init__(self) -> None:
        _size(self.per_page, "per_page", minimum=1)
        if isinstance(self.page, bool) or not isinstance(self.page, int):
            raise ValidationFailed("page must be an integer", field="page")
        if not 1 <= self.page <= MAX_PAGE_NUMBER:
            raise ValidationFailed(f"page must be between 1 and {MAX_PAGE_NUMBER}", field="page")

    def bounds(self, total: int) -> tuple[int, int]:
        start = (self.page - 1) * self.per_page
        return start, start + self.per_page

    def cache_parts(self) -> dict[str, Any]:
        return {"offset": (self.page - 1) * self.per_page, "limit": self.per_page}


@dataclass(frozen=True)
class CursorPage:
    """Relay: ``first`` rows after ``after``, or ``last`` rows before ``before``."""

    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None

    def __post_init__(self) -> None:
        _size(self.first, "first", minimum=0)
        _size(self.last, "last", minimum=0)
        if self.first is not None and self.last is not None:
            raise ValidationFailed("pass either first or last, not both", field="last")
        if self.after is not None:
            decode_cursor(self.after, "after")
        if self.before is not None:
            decode_cursor(self.before, "before")

    def _window(self) -> tuple[int, int | None]:
        start = decode_cursor(self.after, "after") + 1 if self.after is not None else 0
        end = decode_cursor(self.before, "before") if self.before is not None else None
        return start, end

    def bounds(self, total: int) -> tuple[int, int]:
        start, end = self._window()
        end = total if end is None else min(end, total)
        end = max(end, start)
        if self.last is not None:
            return max(start, end - self.last), end
        size = DEFAULT_PAGE_SIZE if self.first is None else self.first
        return start, min(end, start + size)

    def cache_parts(self) -> dict[str, Any]:
        start, end = self._window()
        return {"after": start, "before": end, "first": self.first, "last": self.last}

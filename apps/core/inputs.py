"""Input limits, checked in the services so every facade refuses the same input the same way.

REST schemas may declare the same bounds (from the services' constants) for their OpenAPI
document; both answer ``VALIDATION_ERROR`` naming the field."""

from __future__ import annotations

from enum import Enum

from .errors import ValidationFailed


def check_length(value: str | None, *, field: str, maximum: int) -> str | None:
    """``value`` unchanged, or ``ValidationFailed`` when it is longer than ``maximum``
    characters (never cut silently)."""
    if value is not None and len(value) > maximum:
        raise ValidationFailed(f"{field} must be at most {maximum} characters.", field=field)
    return value


def check_limit(
    limit: int, *, maximum: int, reason: Enum | None = None, field: str = "limit"
) -> int:
    """``limit`` unchanged, or ``ValidationFailed`` (with the domain's ``reason``) when it is not
    between 1 and ``maximum``: the one check behind every result-count argument."""
    if not 1 <= limit <= maximum:
        raise ValidationFailed(
            f"{field} must be between 1 and {maximum}", field=field, reason=reason
        )
    return limit

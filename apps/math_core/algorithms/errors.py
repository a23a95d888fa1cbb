"""The one error the pure algorithms raise for bad input.

``InvalidInput`` is a ``ValueError`` that names the offending input (``field``) so the Django
services can turn it into ``apps.core.errors.ValidationFailed(field=...)`` without parsing text.
"""

from __future__ import annotations


class InvalidInput(ValueError):
    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

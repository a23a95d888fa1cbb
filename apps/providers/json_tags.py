"""A portable "JSON list contains this text" condition for ``GPUOffer.compliance_tags``.

``compliance_tags`` is a JSONField list (no ArrayField: the project runs on SQLite too). Django's
``contains`` lookup on JSONField is PostgreSQL-only, so this expression renders the equivalent
per backend: ``json_each`` on SQLite (JSON1, which Django's JSONField requires anyway) and
``jsonb_array_elements`` on PostgreSQL. Both compare string elements case-insensitively
(``lower()``; callers pass an ASCII, lower-cased tag) and never match non-string elements; on
PostgreSQL a value that is not an array matches nothing instead of raising.
"""

from __future__ import annotations

from typing import Any

from django.db import NotSupportedError
from django.db.models import BooleanField, Expression, F


def string_elements(value: Any) -> list[str]:
    """The string elements of a JSON list (what the filter can match and the APIs show); any
    other stored shape shows as no tags rather than breaking a response."""
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, str)]


class JSONArrayHasText(Expression):
    """True when the JSON array in ``field`` has a string element equal (case-insensitive) to
    ``text``. Usable directly in ``QuerySet.filter()``."""

    output_field = BooleanField()

    def __init__(self, field: str | Expression, text: str) -> None:
        super().__init__(output_field=BooleanField())
        self.source = F(field) if isinstance(field, str) else field
        self.text = text.lower()

    def get_source_expressions(self) -> list[Any]:
        return [self.source]

    def set_source_expressions(self, exprs: Any) -> None:
        (self.source,) = exprs

    def resolve_expression(self, *args: Any, **kwargs: Any) -> JSONArrayHasText:
        clone = self.copy()
        clone.source = self.source.resolve_expression(*args, **kwargs)
        return clone

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        # The column comes from the compiler and the tag is a parameter: nothing user-written is
        # interpolated into the SQL text.
        column, params = compiler.compile(self.source)
        sql = (
            f"EXISTS (SELECT 1 FROM json_each({column}) AS tag "  # noqa: S608
            "WHERE tag.type = 'text' AND lower(tag.value) = %s)"
        )
        return sql, [*params, self.text]

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        column, params = compiler.compile(self.source)
        sql = (
            f"(CASE WHEN jsonb_typeof({column}) = 'array' THEN EXISTS ("  # noqa: S608
            f"SELECT 1 FROM jsonb_array_elements({column}) AS tag(value) "
            "WHERE jsonb_typeof(tag.value) = 'string' AND lower(tag.value #>> '{}') = %s"
            ") ELSE false END)"
        )
        return sql, [*params, *params, self.text]

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        raise NotSupportedError(
            f"compliance tag filtering is not implemented for {connection.vendor}"
        )

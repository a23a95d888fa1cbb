"""How the fast paths read a field without its resolver chain (``schema/fast_execution.py``,
``schema/fast_rows.py``): which fields are plain reads, and how leaves are coerced."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from math import isfinite
from typing import Any

from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry_django.fields.field import StrawberryDjangoField

from graphql import GraphQLBoolean, GraphQLFloat, GraphQLInt, GraphQLString


def is_basic_getter(resolve: Any) -> bool:
    """Strawberry compiles a field without resolver, arguments, extensions or permissions to
    ``_get_basic_result``, a getter that ignores ``info`` (``tests/catalogue/test_fast_execution``
    fails if a strawberry upgrade renames it, instead of the page silently slowing down)."""
    return getattr(resolve, "__name__", None) == "_get_basic_result"


def model_attribute(field_def: Any) -> str | None:
    """The attribute a strawberry-django field without resolver, arguments, extensions or
    permissions reads (its full resolver chain then returns exactly the attribute's value)."""
    field = (field_def.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if not isinstance(field, StrawberryDjangoField) or field_def.args:
        return None
    if field.base_resolver or field.extensions or field.permission_classes or field.arguments:
        return None
    if field.is_async or field.is_list or field.is_connection or field.is_paginated:
        return None
    return field.django_name or field.python_name


#: Values that are never awaitable (the common column types): no awaitable check for them.
PLAIN_VALUES = frozenset({str, int, float, bool, Decimal, datetime, date, uuid.UUID})
INT_RANGE = range(-(2**31), 2**31)


def leaf_coercer(named: Any) -> Callable[[Any], Any]:
    """The leaf type's ``coerce_output_value`` (what ``complete_leaf_value`` calls), answered
    directly for the values graphql-core returns unchanged: a ``str`` for String, a ``bool``
    for Boolean, an ``int`` in range for Int, a finite ``float`` for Float."""
    coerce = named.coerce_output_value
    if named is GraphQLString:
        return lambda value: value if type(value) is str else coerce(value)
    if named is GraphQLBoolean:
        return lambda value: value if type(value) is bool else coerce(value)
    if named is GraphQLInt:
        return lambda value: value if type(value) is int and value in INT_RANGE else coerce(value)
    if named is GraphQLFloat:
        return lambda value: value if type(value) is float and isfinite(value) else coerce(value)
    return coerce  # type: ignore[no-any-return]

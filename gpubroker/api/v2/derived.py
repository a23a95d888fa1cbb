"""django-ninja schemas whose fields a service's dataclass declares, once (the REST twin of
``schema/derived.py``).

``schema_of(Source, name=...)`` builds a ``Schema`` with the fields of the dataclass ``Source``,
in its order, with its types (all required: a response carries every field): a nested dataclass
becomes the schema derived from it (derive the inner one first); ``list``, ``dict`` and ``| None``
are kept. A field's
``metadata={"description": ...}`` is its OpenAPI description, as it is its GraphQL one. So a field
added to, renamed in or dropped from a service result changes the REST body with it; the schema
keeps the name clients and the OpenAPI document already know (``TokenCostOut``, …).

Responses are validated through these schemas from the services' instances (``Schema`` reads
attributes), exactly as through a hand-written schema.
"""

from __future__ import annotations

import dataclasses
import functools
import operator
import types
import typing
from collections.abc import Mapping
from typing import Any

from ninja import Field, Schema
from pydantic import create_model

#: Service dataclass → the REST schema derived from it (nested fields map through this).
_DERIVED: dict[type, type[Schema]] = {}


def schema_of(
    source: type,
    *,
    name: str,
    omit: tuple[str, ...] = (),
    types_: Mapping[str, Any] | None = None,
    optional: bool = False,
    base: type[Schema] = Schema,
) -> Any:
    """A ``Schema`` named ``name`` with ``source``'s fields (``omit``: left out on purpose;
    ``types_``: a field's REST type where it says more, e.g. a ``Literal``; ``optional``: every
    field may be absent or null, defaulting to None — a filter's form)."""
    if not dataclasses.is_dataclass(source):
        raise TypeError(f"{source!r} is not a dataclass")
    overrides = dict(types_ or {})
    names = {f.name for f in dataclasses.fields(source)}
    if unknown := (set(omit) | set(overrides)) - names:
        raise TypeError(f"{name}: no field {sorted(unknown)} in {source.__name__}")
    hints = typing.get_type_hints(source)
    fields: dict[str, Any] = {}
    for spec in dataclasses.fields(source):
        if spec.name in omit:
            continue
        where = f"{source.__name__}.{spec.name}"
        annotation = overrides.get(spec.name) or rest_type_of(hints[spec.name], where)
        description = spec.metadata.get("description")
        if optional:
            fields[spec.name] = (annotation | None, Field(None, description=description))
        else:  # a response: every field is always there
            fields[spec.name] = (annotation, Field(..., description=description))
    model = create_model(name, __base__=base, **fields)
    if not optional:
        if source in _DERIVED:
            raise TypeError(f"{source.__name__} has a REST schema already")
        _DERIVED[source] = model
    return model


def rest_type_of(annotation: Any, where: str) -> Any:
    """The REST-side type of a dataclass field's type (nested dataclasses derived)."""
    if isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
        try:
            return _DERIVED[annotation]
        except KeyError:
            raise TypeError(
                f"{where}: {annotation.__name__} has no REST schema yet (derive it first)"
            ) from None
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        members = [rest_type_of(arg, where) for arg in typing.get_args(annotation)]
        return functools.reduce(operator.or_, members)
    if origin is list:
        (item,) = typing.get_args(annotation)
        return list[rest_type_of(item, where)]  # type: ignore[misc]
    if origin is dict:
        key, value = typing.get_args(annotation)
        return dict[key, rest_type_of(value, where)]  # type: ignore[misc,valid-type]
    if origin is not None or annotation is Any:
        raise TypeError(f"{where}: {annotation!r} has no REST form; give the field's type")
    return annotation

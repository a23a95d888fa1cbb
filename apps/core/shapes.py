"""A service dataclass's fields as the facades generated from it read them (GraphQL:
``schema/derived.py``, REST: ``gpubroker/api/v2/derived.py``): one walk over the fields and
their types, so both facades map a service result the same way.

A field's ``metadata={"description": ...}`` is its documentation on every facade, and
``"max_length"`` the bound a request schema declares for it."""

from __future__ import annotations

import dataclasses
import functools
import operator
import types
import typing
from collections.abc import Callable
from typing import Any

DESCRIPTION = "description"
MAX_LENGTH = "max_length"


@dataclasses.dataclass(frozen=True)
class FieldSpec:
    name: str
    annotation: Any  # resolved (no forward references)
    description: str | None
    required: bool  # no default in the dataclass
    max_length: int | None  # a text field's longest value (the service checks it too)


def field_specs(source: type, omit: tuple[str, ...] = ()) -> list[FieldSpec]:
    """``source``'s fields in order, without the ``omit`` ones (each must name a field)."""
    if not dataclasses.is_dataclass(source):
        raise TypeError(f"{source!r} is not a dataclass")
    fields = dataclasses.fields(source)
    if unknown := set(omit) - {f.name for f in fields}:
        raise TypeError(f"omit names no field of {source.__name__}: {sorted(unknown)}")
    hints = typing.get_type_hints(source)
    return [
        FieldSpec(
            name=f.name,
            annotation=hints[f.name],
            description=f.metadata.get(DESCRIPTION),
            max_length=f.metadata.get(MAX_LENGTH),
            required=f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING,
        )
        for f in fields
        if f.name not in omit
    ]


def translate(
    annotation: Any, nested: Callable[[type], Any], where: str, *, dicts: bool = False
) -> Any:
    """``annotation`` with each dataclass in it replaced by ``nested(dataclass)``; ``list``,
    ``X | None`` and (when ``dicts``) ``dict`` are kept. Any other generic or ``Any`` is a
    ``TypeError`` naming ``where``: the facade must say that field's type."""
    if isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
        return nested(annotation)
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return functools.reduce(
            operator.or_, [translate(a, nested, where, dicts=dicts) for a in args]
        )
    if origin is list:
        return list[translate(args[0], nested, where, dicts=dicts)]  # type: ignore[misc]
    if origin is dict and dicts:
        return dict[args[0], translate(args[1], nested, where, dicts=dicts)]  # type: ignore[misc,valid-type]
    if origin is not None or annotation is Any:
        raise TypeError(f"{where}: {annotation!r} has no form here; declare the field's type")
    return annotation

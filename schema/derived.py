"""GraphQL types whose fields a service's dataclass declares, once.

``@mirrors(Source)`` under ``@strawberry.type`` (or ``@strawberry.input``) gives the class the
fields of the dataclass ``Source``, in its order, with its types: a nested dataclass becomes the
GraphQL type that mirrors it, ``list`` and ``| None`` are kept. The class body declares only what
GraphQL adds:

* ``name = strawberry.field(description=..., metadata=...)`` (no annotation): a description or the
  query-cost list size of a mirrored field; its type still comes from the dataclass;
* ``name: SomeType`` for a mirrored field: the GraphQL type says more than the Python one (an
  enum for a code string, ``strawberry.ID`` for an id);
* fields the dataclass has not, with a resolver (a link to the catalogue offer, a derived value).

A body entry that names no field of the dataclass and has no resolver is an error, as is a field
whose type cannot be mirrored (a ``dict``: give it a typed GraphQL field). So a field added to,
renamed in or dropped from a service result changes the GraphQL type with it, and the checked-in
SDL test shows the change. A field's ``metadata={"description": ...}`` on the dataclass is its
description on both facades unless the body gives one.

The resolvers return the service's dataclass instances as they are; Strawberry reads their
attributes. ``union_member=True`` lets such an instance stand for the type in a union.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import operator
import types
import typing
from collections.abc import Callable
from typing import Any, TypeVar

import strawberry
from strawberry.types.field import StrawberryField

T = TypeVar("T", bound=type)

#: Service dataclass → the GraphQL type mirroring it (nested fields map through this).
_MIRRORED: dict[type, type] = {}


def mirrors(
    source: type,
    *,
    omit: tuple[str, ...] = (),
    inputs: bool = False,
    union_member: bool = False,
) -> Callable[[T], T]:
    """Fill the decorated class's fields from ``source`` (see the module docstring).

    ``omit``: fields of ``source`` GraphQL does not show (named, so that is a decision).
    ``inputs=True`` (for ``@strawberry.input``): every field is optional, defaulting to null."""
    if not dataclasses.is_dataclass(source):
        raise TypeError(f"{source!r} is not a dataclass")

    def fill(cls: T) -> T:
        own: dict[str, Any] = dict(inspect.get_annotations(cls))
        hints = typing.get_type_hints(source)
        names = [f.name for f in dataclasses.fields(source)]
        if unknown := set(omit) - set(names):
            raise TypeError(f"omit names no field of {source.__name__}: {sorted(unknown)}")
        annotations: dict[str, Any] = {}
        for spec in dataclasses.fields(source):
            declared = cls.__dict__.get(spec.name)
            if spec.name in omit:
                continue
            if isinstance(declared, StrawberryField) and declared.base_resolver is not None:
                # A resolver computes this field (its type: the annotation or its return type).
                if spec.name in own:
                    annotations[spec.name] = own.pop(spec.name)
                continue
            if spec.name in own:
                annotations[spec.name] = own.pop(spec.name)
            else:
                graphql_type = graphql_type_of(hints[spec.name], f"{source.__name__}.{spec.name}")
                annotations[spec.name] = graphql_type | None if inputs else graphql_type
            _describe(cls, spec, declared, default_null=inputs)
        for name, value in cls.__dict__.items():
            unresolved = isinstance(value, StrawberryField) and value.base_resolver is None
            if unresolved and name not in names and name not in own:
                raise TypeError(f"{cls.__name__}.{name} is not a field of {source.__name__}")
        for name, annotation in own.items():
            value = cls.__dict__.get(name)
            if not (isinstance(value, StrawberryField) and value.base_resolver is not None):
                raise TypeError(
                    f"{cls.__name__}.{name} is not a field of {source.__name__} "
                    "(a GraphQL-only field needs a resolver)"
                )
            annotations[name] = annotation
        cls.__annotations__ = annotations
        if union_member:
            cls.is_type_of = classmethod(  # type: ignore[attr-defined]
                lambda _cls, obj, _info: isinstance(obj, (source, _cls))
            )
        if source in _MIRRORED:
            raise TypeError(f"{source.__name__} is mirrored twice")
        _MIRRORED[source] = cls
        return cls

    return fill


def _describe(
    cls: type, spec: dataclasses.Field[Any], declared: Any, *, default_null: bool
) -> None:
    """The dataclass field's description (and, for inputs, a null default) where the body gave
    none."""
    description = spec.metadata.get("description")
    if declared is None:
        if description is None and not default_null:
            return
        made = strawberry.field(description=description)
        if default_null:
            made.default = made.default_value = None
        setattr(cls, spec.name, made)
        return
    if isinstance(declared, StrawberryField) and declared.description is None:
        declared.description = description
    if (
        default_null
        and isinstance(declared, StrawberryField)
        and declared.default is dataclasses.MISSING
        and declared.default_factory is dataclasses.MISSING
    ):
        declared.default = declared.default_value = None


def graphql_type_of(annotation: Any, where: str) -> Any:
    """The GraphQL-side type of a dataclass field's type (nested dataclasses mirrored)."""
    if isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
        try:
            return _MIRRORED[annotation]
        except KeyError:
            raise TypeError(
                f"{where}: {annotation.__name__} has no GraphQL type yet (mirror it first)"
            ) from None
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        members = [graphql_type_of(arg, where) for arg in typing.get_args(annotation)]
        return functools.reduce(operator.or_, members)
    if origin is list:
        (item,) = typing.get_args(annotation)
        return list[graphql_type_of(item, where)]  # type: ignore[misc]
    if origin is not None or annotation is Any:
        raise TypeError(f"{where}: {annotation!r} has no GraphQL form; declare the field's type")
    return annotation

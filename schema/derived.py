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
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

import strawberry
from strawberry.types.field import StrawberryField

from apps.core.shapes import FieldSpec, field_specs, translate

T = TypeVar("T", bound=type)

#: Service dataclass → the GraphQL type mirroring it (nested fields map through this).
_MIRRORED: dict[type, type] = {}
_OMITTED: dict[type, frozenset[str]] = {}


def mirrored() -> list[tuple[type, type, frozenset[str]]]:
    """Every (service dataclass, GraphQL type, fields left out) pair, for the drift tests."""
    return [(source, cls, _OMITTED[source]) for source, cls in _MIRRORED.items()]


def mirrors(
    source: type,
    *,
    omit: tuple[str, ...] = (),
    inputs: bool = False,
    union_member: bool = False,
) -> Callable[[T], T]:
    """Fill the decorated class's fields from ``source`` (see the module docstring).

    ``omit``: fields of ``source`` GraphQL does not show (named, so that is a decision).
    ``inputs=True`` (for ``@strawberry.input``): a field with a default in the dataclass is
    optional and defaults to null; one without is required."""
    specs = field_specs(source, omit)

    def fill(cls: T) -> T:
        own: dict[str, Any] = dict(inspect.get_annotations(cls))
        names = {spec.name for spec in specs} | set(omit)
        annotations: dict[str, Any] = {}
        for spec in specs:
            declared = cls.__dict__.get(spec.name)
            if isinstance(declared, StrawberryField) and declared.base_resolver is not None:
                # A resolver computes this field (its type: the annotation or its return type).
                if spec.name in own:
                    annotations[spec.name] = own.pop(spec.name)
                continue
            optional = inputs and not spec.required
            if spec.name in own:
                annotations[spec.name] = own.pop(spec.name)
            else:
                where = f"{source.__name__}.{spec.name}"
                graphql_type = translate(spec.annotation, _mirror_of, where)
                annotations[spec.name] = graphql_type | None if optional else graphql_type
            _describe(cls, spec, declared, default_null=optional)
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
        _OMITTED[source] = frozenset(omit)
        return cls

    return fill


def _mirror_of(source: type) -> type:
    try:
        return _MIRRORED[source]
    except KeyError:
        raise TypeError(f"{source.__name__} has no GraphQL type yet (mirror it first)") from None


def _describe(cls: type, spec: FieldSpec, declared: Any, *, default_null: bool) -> None:
    """The dataclass field's description (and, for optional inputs, a null default) where the
    body gave none."""
    if declared is None:
        if spec.description is None and not default_null:
            return
        made = strawberry.field(description=spec.description)
        if default_null:
            made.default = made.default_value = None
        setattr(cls, spec.name, made)
        return
    if isinstance(declared, StrawberryField) and declared.description is None:
        declared.description = spec.description
    if (
        default_null
        and isinstance(declared, StrawberryField)
        and declared.default is dataclasses.MISSING
        and declared.default_factory is dataclasses.MISSING
    ):
        declared.default = declared.default_value = None

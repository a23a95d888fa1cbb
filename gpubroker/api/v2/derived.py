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

from collections.abc import Mapping
from typing import Any

from ninja import Field, Schema
from pydantic import create_model

from apps.core.shapes import field_specs, translate

#: Service dataclass → the REST schema derived from it (nested fields map through this).
_DERIVED: dict[type, type[Schema]] = {}
_OMITTED: dict[type, frozenset[str]] = {}


def derived_schemas() -> list[tuple[type, type[Schema], frozenset[str]]]:
    """Every (service dataclass, response schema, fields left out) triple, for the drift
    tests."""
    return [(source, model, _OMITTED[source]) for source, model in _DERIVED.items()]


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
    ``types_``: a field's REST type where it says more, e.g. a ``Literal``; ``optional``: a
    request's form — a field with a default in the dataclass may be absent or null and defaults
    to None, one without is required)."""
    specs = field_specs(source, omit)
    overrides = dict(types_ or {})
    if unknown := set(overrides) - {spec.name for spec in specs}:
        raise TypeError(f"{name}: no field {sorted(unknown)} in {source.__name__}")
    fields: dict[str, Any] = {}
    for spec in specs:
        where = f"{source.__name__}.{spec.name}"
        annotation = overrides.get(spec.name) or translate(
            spec.annotation, _schema_of, where, dicts=True
        )
        bounds: dict[str, Any] = {} if spec.max_length is None else {"max_length": spec.max_length}
        if optional and not spec.required:
            fields[spec.name] = (
                annotation | None,
                Field(None, description=spec.description, **bounds),
            )
        else:  # a response carries every field; a request must give this one
            fields[spec.name] = (annotation, Field(..., description=spec.description, **bounds))
    model = create_model(name, __base__=base, **fields)
    if not optional:
        if source in _DERIVED:
            raise TypeError(f"{source.__name__} has a REST schema already")
        _DERIVED[source] = model
        _OMITTED[source] = frozenset(omit)
    return model


def _schema_of(source: type) -> type[Schema]:
    try:
        return _DERIVED[source]
    except KeyError:
        raise TypeError(f"{source.__name__} has no REST schema yet (derive it first)") from None

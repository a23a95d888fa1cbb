"""Shapes declared once: the service dataclasses declare the fields, both facades are generated
from them, and these tests fail on any difference between the service and a facade.

* The offer-filter fields of GraphQL ``OfferFilter``, the REST query parameters of
  ``GET /api/v2/providers`` and the REST ``filter`` bodies are exactly ``OfferFilters``'s fields.
* Every GraphQL type mirroring a service result (``schema/derived.py``) and every REST response
  schema derived from one (``gpubroker/api/v2/derived.py``) has exactly that result's fields.
* The mirror refuses what would let a facade drift: a body entry naming no service field, a
  field with no typed form.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
import strawberry
from django.test import Client
from strawberry.types.base import StrawberryList, StrawberryOptional, get_object_definition

from apps.providers.offer_filters import OfferFilters
from gpubroker.api.v2 import derived as rest_derived
from gpubroker.api.v2.math_schemas import OfferFilterIn
from gpubroker.api.v2.providers import OfferFilterQuery, OfferQuery
from schema import derived as graphql_derived
from schema import schema

FILTERS = [f.name for f in dataclasses.fields(OfferFilters)]


@dataclass(frozen=True)
class Inner:
    value: Decimal


@dataclass(frozen=True)
class Result:
    """A service result that just gained a field (``added``)."""

    name: str
    inner: Inner | None
    items: list[Inner]
    added: int = field(default=0, metadata={"description": "A new statistic."})


@dataclass(frozen=True)
class Source:
    count: int
    blob: dict[str, int]


@dataclass(frozen=True)
class Outer:
    nested: Source


def _graphql_fields(type_name: str) -> dict[str, typing.Any]:
    definition = schema.get_type_by_name(type_name)
    return {f.python_name: f for f in definition.fields}  # type: ignore[union-attr]


def _is_list(annotation: typing.Any) -> bool:
    args = [a for a in typing.get_args(annotation) if a is not type(None)] or [annotation]
    return any(typing.get_origin(a) is list for a in args)


def test_offer_filter_fields_are_the_services_on_both_facades():
    graphql = _graphql_fields("OfferFilter")
    assert list(graphql) == FILTERS
    for model in (OfferFilterQuery, OfferQuery, OfferFilterIn):
        assert [name for name in model.model_fields if name in FILTERS] == FILTERS
    hints = typing.get_type_hints(OfferFilters)
    descriptions = {f.name: f.metadata.get("description") for f in dataclasses.fields(OfferFilters)}
    for name in FILTERS:
        rest = OfferFilterQuery.model_fields[name]
        # the same shape (a list or one value), always optional, and the same documentation
        assert _is_list(hints[name]) == _is_list(rest.annotation), name
        graphql_type = graphql[name].type
        assert isinstance(graphql_type, StrawberryOptional), name
        assert _is_list(hints[name]) == isinstance(graphql_type.of_type, StrawberryList), name
        assert graphql[name].default is None and rest.default is None, name
        assert graphql[name].description == descriptions[name] == rest.description, name


@pytest.mark.django_db
def test_every_filter_is_a_documented_rest_parameter(client: Client):
    spec = client.get("/api/v2/openapi.json").json()
    parameters = {p["name"] for p in spec["paths"]["/api/v2/providers"]["get"]["parameters"]}
    assert set(FILTERS) <= parameters


def test_mirrored_graphql_types_have_exactly_the_service_fields():
    pairs = graphql_derived.mirrored()
    assert len(pairs) >= 30  # KPI results, math results, OfferFilters
    for source, cls, omitted in pairs:
        service = {f.name for f in dataclasses.fields(source)} - omitted
        definition = get_object_definition(cls, strict=True)
        data_fields = {f.python_name for f in definition.fields if f.base_resolver is None}
        resolved = {f.python_name for f in definition.fields if f.base_resolver is not None}
        assert service <= data_fields | resolved, (cls.__name__, service - data_fields)
        assert data_fields <= service, (cls.__name__, data_fields - service)


def test_derived_rest_schemas_have_exactly_the_service_fields_and_match_graphql():
    rest = rest_derived.derived_schemas()
    assert len(rest) >= 15
    graphql = {source: cls for source, cls, _ in graphql_derived.mirrored()}
    for source, model, omitted in rest:
        service = [f.name for f in dataclasses.fields(source) if f.name not in omitted]
        assert list(model.model_fields) == service, model.__name__
        if source in graphql:  # the same result on both facades: the same fields
            definition = get_object_definition(graphql[source], strict=True)
            assert set(service) <= {f.python_name for f in definition.fields}, model.__name__


def test_a_service_field_reaches_both_facades_with_its_type_and_description():
    @strawberry.type
    @graphql_derived.mirrors(Inner)
    class InnerType:
        pass

    @strawberry.type
    @graphql_derived.mirrors(Result)
    class ResultType:
        pass

    fields = {f.python_name: f for f in ResultType.__strawberry_definition__.fields}  # type: ignore[attr-defined]
    assert list(fields) == ["name", "inner", "items", "added"]
    assert fields["added"].description == "A new statistic."
    assert fields["added"].type is int
    rest_inner = rest_derived.schema_of(Inner, name="InnerOut")
    rest = rest_derived.schema_of(Result, name="ResultOut")
    assert list(rest.model_fields) == ["name", "inner", "items", "added"]
    assert rest.model_fields["added"].description == "A new statistic."
    assert typing.get_args(rest.model_fields["items"].annotation) == (rest_inner,)
    out = rest.model_validate(Result("a", None, [Inner(Decimal("1.5"))], 3)).model_dump()
    assert out == {"name": "a", "inner": None, "items": [{"value": Decimal("1.5")}], "added": 3}


def test_the_mirror_refuses_what_would_let_a_facade_drift():
    with pytest.raises(TypeError, match="has no form here"):

        @graphql_derived.mirrors(Source)
        class Untyped:
            pass

    with pytest.raises(TypeError, match="renamed is not a field of Source"):

        @graphql_derived.mirrors(Source, omit=("blob",))
        class Stale:
            renamed = strawberry.field(description="left behind by a rename")

    with pytest.raises(TypeError, match="GraphQL-only field needs a resolver"):

        @graphql_derived.mirrors(Source, omit=("blob",))
        class StaleAnnotation:
            renamed: int

    with pytest.raises(TypeError, match="omit names no field"):
        graphql_derived.mirrors(Source, omit=("gone",))

    with pytest.raises(TypeError, match="no field"):
        rest_derived.schema_of(Source, name="SourceOut", types_={"gone": int})

    with pytest.raises(TypeError, match="has no REST schema yet"):
        rest_derived.schema_of(Outer, name="OuterOut")

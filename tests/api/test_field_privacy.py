"""Every GraphQL field says where it is declared whether it is public (catalogue data, the same
for every caller) or private (about the viewer); the response cache reads that
(``schema/privacy.py``)."""

from __future__ import annotations

import pytest
import strawberry

from graphql import parse
from schema import schema
from schema.permissions import IsAuthenticated
from schema.privacy import (
    PRIVATE,
    PUBLIC,
    document_is_public,
    public_fields_with_permissions,
    unmarked_fields,
)
from tests.graphql_client import operation_document, operation_names

GRAPHQL = schema._schema


def test_every_field_says_whether_it_is_public_or_private():
    assert unmarked_fields(GRAPHQL) == [], (
        "mark these at their declaration: directives=[PUBLIC] or [PRIVATE] on the type or field"
    )


def test_no_public_field_is_guarded_by_permissions():
    assert public_fields_with_permissions(GRAPHQL) == []


@strawberry.type(directives=[PUBLIC])
class ToyCatalogue:
    price: int
    secret: int = strawberry.field(permission_classes=[IsAuthenticated])


@strawberry.type
class ToyUnmarked:
    note: str
    fine: str = strawberry.field(directives=[PRIVATE])


@strawberry.type(directives=[PUBLIC])
class ToyQuery:
    catalogue: ToyCatalogue
    unmarked: ToyUnmarked


def test_the_checks_catch_an_unmarked_field_and_a_guarded_public_one():
    toy = strawberry.Schema(query=ToyQuery)._schema
    assert unmarked_fields(toy) == ["ToyUnmarked.note"]
    assert public_fields_with_permissions(toy) == ["ToyCatalogue.secret"]


PUBLIC_OPERATIONS = {
    "OfferSearch",
    "OfferSearchWithHistory",
    "OfferDetail",
    "ProviderList",
    "BenchmarkList",
    "BenchmarkDetail",
    "CostPerToken",
    "CostPerGflop",
    "EstimateWorkload",
}
PRIVATE_OPERATIONS = {"Me", "MySessions", "Invitations", "AuditLog", "IntegrationList"}


@pytest.mark.parametrize("name", sorted(PUBLIC_OPERATIONS | PRIVATE_OPERATIONS))
def test_named_operations_are_classified(name):
    assert name in operation_names()
    document = parse(operation_document(name))
    assert document_is_public(GRAPHQL, document, name) is (name in PUBLIC_OPERATIONS)


def test_mutations_are_never_public():
    for name in operation_names():
        text = operation_document(name)
        if text.lstrip().startswith("mutation"):
            assert not document_is_public(GRAPHQL, parse(text), name), name


@pytest.mark.parametrize(
    ("query", "public"),
    [
        ("{ offers { totalCount } }", True),
        ("{ offers { totalCount } me { email } }", False),  # one private field is enough
        ("{ __typename offers { edges { cursor node { id } } pageInfo { hasNextPage } } }", True),
        ("query A { offers { totalCount } } query B { me { email } }", False),  # ambiguous
        ("{ offer(id: 1) { ... on GPUOffer { id } ... on NotFoundError { message } } }", True),
        ("fragment F on Query { me { email } } { ...F }", False),  # through a fragment
        ("{ ...Missing }", False),  # unknown fragment: execution answers, nothing cached
        ("{ noSuchField }", False),
        ("{ __schema { queryType { name } } }", True),
    ],
)
def test_selections_are_public_only_when_every_field_is(query, public):
    assert document_is_public(GRAPHQL, parse(query), None) is public

"""Structural limits (schema/limits.py), counted after fragments are expanded."""

from __future__ import annotations

import json

import pytest
from django.conf import settings as django_settings
from graphql.language import OperationDefinitionNode, OperationType, TokenKind
from graphql.language.lexer import Lexer
from graphql.language.source import Source

from graphql import parse
from schema.limits import operation_shape
from schema.trusted_documents import operation_documents
from tests.graphql_client import OPERATIONS_DIR

pytestmark = pytest.mark.django_db


def gql(client, query, variables=None):
    body = {"query": query, "variables": variables or {}}
    response = client.post("/graphql/", data=json.dumps(body), content_type="application/json")
    return response.json()


def limit_error(body):
    assert body["data"] is None, body
    error = body["errors"][0]
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX", error
    extensions = dict(error["extensions"])
    assert extensions.pop("traceId")
    return extensions


def _tokens(text: str) -> int:
    lexer, count = Lexer(Source(text)), 0
    while lexer.advance().kind != TokenKind.EOF:
        count += 1
    return count


def test_project_operations_fit_every_limit_with_the_margin_documented():
    """The defaults sit just above what graphql/operations/ needs: a new operation that outgrows
    a limit fails here, naming the operation, so the limit is raised on purpose."""
    docs = [parse(p.read_text()) for p in sorted(OPERATIONS_DIR.glob("*.graphql"))]
    for name, text in operation_documents(docs).items():
        document = parse(text)
        operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
        shape = operation_shape(document, operation)
        assert shape.depth <= django_settings.GRAPHQL_MAX_DEPTH, name
        assert shape.aliases <= django_settings.GRAPHQL_MAX_ALIASES, name
        assert shape.directives <= django_settings.GRAPHQL_MAX_DIRECTIVES, name
        assert _tokens(text) <= django_settings.GRAPHQL_MAX_TOKENS, name
        if operation.operation == OperationType.MUTATION:
            assert shape.root_fields <= django_settings.GRAPHQL_MAX_ROOT_MUTATIONS, name


def test_twenty_aliased_workload_estimates_are_refused(client):
    """Issue: 20 aliases of estimateWorkload(limit: 200) ran 55 s and returned 38 MB."""
    fields = " ".join(
        f'e{i}: estimateWorkload(input: {{model: "llama-3-70b"}}, limit: 200) '
        "{ offers { offer { id provider { name } } } }"
        for i in range(20)
    )
    error = limit_error(gql(client, "{ " + fields + " }"))
    assert error["limit"] in ("aliases", "cost")


def test_aliases_hidden_in_fragments_are_counted(client, settings):
    settings.GRAPHQL_MAX_ALIASES = 3
    query = "{ ...F ...F } fragment F on Query { a: providers { name } b: providers { name } }"
    error = limit_error(gql(client, query))
    assert error == {"code": "QUERY_TOO_COMPLEX", "limit": "aliases", "maximum": 3, "actual": 4}


def test_depth_counts_through_fragments(client, settings):
    settings.GRAPHQL_MAX_DEPTH = 3
    query = (
        "{ offers(first: 1) { ...E } } "
        "fragment E on OfferConnection { edges { node { provider { name } } } }"
    )
    error = limit_error(gql(client, query))
    assert error["limit"] == "depth" and error["actual"] == 5


def test_exponential_fragments_are_summarised_not_walked(client, settings):
    # Each level spreads the next twice: 2**30 expanded aliases, answered at once.
    levels = 30
    parts = [f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels)]
    parts.append(f"fragment F{levels} on Query {{ x: providers {{ name }} }}")
    error = limit_error(gql(client, "{ ...F0 } " + " ".join(parts)))
    assert error["limit"] == "aliases" and error["actual"] == 2**levels


def test_too_many_root_mutations_are_refused(client):
    """Issue: one request with 100 aliased topsis mutations stored 100 runs."""
    from apps.math_core.models import RecommendationRun

    fields = " ".join(
        f"t{i}: topsis(input: {{criteria: []}}) {{ errors {{ message }} }}" for i in range(5)
    )
    error = limit_error(gql(client, "mutation { " + fields + " }"))
    assert error["limit"] in ("rootMutations", "aliases")
    assert RecommendationRun.objects.count() == 0


def test_root_mutations_limit_alone(client, settings):
    settings.GRAPHQL_MAX_ALIASES = 100
    fields = " ".join(f"l{i}: logout {{ errors {{ message }} }}" for i in range(4))
    error = limit_error(gql(client, "mutation { " + fields + " }"))
    assert error == {
        "code": "QUERY_TOO_COMPLEX",
        "limit": "rootMutations",
        "maximum": 3,
        "actual": 4,
    }


def test_directives_are_counted(client, settings):
    settings.GRAPHQL_MAX_DIRECTIVES = 2
    query = "{ providers { name @include(if: true) slug @skip(if: false) id @include(if: true) } }"
    assert limit_error(gql(client, query))["limit"] == "directives"


def test_token_limit_stops_the_parser(client, settings):
    settings.GRAPHQL_MAX_TOKENS = 50
    query = "{ providers { " + " ".join(["name"] * 60) + " } }"
    body = gql(client, query)
    assert body["data"] is None
    assert "tokens" in body["errors"][0]["message"]
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"


def test_introspection_depth_is_not_a_depth_violation(client, settings):
    from graphql import get_introspection_query

    settings.GRAPHQL_INTROSPECTION = True
    body = gql(client, get_introspection_query())
    assert "errors" not in body or not body["errors"], body.get("errors")
    assert body["data"]["__schema"]["queryType"]["name"] == "Query"

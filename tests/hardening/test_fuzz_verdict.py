"""The fuzzers' verdict (.ci/fuzz_hooks.py): what it drops is exactly the documented refusals,
never a server error, a masked INTERNAL_ERROR or a 4xx outside the listed unstated rules."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
from schemathesis.graphql.checks import GraphQLClientError, GraphQLServerError

HOOKS = Path(__file__).resolve().parents[2] / ".ci" / "fuzz_hooks.py"


@pytest.fixture(scope="module")
def hooks():
    spec = importlib.util.spec_from_file_location("fuzz_hooks_under_test", HOOKS)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def server_error(*codes):
    errors: list[Any] = [
        {"message": "m", "extensions": {"code": code} if code else {}} for code in codes
    ]
    return GraphQLServerError(operation="Query.offers", message="m", errors=errors)


def test_documented_graphql_refusals_are_not_failures(hooks):
    assert not hooks.graphql_failure_is_real(server_error("UNAUTHENTICATED"))
    assert not hooks.graphql_failure_is_real(server_error("VALIDATION_ERROR", "NOT_FOUND"))
    assert not hooks.graphql_failure_is_real(server_error("COST_LIMIT_EXCEEDED"))


def test_masked_unknown_or_missing_codes_are_failures(hooks):
    assert hooks.graphql_failure_is_real(server_error("INTERNAL_ERROR"))
    assert hooks.graphql_failure_is_real(server_error("VALIDATION_ERROR", "INTERNAL_ERROR"))
    assert hooks.graphql_failure_is_real(server_error(None))
    assert hooks.graphql_failure_is_real(server_error("SOMETHING_UNDOCUMENTED"))
    assert hooks.graphql_failure_is_real(server_error("SERVICE_UNAVAILABLE"))


def test_only_documented_refusals_and_the_oneof_limitation_are_dropped_from_client_errors(hooks):
    oneof: list[Any] = [
        {"message": "OneOf Input Object 'TopsisInput' must specify exactly one key."}
    ]
    other: list[Any] = [{"message": "Argument 'first' has invalid value 'x'."}]
    assert not hooks.graphql_failure_is_real(
        GraphQLClientError(operation="Mutation.topsis", message="m", errors=oneof)
    )
    assert hooks.graphql_failure_is_real(
        GraphQLClientError(operation="Query.offers", message="m", errors=other)
    )
    over_cap: list[Any] = [{"message": "m", "extensions": {"code": "COST_LIMIT_EXCEEDED"}}]
    invalid: list[Any] = [{"message": "m", "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"}}]
    assert not hooks.graphql_failure_is_real(
        GraphQLClientError(operation="Query.chatHistory", message="m", errors=over_cap)
    )
    assert hooks.graphql_failure_is_real(
        GraphQLClientError(operation="Query.offers", message="m", errors=invalid)
    )


def test_the_documented_codes_come_from_the_checked_in_schema(hooks):
    sdl = (HOOKS.parents[1] / "graphql" / "schema.graphql").read_text(encoding="utf-8")
    assert hooks.documented_error_codes(sdl) == hooks.DOCUMENTED_CODES
    assert "UNAUTHENTICATED" in hooks.DOCUMENTED_CODES
    assert "INTERNAL_ERROR" not in hooks.DOCUMENTED_CODES


def test_only_listed_unstated_rules_excuse_a_422(hooks):
    rule = hooks.unstated_rule
    assert rule("GET /api/v2/providers", 422, "VALIDATION_ERROR: vram_gb_min (5) must not exceed")
    assert rule("POST /api/v2/math/topsis", 422, "VALIDATION_ERROR: matrix must be a rectangular")
    # the same rule on another operation, another status, or another message: still a failure
    assert not rule("POST /api/v2/auth/register", 422, "VALIDATION_ERROR: matrix must be a rect")
    assert not rule("POST /api/v2/math/topsis", 400, "VALIDATION_ERROR: matrix must be a rect")
    assert not rule("GET /api/v2/providers", 422, "VALIDATION_ERROR: gpu_type must be 1-200")


def test_a_query_mutation_that_arrives_valid_is_not_an_accepted_negative(hooks):
    """Found by .ci/fuzz: ``provider_name`` (an array of strings) mutated into ``false`` is sent
    as ``?provider_name=false``, a valid one-name list on the wire."""
    import jsonschema_rs

    name = {
        "anyOf": [
            {"type": "array", "items": {"type": "string", "pattern": "[^ ]"}},
            {"type": "null"},
        ],
        "maxItems": 50,
    }
    schema = {
        "type": "object",
        "properties": {"provider_name": name, "page": {"type": "integer", "minimum": 1}},
    }
    valid = jsonschema_rs.validator_for(schema).is_valid
    properties = schema["properties"]
    # what the generator made is invalid; what arrived is a valid list of one name
    assert not valid({"provider_name": False})
    assert hooks.wire_query_is_valid(
        properties, {"provider_name": False}, {"provider_name": ["false"]}, valid
    )
    # a blank name is invalid on the wire too: the report stands
    assert not hooks.wire_query_is_valid(
        properties, {"provider_name": " "}, {"provider_name": [" "]}, valid
    )
    # a non-string parameter keeps its generated value (the server parses the text back)
    assert not hooks.wire_query_is_valid(properties, {"page": 0}, {"page": ["0"]}, valid)
    assert hooks.wire_query_is_valid(properties, {"page": 3}, {"page": ["3"]}, valid)

"""The WebSocket admission's schema-dependent checks come from the project wiring
(``gpubroker/asgi.py`` → ``schema/live_admission.py``), so ``apps.websocket_gateway`` never
imports the schema (the import-linter contract ``apps-below-facades`` holds without exception)."""

from __future__ import annotations

from apps.websocket_gateway import admission
from schema import live_admission
from schema.permissions import WS_USER_SCOPE_KEY


def test_the_consumer_and_the_resolvers_read_the_same_scope_key():
    assert admission.USER_SCOPE_KEY == WS_USER_SCOPE_KEY


def test_the_served_graphql_route_admits_with_the_trusted_document_and_cost_checks():
    from gpubroker.asgi import application

    router = application.application_mapping["websocket"]  # type: ignore[attr-defined]
    (graphql_route,) = [r for r in router.routes if "graphql" in str(r.pattern)]
    checks = graphql_route.callback.consumer_initkwargs["operation_checks"]
    assert checks[0] is live_admission.trusted_document_check
    assert checks[1].__qualname__ == "cost_check.<locals>.check"
    assert len(checks) == 2


def test_a_refusing_check_becomes_the_operations_error_with_its_code_and_extensions(settings):
    from graphql import parse

    settings.RATE_LIMIT_REQUESTS_ENABLED = False

    def refuse(operation: admission.Operation) -> admission.Refusal:
        assert operation.operation_name == "Q" and operation.variables == {"a": 1}
        return admission.Refusal("no", "SOME_CODE", {"limit": 3})

    query = "query Q { __typename }"
    payload = {"query": query, "operationName": "Q", "variables": {"a": 1}}
    error = admission.admit({"client": ("127.0.0.1", 1)}, parse(query), query, payload, (refuse,))
    assert error is not None
    assert error["message"] == "no"
    assert error["extensions"]["code"] == "SOME_CODE" and error["extensions"]["limit"] == 3
    assert admission.admit({}, parse(query), query, payload, ()) is None

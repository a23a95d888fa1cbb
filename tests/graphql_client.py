"""Runs the named operations of ``graphql/operations/*.graphql`` over real HTTP (Django's test
client through the GraphQL view), as a frontend would — each one executed with the fast field
path off and on and the two responses byte-compared (``tests/fast_path_differential.py``)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.test import Client
from graphql.language import FragmentDefinitionNode, OperationDefinitionNode, print_ast

from graphql import parse
from tests.fast_path_differential import differential_execution

OPERATIONS_DIR = Path(__file__).resolve().parent.parent / "graphql" / "operations"


@lru_cache(maxsize=1)
def _documents() -> tuple[dict[str, Any], dict[str, Any]]:
    operations: dict[str, Any] = {}
    fragments: dict[str, Any] = {}
    for path in sorted(OPERATIONS_DIR.glob("*.graphql")):
        for definition in parse(path.read_text()).definitions:
            if isinstance(definition, OperationDefinitionNode) and definition.name:
                operations[definition.name.value] = definition
            elif isinstance(definition, FragmentDefinitionNode):
                fragments[definition.name.value] = definition
    return operations, fragments


def operation_document(name: str) -> str:
    """The operation's text plus every fragment it (transitively) spreads."""
    operations, fragments = _documents()
    operation = operations[name]
    text = print_ast(operation)
    needed: list[str] = []
    pending = [text]
    while pending:
        chunk = pending.pop()
        for fragment_name, fragment in fragments.items():
            if f"...{fragment_name}" in chunk.replace(" ", "") and fragment_name not in needed:
                needed.append(fragment_name)
                pending.append(print_ast(fragment))
    return "\n".join([text, *(print_ast(fragments[n]) for n in needed)])


def operation_names() -> list[str]:
    return sorted(_documents()[0])


def post(
    client: Client,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str | None = None,
    operation_name: str | None = None,
) -> Any:
    """One GraphQL POST, executed once (no differential check): the raw response."""
    headers: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.post(
        "/graphql/",
        data=json.dumps(
            {"query": query, "variables": variables or {}, "operationName": operation_name}
        ),
        content_type="application/json",
        **headers,
    )


def execute(
    client: Client,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str | None = None,
    operation_name: str | None = None,
) -> dict[str, Any]:
    # Every operation runs with the fast field path off and on, byte-compared (see the module).
    with differential_execution():
        response = post(client, query, variables, token=token, operation_name=operation_name)
    assert response.status_code in (200, 400), response.content
    return response.json()


def run_operation(
    client: Client, name: str, variables: dict[str, Any] | None = None, **kwargs: Any
) -> dict[str, Any]:
    return execute(client, operation_document(name), variables, operation_name=name, **kwargs)

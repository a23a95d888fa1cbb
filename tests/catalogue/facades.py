"""Run one offer search through each facade and return the ids in order (and the total)."""

from __future__ import annotations

from typing import Any

from tests.graphql_client import run_operation


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def graphql_filter(params: dict[str, Any]) -> dict[str, Any]:
    """REST filter parameters → the GraphQL ``OfferFilter`` input (enum values by name)."""
    converted: dict[str, Any] = {}
    for name, value in params.items():
        if name == "vendor":
            value = value.upper()
        elif name == "availability":
            value = [item.upper() for item in value]
        converted[camel(name)] = value
    return converted


def rest_ids(client, params: dict[str, Any]) -> tuple[list[str], int]:
    response = client.get("/api/v2/providers", {"per_page": 100, **params})
    assert response.status_code == 200, response.content
    body = response.json()
    return [item["id"] for item in body["items"]], body["total"]


def graphql_ids(client, variables: dict[str, Any]) -> tuple[list[str], int]:
    data = run_operation(client, "OfferSearch", {"first": 100, **variables})
    assert "errors" not in data, data
    connection = data["data"]["offers"]
    return [edge["node"]["id"] for edge in connection["edges"]], connection["totalCount"]

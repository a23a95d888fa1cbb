"""GraphQL over HTTP is served by strawberry's *sync* Django view (see gpubroker/urls.py): one
thread per request runs the whole operation. These tests keep that choice safe."""

from __future__ import annotations

from typing import Any

import pytest
from strawberry.types.base import StrawberryObjectDefinition

from schema import schema
from tests.graphql_client import execute


def test_no_query_or_mutation_field_has_an_async_resolver():
    subscription = schema.subscription.__name__ if schema.subscription else None
    async_fields = [
        f"{definition.name}.{field.python_name}"
        for graphql_type in schema.schema_converter.type_map.values()
        if isinstance(definition := graphql_type.definition, StrawberryObjectDefinition)
        and definition.origin.__name__ != subscription
        for field in definition.fields
        if field.is_async
    ]
    assert async_fields == [], "the sync GraphQL view cannot run async resolvers"


@pytest.mark.django_db
def test_resolvers_see_the_django_request(client, rf):
    # Auth (issue 3) reads the Authorization header from info.context.request.
    from schema.http_view import GatewayGraphQLView

    view = GatewayGraphQLView(schema=schema)
    request = rf.post("/graphql/", HTTP_AUTHORIZATION="Bearer x")
    context: Any = view.get_context(request, response=None)  # type: ignore[arg-type]
    assert context.request is request
    assert context.request.headers["Authorization"] == "Bearer x"
    response = execute(client, "{ providers { name } }")
    assert response["data"] == {"providers": []}
    assert response["extensions"]["cost"]["requested"] == 22  # schema/cost.py

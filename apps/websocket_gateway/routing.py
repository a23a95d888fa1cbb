"""WebSocket routes: GraphQL subscriptions at ``/graphql/``, the legacy price feed at ``/ws/``."""

from collections.abc import Sequence

from django.urls import URLPattern, re_path
from strawberry.schema.base import BaseSchema

from .admission import OperationCheck
from .consumers import GraphQLPriceConsumer, PriceFeedConsumer


def websocket_urlpatterns(
    schema: BaseSchema, operation_checks: Sequence[OperationCheck] = ()
) -> list[URLPattern]:
    """The routes, serving ``schema`` and admitting operations with ``operation_checks`` after
    the rate limit (both given by the project wiring; apps never import the schema)."""
    consumer = GraphQLPriceConsumer.as_asgi(schema=schema, operation_checks=tuple(operation_checks))
    return [
        re_path(r"^graphql/?$", consumer),
        re_path(r"^ws/?$", PriceFeedConsumer.as_asgi()),
    ]

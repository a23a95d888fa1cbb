"""WebSocket routes: GraphQL subscriptions at ``/graphql/``, the legacy price feed at ``/ws/``."""

from django.urls import URLPattern, re_path
from strawberry.schema.base import BaseSchema

from .consumers import GraphQLPriceConsumer, PriceFeedConsumer


def websocket_urlpatterns(schema: BaseSchema) -> list[URLPattern]:
    """The routes, serving ``schema`` (given by the project wiring; apps never import it)."""
    return [
        re_path(r"^graphql/?$", GraphQLPriceConsumer.as_asgi(schema=schema)),
        re_path(r"^ws/?$", PriceFeedConsumer.as_asgi()),
    ]

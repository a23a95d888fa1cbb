"""WebSocket routes: GraphQL subscriptions at ``/graphql/``, the legacy price feed at ``/ws/``."""

from django.urls import re_path

from .consumers import GraphQLPriceConsumer, PriceFeedConsumer

websocket_urlpatterns = [
    re_path(r"^graphql/?$", GraphQLPriceConsumer.as_asgi()),
    re_path(r"^ws/?$", PriceFeedConsumer.as_asgi()),
]

"""WebSocket routes: GraphQL subscriptions at ``/graphql/``."""

from django.urls import re_path
from strawberry.channels import GraphQLWSConsumer
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from schema import schema

websocket_urlpatterns = [
    re_path(
        r"^graphql/?$",
        GraphQLWSConsumer.as_asgi(
            schema=schema, subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,)
        ),
    ),
]

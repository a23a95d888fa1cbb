"""The GraphQL context, typed: what resolvers receive as ``info.context``.

Over HTTP (``strawberry.django.views.GraphQLView``) it is a ``StrawberryDjangoContext`` whose
``request`` is the Django ``HttpRequest`` (the middleware cached the principal and the rate-limit
verdict on it); over WebSocket it is the consumer's ``LiveContext`` whose ``request`` is the
consumer (``scope["gpubroker_user"]`` holds the connection's user). Annotate resolvers with
:data:`Info` and read the request with :func:`request_of`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias

import strawberry
from django.http import HttpRequest

if TYPE_CHECKING:  # the consumer module imports schema modules: no import at run time
    from strawberry.django.context import StrawberryDjangoContext

    from apps.websocket_gateway.consumers.graphql import GraphQLPriceConsumer, LiveContext

    Context: TypeAlias = StrawberryDjangoContext | LiveContext
    Info: TypeAlias = strawberry.Info[Context, None]
else:
    Context = Any
    Info = strawberry.Info[Any, None]


def request_of(context: Context | dict[str, Any]) -> HttpRequest | GraphQLPriceConsumer | None:
    """The HTTP request or the WebSocket consumer of ``context`` (a plain dict context, as tests
    executing the schema directly pass, is accepted too)."""
    if isinstance(context, dict):
        return context.get("request")
    return context.request

"""WebSocket consumers: GraphQL subscriptions (``/graphql/``), legacy price feed (``/ws/``)."""

from .graphql import GraphQLPriceConsumer
from .legacy import PriceFeedConsumer

__all__ = ["GraphQLPriceConsumer", "PriceFeedConsumer"]

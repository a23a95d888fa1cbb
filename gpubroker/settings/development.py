"""Local development: DEBUG on by default, everything embedded unless configured."""

from .base import *  # noqa: F403
from .env import env_bool

DEBUG = env_bool("DEBUG", True)
# GraphiQL cannot send a connection_init token: let it subscribe without one, and show live demo
# prices (both off everywhere else).
WS_ALLOW_ANONYMOUS = env_bool("WS_ALLOW_ANONYMOUS", True)
DEMO_TICKER = env_bool("DEMO_TICKER", True)
# Hardened public API (issue 11): the schema explorer's conveniences, on in development only.
GRAPHQL_GRAPHIQL = env_bool("GRAPHQL_GRAPHIQL", True)
GRAPHQL_INTROSPECTION = env_bool("GRAPHQL_INTROSPECTION", True)
GRAPHQL_FIELD_SUGGESTIONS = env_bool("GRAPHQL_FIELD_SUGGESTIONS", True)

"""Local development: DEBUG on by default, everything embedded unless configured."""

from .base import *  # noqa: F403
from .env import env_bool, env_float, env_str

DEBUG = env_bool("DEBUG", True)
# GraphiQL cannot send a connection_init token: let it subscribe without one, and show live demo
# prices (both off everywhere else).
WS_ALLOW_ANONYMOUS = env_bool("WS_ALLOW_ANONYMOUS", True)
DEMO_TICKER = env_bool("DEMO_TICKER", True)

# The demo ticker writes about 47,000 price-history rows an hour: keep 6 h raw, 2 days hourly and
# 90 days daily, and let the ticker compact and update the price index every few minutes
# (apps/kpi/demo.py), so a long-running demo stays bounded.
PRICE_HISTORY_RAW_DAYS = env_float("PRICE_HISTORY_RAW_DAYS", 0.25)
PRICE_HISTORY_HOURLY_DAYS = env_float("PRICE_HISTORY_HOURLY_DAYS", 2.0)
PRICE_HISTORY_DAILY_DAYS = env_float("PRICE_HISTORY_DAILY_DAYS", 90.0)
DEMO_TICKER_FUNCTION = env_str("DEMO_TICKER_FUNCTION", "apps.kpi.demo.demo_tick")
DEMO_MAINTENANCE_SECONDS = env_float("DEMO_MAINTENANCE_SECONDS", 300.0)

# Hardened public API (issue 11): the schema explorer's conveniences, on in development only.
GRAPHQL_GRAPHIQL = env_bool("GRAPHQL_GRAPHIQL", True)
GRAPHQL_INTROSPECTION = env_bool("GRAPHQL_INTROSPECTION", True)
GRAPHQL_FIELD_SUGGESTIONS = env_bool("GRAPHQL_FIELD_SUGGESTIONS", True)

"""Local development: DEBUG on by default, everything embedded unless configured."""

from .base import *  # noqa: F403
from .env import env_bool

DEBUG = env_bool("DEBUG", True)
# GraphiQL cannot send a connection_init token: let it subscribe without one, and show live demo
# prices (both off everywhere else).
WS_ALLOW_ANONYMOUS = env_bool("WS_ALLOW_ANONYMOUS", True)
DEMO_TICKER = env_bool("DEMO_TICKER", True)

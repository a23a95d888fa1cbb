"""Test settings: fast password hashing is NOT used (auth tests must exercise the real hasher)."""

from .base import *  # noqa: F403
from .env import env_bool

DEBUG = False
# When set (CI's PostgreSQL + Redis run), tests that need those servers fail instead of skipping.
REQUIRE_SERVICES = env_bool("REQUIRE_SERVICES", False)
LOGGING["root"]["level"] = "WARNING"  # type: ignore[index]  # noqa: F405

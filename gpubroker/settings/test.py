"""Test settings: fast password hashing is NOT used (auth tests must exercise the real hasher)."""

from .base import *  # noqa: F403
from .env import env_bool

DEBUG = False
# When set (CI's PostgreSQL + Redis run), tests that need those servers fail instead of skipping.
REQUIRE_SERVICES = env_bool("REQUIRE_SERVICES", False)
LOGGING["root"]["level"] = "WARNING"  # type: ignore[index]  # noqa: F405
# The general request limits would make unrelated tests that fire bursts of requests from
# 127.0.0.1 depend on timing; the rate-limit tests switch them on with override_settings.
# Sign-in brute-force limits stay on.
RATE_LIMIT_REQUESTS_ENABLED = False

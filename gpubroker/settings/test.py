"""Test settings: fast password hashing is NOT used (auth tests must exercise the real hasher)."""

from .base import *  # noqa: F403
from .env import VAR_DIR, env_bool

DEBUG = False
# When set (CI's PostgreSQL + Redis run), tests that need those servers fail instead of skipping.
REQUIRE_SERVICES = env_bool("REQUIRE_SERVICES", False)
LOGGING["root"]["level"] = "WARNING"  # type: ignore[index]  # noqa: F405
# A file, not SQLite's shared-memory default, so server processes started by the live WebSocket
# tests (daphne, management commands) open the same test database.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-gpubroker.sqlite3")}  # noqa: F405

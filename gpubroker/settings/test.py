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
# The general request limits would make unrelated tests that fire bursts of requests from
# 127.0.0.1 depend on timing; the rate-limit tests switch them on with override_settings.
# Sign-in brute-force limits stay on.
RATE_LIMIT_REQUESTS_ENABLED = False
# Static files straight from the apps' static folders (no collectstatic before tests); the
# compressed manifest storage of the other settings is tested by tests/web/test_static_files.py.
STORAGES = dict(STORAGES)  # noqa: F405
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
WHITENOISE_USE_FINDERS = True
# The GraphQL response cache (schema/response_cache.py) is off unless a test turns it on: tests
# that change rows through the ORM (not a sync) would otherwise read their own earlier answer.
GRAPHQL_RESPONSE_CACHE_SECONDS = 0

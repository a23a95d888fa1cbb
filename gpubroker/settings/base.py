"""Settings common to every environment. Everything that differs per deployment comes from the
environment (see README for the table of variables)."""

from __future__ import annotations

from typing import Any

import dj_database_url

from .env import BASE_DIR, VAR_DIR, env_bool, env_float, env_int, env_list, env_str

SECRET_KEY = env_str("SECRET_KEY", "insecure-development-key-change-me") or ""
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "channels",
    "strawberry_django",
    "apps.auth_app",
    "apps.providers",
    "apps.kpi",
    "apps.math_core",
    "apps.ai_assistant",
    "apps.websocket_gateway",
]

MIDDLEWARE = [
    "gpubroker.observability.TraceIdMiddleware",
    # Every error response under /api/v2/ is the D9 envelope (gpubroker/api/v2/envelope.py).
    "gpubroker.api.v2.envelope.ApiErrorEnvelopeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "apps.auth_app.middleware.ApiRequestMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "gpubroker.urls"
WSGI_APPLICATION = "gpubroker.wsgi.application"
ASGI_APPLICATION = "gpubroker.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database: DATABASE_URL, or a SQLite file under the git-ignored var/
# HTTP under ASGI (gpubroker/http_handler.py): the most long-lived threads a process runs its
# requests' sync middleware chain and views on (reused, started as concurrency needs them);
# 0 = no bound, so requests waiting on a database that is down never hold up the others.
HTTP_WORKER_THREADS = env_int("HTTP_WORKER_THREADS", 0)

DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Under ASGI each request runs its sync code in a thread of its own, so per-thread
        # persistent connections (CONN_MAX_AGE) leak one connection per request until PostgreSQL
        # refuses clients. A process-wide psycopg pool reuses them instead.
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": env_int("DB_POOL_MIN_SIZE", 2),
            "max_size": env_int("DB_POOL_MAX_SIZE", 20),
            # A request waiting for a connection holds its process's request thread: while the
            # database is down, answer 503 after this long instead of queueing everything behind.
            "timeout": env_float("DB_POOL_TIMEOUT", 3),
            # After a database restart: give up a reconnection attempt after this long so the
            # next request starts a fresh one (psycopg's doubling backoff would otherwise wait up
            # to the outage's length again) ...
            "reconnect_timeout": env_float("DB_POOL_RECONNECT_TIMEOUT", 3),
        }
        # ... and hand out only pooled connections that answer (psycopg's check_connection).
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / "gpubroker.sqlite3"),
        }
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Concurrent writers on the embedded default (issue 11): WAL lets readers run beside the one
    # writer; BEGIN IMMEDIATE takes the write lock when a transaction starts, so the busy
    # timeout applies (a deferred transaction that reads, then writes, gets SQLITE_BUSY at once
    # instead of waiting: "database is locked" in milliseconds). Also for DATABASE_URL=sqlite://.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": env_int("SQLITE_BUSY_TIMEOUT", 20),
            "transaction_mode": env_str("SQLITE_TRANSACTION_MODE", "IMMEDIATE"),
            "init_command": env_str(
                "SQLITE_INIT_COMMAND", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL"
            ),
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and channel layer: Redis when REDIS_URL is set, in-process otherwise
REDIS_URL = env_str("REDIS_URL")
CACHES: dict[str, dict[str, Any]]
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "v2",
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "SOCKET_CONNECT_TIMEOUT": 2,
                "SOCKET_TIMEOUT": 2,
            },
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [REDIS_URL],
                # channels-redis silently drops past a channel's capacity (default 100) and expires
                # group membership after a day: both are sized deliberately here.
                "capacity": env_int("CHANNEL_CAPACITY", 2000),
                "expiry": 60,
                "group_expiry": 7 * 24 * 3600,
            },
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "gpubroker",
            "KEY_PREFIX": "v2",
        }
    }
    # Per process only: fine for one server; scale-out needs REDIS_URL (see README).
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            "CONFIG": {"capacity": env_int("CHANNEL_CAPACITY", 2000)},
        }
    }

AUTH_USER_MODEL = "auth_app.User"
# passlib argon2id (parameters and their floor in apps/auth_app/hashers.py); the others only verify
# hashes made before (Django's own argon2/PBKDF2) and upgrade them on the next sign-in.
PASSWORD_HASHERS = [
    "apps.auth_app.hashers.PasslibArgon2PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = str(VAR_DIR / "static")

# --- Offer search cache (apps/providers/offer_cache.py): page ids + totals, seconds; 0 = off
OFFER_CACHE_SECONDS = env_int("OFFER_CACHE_SECONDS", 30)

# --- KPIs, price index and price-history retention (apps/kpi; README "Market intelligence")
PRICE_HISTORY_RAW_DAYS = env_float("PRICE_HISTORY_RAW_DAYS", 35.0)  # raw rows kept, then hourly
PRICE_HISTORY_HOURLY_DAYS = env_float("PRICE_HISTORY_HOURLY_DAYS", 180.0)  # hourly, then daily
PRICE_HISTORY_DAILY_DAYS = env_float("PRICE_HISTORY_DAILY_DAYS", 0.0)  # 0: daily kept for ever
PRICE_HISTORY_COMPACTION_BATCH = env_int("PRICE_HISTORY_COMPACTION_BATCH", 2000)  # offers/txn
KPI_CACHE_SECONDS = env_int("KPI_CACHE_SECONDS", 60)  # under the catalogue version; 0 = off
KPI_STALE_PROVIDER_HOURS = env_float("KPI_STALE_PROVIDER_HOURS", 2.0)  # freshness flag
KPI_STALE_OFFER_HOURS = env_float("KPI_STALE_OFFER_HOURS", 6.0)  # STALE anomaly flag
KPI_ANOMALY_THRESHOLD = env_float("KPI_ANOMALY_THRESHOLD", 3.5)  # robust z (MAD × 1.4826)
KPI_ANOMALY_MIN_FACTOR = env_float("KPI_ANOMALY_MIN_FACTOR", 2.0)  # and ≥ ×2 / ≤ ×½ the median
KPI_ANOMALY_MIN_PEERS = env_int("KPI_ANOMALY_MIN_PEERS", 5)  # smaller groups: no price flags
KPI_INSIGHT_LIMIT = env_int("KPI_INSIGHT_LIMIT", 10)  # rows per market-insights list
KPI_INDEX_BACKFILL_DAYS = env_int("KPI_INDEX_BACKFILL_DAYS", 30)  # first index update
KPI_SYNC_WINDOW_DAYS = env_float("KPI_SYNC_WINDOW_DAYS", 7.0)  # provider sync success rate
# PostgreSQL: an uncached KPI answer reads the market and the past states on two connections at once
KPI_PARALLEL_READS = env_bool("KPI_PARALLEL_READS", True)

# --- Request limits
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("MAX_REQUEST_BYTES", 1_048_576)

CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS", [])

# --- Live prices over WebSocket (apps/websocket_gateway; README "Live prices")
# Browser origins allowed to open WebSockets ("*" = any). Same-origin pages are always allowed;
# clients that send no Origin header (non-browser) are allowed: they must still authenticate.
WS_ALLOWED_ORIGINS = env_list("WS_ALLOWED_ORIGINS", [])
# Connections without a token: refused (4401) unless this is on (development default, for GraphiQL).
WS_ALLOW_ANONYMOUS = env_bool("WS_ALLOW_ANONYMOUS", False)
WS_ANONYMOUS_LIMIT = env_int("WS_ANONYMOUS_LIMIT", 20)  # open anonymous connections per client IP
WS_MAX_SUBSCRIPTIONS_PER_CONNECTION = env_int("WS_MAX_SUBSCRIPTIONS_PER_CONNECTION", 10)
WS_CONNECTION_INIT_TIMEOUT = env_float("WS_CONNECTION_INIT_TIMEOUT", 10.0)
WS_HEARTBEAT_SECONDS = env_float("WS_HEARTBEAT_SECONDS", 30.0)  # legacy /ws/ heartbeat
# A server process that dies without closing frees its connections' slots after this TTL.
WS_PRESENCE_TTL_SECONDS = env_float("WS_PRESENCE_TTL_SECONDS", 60.0)
WS_PUBLISH_BATCH_SIZE = env_int("WS_PUBLISH_BATCH_SIZE", 200)  # price changes per channel message
# Development demo: a task in the ASGI process moves sample-data prices every few seconds.
DEMO_TICKER = env_bool("DEMO_TICKER", False)
DEMO_TICKER_INTERVAL = env_float("DEMO_TICKER_INTERVAL", 3.0)
DEMO_TICKER_FUNCTION = env_str("DEMO_TICKER_FUNCTION", "apps.providers.services.replay_demo_tick")

# --- Tokens and secrets (apps/auth_app/keys.py reads the key variables; README lists them)
GPUBROKER_VAR_DIR = VAR_DIR
#: Development and test generate the JWT key pair and the field-encryption key into var/ when the
#: variables are unset; production sets this False and loads (and checks) them at start-up.
GPUBROKER_GENERATE_DEV_KEYS = True
JWT_KEYSET = None  # loaded lazily from JWT_PRIVATE_KEY / JWT_PUBLIC_KEYS (or var/ in development)
FIELD_ENCRYPTION_KEYS: list[str] | None = None  # same, from FIELD_ENCRYPTION_KEYS
JWT_ISSUER = env_str("JWT_ISSUER", "gpubroker") or ""
JWT_AUDIENCE = env_str("JWT_AUDIENCE", "gpubroker-api") or ""
JWT_ACCESS_TOKEN_LIFETIME = env_int("JWT_ACCESS_TOKEN_LIFETIME", 15 * 60)
JWT_REFRESH_TOKEN_LIFETIME = env_int("JWT_REFRESH_TOKEN_LIFETIME", 14 * 24 * 3600)
JWT_MFA_CHALLENGE_LIFETIME = env_int("JWT_MFA_CHALLENGE_LIFETIME", 5 * 60)
JWT_LEEWAY_SECONDS = env_int("JWT_LEEWAY_SECONDS", 10)
JWT_MAX_TOKEN_BYTES = env_int("JWT_MAX_TOKEN_BYTES", 4096)
INVITATION_LIFETIME = env_int("INVITATION_LIFETIME", 7 * 24 * 3600)

# --- Rate limits (apps/auth_app/ratelimit.py, library `limits`): storage is Redis when REDIS_URL
# is set (shared by every process), process memory otherwise.
RATE_LIMIT_ENABLED = env_bool("RATE_LIMIT_ENABLED", True)
#: The general per-tenant / per-IP request limits (sign-in limits follow RATE_LIMIT_ENABLED).
RATE_LIMIT_REQUESTS_ENABLED = env_bool("RATE_LIMIT_REQUESTS_ENABLED", True)
RATE_LIMIT_STORAGE_URI = env_str("RATE_LIMIT_STORAGE_URI", REDIS_URL or "memory://") or ""
RATE_LIMIT_ANONYMOUS_RPS = env_int("RATE_LIMIT_ANONYMOUS_RPS", 5)
#: Sign-in throttling (README "Sign-in throttling"): failures of one account from one source
#: refuse that pair; failures from one source refuse it for every account; failures of one
#: account from all sources make each failing source wait (429 + Retry-After, whole seconds)
#: before its next attempt on it; a source that has not been failing is never refused.
RATE_LIMIT_LOGIN_PER_ACCOUNT_SOURCE = (
    env_str("RATE_LIMIT_LOGIN_PER_ACCOUNT_SOURCE", "10/15minutes") or ""
)
RATE_LIMIT_LOGIN_PER_ACCOUNT = env_str("RATE_LIMIT_LOGIN_PER_ACCOUNT", "10/15minutes") or ""
RATE_LIMIT_LOGIN_DELAY_BASE = env_int("RATE_LIMIT_LOGIN_DELAY_BASE", 1)
RATE_LIMIT_LOGIN_DELAY_MAX = env_int("RATE_LIMIT_LOGIN_DELAY_MAX", 30)
RATE_LIMIT_LOGIN_PER_IP = env_str("RATE_LIMIT_LOGIN_PER_IP", "50/15minutes") or ""
RATE_LIMIT_MFA_PER_ACCOUNT = env_str("RATE_LIMIT_MFA_PER_ACCOUNT", "10/15minutes") or ""
#: How many reverse proxies (nginx) append to X-Forwarded-For in front of the app; 0 trusts none.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

# --- GraphQL
STRAWBERRY_DJANGO = {
    "FIELD_DESCRIPTION_FROM_HELP_TEXT": True,
    "TYPE_DESCRIPTION_FROM_MODEL_DOCSTRING": True,
    "MUTATIONS_DEFAULT_HANDLE_ERRORS": True,
}

# --- Hardened public API (issue 11): schema/http_view.py, schema/limits.py, schema/cost.py,
# schema/trusted_documents.py. Production defaults: everything that helps an attacker map the
# schema is off unless turned on (development turns them on).
GRAPHQL_GRAPHIQL = env_bool("GRAPHQL_GRAPHIQL", False)
GRAPHQL_INTROSPECTION = env_bool("GRAPHQL_INTROSPECTION", False)
GRAPHQL_FIELD_SUGGESTIONS = env_bool("GRAPHQL_FIELD_SUGGESTIONS", False)
#: off | audit | enforce (schema/trusted_documents.py); production defaults to audit.
GRAPHQL_TRUSTED_DOCUMENTS = env_str("GRAPHQL_TRUSTED_DOCUMENTS", "off") or "off"
# Structural limits (schema/limits.py), counted after fragments are expanded; each default sits
# just above what graphql/operations/ needs (a test measures them).
GRAPHQL_MAX_DEPTH = env_int("GRAPHQL_MAX_DEPTH", 10)
GRAPHQL_MAX_ALIASES = env_int("GRAPHQL_MAX_ALIASES", 10)
GRAPHQL_MAX_ROOT_MUTATIONS = env_int("GRAPHQL_MAX_ROOT_MUTATIONS", 3)
GRAPHQL_MAX_TOKENS = env_int("GRAPHQL_MAX_TOKENS", 1000)
GRAPHQL_MAX_DIRECTIVES = env_int("GRAPHQL_MAX_DIRECTIVES", 10)
# Query cost (schema/cost.py): scalars 0, objects 1, lists 2 + size x item, mutations 10.
GRAPHQL_COST_MAX_PER_OPERATION = env_int("GRAPHQL_COST_MAX_PER_OPERATION", 1000)
GRAPHQL_COST_MUTATION = env_int("GRAPHQL_COST_MUTATION", 10)
#: Budget per client (tenant / user / anonymous IP): its request rate x this, points per second,
#: holding GRAPHQL_COST_BUDGET_WINDOW seconds of it (follows RATE_LIMIT_REQUESTS_ENABLED).
GRAPHQL_COST_POINTS_PER_REQUEST = env_int("GRAPHQL_COST_POINTS_PER_REQUEST", 50)
GRAPHQL_COST_BUDGET_WINDOW = env_int("GRAPHQL_COST_BUDGET_WINDOW", 10)
#: A WebSocket result frame larger than this becomes an error message (daphne drops frames of
#: 1 MiB and more without a word).
WS_MAX_MESSAGE_BYTES = env_int("WS_MAX_MESSAGE_BYTES", 1_000_000)
GRAPHQL_OPERATIONS_DIR = str(BASE_DIR / "graphql" / "operations")
GRAPHQL_TRUSTED_DOCUMENTS_MANIFEST = (
    env_str("GRAPHQL_TRUSTED_DOCUMENTS_MANIFEST", str(VAR_DIR / "trusted-documents.json")) or ""
)

# --- Logging: one JSON object per line, with the request's trace id
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"trace_id": {"()": "gpubroker.observability.TraceIdFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s %(trace_id)s",
            "rename_fields": {"asctime": "timestamp", "levelname": "level", "name": "logger"},
            "static_fields": {"service": "gpubroker"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["trace_id"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.request": {"level": "ERROR", "propagate": True},
        "daphne": {"level": "WARNING", "propagate": True},
        "httpx": {"level": "WARNING", "propagate": True},  # one INFO line per provider request
    },
}

# --- Browser and operations surface (issue 17): landing page and GraphiQL assets (gpubroker.web),
# Swagger UI from django-ninja's own static files, static files served by the app (whitenoise:
# compressed, content-hashed), Prometheus metrics at /metrics (gpubroker/metrics.py).
from whitenoise.compress import Compressor  # noqa: E402

INSTALLED_APPS += ["ninja", "django_prometheus", "gpubroker.web"]
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
    "gpubroker.web.static_files.WhiteNoiseMiddleware",
)
MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    *MIDDLEWARE,
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "gpubroker.web.static_files.StaticFilesStorage"},
}
# Only the content-hashed copies are kept (and gzipped); source maps are served as they are.
WHITENOISE_KEEP_ONLY_HASHED_FILES = True
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = (*Compressor.SKIP_COMPRESS_EXTENSIONS, "map")
#: /metrics answers only ``Authorization: Bearer <METRICS_TOKEN>`` when set; unset: DEBUG only.
METRICS_TOKEN = env_str("METRICS_TOKEN", "") or ""
METRICS_MAX_OPERATION_NAMES = env_int("METRICS_MAX_OPERATION_NAMES", 200)

# --- AI assistant (apps/ai_assistant; README "AI assistant"). Remote mode when AI_AGENT_BASE_URL
# and AI_AGENT_MODEL are set (any OpenAI-compatible /chat/completions server); local otherwise.
AI_AGENT_BASE_URL = env_str("AI_AGENT_BASE_URL", "") or ""
AI_AGENT_MODEL = env_str("AI_AGENT_MODEL", "") or ""
AI_AGENT_API_KEY = env_str("AI_AGENT_API_KEY", "") or ""
AI_AGENT_TIMEOUT_SECONDS = env_float("AI_AGENT_TIMEOUT_SECONDS", 30.0)  # one HTTP call, read
AI_AGENT_CONNECT_TIMEOUT_SECONDS = env_float("AI_AGENT_CONNECT_TIMEOUT_SECONDS", 3.0)
AI_AGENT_RETRIES = env_int("AI_AGENT_RETRIES", 2)  # retries after the first try (429/5xx/timeouts)
AI_AGENT_BACKOFF_SECONDS = env_float("AI_AGENT_BACKOFF_SECONDS", 0.5)  # doubles per retry
AI_AGENT_MAX_RETRY_AFTER_SECONDS = env_float("AI_AGENT_MAX_RETRY_AFTER_SECONDS", 5.0)
AI_TOOL_ROUNDS = env_int("AI_TOOL_ROUNDS", 5)  # agent <-> tools round trips per chat message
AI_CIRCUIT_FAILURES = env_int("AI_CIRCUIT_FAILURES", 3)  # consecutive failures that open it
AI_CIRCUIT_RESET_SECONDS = env_float("AI_CIRCUIT_RESET_SECONDS", 30.0)  # open -> half-open
#: Keep the circuit's state in Redis (shared by every process) when REDIS_URL is set.
AI_CIRCUIT_SHARED = env_bool("AI_CIRCUIT_SHARED", True)
#: Seconds one /ai/health agent probe is reused (0: probe on every call).
AI_HEALTH_PROBE_CACHE_SECONDS = env_float("AI_HEALTH_PROBE_CACHE_SECONDS", 10.0)
AI_TOOL_MAX_RESULTS = env_int("AI_TOOL_MAX_RESULTS", 10)  # offers one tool call may return
AI_TOOL_MAX_CALLS = env_int("AI_TOOL_MAX_CALLS", 8)  # tool calls executed per chat message
AI_MAX_CITED_OFFERS = env_int("AI_MAX_CITED_OFFERS", 10)  # offers one answer lists
AI_CONTEXT_MESSAGES = env_int("AI_CONTEXT_MESSAGES", 12)  # earlier messages sent to the agent
AI_HISTORY_PAGE_SIZE = env_int("AI_HISTORY_PAGE_SIZE", 10)
AI_HISTORY_MAX_PAGE_SIZE = env_int("AI_HISTORY_MAX_PAGE_SIZE", 100)
AI_PARSE_MAX_CHARS = env_int("AI_PARSE_MAX_CHARS", 2000)
#: Per plan: longest chat message (characters), messages per minute (per tenant, or per user
#: without a tenant), messages one session may hold.
AI_PLAN_LIMITS = {
    "free": {"message_chars": 2000, "messages_per_minute": 10, "session_messages": 200},
    "pro": {"message_chars": 8000, "messages_per_minute": 60, "session_messages": 1000},
    "enterprise": {"message_chars": 16000, "messages_per_minute": 300, "session_messages": 5000},
}

# --- GraphQL speed (issue 16): the response cache for public operations and the fast field path
# (schema/response_cache.py, schema/fast_execution.py). 0 / False turns each off.
GRAPHQL_FAST_EXECUTION = env_bool("GRAPHQL_FAST_EXECUTION", True)
GRAPHQL_RESPONSE_CACHE_SECONDS = env_int("GRAPHQL_RESPONSE_CACHE_SECONDS", 30)
GRAPHQL_HTTP_MAX_AGE = env_int("GRAPHQL_HTTP_MAX_AGE", 0)  # Cache-Control max-age of public GETs

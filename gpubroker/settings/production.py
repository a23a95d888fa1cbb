"""Production: secrets come only from the environment; refuse to start without them."""

import os

from apps.auth_app.keys import load_field_keys, load_keyset

from .base import *  # noqa: F403
from .env import VAR_DIR, env_bool, env_int, env_list, env_str, require

DEBUG = False
SECRET_KEY = require("SECRET_KEY")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [])
if not ALLOWED_HOSTS:
    require("ALLOWED_HOSTS")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_REDIRECT_EXEMPT = [r"^health$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# Tokens and encrypted fields: keys from the environment only (>= 2048-bit RSA), checked now.
GPUBROKER_GENERATE_DEV_KEYS = False
JWT_KEYSET = load_keyset(os.environ, var_dir=VAR_DIR, allow_generate=False)  # type: ignore[assignment]
FIELD_ENCRYPTION_KEYS = load_field_keys(os.environ, var_dir=VAR_DIR, allow_generate=False)

# Hardened public API (issue 11): log documents that are not in the trusted-documents manifest
# (set GRAPHQL_TRUSTED_DOCUMENTS=enforce to refuse them).
GRAPHQL_TRUSTED_DOCUMENTS = env_str("GRAPHQL_TRUSTED_DOCUMENTS", "audit") or "audit"

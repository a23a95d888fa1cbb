"""Input limits of accounts and tokens, enforced by the services (``apps.core.inputs``) for both
facades; REST's schemas declare the same bounds so its OpenAPI document shows them."""

from __future__ import annotations

MAX_EMAIL = 254
MAX_PASSWORD = 1024
MAX_NAME = 255
MAX_ORGANIZATION = 255
MAX_INVITATION_TOKEN = 128
MAX_TOKEN = 8192
MAX_CODE = 16

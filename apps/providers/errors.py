"""What can go wrong with stored provider API keys (GraphQL: ``IntegrationErrorCode``)."""

from __future__ import annotations

from enum import Enum


class IntegrationErrorCode(Enum):
    VALIDATION_ERROR = "VALIDATION_ERROR"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    BAD_REQUEST = "BAD_REQUEST"
    UNKNOWN_PROVIDER = "UNKNOWN_PROVIDER"
    KEY_INVALID = "KEY_INVALID"
    KEY_REJECTED = "KEY_REJECTED"
    NOT_CONFIGURED = "NOT_CONFIGURED"

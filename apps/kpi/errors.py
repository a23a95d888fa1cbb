"""What can go wrong with a KPI request (GraphQL: ``KpiErrorCode``; REST: ``details[].code``)."""

from __future__ import annotations

from enum import Enum


class KpiErrorCode(Enum):
    VALIDATION_ERROR = "VALIDATION_ERROR"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    BAD_REQUEST = "BAD_REQUEST"
    UNKNOWN_GPU = "UNKNOWN_GPU"
    UNKNOWN_PROVIDER = "UNKNOWN_PROVIDER"
    INVALID_WINDOW = "INVALID_WINDOW"
    INVALID_TIER = "INVALID_TIER"
    INVALID_BUCKET = "INVALID_BUCKET"
    INVALID_RANGE = "INVALID_RANGE"

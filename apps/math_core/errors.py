"""What can go wrong in TOPSIS, recommendations and interactions
(GraphQL: ``RecommendationErrorCode``)."""

from __future__ import annotations

from enum import Enum


class RecommendationErrorCode(Enum):
    VALIDATION_ERROR = "VALIDATION_ERROR"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    BAD_REQUEST = "BAD_REQUEST"
    LIMIT_OUT_OF_RANGE = "LIMIT_OUT_OF_RANGE"
    INVALID_CRITERIA = "INVALID_CRITERIA"
    OFFER_NOT_FOUND = "OFFER_NOT_FOUND"
    RUN_NOT_FOUND = "RUN_NOT_FOUND"

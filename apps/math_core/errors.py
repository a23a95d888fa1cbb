"""What can go wrong in TOPSIS, recommendations and interactions (GraphQL:
``RecommendationErrorCode``), and the one mapping of the pure algorithms' ``InvalidInput`` to the
domain's ``ValidationFailed``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from enum import Enum

from apps.core.errors import ValidationFailed

from .algorithms.errors import InvalidInput


class RecommendationErrorCode(Enum):
    VALIDATION_ERROR = "VALIDATION_ERROR"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    BAD_REQUEST = "BAD_REQUEST"
    LIMIT_OUT_OF_RANGE = "LIMIT_OUT_OF_RANGE"
    INVALID_CRITERIA = "INVALID_CRITERIA"
    OFFER_NOT_FOUND = "OFFER_NOT_FOUND"
    RUN_NOT_FOUND = "RUN_NOT_FOUND"


@contextmanager
def invalid_input_as_validation_error(fields: Mapping[str, str] | None = None) -> Iterator[None]:
    """``fields`` renames an algorithm's argument to the request field it came from (the
    calculators' ``tflops`` is the formulas' ``tflops_per_gpu``)."""
    try:
        yield
    except InvalidInput as exc:
        field = (fields or {}).get(exc.field or "", exc.field)
        raise ValidationFailed(exc.message, field=field) from exc

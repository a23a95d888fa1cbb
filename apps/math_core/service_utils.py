"""Small helpers the math-core services share: turning the pure algorithms' ``InvalidInput``
into the domain's ``ValidationFailed``, and shaping floats for API output (money as Decimal with
4 decimal places; unit rates as Decimal with 6 significant digits; never NaN or infinity)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import ROUND_HALF_UP, Decimal

from apps.core.errors import ValidationFailed

from .algorithms.costs import MONEY_STEP
from .algorithms.errors import InvalidInput


@contextmanager
def invalid_input_as_validation_error() -> Iterator[None]:
    try:
        yield
    except InvalidInput as exc:
        raise ValidationFailed(exc.message, field=exc.field) from exc


def money(value: float | Decimal) -> Decimal:
    """USD amount, 4 decimal places (half up)."""
    number = value if isinstance(value, Decimal) else Decimal(repr(float(value)))
    if not number.is_finite():
        raise ValueError("money must be finite")
    return number.quantize(MONEY_STEP, rounding=ROUND_HALF_UP)


def rate(value: float) -> Decimal:
    """A unit cost such as USD per GFLOP (often far below 0.0001): 6 significant digits."""
    if not math.isfinite(value):
        raise ValueError("rate must be finite")
    return Decimal(f"{value:.6g}")


def finite(value: float) -> float | None:
    number = float(value)
    return number if math.isfinite(number) else None

"""Shaping numbers for API output: money as Decimal with 4 decimal places (half up), unit rates
as Decimal with 6 significant digits, never NaN or infinity. Pure: no Django."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

from .costs import MONEY_STEP


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

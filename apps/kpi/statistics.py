"""Descriptive statistics for the KPI engine: pure numpy, no Django import.

Percentiles are numpy's default (``method="linear"``, Hyndman & Fan 1996 definition 7, the same
as PostgreSQL's ``percentile_cont`` and Excel's ``PERCENTILE.INC``), so a dashboard, a notebook and
the database agree. An empty input gives ``None`` for every statistic, never 0 or NaN.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

#: Scale factor that makes the median absolute deviation a consistent estimator of the standard
#: deviation under normality (1 / Φ⁻¹(3/4)); Rousseeuw & Croux (1993), Huber (1981).
MAD_TO_SIGMA = 1.4826


@dataclass(frozen=True, slots=True)
class Summary:
    """Distribution of a sample (``count`` 0: every other field is ``None``)."""

    count: int
    min: float | None = None
    p25: float | None = None
    median: float | None = None
    p75: float | None = None
    max: float | None = None
    mean: float | None = None


def _finite(values: Iterable[float]) -> np.ndarray:
    if isinstance(values, np.ndarray):
        array = values.astype(np.float64, copy=False)
    else:
        array = np.asarray([float(v) for v in values], dtype=np.float64)
    return array[np.isfinite(array)]


def describe(values: Iterable[float]) -> Summary:
    """min, quartiles (numpy linear), max and mean of the finite values."""
    array = _finite(values)
    if array.size == 0:
        return Summary(count=0)
    p25, median, p75 = np.percentile(array, [25.0, 50.0, 75.0])
    return Summary(
        count=int(array.size),
        min=float(array.min()),
        p25=float(p25),
        median=float(median),
        p75=float(p75),
        max=float(array.max()),
        mean=float(array.mean()),
    )


def median(values: Iterable[float]) -> float | None:
    array = _finite(values)
    return float(np.median(array)) if array.size else None


@dataclass(frozen=True, slots=True)
class RobustScale:
    """Centre and spread of a peer group: median and MAD × 1.4826 (with a floor, see below)."""

    median: float
    scale: float
    peers: int


def robust_scale(
    values: Sequence[float] | np.ndarray, *, relative_floor: float = 0.01
) -> RobustScale | None:
    """Median and scaled MAD of ``values``. The scale is floored at ``relative_floor`` × median so
    a group of identical prices (MAD 0) does not flag every cent of difference as infinite."""
    array = _finite(values)
    if array.size == 0:
        return None
    centre = float(np.median(array))
    mad = float(np.median(np.abs(array - centre))) * MAD_TO_SIGMA
    floor = abs(centre) * relative_floor
    return RobustScale(median=centre, scale=max(mad, floor, 1e-12), peers=int(array.size))


def percent_change(old: float | None, new: float | None) -> float | None:
    """(new / old − 1) × 100; ``None`` when either side is missing or ``old`` is not positive."""
    if old is None or new is None or not old > 0 or not math.isfinite(new):
        return None
    return (new / old - 1.0) * 100.0


def volatility(relatives: Iterable[float]) -> float | None:
    """Sample standard deviation (ddof 1) of the log relatives, in percent; ``None`` for fewer
    than two relatives."""
    array = _finite(relatives)
    array = array[array > 0]
    if array.size < 2:
        return None
    return float(np.std(np.log(array), ddof=1) * 100.0)


def ratio_or_none(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or denominator is None or not denominator > 0:
        return None
    return numerator / denominator

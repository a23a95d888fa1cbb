"""Robust anomaly flags for offer prices: pure Python/numpy, no Django import.

Rule (per peer group = canonical GPU model × tier, on-demand or spot): an offer's price per
GPU-hour ``x`` is compared with the group's median ``m`` in units of the median absolute deviation
scaled by 1.4826 (a consistent estimator of σ under normality; Iglewicz & Hoaglin 1993 use the
same "modified z-score" with 3.5 as their outlier threshold): ``z = (x − m) / (1.4826 · MAD)``.
``|z|`` above the threshold (setting ``KPI_ANOMALY_THRESHOLD``, default 3.5) flags the offer, and
the price must also be at least ``KPI_ANOMALY_MIN_FACTOR`` (default 2) times above or below the
median — without that materiality floor a tight majority (one large provider's SKUs within ±2 %)
would flag a whole second price cluster 30 % away as outliers. The ratio ``x / m`` names the
likely cause:

* ``LIKELY_CENTS_AS_DOLLARS`` — about ×100 (ratio within ``CENTS_BAND``): a price in cents read
  as dollars.
* ``LIKELY_PER_NODE_AS_PER_GPU`` — about ×gpu_count on a multi-GPU offer (ratio / gpu_count within
  ``NODE_BAND``): a whole node's price read as the price of one GPU.
* ``PRICE_OUTLIER_HIGH`` / ``PRICE_OUTLIER_LOW`` — any other high / low outlier.

``STALE`` is independent of price: an offer still listed whose ``last_seen_at`` is older than the
setting ``KPI_STALE_OFFER_HOURS`` (default 6 h). Groups smaller than ``KPI_ANOMALY_MIN_PEERS``
(default 5) get no price flags: a median of three is not a market.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import numpy as np

from .statistics import RobustScale, robust_scale

CENTS_BAND = (50.0, 200.0)  # x / m
NODE_BAND = (0.67, 1.5)  # (x / m) / gpu_count


class FlagCode(StrEnum):
    PRICE_OUTLIER_HIGH = "PRICE_OUTLIER_HIGH"
    PRICE_OUTLIER_LOW = "PRICE_OUTLIER_LOW"
    LIKELY_PER_NODE_AS_PER_GPU = "LIKELY_PER_NODE_AS_PER_GPU"
    LIKELY_CENTS_AS_DOLLARS = "LIKELY_CENTS_AS_DOLLARS"
    STALE = "STALE"


#: Codes about the price (an offer with one of these does not enter the price index).
PRICE_CODES = frozenset(FlagCode) - {FlagCode.STALE}


@dataclass(frozen=True, slots=True)
class AnomalyRules:
    threshold: float = 3.5
    min_factor: float = 2.0
    min_peers: int = 5
    stale_after: timedelta = timedelta(hours=6)


@dataclass(frozen=True, slots=True)
class PricePoint:
    """One offer as the rule sees it."""

    key: Hashable
    group: Hashable
    price_per_gpu_hour: float
    gpu_count: int = 1
    last_seen_at: float | None = None  # seconds since 1970
    listed: bool = True


@dataclass(frozen=True, slots=True)
class Flag:
    code: FlagCode
    score: float | None  # robust z (None for STALE)
    peer_median: float | None
    ratio: float | None  # price / peer median
    detail: str


def price_flag(point: PricePoint, peers: RobustScale | None, rules: AnomalyRules) -> Flag | None:
    """The price flag of one offer against its group's robust scale (``None``: not flagged)."""
    if peers is None or peers.peers < rules.min_peers or peers.median <= 0:
        return None
    x = point.price_per_gpu_hour
    if not math.isfinite(x):
        return None
    z = (x - peers.median) / peers.scale
    ratio = x / peers.median
    if abs(z) <= rules.threshold or not (
        ratio >= rules.min_factor or ratio * rules.min_factor <= 1
    ):
        return None
    count = max(int(point.gpu_count), 1)
    if z > 0 and CENTS_BAND[0] <= ratio <= CENTS_BAND[1]:
        code, why = FlagCode.LIKELY_CENTS_AS_DOLLARS, f"about ×100 the peer median (×{ratio:.1f})"
    elif z > 0 and count > 1 and NODE_BAND[0] <= ratio / count <= NODE_BAND[1]:
        code = FlagCode.LIKELY_PER_NODE_AS_PER_GPU
        why = f"about ×{count} (the GPU count) the peer median (×{ratio:.1f})"
    elif z > 0:
        code, why = FlagCode.PRICE_OUTLIER_HIGH, f"×{ratio:.2f} the peer median"
    else:
        code, why = FlagCode.PRICE_OUTLIER_LOW, f"×{ratio:.2f} the peer median"
    return Flag(code=code, score=z, peer_median=peers.median, ratio=ratio, detail=why)


def stale_flag(point: PricePoint, now: datetime, rules: AnomalyRules) -> Flag | None:
    if not point.listed or point.last_seen_at is None:
        return None
    age = now.timestamp() - point.last_seen_at
    if age <= rules.stale_after.total_seconds():
        return None
    hours = age / 3600
    return Flag(
        code=FlagCode.STALE,
        score=None,
        peer_median=None,
        ratio=None,
        detail=f"not seen for {hours:.1f} h",
    )


def group_scales(points: Iterable[PricePoint]) -> dict[Hashable, RobustScale]:
    """Robust scale of every group, over its listed offers."""
    groups: dict[Hashable, list[float]] = {}
    for point in points:
        if point.listed:
            groups.setdefault(point.group, []).append(point.price_per_gpu_hour)
    return {g: s for g, values in groups.items() if (s := robust_scale(values)) is not None}


def flag_points(
    points: Sequence[PricePoint],
    *,
    rules: AnomalyRules,
    now: datetime | None = None,
    scales: Mapping[Hashable, RobustScale] | None = None,
) -> dict[Hashable, list[Flag]]:
    """Flags of every flagged point (unflagged points are absent). ``now`` None: no STALE."""
    if not points:
        return {}
    scales = group_scales(points) if scales is None else scales
    labels = {group: i for i, group in enumerate(scales)}
    code = np.fromiter((labels.setdefault(p.group, len(labels)) for p in points), dtype=np.int64)
    return flag_columns(
        [p.key for p in points],
        code,
        np.fromiter((p.price_per_gpu_hour for p in points), dtype=np.float64),
        np.fromiter((p.gpu_count for p in points), dtype=np.int64),
        np.fromiter((p.listed for p in points), dtype=bool),
        rules=rules,
        scales={labels[g]: s for g, s in scales.items()},
        last_seen=np.fromiter(
            (math.inf if p.last_seen_at is None else p.last_seen_at for p in points),
            dtype=np.float64,
        ),
        now=now,
    )


def column_scales(
    group: np.ndarray, price: np.ndarray, listed: np.ndarray
) -> dict[int, RobustScale]:
    """:func:`group_scales` of offers given as columns: ``group`` holds non-negative group codes."""
    shown = np.flatnonzero(listed)
    if shown.size == 0:
        return {}
    codes = group[shown]
    order = np.argsort(codes, kind="stable")
    codes, values = codes[order], price[shown][order]
    bounds = np.flatnonzero(np.diff(codes)) + 1
    scales = {}
    for at, chunk in zip(np.concatenate(([0], bounds)), np.split(values, bounds), strict=True):
        if (scale := robust_scale(chunk)) is not None:
            scales[int(codes[at])] = scale
    return scales


def flag_columns(
    keys: Sequence[Hashable],
    group: np.ndarray,
    price: np.ndarray,
    gpu_count: np.ndarray,
    listed: np.ndarray,
    *,
    rules: AnomalyRules,
    scales: Mapping[int, RobustScale] | None = None,
    last_seen: np.ndarray | None = None,
    now: datetime | None = None,
) -> dict[Hashable, list[Flag]]:
    """The flags :func:`flag_points` gives, for offers given as parallel columns (``group``: a
    non-negative code per offer; ``scales`` by code, default: the listed offers' own). Vectorised:
    the robust z of every offer is computed with numpy, and only the offers beyond the threshold
    go through :func:`price_flag` (the one classification) and :func:`stale_flag`."""
    if len(keys) == 0:
        return {}
    scales = column_scales(group, price, listed) if scales is None else scales
    size = max(int(group.max()), max(scales, default=0)) + 2
    centre = np.full(size, math.nan)
    spread = np.full(size, math.nan)
    enough = np.zeros(size, dtype=bool)
    for code, scale in scales.items():
        centre[code], spread[code] = scale.median, scale.scale
        enough[code] = scale.peers >= rules.min_peers
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (price - centre[group]) / spread[group]
        ratio = price / centre[group]
    material = (ratio >= rules.min_factor) | (ratio * rules.min_factor <= 1)
    candidates = listed & enough[group] & (np.abs(z) > rules.threshold) & material
    flagged: dict[Hashable, list[Flag]] = {}
    for i in np.flatnonzero(candidates):
        at = int(i)
        point = PricePoint(keys[at], 0, float(price[at]), int(gpu_count[at]))
        if price_flag_ := price_flag(point, scales.get(int(group[at])), rules):
            flagged[point.key] = [price_flag_]
    if now is not None and last_seen is not None:
        cutoff = now.timestamp() - rules.stale_after.total_seconds()
        for i in np.flatnonzero(listed & (last_seen < cutoff)):
            at = int(i)
            point = PricePoint(keys[at], 0, float(price[at]), last_seen_at=float(last_seen[at]))
            if stale := stale_flag(point, now, rules):
                flagged.setdefault(point.key, []).append(stale)
    return flagged


def group_price_flags(
    keys: Sequence[Hashable],
    prices: Sequence[float],
    gpu_counts: Sequence[int],
    listed: Sequence[bool],
    *,
    rules: AnomalyRules,
) -> dict[Hashable, Flag]:
    """The price flags of ONE peer group given as parallel columns: the same flags
    :func:`flag_points` gives these offers as one group (no STALE), without a ``PricePoint``
    per offer (the index engine judges whole markets every period)."""
    price = np.asarray(prices, dtype=np.float64)
    shown = np.asarray(listed, dtype=bool)
    peers = robust_scale(price[shown].tolist()) if shown.any() else None
    if peers is None or peers.peers < rules.min_peers:
        return {}
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (price - peers.median) / peers.scale
        ratio = price / peers.median
    material = (ratio >= rules.min_factor) | (ratio * rules.min_factor <= 1)
    flagged: dict[Hashable, Flag] = {}
    for i in np.flatnonzero(shown & (np.abs(z) > rules.threshold) & material):
        at = int(i)
        point = PricePoint(keys[at], 0, float(price[at]), int(gpu_counts[at]))
        if flag := price_flag(point, peers, rules):
            flagged[point.key] = flag
    return flagged

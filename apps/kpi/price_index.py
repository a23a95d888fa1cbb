"""The GPUBROKER GPU-hour price index: a chained Jevons index over matched offers. Pure Python
and numpy, no Django import (``apps.kpi.index_engine`` feeds it stored history and stores the
periods).

Method (IMF, ILO, OECD, Eurostat, UNECE, World Bank, *Consumer Price Index Manual: Concepts and
Methods*, 2020; chapter 6 "Elementary price indices" and chapter 8 "Calculation of higher-level
indices"; also the ILO *CPI Manual: Theory and Practice*, 2004, chapters 9 and 20):

1. **Elementary aggregate** = one cell: canonical GPU model × tier (on-demand or spot) ×
   provider (a family series such as "H100" has one cell per variant × provider). Its index
   from period t−1 to t is the **Jevons** index, the geometric mean of the price relatives
   p_t / p_{t−1} of the **matched offers** (the same offer listed in both periods).
   Jevons rather than Carli: Carli (the arithmetic mean of relatives) fails the time-reversal
   test and is biased upwards when chained (CPI Manual 2020 §6.58–6.80); Jevons is transitive and
   commensurable. Matching the same offer in both periods keeps composition changes (a provider
   joining or leaving, a new SKU) out of the price change: new offers enter from their second
   period on, exactly like replacement items in a CPI sample.
2. **Higher level** (model × tier): the cells' Jevons relatives are averaged arithmetically with
   weights from the **previous period's capacity**, Σ gpu_count × share of the period available,
   over the cell's matched offers (a Young-type index with quantity shares of period t−1;
   CPI Manual 2020 ch. 8). A cell whose weights are all zero falls back to equal weights.
3. **Chain linking**: I_t = I_{t−1} × R_t with I = 100 in the series' first period (CPI Manual
   2020 ch. 9, chain-linked indices). A period with no matched offer carries the index forward
   (``imputed``), the CPI practice for a temporarily missing aggregate.
4. **Exclusions**: offers flagged as price anomalies (``apps.kpi.anomalies``) in either period do
   not enter; every exclusion is counted by reason code (plus ``NEW_OFFER`` / ``GONE_OFFER`` for
   offers listed in only one of the two periods).
5. **Price level**: beside the index, the median per-GPU-hour price of the included offers of
   period t (and their min, max and count) is published; the level moves with composition, the
   index does not.

An offer's price in a period is its price at the end of the period (the last recorded change at
or before the period's end); it is *listed* in the period when any observation in the period (the
state carried in from before, or a change recorded in it) was not ``unavailable``; its *share of
the period available* is the mean of its observations with available = 1, limited = ½,
unavailable = 0 (``apps.kpi.buckets``).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np

from .statistics import describe

METHODOLOGY_NAME = "gpubroker-chained-jevons"
METHODOLOGY_VERSION = 1
BASE_VALUE = 100.0
NEW_OFFER = "NEW_OFFER"
GONE_OFFER = "GONE_OFFER"


@dataclass(slots=True)
class OfferPeriod:
    """One offer in one period: its facts as stored history gives them. Treated as immutable
    (views are shared between periods); not ``frozen`` because a frozen dataclass's ``__init__``
    costs twice as much, and the index engine builds one per offer and series each period."""

    offer_id: str
    provider: str
    gpu_count: int
    price_per_hour: Decimal  # end of period, whole offer
    listed: bool
    available_share: float
    cell: str = ""  # elementary aggregate within the series (default: the provider)
    #: Derived once (an offer's view is reused across periods and read many times).
    price_per_gpu_hour: float = field(init=False, compare=False, repr=False)
    cell_key: str = field(init=False, compare=False, repr=False)  # the cell, else the provider
    facts: tuple[object, ...] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        self.price_per_gpu_hour = float(self.price_per_hour) / max(int(self.gpu_count), 1)
        self.cell_key = self.cell or self.provider
        share = _SHARE_TEXT.get(self.available_share)
        self.facts = (
            self.cell_key,
            self.provider,
            self.gpu_count,
            str(self.price_per_hour),
            self.listed,
            repr(round(self.available_share, 12)) if share is None else share,
        )


#: The text of the usual shares of a period available (an offer that did not change in it).
_SHARE_TEXT = {v: repr(round(v, 12)) for v in (0.0, 0.5, 1.0)}


@dataclass(frozen=True, slots=True)
class PeriodResult:
    relative: float | None  # R_t; None: no matched offer (index carried forward)
    matched_offers: int
    providers: int  # providers with an included offer in period t
    offer_count: int  # included offers in period t (the level's sample)
    price_level: float | None  # median per-GPU-hour price of the included offers
    price_min: float | None
    price_max: float | None
    exclusions: dict[str, int] = field(default_factory=dict)
    cells: dict[str, float] = field(default_factory=dict)  # cell → Jevons relative
    weights: dict[str, float] = field(default_factory=dict)  # cell → capacity share

    def chained(self, previous_index: float | None) -> float:
        """I_t from I_{t−1} (``None``: this is the base period)."""
        if previous_index is None:
            return BASE_VALUE
        return previous_index * (self.relative if self.relative is not None else 1.0)


def jevons(relatives: list[float]) -> float:
    """Geometric mean of price relatives. The logs are summed exactly rounded (``math.fsum``), so
    the answer does not depend on the order of ``relatives`` (the offers' order in a period)."""
    logs = np.log(np.asarray(relatives, dtype=np.float64)).tolist()
    return math.exp(math.fsum(logs) / len(logs))


def compute_period(
    previous: Mapping[str, OfferPeriod],
    current: Mapping[str, OfferPeriod],
    excluded: Mapping[str, str],
) -> PeriodResult:
    """The relative R_t of period t over t−1 and the level of t. ``excluded`` maps offer ids to
    the reason code that keeps them out (anomaly flags of either period)."""
    # Every offer listed in either period counts once: under its exclusion reason, else as new
    # (listed now only) or gone (listed before only). Set arithmetic, any order.
    listed_before = {k for k, o in previous.items() if o.listed}
    listed_now = {k for k, o in current.items() if o.listed}
    exclusions: dict[str, int] = {}
    for offer_id in (listed_before | listed_now) & excluded.keys():
        reason = excluded[offer_id]
        exclusions[reason] = exclusions.get(reason, 0) + 1
    for reason, offers in (
        (NEW_OFFER, listed_now - listed_before),
        (GONE_OFFER, listed_before - listed_now),
    ):
        if count := len(offers - excluded.keys()):
            exclusions[reason] = exclusions.get(reason, 0) + count

    included = [o for o in current.values() if o.listed and o.offer_id not in excluded]
    level = describe(np.fromiter((o.price_per_gpu_hour for o in included), np.float64))
    logs: dict[str, list[float]] = {}
    capacity: dict[str, list[float]] = {}
    earlier, finite = previous.get, math.isfinite  # the loop runs once per offer
    for offer in included:
        before = earlier(offer.offer_id)
        if before is None or not before.listed:
            continue
        old, new = before.price_per_gpu_hour, offer.price_per_gpu_hour
        if not (old > 0 and new > 0 and finite(old) and finite(new)):
            continue
        cell = offer.cell_key
        if cell in logs:
            logs[cell].append(new / old)
        else:
            logs[cell] = [new / old]
        weight = max(int(before.gpu_count), 1) * max(before.available_share, 0.0)
        capacity.setdefault(cell, []).append(weight)
    # Exactly rounded sums (math.fsum): the same figures whatever order the offers came in.
    cells = {provider: jevons(values) for provider, values in sorted(logs.items())}
    sums = {p: math.fsum(capacity[p]) for p in cells}
    total = math.fsum(sums.values())
    if cells and total > 0:
        weights = {p: sums[p] / total for p in cells}
    else:
        weights = {p: 1.0 / len(cells) for p in cells}
    relative = math.fsum(weights[p] * cells[p] for p in cells) if cells else None
    return PeriodResult(
        relative=relative,
        matched_offers=sum(len(v) for v in logs.values()),
        providers=len({o.provider for o in included}),
        offer_count=level.count,
        price_level=level.median,
        price_min=level.min,
        price_max=level.max,
        exclusions=exclusions,
        cells=cells,
        weights=weights,
    )


def input_hash(
    *,
    period_key: Mapping[str, str],
    previous: Mapping[str, OfferPeriod],
    current: Mapping[str, OfferPeriod],
    excluded: Mapping[str, str],
) -> str:
    """SHA-256 of the canonical JSON of everything a period was computed from."""

    # Per offer: cell, provider, GPUs, price (4 places), listed, share of the period available.
    rows = [
        [
            oid,
            None if (before := previous.get(oid)) is None else before.facts,
            None if (now := current.get(oid)) is None else now.facts,
            excluded.get(oid),
        ]
        for oid in sorted(previous.keys() | current.keys())
    ]
    document = {
        "methodology": METHODOLOGY_NAME,
        "version": METHODOLOGY_VERSION,
        "period": dict(sorted(period_key.items())),
        "offers": rows,
    }
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()

"""Computing, storing and verifying the chained price index (method: ``apps.kpi.price_index``).

:func:`update_price_index` walks the periods (UTC days or hours) after each series' last stored
period up to the last complete one, for every series (canonical GPU model × tier) at once: the
offers' states before the first period come from one read (``history.states_before``), then each
period folds in its own changes (``history.bucket_summaries``). Each new period is stored with
its methodology, counts, exclusions and input hash; stored periods are never rewritten.

:func:`verify_price_index` recomputes every stored period from stored history (raw rows and
rollups) and lists each difference (hash, relative, counts, exclusions, chaining).
"""

from __future__ import annotations

import gc
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

import numpy as np
from django.db import transaction
from django.utils import timezone

from apps.math_core.algorithms.amounts import money
from apps.math_core.algorithms.gpu_names import gpu_family

from . import config
from .anomalies import PRICE_CODES, group_price_flags
from .buckets import Granularity, period_view
from .cache import bump
from .history import bucket_summaries, states_of_market
from .models import PriceIndexPeriod
from .price_index import (
    METHODOLOGY_NAME,
    METHODOLOGY_VERSION,
    OfferPeriod,
    PeriodResult,
    compute_period,
    input_hash,
)
from .selectors import Market, market

Series = tuple[str, str]  # (gpu model, tier)
Views = dict[Series, dict[str, OfferPeriod]]


@dataclass(frozen=True, slots=True)
class Computed:
    series: Series
    start: datetime
    end: datetime
    result: PeriodResult
    excluded: dict[str, str]
    input_hash: str


def _series_of(gpu_model: str, tier: str, provider: str) -> list[tuple[Series, str]]:
    """The series an offer enters, each with its cell: its canonical model's (cell: provider)
    and, for a model in a family of several variants, the family's (cell: provider × variant)."""
    entries = [((gpu_model, tier), "")]
    family = gpu_family(gpu_model)
    if family and family != gpu_model:
        entries.append(((family, tier), f"{provider} | {gpu_model}"))
    return entries


Kind = tuple[str, str, str]  # (gpu model, tier, provider): what decides an offer's series


def _kinds(m: Market) -> tuple[np.ndarray, list[Kind]]:
    """Per offer of ``m`` a code of its kind, and the kinds."""
    width = max(len(m.provider.names), 1)
    unique, inverse = np.unique(m.group * width + m.provider.codes, return_inverse=True)
    kinds = [
        (*m.group_key(int(code) // width), m.provider.names[int(code) % width])
        for code in unique.tolist()
    ]
    return inverse.reshape(-1), kinds


def _walk(
    bucket: Granularity, first: datetime, last: datetime, m: Market
) -> Iterator[tuple[datetime, datetime, Views]]:
    """(period start, end, views) for each period from ``first`` to ``last`` (period starts).

    An offer without a change in a period has the view it had in the period before when its
    carried state did not change either: those views are reused, not rebuilt (most offers do
    not change in most periods)."""
    codes, kinds = _kinds(m)
    series_of = [_series_of(*kind) for kind in kinds]
    static = {
        key: (provider, count, series_of[code])
        for key, provider, count, code in zip(
            m.ids,
            (m.provider.names[c] for c in m.provider.codes.tolist()),
            m.gpu_count.tolist(),
            codes.tolist(),
            strict=True,
        )
    }
    carried = states_of_market(first)
    # Each period's views start as a copy of the period before's; only the offers whose view can
    # differ are rebuilt: every offer in the first period, then those with a change in the period
    # and those with a change in the period before (their carried state is new).
    entries_of_offer: dict[str, list[tuple[Series, OfferPeriod]]] = {}
    views: Views = {}
    rebuild: set[str] = set(carried)
    start = first
    while start <= last:
        end = start + bucket.size
        changed = bucket_summaries(start, end, hourly_only=bucket is Granularity.HOUR)
        views = {series: dict(offers) for series, offers in views.items()}
        for key in rebuild | set(changed):
            facts = static.get(key)
            if facts is None:
                continue
            for series, _ in entries_of_offer.pop(key, ()):
                del views[series][key]
            provider, gpu_count, entries_of = facts
            view = period_view(carried.get(key), changed.get(key))
            if view is None:
                continue
            state, listed, share = view
            carried[key] = state
            price = state.price_per_hour
            # (offer_id, provider, gpu_count, price_per_hour, listed, available_share, cell)
            entries = [
                (series, OfferPeriod(key, provider, gpu_count, price, listed, share, cell))
                for series, cell in entries_of
            ]
            entries_of_offer[key] = entries
            for series, offer in entries:
                views.setdefault(series, {})[key] = offer
        yield start, end, views
        rebuild = set(changed)
        start = end


def _anomalies(view: dict[str, OfferPeriod]) -> dict[str, str]:
    offers = list(view.values())
    flagged = group_price_flags(
        [o.offer_id for o in offers],
        [o.price_per_gpu_hour for o in offers],
        [o.gpu_count for o in offers],
        [o.listed for o in offers],
        rules=config.anomaly_rules(),
    )
    return {str(key): flag.code.value for key, flag in flagged.items() if flag.code in PRICE_CODES}


def _compute(
    series: Series,
    bucket: Granularity,
    start: datetime,
    end: datetime,
    previous: dict[str, OfferPeriod],
    current: dict[str, OfferPeriod],
    flagged: tuple[dict[str, str], dict[str, str]],
) -> Computed:
    """One period of one series; ``flagged`` = the price anomalies of (t−1, t)."""
    excluded = {**flagged[0], **flagged[1]}
    result = compute_period(previous, current, excluded)
    digest = input_hash(
        period_key={
            "gpu_model": series[0],
            "tier": series[1],
            "bucket": bucket.value,
            "start": start.isoformat(),
        },
        previous=previous,
        current=current,
        excluded=excluded,
    )
    return Computed(series, start, end, result, excluded, digest)


def _money(value: float | None) -> Decimal | None:
    return None if value is None or not math.isfinite(value) else money(value)


@dataclass(slots=True)
class UpdateReport:
    bucket: str
    periods_written: int = 0
    series: int = 0
    seconds: float = 0.0


def _last_complete_start(bucket: Granularity, now: datetime) -> datetime:
    return bucket.floor(now) - bucket.size


def _stored_heads(bucket: Granularity) -> dict[Series, tuple[datetime, float]]:
    heads: dict[Series, tuple[datetime, float]] = {}
    rows = (
        PriceIndexPeriod.objects.filter(bucket=bucket, methodology_version=METHODOLOGY_VERSION)
        .order_by("gpu_model", "tier", "period_start")
        .values_list("gpu_model", "tier", "period_start", "index_value")
    )
    for model, tier, start, value in rows.iterator(chunk_size=5000):
        heads[(model, tier)] = (start, value)
    return heads


@contextmanager
def _without_cyclic_gc() -> Iterator[None]:
    """Python's cyclic garbage collector paused: a walk makes hundreds of thousands of small
    objects (views, tuples, dicts) without reference cycles, and the collector's repeated passes
    over them cost about 40 % of an index update. Refcounting still frees everything; a cycle
    made meanwhile is collected once the collector runs again."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def update_price_index(
    *, bucket: str = "day", now: datetime | None = None, backfill_days: int | None = None
) -> UpdateReport:
    """Store every missing complete period of every series (idempotent)."""
    with _without_cyclic_gc():
        return _update_price_index(bucket, now, backfill_days)


def _update_price_index(
    bucket: str, now: datetime | None, backfill_days: int | None
) -> UpdateReport:
    started = time.perf_counter()
    granularity = Granularity(bucket)
    now = now or timezone.now()
    report = UpdateReport(bucket=granularity.value)
    last = _last_complete_start(granularity, now)
    days = config.index_backfill_days() if backfill_days is None else backfill_days
    backfill = granularity.floor(now - timedelta(days=days))
    heads = _stored_heads(granularity)
    m = market()
    all_series = {series for kind in _kinds(m)[1] for series, _ in _series_of(*kind)}
    report.series = len(all_series)
    next_start = {
        s: (heads[s][0] + granularity.size if s in heads else backfill) for s in all_series
    }
    pending = {s: t for s, t in next_start.items() if t <= last}
    if not pending:
        report.seconds = time.perf_counter() - started
        return report
    first = min(pending.values()) - granularity.size
    index_values = {s: heads[s][1] for s in heads}
    previous_views: Views = {}
    previous_flags: dict[Series, dict[str, str]] = {}
    for start, end, views in _walk(granularity, first, last, m):
        batch = []
        flags = {series: _anomalies(view) for series, view in views.items()}
        for series in sorted(pending):
            if start < pending[series]:
                continue
            computed = _compute(
                series,
                granularity,
                start,
                end,
                previous_views.get(series, {}),
                views.get(series, {}),
                (previous_flags.get(series, {}), flags.get(series, {})),
            )
            prior = index_values.get(series)
            if prior is None and computed.result.offer_count == 0:
                continue  # no base period before the series has offers
            base = prior is None
            value = computed.result.chained(prior)
            index_values[series] = value
            batch.append(_to_model(computed, granularity, value, base))
        if batch:
            with transaction.atomic():
                PriceIndexPeriod.objects.bulk_create(batch)
            report.periods_written += len(batch)
        previous_views, previous_flags = views, flags
    if report.periods_written:
        bump()
    report.seconds = time.perf_counter() - started
    return report


def _to_model(
    computed: Computed, bucket: Granularity, value: float, base: bool
) -> PriceIndexPeriod:
    r = computed.result
    return PriceIndexPeriod(
        gpu_model=computed.series[0],
        tier=computed.series[1],
        bucket=bucket.value,
        period_start=computed.start,
        period_end=computed.end,
        methodology=METHODOLOGY_NAME,
        methodology_version=METHODOLOGY_VERSION,
        index_value=value,
        relative=None if base else r.relative,
        imputed=(not base) and r.relative is None,
        price_level=_money(r.price_level),
        price_min=_money(r.price_min),
        price_max=_money(r.price_max),
        offer_count=r.offer_count,
        matched_offers=r.matched_offers,
        provider_count=r.providers,
        exclusions=dict(sorted(r.exclusions.items())),
        input_hash=computed.input_hash,
    )


@dataclass(slots=True)
class VerifyReport:
    checked: int = 0
    differences: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences


def verify_price_index(*, bucket: str = "day", gpu_model: str | None = None) -> VerifyReport:
    """Recompute every stored period of ``bucket`` from stored history; list the differences."""
    with _without_cyclic_gc():
        return _verify_price_index(bucket, gpu_model)


def _verify_price_index(bucket: str, gpu_model: str | None) -> VerifyReport:
    granularity = Granularity(bucket)
    report = VerifyReport()
    stored = PriceIndexPeriod.objects.filter(
        bucket=granularity, methodology_version=METHODOLOGY_VERSION
    )
    if gpu_model:
        stored = stored.filter(gpu_model=gpu_model)
    by_start: dict[datetime, list[PriceIndexPeriod]] = {}
    for period in stored.order_by("period_start"):
        by_start.setdefault(period.period_start, []).append(period)
    if not by_start:
        return report
    first, last = min(by_start), max(by_start)
    previous_views: Views = {}
    previous_flags: dict[Series, dict[str, str]] = {}
    previous_value: dict[Series, float] = {}
    for start, end, views in _walk(granularity, first - granularity.size, last, market()):
        flags = {series: _anomalies(view) for series, view in views.items()}
        for period in by_start.get(start, []):
            series = (period.gpu_model, period.tier)
            again = _compute(
                series,
                granularity,
                start,
                end,
                previous_views.get(series, {}),
                views.get(series, {}),
                (previous_flags.get(series, {}), flags.get(series, {})),
            )
            report.checked += 1
            _compare(period, again, previous_value.get(series), report)
            previous_value[series] = period.index_value
        previous_views, previous_flags = views, flags
    return report


def _compare(
    period: PriceIndexPeriod, again: Computed, prior: float | None, report: VerifyReport
) -> None:
    r = again.result
    label = f"{period.gpu_model} {period.tier} {period.bucket} {period.period_start:%Y-%m-%d %H:%M}"
    base = prior is None and period.relative is None
    checks = {
        "input_hash": (period.input_hash, again.input_hash),
        "matched_offers": (period.matched_offers, r.matched_offers),
        "offer_count": (period.offer_count, r.offer_count),
        "provider_count": (period.provider_count, r.providers),
        "exclusions": (dict(period.exclusions), dict(sorted(r.exclusions.items()))),
        "price_level": (period.price_level, _money(r.price_level)),
    }
    if not base:
        checks["relative"] = (_round(period.relative), _round(r.relative))
        if prior is not None:
            expected = prior * (r.relative if r.relative is not None else 1.0)
            checks["index_value"] = (_round(period.index_value), _round(expected))
    for name, (was, now) in checks.items():
        if was != now:
            report.differences.append(f"{label}: {name} stored {was!r}, recomputed {now!r}")


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 9)

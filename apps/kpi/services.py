"""The KPI engine: one function per capability, behind both facades (GraphQL ``schema/kpi.py``,
REST ``gpubroker/api/v2/kpi.py``) and callable by other apps (the AI assistant's tools, the
landing-page chart).

* :func:`overview` — the market at a glance, per GPU model, with data freshness.
* :func:`gpu_metrics` — one GPU model's price distribution, by provider and region, availability,
  spot discount, cost per million tokens / TFLOP-hour at the median, trends and a chart series.
* :func:`provider_kpis` — one provider against the market.
* :func:`market_insights` — moves, best value, supply changes, cheapest regions, anomalies.
* :func:`price_index` — the stored chained index series (``apps.kpi.index_engine`` computes it).
* :func:`offer_flags` — anomaly flags of given offers.

"The market" is the offers currently listed (availability not ``unavailable``); price statistics
leave out offers flagged as price anomalies (``apps.kpi.anomalies``) and say how many. Every
result is cached under the catalogue version (``apps.kpi.cache``). Unknown GPU or provider names
raise ``NotFound``; bad windows, tiers, buckets and ranges raise ``ValidationFailed``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np
from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.core.errors import NotFound, ValidationFailed
from apps.core.text import trimmed
from apps.math_core.algorithms import costs
from apps.math_core.algorithms.amounts import money, rate
from apps.math_core.algorithms.errors import InvalidInput
from apps.math_core.algorithms.gpu_names import (
    canonical_gpu_name,
    display_gpu_name,
    family_members,
    family_named,
)
from apps.math_core.algorithms.gpu_spec import Precision
from apps.math_core.benchmarks import gpu_spec
from apps.math_core.models import GPUBenchmark
from apps.providers import offer_metrics
from apps.providers.models import Availability, GPUOffer, Provider, ProviderStatus

from . import config, history, parallel, statistics
from .anomalies import PRICE_CODES, Flag, flag_columns
from .cache import cached
from .errors import KpiErrorCode
from .models import Granularity, PriceIndexPeriod, Tier
from .price_index import METHODOLOGY_NAME, METHODOLOGY_VERSION
from .results import (
    AnomalyOut,
    CheapestRegion,
    CodeCount,
    ExclusionCounts,
    FlagOut,
    GpuMetrics,
    GpuOverview,
    GroupPriceStats,
    IndexPoint,
    MarketInsights,
    ModelPriceRatio,
    OfferRef,
    Overview,
    PriceIndexSeries,
    PriceMove,
    PriceStats,
    ProviderFreshness,
    ProviderKpis,
    SeriesPoint,
    SupplyChange,
    Trend,
    ValueOffer,
)
from .selectors import (
    Market,
    MarketRow,
    flags_of_offers,
    market,
    market_flag_positions,
    market_flags,
    sync_outcomes,
)

WINDOWS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}
ANOMALY_ROWS_PER_LIMIT = 5  # market insights list up to 5 × KPI_INSIGHT_LIMIT anomalies
SERIES_PERIODS = {Granularity.DAY: 90, Granularity.HOUR: 168}
MAX_INDEX_RANGE = {Granularity.DAY: timedelta(days=400), Granularity.HOUR: timedelta(days=14)}
DEFAULT_INDEX_RANGE = {Granularity.DAY: timedelta(days=90), Granularity.HOUR: timedelta(days=7)}


# --- input -----------------------------------------------------------------------------------
def parse_window(value: object) -> tuple[str, timedelta]:
    text = str(getattr(value, "value", value)).strip().lower()
    text = {"h24": "24h", "d7": "7d", "d30": "30d"}.get(text, text)
    if text not in WINDOWS:
        raise ValidationFailed(
            f"window must be one of {', '.join(WINDOWS)}",
            field="window",
            reason=KpiErrorCode.INVALID_WINDOW,
        )
    return text, WINDOWS[text]


def parse_tier(value: object, *, allow_none: bool = False) -> str | None:
    if value is None and allow_none:
        return None
    text = str(getattr(value, "value", value)).strip().lower()
    if text not in Tier.values:
        raise ValidationFailed(
            f"tier must be one of {', '.join(Tier.values)}",
            field="tier",
            reason=KpiErrorCode.INVALID_TIER,
        )
    return text


def parse_bucket(value: object) -> Granularity:
    text = str(getattr(value, "value", value)).strip().lower()
    if text not in Granularity.values:
        raise ValidationFailed(
            f"bucket must be one of {', '.join(Granularity.values)}",
            field="bucket",
            reason=KpiErrorCode.INVALID_BUCKET,
        )
    return Granularity(text)


@dataclass(frozen=True, slots=True)
class GpuScope:
    """What a GPU name in a KPI path means: a family ("H100": every variant) or one model."""

    name: str
    models: tuple[str, ...]


def resolve_gpu(gpu_type: str) -> GpuScope:
    """A family name ("H100", "A100") covers every variant (issue 14's one rule: a family name
    matches every variant, a variant only itself); any other spelling the normaliser knows is its
    canonical model; a listed model's own name is itself; anything else is a 404."""
    text = trimmed(gpu_type or "")
    if not text or len(text) > 100:
        raise NotFound(f"Unknown GPU {gpu_type!r}.", reason=KpiErrorCode.UNKNOWN_GPU)
    family = family_named(text)
    if family and family_members(family):
        return GpuScope(family, family_members(family))
    model = resolve_gpu_model(text)
    return GpuScope(model, (model,))


def resolve_gpu_model(gpu_type: str) -> str:
    """The canonical model any known spelling names, or a listed model's own name; else 404."""
    text = trimmed(gpu_type or "")
    if not text or len(text) > 100:
        raise NotFound(f"Unknown GPU {gpu_type!r}.", reason=KpiErrorCode.UNKNOWN_GPU)
    canonical = canonical_gpu_name(text)
    if canonical:
        return canonical
    listed = (
        GPUOffer.objects.filter(gpu_type__iexact=display_gpu_name(text))
        .values_list("gpu_type", flat=True)
        .first()
    )
    if listed:
        return str(listed)
    raise NotFound(f"Unknown GPU {gpu_type!r}.", reason=KpiErrorCode.UNKNOWN_GPU)


def resolve_provider(name: str) -> Provider:
    provider = Provider.objects.filter(name__iexact=trimmed(name or "")).first()
    if provider is None:
        raise NotFound(f"Unknown provider {name!r}.", reason=KpiErrorCode.UNKNOWN_PROVIDER)
    return provider


# --- shaping ---------------------------------------------------------------------------------
def _money(value: float | None) -> Decimal | None:
    return None if value is None or not math.isfinite(value) else money(value)


def _stats(values: Iterable[float]) -> PriceStats:
    s = statistics.describe(values)
    return PriceStats(
        count=s.count,
        min=_money(s.min),
        p25=_money(s.p25),
        median=_money(s.median),
        p75=_money(s.p75),
        max=_money(s.max),
        mean=_money(s.mean),
    )


def offer_ref(row: MarketRow) -> OfferRef:
    return OfferRef(
        offer_id=str(row.offer_id),
        provider=row.provider,
        gpu_model=row.gpu_model,
        gpu_count=row.gpu_count,
        price_per_hour=row.price_per_hour,
        price_per_gpu_hour=costs.price_per_gpu_hour(row.price_per_hour, row.gpu_count),
        region=row.region,
        country=row.country,
        is_spot=row.is_spot,
        availability_status=row.availability,
    )


def flag_out(flag: Flag) -> FlagOut:
    return FlagOut(
        code=flag.code.value,
        score=flag.score,
        peer_median=_money(flag.peer_median),
        ratio=flag.ratio,
        detail=flag.detail,
    )


def _flags(m: Market, now: datetime) -> dict[int, list[Flag]]:
    """Flags of the offers of ``m`` by position (complete peer groups: all offers, or all of some
    models), judged like ``market_flags`` (STALE at ``now`` rounded down to the minute)."""
    return market_flag_positions(m, now.replace(second=0, microsecond=0))


def _price_flagged(size: int, flags: dict[int, list[Flag]]) -> np.ndarray:
    """Positions flagged for their price, as a mask."""
    mask = np.zeros(size, dtype=bool)
    for at, items in flags.items():
        if any(f.code in PRICE_CODES for f in items):
            mask[at] = True
    return mask


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _clean(m: Market, now: datetime) -> np.ndarray:
    """The listed offers of ``m`` whose price is not flagged as an anomaly, as a mask."""
    return m.listed & ~_price_flagged(m.size, _flags(m, now))


@dataclass(frozen=True, slots=True)
class Past:
    """The offers of a market at a past moment, as columns aligned with the market: whether each
    existed then, its price per hour and whether it was listed."""

    existed: np.ndarray
    price: np.ndarray
    listed: np.ndarray


def _past_states(
    moment: datetime, offers: QuerySet[GPUOffer] | None = None
) -> Callable[[], history.PastStates]:
    """``history.past_states`` of ``offers`` (default: all) at ``moment``, started now beside the
    caller's market scan where it can (``parallel.beside``); call the result for the answer."""
    return parallel.beside(lambda: history.past_states(moment, offers))


def _past(m: Market, moment: datetime, past: history.PastStates) -> Past:
    """State at ``moment`` of each offer of ``m``: the recorded state for offers that changed
    since (``past``: ``history.past_states`` of the offers of ``m``), the current one for the
    others that existed then."""
    existed = m.created < moment.timestamp()
    price = m.price.copy()
    listed = m.listed.copy()
    position = m.position()
    at = np.fromiter((position.get(k, -1) for k in past.ids), dtype=np.int64, count=len(past.ids))
    known = at >= 0
    found = ~np.isnan(past.price)
    rows = at[known]
    existed[rows] = found[known]
    price[rows] = past.price[known]
    was_listed = np.fromiter(
        (a != Availability.UNAVAILABLE for a in past.availability), dtype=bool, count=len(at)
    )
    listed[rows] = was_listed[known] & found[known]
    return Past(existed, price, listed)


def _past_clean(m: Market, past: Past) -> tuple[np.ndarray, np.ndarray]:
    """(mask, per-GPU prices) at a past moment: listed offers, price anomalies of that moment
    (peer groups of the offers that existed then) left out."""
    per_gpu = past.price / np.maximum(m.gpu_count, 1)
    rows = np.flatnonzero(past.existed)
    flagged = flag_columns(
        rows.tolist(),
        m.group[rows],
        per_gpu[rows],
        m.gpu_count[rows],
        past.listed[rows],
        rules=config.anomaly_rules(),
    )
    clean = past.existed & past.listed
    for at in flagged:
        clean[int(at)] = False  # type: ignore[call-overload]
    return clean, per_gpu


def _cheapest(m: Market, mask: np.ndarray) -> int | None:
    """Position of the lowest per-GPU price in ``mask`` (ties: the smallest offer id)."""
    rows = np.flatnonzero(mask)
    if rows.size == 0:
        return None
    prices = m.per_gpu[rows]
    ties = rows[prices == prices.min()]
    return min((int(i) for i in ties), key=lambda i: m.ids[i])


def _region_keys(m: Market) -> tuple[np.ndarray, list[str]]:
    """Per offer, the code of where it is for by-region figures (``MarketRow.region_key``: its
    ISO country when known, else the provider's region name), and the names of the codes."""
    width = max(len(m.region.names), 1)
    unique, inverse = np.unique(m.country.codes * width + m.region.codes, return_inverse=True)
    names: dict[str, int] = {}
    of_pair = np.array(
        [
            names.setdefault(m.country.names[p // width] or m.region.names[p % width], len(names))
            for p in unique.tolist()
        ],
        dtype=np.int64,
    )
    return (of_pair[inverse] if unique.size else np.zeros(0, dtype=np.int64)), list(names)


def _by_code(codes: np.ndarray, mask: np.ndarray) -> dict[int, np.ndarray]:
    """Positions in ``mask`` by code, each in market order."""
    rows = np.flatnonzero(mask)
    order = np.argsort(codes[rows], kind="stable")
    rows = rows[order]
    found = codes[rows]
    bounds = np.flatnonzero(np.diff(found)) + 1
    return {int(codes[part[0]]): part for part in np.split(rows, bounds) if part.size}


# --- overview --------------------------------------------------------------------------------
def overview(*, now: datetime | None = None) -> Overview:
    """Offers total and available, active providers, per-model prices with the change over 24 h
    and the cheapest available offer, and each provider's data freshness."""
    fixed = now
    return cached("overview", {"now": fixed}, lambda: _overview(_now(fixed)))


def _overview(now: datetime) -> Overview:
    since = now - WINDOWS["24h"]
    past = _past_states(since)
    m = market()
    clean = _clean(m, now)
    then, then_prices = _past_clean(m, _past(m, since, past()))
    models = []
    for code, model in sorted(enumerate(m.model.names), key=lambda item: item[1]):
        of_model = m.model.codes == code
        listed = of_model & clean
        prices = m.per_gpu[listed]
        median_now = statistics.median(prices)
        median_then = statistics.median(then_prices[then & of_model])
        cheapest = _cheapest(m, listed & m.available)
        models.append(
            GpuOverview(
                gpu_model=model,
                offer_count=int(of_model.sum()),
                available_count=int((of_model & m.available).sum()),
                min_price_per_gpu_hour=_money(float(prices.min())) if prices.size else None,
                median_price_per_gpu_hour=_money(median_now),
                change_24h_percent=statistics.percent_change(median_then, median_now),
                cheapest_available=offer_ref(m.row(cheapest)) if cheapest is not None else None,
            )
        )
    stale_after = config.stale_provider_after()
    freshness = []
    providers = list(Provider.objects.order_by("name"))
    for provider in providers:
        last = provider.last_sync_at
        age = (now - last).total_seconds() if last else None
        freshness.append(
            ProviderFreshness(
                provider=provider.name,
                display_name=provider.display_name,
                last_sync_at=last,
                age_seconds=age,
                stale=age is None or age > stale_after.total_seconds(),
            )
        )
    active = {m.provider.names[c] for c in np.unique(m.provider.codes[m.listed]).tolist()}
    return Overview(
        as_of=now,
        offers_total=m.size,
        offers_available=int(m.available.sum()),
        active_providers=sum(
            1 for p in providers if p.status == ProviderStatus.ACTIVE and p.name in active
        ),
        gpu_model_count=int(np.unique(m.model.codes[clean]).size),
        gpu_models=models,
        freshness=freshness,
        stale_after_seconds=stale_after.total_seconds(),
    )


# --- GPU metrics -----------------------------------------------------------------------------
def gpu_metrics(
    gpu_model: str,
    *,
    tier: str | None = None,
    bucket: str = "day",
    now: datetime | None = None,
) -> GpuMetrics:
    """KPIs of one GPU model (any spelling the normaliser knows), over both tiers unless ``tier``
    (``on_demand`` | ``spot``) is given:

    * ``price`` — USD per GPU-hour ``min, p25, median, p75, max, mean`` (numpy linear
      percentiles) of the listed offers, price anomalies left out (``excluded_anomalies``);
      the same ``by_provider`` and ``by_region`` (ISO country, else the provider's region);
    * ``availability_ratio`` (available / all offers of the model), ``spot_discount_percent``
      (1 − spot median / on-demand median, in %), ``cost_per_million_tokens`` (7-8B FP16
      single-stream decode) and ``cost_per_tflop_hour`` (FP16 datasheet peak) at the median;
    * ``trends`` for 24h, 7d and 30d: median then and now and its change in %, the chained
      index's change in % and its volatility (std of log period relatives, in %);
    * ``series`` — chart-ready, one point per stored index period (``bucket`` ``day`` or
      ``hour``, oldest first): ``period_start, median, min, max, offer_count, index_value``
      (the on-demand index unless ``tier`` is ``spot``).

    Undefined statistics are ``None`` (no offers, no history, no index yet). Raises ``NotFound``
    for an unknown GPU and ``ValidationFailed`` for a bad tier or bucket.
    """
    scope = resolve_gpu(gpu_model)
    chosen_tier = parse_tier(tier, allow_none=True)
    granularity = parse_bucket(bucket)
    params = {"scope": scope.name, "tier": chosen_tier, "bucket": granularity.value, "now": now}
    return cached("gpu", params, lambda: _gpu_metrics(scope, chosen_tier, granularity, _now(now)))


def _gpu_metrics(
    scope: GpuScope, tier: str | None, bucket: Granularity, now: datetime
) -> GpuMetrics:
    model = scope.name
    offers = GPUOffer.objects.filter(gpu_type__in=scope.models)
    if tier is not None:
        offers = offers.filter(is_spot=tier == Tier.SPOT)
    pasts = {label: _past_states(now - window, offers) for label, window in WINDOWS.items()}
    m = market(offers)
    clean = _clean(m, now)
    prices = m.per_gpu[clean]
    price = _stats(prices)
    by_provider = _grouped(m.provider.codes, m.provider.names, clean, m.per_gpu)
    region_codes, region_names = _region_keys(m)
    by_region = _grouped(region_codes, region_names, clean, m.per_gpu)
    on_demand = statistics.median(m.per_gpu[clean & ~m.is_spot])
    spot = statistics.median(m.per_gpu[clean & m.is_spot])
    ratio = statistics.ratio_or_none(spot, on_demand)
    benchmark = _benchmark(scope, m)
    median_value = statistics.median(prices)
    trends = [
        _trend(label, window, m, pasts[label](), median_value, model, tier, now)
        for label, window in WINDOWS.items()
    ]
    series_tier = tier or Tier.ON_DEMAND
    listed_count = int(m.listed.sum())
    available = int(m.available.sum())
    return GpuMetrics(
        gpu_model=model,
        variants=list(scope.models),
        tier=tier,
        as_of=now,
        offer_count=m.size,
        listed_count=listed_count,
        available_count=available,
        excluded_anomalies=listed_count - int(clean.sum()),
        price=price,
        by_provider=by_provider,
        by_region=by_region,
        availability_ratio=(available / m.size) if m.size else None,
        spot_discount_percent=None if ratio is None else (1.0 - ratio) * 100.0,
        cost_per_million_tokens=_token_cost_at(benchmark, median_value),
        cost_per_tflop_hour=_tflop_cost_at(benchmark, median_value),
        trends=trends,
        series_bucket=bucket.value,
        series=_series(model, series_tier, bucket, now),
    )


def _benchmark(scope: GpuScope, m: Market) -> GPUBenchmark | None:
    """The benchmark costs at the median use: the model's, or for a family the variant with the
    most listed offers (ties: by name)."""
    counts = {
        name: int((m.listed & (m.model.codes == m.model.code(name))).sum()) for name in scope.models
    }
    ranked = sorted(scope.models, key=lambda name: (-counts[name], name))
    found = {b.gpu_model: b for b in GPUBenchmark.objects.filter(gpu_model__in=ranked)}
    return next((found[name] for name in ranked if name in found), None)


def _grouped(
    codes: np.ndarray, names: list[str], mask: np.ndarray, values: np.ndarray
) -> list[GroupPriceStats]:
    """Price statistics of ``values`` in ``mask`` per group name (values in market order)."""
    groups: dict[str, list[np.ndarray]] = {}
    for code, rows in _by_code(codes, mask).items():
        groups.setdefault(names[code], []).append(rows)
    return [
        GroupPriceStats(key=k, price=_stats(values[np.sort(np.concatenate(parts))]))
        for k, parts in sorted(groups.items())
    ]


def _token_cost_at(benchmark: GPUBenchmark | None, price: float | None) -> Decimal | None:
    if benchmark is None or price is None or benchmark.tokens_per_second_7b <= 0:
        return None
    try:
        result = costs.offer_cost_per_million_tokens(
            price_per_hour=price, gpu_count=1, spec=gpu_spec(benchmark)
        )
    except InvalidInput:
        return None
    return _money(result.cost_per_million_tokens)


def _tflop_cost_at(benchmark: GPUBenchmark | None, price: float | None) -> Decimal | None:
    if benchmark is None or price is None:
        return None
    try:
        result = costs.offer_cost_per_gflop(
            price_per_hour=price, gpu_count=1, spec=gpu_spec(benchmark), precision=Precision.FP16
        )
    except InvalidInput:
        return None
    return rate(result.cost_per_tflop_hour)


def _periods(model: str, tier: str, bucket: Granularity):  # type: ignore[no-untyped-def]
    return PriceIndexPeriod.objects.filter(
        gpu_model=model, tier=tier, bucket=bucket, methodology_version=METHODOLOGY_VERSION
    )


def _trend(
    label: str,
    window: timedelta,
    m: Market,
    past: history.PastStates,
    median_now: float | None,
    model: str,
    tier: str | None,
    now: datetime,
) -> Trend:
    since = now - window
    then, then_prices = _past_clean(m, _past(m, since, past))
    median_then = statistics.median(then_prices[then])
    bucket = Granularity.HOUR if window <= timedelta(hours=24) else Granularity.DAY
    periods = list(
        _periods(model, tier or Tier.ON_DEMAND, bucket)
        .filter(period_end__gt=since - bucket_size(bucket), period_end__lte=now)
        .order_by("period_start")
        .values_list("period_end", "index_value", "relative")
    )
    start = [p for p in periods if p[0] <= since]
    inside = [p for p in periods if p[0] > since]
    index_change = None
    if start and inside:
        index_change = statistics.percent_change(start[-1][1], inside[-1][1])
    relatives = [p[2] for p in inside if p[2] is not None]
    return Trend(
        window=label,
        median_then=_money(median_then),
        median_now=_money(median_now),
        change_percent=statistics.percent_change(median_then, median_now),
        index_change_percent=index_change,
        volatility_percent=statistics.volatility(relatives),
    )


def bucket_size(bucket: Granularity) -> timedelta:
    return timedelta(hours=1) if bucket == Granularity.HOUR else timedelta(days=1)


def _series(model: str, tier: str, bucket: Granularity, now: datetime) -> list[SeriesPoint]:
    rows = list(
        _periods(model, tier, bucket)
        .filter(period_end__lte=now)
        .order_by("-period_start")[: SERIES_PERIODS[bucket]]
    )
    return [
        SeriesPoint(
            period_start=p.period_start,
            median=p.price_level,
            min=p.price_min,
            max=p.price_max,
            offer_count=p.offer_count,
            index_value=p.index_value,
        )
        for p in reversed(rows)
    ]


# --- provider KPIs ---------------------------------------------------------------------------
def provider_kpis(name: str, *, now: datetime | None = None) -> ProviderKpis:
    """One provider: offers, GPU models, its price level against the market median for the same
    models and tier (1.0 = at market; the offer-weighted geometric mean of per-model ratios),
    reliability, errors, sync success rate over ``KPI_SYNC_WINDOW_DAYS`` (default 7), last
    sync and availability ratio. Raises ``NotFound`` for an unknown provider."""
    provider = resolve_provider(name)
    return cached(
        "provider", {"name": provider.name, "now": now}, lambda: _provider(provider, _now(now))
    )


def _provider(provider: Provider, now: datetime) -> ProviderKpis:
    m = market()
    clean = _clean(m, now)
    mine = m.provider.codes == m.provider.code(provider.name)
    ratios = []
    weighted, weights = 0.0, 0
    own = _by_code(m.group, clean & mine)
    for code in sorted(own, key=m.group_key):
        model, tier = m.group_key(code)
        prices = m.per_gpu[own[code]]
        mine_median = statistics.median(prices)
        market_median = statistics.median(m.per_gpu[clean & (m.group == code)])
        ratio = statistics.ratio_or_none(mine_median, market_median)
        ratios.append(
            ModelPriceRatio(
                model, tier, int(prices.size), _money(mine_median), _money(market_median), ratio
            )
        )
        if ratio is not None and ratio > 0:
            weighted += int(prices.size) * math.log(ratio)
            weights += int(prices.size)
    window = config.sync_window()
    total, ok = sync_outcomes(provider.name, now - window)
    last = provider.last_sync_at
    offer_count = int(mine.sum())
    available = int((mine & m.available).sum())
    return ProviderKpis(
        name=provider.name,
        display_name=provider.display_name,
        as_of=now,
        offer_count=offer_count,
        listed_count=int((mine & m.listed).sum()),
        available_count=available,
        gpu_models=sorted(
            m.model.names[c] for c in np.unique(m.model.codes[mine & m.listed]).tolist()
        ),
        price_index_vs_market=math.exp(weighted / weights) if weights else None,
        models=ratios,
        reliability_score=provider.reliability_score,
        error_count=provider.error_count,
        sync_window_days=window.total_seconds() / 86400,
        syncs_in_window=total,
        sync_success_rate=(ok / total) if total else None,
        last_sync_at=last,
        stale=last is None or now - last > config.stale_provider_after(),
        availability_ratio=(available / offer_count) if offer_count else None,
    )


# --- market insights -------------------------------------------------------------------------
def market_insights(window: str = "24h", *, now: datetime | None = None) -> MarketInsights:
    """What moved over ``window`` (``24h`` | ``7d`` | ``30d``): the largest per-GPU-hour price
    drops and rises of offers listed then and now, the best value now by cost per million tokens
    and per TFLOP-hour, supply changes per model (offers appeared, vanished, net), the cheapest
    region per model (lowest median) and the current anomalies with their reason codes."""
    label, span = parse_window(window)
    return cached(
        "insights", {"window": label, "now": now}, lambda: _insights(label, span, _now(now))
    )


def _per_gpu_step(price: np.ndarray, gpu_count: np.ndarray) -> np.ndarray:
    """``costs.price_per_gpu_hour`` (the per-GPU price at 4 dp, half even) of every offer, in
    units of 0.0001 as integers: exact integer arithmetic on the 4-place prices."""
    units = np.rint(np.nan_to_num(price) * 10_000).astype(np.int64)
    count = np.maximum(gpu_count, 1)
    quotient, remainder = np.divmod(units, count)
    twice = 2 * remainder
    up = (twice > count) | ((twice == count) & (quotient % 2 == 1))
    return quotient + up.astype(np.int64)


def _moves(m: Market, past: Past, flagged: np.ndarray, limit: int) -> tuple[list, list]:  # type: ignore[type-arg]
    """(largest drops, largest rises) of per-GPU prices of offers listed then and now."""
    old = _per_gpu_step(past.price, m.gpu_count)
    new = _per_gpu_step(m.price, m.gpu_count)
    moved = np.flatnonzero(
        past.existed & past.listed & m.listed & ~flagged & (old > 0) & (new != old)
    )
    # float(Decimal) of a 4-place amount is its integer units / 10,000 (both correctly rounded).
    change = ((new[moved] / 10_000.0) / (old[moved] / 10_000.0) - 1.0) * 100.0

    def largest(sign: int) -> list[PriceMove]:
        side = moved[sign * change > 0]
        values = change[sign * change > 0]
        if side.size > limit:
            edge = np.partition(sign * values, side.size - limit)[side.size - limit]
            keep = sign * values >= edge
            side, values = side[keep], values[keep]
        ranked = sorted(
            zip(values.tolist(), side.tolist(), strict=True),
            key=lambda item: (item[0], m.ids[item[1]]),
            reverse=sign > 0,
        )[:limit]
        moves = []
        for value, at in ranked:
            row = m.row(at)
            before = costs.price_per_gpu_hour(
                history.price_decimal(float(past.price[at])), row.gpu_count
            )
            after = costs.price_per_gpu_hour(row.price_per_hour, row.gpu_count)
            moves.append(PriceMove(offer_ref(row), before, after, value))
        return moves

    return largest(-1), largest(1)


def _insights(label: str, span: timedelta, now: datetime) -> MarketInsights:
    since = now - span
    limit = config.insight_limit()
    states = _past_states(since)
    m = market(values=True)
    by_position = _flags(m, now)
    flagged = _price_flagged(m.size, by_position)
    flags = {m.ids[at]: items for at, items in by_position.items()}
    past = _past(m, since, states())
    drops, rises = _moves(m, past, flagged, limit)
    was_listed = past.existed & past.listed
    supply: dict[str, list[int]] = {}
    for code, rows in _by_code(m.model.codes, was_listed != m.listed).items():
        up = int(m.listed[rows].sum())
        supply[m.model.names[code]] = [up, int(rows.size) - up]
    clean = m.listed & ~flagged
    best_tokens, best_tflops = _best_values(m, flagged, limit)
    return MarketInsights(
        window=label,
        as_of=now,
        since=since,
        price_drops=drops,
        price_rises=rises,
        best_value_tokens=best_tokens,
        best_value_tflops=best_tflops,
        supply_changes=[
            SupplyChange(model, up, down, up - down) for model, (up, down) in sorted(supply.items())
        ],
        cheapest_regions=_cheapest_regions(m, clean),
        anomalies=_anomalies(flags, m, limit),
        anomaly_counts=_flag_counts(flags),
    )


def _best_values(
    m: Market, excluded: np.ndarray, limit: int
) -> tuple[list[ValueOffer], list[ValueOffer]]:
    """The best value now by cost per million tokens and by cost per TFLOP-hour: the first
    ``limit`` offers by (value, id) — what ``ORDER BY value, id LIMIT limit`` over the SQL value
    keys gives — of the available offers not in ``excluded`` (a mask: the price anomalies);
    both rankings from the keys the market's own scan read (``market(values=True)``), then one
    read of the chosen offers."""
    assert m.tokens is not None and m.tflops is not None, "market(values=True) gives the keys"
    eligible = m.available & ~excluded

    def first(values: np.ndarray) -> list[str]:
        if limit <= 0:
            return []
        rows = np.flatnonzero(eligible & ~np.isnan(values))
        if rows.size > limit:
            edge = np.partition(values[rows], limit - 1)[limit - 1]
            rows = rows[values[rows] <= edge]
        ranked = sorted(rows.tolist(), key=lambda i: (float(values[i]), m.ids[i]))
        return [m.ids[i] for i in ranked[:limit]]

    chosen = {"tokens": first(m.tokens), "tflops": first(m.tflops)}
    wanted = set(chosen["tokens"]) | set(chosen["tflops"])
    offers = {
        str(o.pk): o
        for o in GPUOffer.objects.filter(pk__in=sorted(wanted)).select_related(
            "provider", "benchmark"
        )
    }
    return (
        _value_offers([offers[k] for k in chosen["tokens"] if k in offers], tokens=True),
        _value_offers([offers[k] for k in chosen["tflops"] if k in offers], tokens=False),
    )


def _value_offers(ranked: list[GPUOffer], *, tokens: bool) -> list[ValueOffer]:
    result = []
    for offer in ranked:
        amount: Decimal | None
        if tokens:
            cost = offer_metrics.token_cost(offer)
            amount = cost.cost_per_million_tokens if cost is not None else None
        else:
            amount = offer_metrics.cost_per_tflop_hour(offer, Precision.FP16)
        if amount is None:
            continue
        row = MarketRow(
            offer.pk,
            offer.provider.name,
            offer.gpu_type,
            offer.price_per_hour,
            offer.gpu_count,
            offer.availability_status,
            offer.is_spot,
            offer.region,
            offer.country,
            offer.last_seen_at.timestamp(),
            offer.created_at.timestamp(),
        )
        result.append(ValueOffer(offer=offer_ref(row), value=amount))
    return result


def _cheapest_regions(m: Market, clean: np.ndarray) -> list[CheapestRegion]:
    region_codes, region_names = _region_keys(m)
    result = []
    for code, model in sorted(enumerate(m.model.names), key=lambda item: item[1]):
        places = _by_code(region_codes, clean & (m.model.codes == code))
        if not places:
            continue
        medians = {
            region_names[region]: statistics.median(m.per_gpu[rows])
            for region, rows in places.items()
        }
        best = min(medians, key=lambda region: (medians[region], region))
        in_best = np.zeros(m.size, dtype=bool)
        in_best[places[region_names.index(best)]] = True
        cheapest = _cheapest(m, in_best)
        assert cheapest is not None
        result.append(
            CheapestRegion(model, best, _money(medians[best]), offer_ref(m.row(cheapest)))
        )
    return result


def _anomalies(flags: dict[str, list[Flag]], m: Market, limit: int) -> list[AnomalyOut]:
    def severity(key: str) -> tuple[int, float, str]:
        scores = [abs(f.score) for f in flags[key] if f.score is not None]
        return (0 if scores else 1, -max(scores, default=0.0), key)

    position = m.position()
    keys = sorted((k for k in flags if k in position), key=severity)[
        : limit * ANOMALY_ROWS_PER_LIMIT
    ]
    return [
        AnomalyOut(offer_ref(m.row(position[k])), [flag_out(f) for f in flags[k]]) for k in keys
    ]


def _flag_counts(flags: dict[str, list[Flag]]) -> list[CodeCount]:
    counts: dict[str, int] = {}
    for items in flags.values():
        for flag in items:
            counts[flag.code.value] = counts.get(flag.code.value, 0) + 1
    return [CodeCount(code, n) for code, n in sorted(counts.items())]


# --- flags on offers -------------------------------------------------------------------------
def offer_flags(
    offer_ids: Iterable[object], *, now: datetime | None = None
) -> dict[str, list[FlagOut]]:
    """Anomaly flags of the given offers (offers without a flag map to an empty list): one query
    for the offers, judged against the market's peer scales (cached per catalogue version)."""
    ids = [str(k) for k in offer_ids]
    flags = flags_of_offers(ids, _now(now))
    return {k: [flag_out(f) for f in flags.get(k, [])] for k in ids}


def market_flag_outs(*, now: datetime | None = None) -> dict[str, list[FlagOut]]:
    """Flags of every flagged offer of the catalogue, by offer id."""
    return {k: [flag_out(f) for f in v] for k, v in market_flags(_now(now)).items()}


# --- price index (read) ----------------------------------------------------------------------
def _as_moment(value: object, field: str) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        if isinstance(value, date):
            moment = datetime(value.year, value.month, value.day)
        else:
            try:
                moment = datetime.fromisoformat(str(value))
            except ValueError as exc:
                raise ValidationFailed(
                    f"{field} must be an ISO-8601 date or time", field=field
                ) from exc
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError as exc:  # 0001-01-01T00:00+05:00 is before the first representable UTC
        raise ValidationFailed(
            f"{field} is out of range", field=field, reason=KpiErrorCode.INVALID_RANGE
        ) from exc


def _before(moment: datetime, span: timedelta) -> datetime:
    """``moment - span``, or the first representable moment (found by .ci/fuzz: ``to=0001-01-01``
    without ``from`` was a 500)."""
    try:
        return moment - span
    except OverflowError:
        return datetime.min.replace(tzinfo=UTC)


def price_index(
    gpu_type: str,
    *,
    tier: str = "on_demand",
    bucket: str = "day",
    start: object = None,
    end: object = None,
    now: datetime | None = None,
) -> PriceIndexSeries:
    """The stored chained price-index periods of a GPU model and tier in ``[start, end]``
    (period starts; defaults: the last 90 days, or 7 days for hourly), oldest first, each with
    its methodology, counts, exclusions by reason and input hash. Raises ``NotFound`` for an
    unknown GPU and ``ValidationFailed`` for a bad tier, bucket or range."""
    model = resolve_gpu(gpu_type).name
    chosen = parse_tier(tier) or Tier.ON_DEMAND
    granularity = parse_bucket(bucket)
    to = _as_moment(end, "to") or _now(now)
    frm = _as_moment(start, "from") or _before(to, DEFAULT_INDEX_RANGE[granularity])
    if frm > to:
        raise ValidationFailed(
            "from must not be after to", field="from", reason=KpiErrorCode.INVALID_RANGE
        )
    if to - frm > MAX_INDEX_RANGE[granularity]:
        days = MAX_INDEX_RANGE[granularity].days
        raise ValidationFailed(
            f"the range may span at most {days} days",
            field="from",
            reason=KpiErrorCode.INVALID_RANGE,
        )
    params = {"model": model, "tier": chosen, "bucket": granularity.value, "from": frm, "to": to}
    return cached("index", params, lambda: _index(model, chosen, granularity, frm, to))


def _index(
    model: str, tier: str, bucket: Granularity, start: datetime, end: datetime
) -> PriceIndexSeries:
    periods = _periods(model, tier, bucket).filter(
        Q(period_start__gte=start) & Q(period_start__lte=end)
    )
    points = [
        IndexPoint(
            period_start=p.period_start,
            period_end=p.period_end,
            index_value=p.index_value,
            relative=p.relative,
            imputed=p.imputed,
            price_level=p.price_level,
            price_min=p.price_min,
            price_max=p.price_max,
            offer_count=p.offer_count,
            matched_offers=p.matched_offers,
            provider_count=p.provider_count,
            exclusions=ExclusionCounts.of(p.exclusions),
            input_hash=p.input_hash,
        )
        for p in periods.order_by("period_start")
    ]
    return PriceIndexSeries(
        gpu_model=model,
        tier=tier,
        bucket=bucket.value,
        methodology=METHODOLOGY_NAME,
        methodology_version=METHODOLOGY_VERSION,
        start=start,
        end=end,
        points=points,
    )

"""Compaction keeps every fact KPIs read: KPIs and the index equal before and after; it is
idempotent and batch-wise; the demo's history stays bounded."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from decimal import Decimal

import numpy as np
import pytest
from django.test import override_settings

from apps.kpi import demo, index_engine, services
from apps.kpi.compaction import compact_price_history
from apps.kpi.models import Granularity, PriceRollup
from apps.providers.models import PriceHistory
from tests.kpi import market


def _history_market(days: int = 40, offers_per_provider: int = 6):
    """Two providers, H100 and RTX 4090 offers, several changes a day at random times for
    ``days`` days (availability flips included), ending at NOW."""
    rng = np.random.default_rng(11)
    people = market.providers("alpha", "beta")
    start = market.NOW - timedelta(days=days)
    offers = []
    for name in people:
        offers += market.offers(people[name], offers_per_provider, created_at=start)
        offers += market.offers(
            people[name], offers_per_provider, gpu="RTX 4090", gpu_memory_gb=24, created_at=start
        )
    changes: list[tuple] = []
    for offer in offers:
        base = 2.0 if offer.gpu_type.startswith("H100") else 0.4
        moments = sorted(rng.uniform(0, days * 24, size=days * 3))
        changes.append((offer, start, Decimal(f"{base:.4f}"), str(market.AVAILABLE)))
        for hours in moments:
            price = Decimal(f"{base * rng.lognormal(0, 0.05):.4f}")
            status = rng.choice(
                [market.AVAILABLE, market.AVAILABLE, market.LIMITED, market.UNAVAILABLE]
            )
            changes.append((offer, start + timedelta(hours=float(hours)), price, str(status)))
    market.record(changes)
    return offers


def _kpis():
    now = market.NOW
    return {
        "gpu": asdict(services.gpu_metrics("h100", now=now)),
        "gpu_spot_hourly": asdict(services.gpu_metrics("rtx 4090", bucket="hour", now=now)),
        "provider": asdict(services.provider_kpis("alpha", now=now)),
        "overview": asdict(services.overview(now=now)),
        **{
            f"insights_{w}": asdict(services.market_insights(w, now=now))
            for w in ("24h", "7d", "30d")
        },
        "index": asdict(services.price_index("h100", start=now - timedelta(days=40), end=now)),
    }


@pytest.mark.django_db
@override_settings(KPI_CACHE_SECONDS=0)
def test_kpis_equal_before_and_after_compaction(benchmarks):
    _history_market()
    index_engine.update_price_index(bucket="day", now=market.NOW, backfill_days=39)
    index_engine.update_price_index(bucket="hour", now=market.NOW, backfill_days=2)
    before = _kpis()
    raw_before = PriceHistory.objects.count()
    assert before["index"]["points"] and before["insights_30d"]["price_drops"]

    # raw kept 3 days, hourly 10 days: the 7 d and 30 d windows reach into both rollup levels
    report = compact_price_history(now=market.NOW, raw_days=3, hourly_days=10, batch_offers=5)
    assert report.batches == 5  # 24 offers, 5 per batch
    assert report.raw_rows_compacted > 0 and report.hourly_rollups_compacted > 0
    assert PriceHistory.objects.filter(recorded_at__lt=market.NOW - timedelta(days=3)).count() == 0
    assert PriceRollup.objects.filter(granularity=Granularity.DAY).exists()
    assert not PriceRollup.objects.filter(
        granularity=Granularity.HOUR, bucket_start__lt=market.NOW - timedelta(days=10)
    ).exists()
    assert PriceHistory.objects.count() < raw_before / 5

    after = _kpis()
    for name in before:
        assert after[name] == before[name], name
    assert index_engine.verify_price_index(bucket="day").ok
    assert index_engine.verify_price_index(bucket="hour").ok

    again = compact_price_history(now=market.NOW, raw_days=3, hourly_days=10, batch_offers=5)
    assert (again.raw_rows_compacted, again.hourly_rollups_compacted) == (0, 0)
    assert _kpis() == before


def _compacted_twice(*changes: tuple[int, Decimal, str]) -> PriceRollup:
    """One offer's changes inside one hour 50 days ago (minute, price, availability), each
    recorded and then compacted in turn; the one hourly rollup they end in."""
    people = market.providers("alpha")
    (offer,) = market.offers(people["alpha"], 1, created_at=market.NOW - timedelta(days=60))
    hour = market.NOW - timedelta(days=50)
    for minute, price, availability in changes:
        market.record([(offer, hour + timedelta(minutes=minute), price, availability)])
        compact_price_history(now=market.NOW, raw_days=35, hourly_days=180)
    (rollup,) = PriceRollup.objects.filter(offer=offer)
    return rollup


@pytest.mark.django_db
def test_rows_written_into_a_compacted_hour_are_merged_not_duplicated(benchmarks):
    rollup = _compacted_twice(
        (5, Decimal("2.0"), market.AVAILABLE), (45, Decimal("1.5"), market.LIMITED)
    )
    assert (rollup.first_price, rollup.last_price, rollup.min_price) == (
        Decimal("2.0000"),
        Decimal("1.5000"),
        Decimal("1.5000"),
    )
    assert rollup.samples == 2 and rollup.available_share == 0.75
    assert rollup.last_availability == market.LIMITED


@pytest.mark.django_db
@override_settings(
    PRICE_HISTORY_RAW_DAYS=0.25,
    PRICE_HISTORY_HOURLY_DAYS=2.0,
    PRICE_HISTORY_DAILY_DAYS=90.0,
    DEMO_MAINTENANCE_SECONDS=0,
)
def test_demo_history_stays_bounded(benchmarks, monkeypatch):
    """A week of a ticker's writes (one change per offer every 10 min) stays bounded by the
    development retention: 6 h raw, 2 days hourly, the rest daily."""
    from django.utils import timezone

    people = market.providers("demo")
    now = timezone.now()
    offers = market.offers(people["demo"], 10, created_at=now - timedelta(days=7))
    changes: list[tuple] = []
    for step in range(7 * 24 * 6):
        at = now - timedelta(days=7) + timedelta(minutes=10 * step)
        for offer in offers:
            changes.append((offer, at, Decimal("2.0") + Decimal(step % 7) / 100, market.AVAILABLE))
    market.record(changes)
    monkeypatch.setattr("apps.providers.services.replay_demo_tick", lambda: [])
    demo.demo_tick()
    raw = PriceHistory.objects.count()
    hourly = PriceRollup.objects.filter(granularity=Granularity.HOUR).count()
    daily = PriceRollup.objects.filter(granularity=Granularity.DAY).count()
    assert raw <= 10 * 6 * 7  # at most ~6 h (+ the current hour) of 6 changes an hour
    assert hourly <= 10 * 24 * 3  # at most 2 days (+ today) of hours
    assert 0 < daily <= 10 * 8
    assert raw + hourly + daily < len(changes) / 5


@pytest.mark.django_db
def test_an_earlier_change_merged_into_a_compacted_hour_becomes_its_first(benchmarks):
    """The merge keeps time order whichever part arrives first: a backfilled change from before
    the rollup's first one gives the hour its first price; the last price stays the rollup's."""
    rollup = _compacted_twice(
        (45, Decimal("1.5"), market.LIMITED), (5, Decimal("2.5"), market.AVAILABLE)
    )
    hour = market.NOW - timedelta(days=50)
    assert (rollup.first_price, rollup.last_price) == (Decimal("2.5000"), Decimal("1.5000"))
    assert (rollup.min_price, rollup.max_price) == (Decimal("1.5000"), Decimal("2.5000"))
    assert (rollup.first_at, rollup.last_at) == (
        hour + timedelta(minutes=5),
        hour + timedelta(minutes=45),
    )
    assert rollup.samples == 2 and rollup.available_share == 0.75
    assert rollup.last_availability == market.LIMITED

"""The chained Jevons index: a hand-computed three-period example, composition robustness
through the stored engine, immutability and verification."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import numpy as np
import pytest
from django.core.management import call_command

from apps.kpi import index_engine
from apps.kpi.models import ImmutablePeriod, PriceIndexPeriod
from apps.kpi.price_index import GONE_OFFER, NEW_OFFER, OfferPeriod, compute_period, input_hash
from tests.kpi import market


def offer(oid, provider, price, *, count=1, share=1.0, listed=True):
    return OfferPeriod(oid, provider, count, Decimal(price), listed, share)


def test_hand_computed_three_periods():
    """Two providers (cells A and B), per-GPU prices in USD.

    Period 0 (base, I₀ = 100): A1 2.00, A2 4.00, B1 a 2-GPU offer at 6.00 (3.00 per GPU).

    Period 1: A1 2.20, A2 4.00 (half the period available), B1 5.40 (2.70 per GPU); B2 joins at
    10.00.
      cell A: relatives 2.20/2.00 = 1.1 and 4.00/4.00 = 1.0 → Jevons √1.1 = 1.0488088
      cell B: 2.70/3.00 = 0.9 (B2 is new: not matched, counted as NEW_OFFER)
      weights from period 0 capacity: A = 1·1 + 1·1 = 2, B = 2 GPUs · 1 = 2 → ½ and ½
      R₁ = ½·1.0488088 + ½·0.9 = 0.9744044 → I₁ = 97.44044

    Period 2: A1 2.42 (×1.1), A2 3.60 (×0.9), B1 5.40 (unchanged), B2 10.00 (unchanged).
      cell A: √(1.1 · 0.9) = √0.99 = 0.9949874;  cell B: √(1.0 · 1.0) = 1.0
      weights from period 1 capacity: A = 1·1 + 1·0.5 = 1.5, B = 2·1 + 1·1 = 3 → ⅓ and ⅔
      R₂ = ⅓·0.9949874 + ⅔·1.0 = 0.9983291 → I₂ = 97.44044 · 0.9983291 = 97.27763
    """
    p0 = {
        "A1": offer("A1", "A", "2.00"),
        "A2": offer("A2", "A", "4.00"),
        "B1": offer("B1", "B", "6.00", count=2),
    }
    p1 = {
        "A1": offer("A1", "A", "2.20"),
        "A2": offer("A2", "A", "4.00", share=0.5),
        "B1": offer("B1", "B", "5.40", count=2),
        "B2": offer("B2", "B", "10.00"),
    }
    p2 = {
        "A1": offer("A1", "A", "2.42"),
        "A2": offer("A2", "A", "3.60"),
        "B1": offer("B1", "B", "5.40", count=2),
        "B2": offer("B2", "B", "10.00"),
    }
    first = compute_period({}, p0, {})
    assert first.chained(None) == 100.0
    r1 = compute_period(p0, p1, {})
    assert r1.cells["A"] == pytest.approx(1.0488088, abs=1e-7)
    assert r1.cells["B"] == pytest.approx(0.9, abs=1e-12)
    assert r1.weights == {"A": 0.5, "B": 0.5}
    assert r1.relative == pytest.approx(0.9744044, abs=1e-7)
    assert r1.matched_offers == 3 and r1.exclusions == {NEW_OFFER: 1}
    i1 = r1.chained(100.0)
    assert i1 == pytest.approx(97.44044, abs=1e-5)
    r2 = compute_period(p1, p2, {})
    assert r2.cells["A"] == pytest.approx(0.9949874, abs=1e-7)
    assert r2.weights["A"] == pytest.approx(1 / 3) and r2.weights["B"] == pytest.approx(2 / 3)
    assert r2.relative == pytest.approx(0.9983291, abs=1e-7)
    assert r2.chained(i1) == pytest.approx(97.27763, abs=1e-5)
    # The level beside it: median per-GPU price of period 2 = median(2.42, 3.60, 2.70, 10) = 3.15
    assert r2.price_level == pytest.approx(3.15)


def test_exclusions_and_gone_offers_are_counted():
    before = {"a": offer("a", "A", "2"), "b": offer("b", "A", "2"), "c": offer("c", "A", "2")}
    after = {
        "a": offer("a", "A", "2.2"),
        "b": offer("b", "A", "200"),
        "c": offer("c", "A", "2", listed=False),
    }
    result = compute_period(before, after, {"b": "LIKELY_CENTS_AS_DOLLARS"})
    assert result.relative == pytest.approx(1.1)
    assert result.exclusions == {"LIKELY_CENTS_AS_DOLLARS": 1, GONE_OFFER: 1}


def test_period_figures_do_not_depend_on_the_offers_order():
    """The same offers in any order give bit-identical figures (exactly rounded sums), so two
    processes reading the same history store the same period."""
    rng = np.random.default_rng(11)
    keys = [f"o{i}" for i in range(400)]
    before, after = {}, {}
    for i, key in enumerate(keys):
        provider = "ABC"[i % 3]
        count = int(rng.integers(1, 9))
        share = float(rng.uniform(0, 1))
        before[key] = offer(key, provider, f"{rng.uniform(0.5, 30):.4f}", count=count, share=share)
        after[key] = offer(key, provider, f"{rng.uniform(0.5, 30):.4f}", count=count, share=share)
    first = compute_period(before, after, {})
    orders = set()
    for _ in range(5):
        order = list(rng.permutation(keys))
        orders.add(tuple(order[:3]))
        again = compute_period(
            {k: before[k] for k in order}, {k: after[k] for k in reversed(order)}, {}
        )
        assert again.relative == first.relative  # exact, not approx
        assert again.cells == first.cells and again.weights == first.weights
    assert len(orders) == 5 and first.matched_offers == 400


def test_input_hash_changes_with_any_input():
    base = {"a": offer("a", "A", "2")}
    key = {"gpu_model": "X", "tier": "on_demand", "bucket": "day", "start": "2026-01-01"}
    one = input_hash(period_key=key, previous=base, current=base, excluded={})
    assert one == input_hash(period_key=key, previous=dict(base), current=base, excluded={})
    assert one != input_hash(
        period_key=key, previous=base, current={"a": offer("a", "A", "2.0001")}, excluded={}
    )
    assert len(one) == 64


def _daily_market(days: int, join_day: int | None, leave_day: int | None):
    """30 offers at two providers near $2.00/GPU-hour with ±0.5 % daily noise; provider
    ``premium`` (34 offers, 50 % above: more than half the market, so the median moves) joins
    on ``join_day`` and leaves on ``leave_day``."""
    rng = np.random.default_rng(7)
    start = market.NOW - timedelta(days=days)
    people = market.providers("alpha", "beta", "premium")
    base = market.offers(people["alpha"], 15, created_at=start) + market.offers(
        people["beta"], 15, created_at=start
    )
    changes = []
    prices = {o.pk: 2.0 * rng.uniform(0.97, 1.03) for o in base}
    for day in range(days):
        at = start + timedelta(days=day, hours=12)
        for o in base:
            prices[o.pk] *= 1 + rng.uniform(-0.005, 0.005)
            changes.append((o, at, Decimal(f"{prices[o.pk]:.4f}"), market.AVAILABLE))
    premium = []
    if join_day is not None:
        joined = start + timedelta(days=join_day, hours=6)
        premium = market.offers(people["premium"], 34, created_at=joined)
        for o in premium:
            price = Decimal(f"{3.0 * rng.uniform(0.98, 1.02):.4f}")
            changes.append((o, joined, price, market.AVAILABLE))
            if leave_day is not None:
                left = start + timedelta(days=leave_day, hours=1)
                changes.append((o, left, price, market.UNAVAILABLE))
    market.record(changes)
    return start, premium


@pytest.mark.django_db
def test_composition_robustness_join_and_leave(benchmarks):
    days, join, leave = 14, 5, 10
    start, _ = _daily_market(days, join, leave)
    report = index_engine.update_price_index(bucket="day", now=market.NOW, backfill_days=days)
    # two series: the model (H100 SXM 80GB) and its family (H100), here with the same offers
    assert report.periods_written == 2 * days
    family = PriceIndexPeriod.objects.filter(gpu_model="H100", bucket="day").order_by(
        "period_start"
    )
    periods = list(
        PriceIndexPeriod.objects.filter(
            gpu_model="H100 SXM 80GB", tier="on_demand", bucket="day"
        ).order_by("period_start")
    )
    assert len(periods) == days and periods[0].index_value == 100.0
    assert [p.index_value for p in family] == pytest.approx([p.index_value for p in periods])
    by_day = {(p.period_start - start).days: p for p in periods}
    for day, label in ((join, "join"), (leave + 1, "leave")):
        # the premium offers are listed on leave day (until 01:00) and gone the day after
        move = by_day[day].index_value / by_day[day - 1].index_value - 1
        level_jump = (
            float(by_day[day].price_level or 0) / float(by_day[day - 1].price_level or 1) - 1
        )
        assert abs(move) <= 0.02, (label, move)
        assert abs(level_jump) >= 0.05, (label, level_jump)
    assert by_day[join].exclusions.get("NEW_OFFER") == 34
    assert by_day[leave + 1].exclusions.get("GONE_OFFER") == 34
    assert by_day[join].provider_count == 3 and by_day[join - 1].provider_count == 2
    assert index_engine.verify_price_index(bucket="day").ok
    # idempotent: nothing new to write
    assert index_engine.update_price_index(bucket="day", now=market.NOW).periods_written == 0


@pytest.mark.django_db
def test_stored_periods_are_immutable_and_verify_catches_tampering(benchmarks, capsys):
    _daily_market(4, None, None)
    index_engine.update_price_index(bucket="day", now=market.NOW, backfill_days=4)
    period = PriceIndexPeriod.objects.order_by("period_start").last()
    assert period is not None
    period.matched_offers += 1
    with pytest.raises(ImmutablePeriod):
        period.save()
    PriceIndexPeriod.objects.filter(pk=period.pk).update(
        input_hash="0" * 64, index_value=period.index_value * 1.01
    )
    report = index_engine.verify_price_index(bucket="day")
    assert report.checked == 8  # 4 days × (model and family series)
    assert len(report.differences) == 2
    assert any("input_hash" in d for d in report.differences)
    with pytest.raises(SystemExit):
        call_command("verify_price_index")
    assert "index_value" in capsys.readouterr().out

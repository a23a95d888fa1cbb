"""Percentiles, medians and means agree with numpy's defaults: in the pure module and through
the engine on the database the suite runs on (SQLite and PostgreSQL)."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from apps.kpi import statistics
from apps.kpi.services import gpu_metrics
from apps.math_core.service_utils import money
from tests.kpi import market


@pytest.mark.parametrize("seed,size", [(1, 1), (2, 2), (3, 7), (4, 100), (5, 1001)])
def test_describe_matches_numpy(seed, size):
    values = np.random.default_rng(seed).lognormal(0.5, 0.6, size)
    summary = statistics.describe(values)
    p25, p50, p75 = np.percentile(values, [25, 50, 75])
    assert summary.count == size
    assert summary.min == values.min() and summary.max == values.max()
    assert summary.p25 == p25 and summary.median == p50 and summary.p75 == p75
    assert summary.median == np.median(values)
    assert summary.mean == pytest.approx(values.mean(), rel=1e-15)


def test_known_linear_percentiles():
    # numpy linear: position (n-1)q; [1, 2, 3, 4] → p25 at 0.75 → 1 + 0.75·(2−1) = 1.75
    summary = statistics.describe([4, 1, 3, 2])
    assert (summary.p25, summary.median, summary.p75) == (1.75, 2.5, 3.25)


def test_empty_and_non_finite_give_nulls_never_nan():
    assert statistics.describe([]) == statistics.Summary(count=0)
    assert statistics.describe([float("nan"), float("inf")]).median is None
    assert statistics.percent_change(None, 2.0) is None
    assert statistics.percent_change(0.0, 2.0) is None
    assert statistics.volatility([1.01]) is None


def test_robust_scale_is_mad_times_1_4826():
    values = [1.0, 2.0, 3.0, 4.0, 100.0]
    scale = statistics.robust_scale(values)
    # median 3; |x−3| = 2, 1, 0, 1, 97 → MAD 1 → 1.4826
    assert scale is not None and scale.median == 3.0 and scale.scale == pytest.approx(1.4826)


@pytest.mark.django_db
def test_engine_price_statistics_match_numpy(benchmarks):
    rng = np.random.default_rng(13)
    providers = market.providers("alpha", "beta", "gamma")
    expected: dict[str, list[float]] = {}
    everything = []
    for name, provider in providers.items():
        counts = rng.integers(1, 9, size=40)
        # Uniform prices: no tail reaches 3.5 scaled MADs, so no offer is an anomaly.
        prices = rng.uniform(1.5, 3.5, size=40)
        for count, per_gpu in zip(counts, prices, strict=True):
            whole = Decimal(str(round(per_gpu * count, 4)))
            (offer,) = market.offers(provider, 1, gpu="H100 SXM", price=whole, gpu_count=int(count))
            value = float(offer.price_per_hour) / int(count)
            expected.setdefault(name, []).append(value)
            everything.append(value)
    result = gpu_metrics("h100", now=market.NOW)
    values = np.asarray(everything)
    p25, p50, p75 = np.percentile(values, [25, 50, 75])
    assert result.excluded_anomalies == 0
    assert result.price.count == len(values)
    assert result.price.min == money(values.min()) and result.price.max == money(values.max())
    assert (result.price.p25, result.price.median, result.price.p75) == (
        money(p25),
        money(p50),
        money(p75),
    )
    assert result.price.mean == money(values.mean())
    for group in result.by_provider:
        own = np.asarray(expected[group.key])
        assert group.price.median == money(np.median(own))
        assert group.price.p75 == money(np.percentile(own, 75))

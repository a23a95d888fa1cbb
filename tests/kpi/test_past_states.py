"""``history.past_states`` (the KPI engine's read of every offer's state at a past moment, one
statement on PostgreSQL) answers exactly what ``history.rewind`` answers, for the whole market and
for a subset, and ``history.states_of_market`` what ``history.states_before`` answers, with raw
rows, hourly and daily rollups, equal timestamps and offers created later."""

from __future__ import annotations

import math
from datetime import timedelta
from decimal import Decimal

import numpy as np
import pytest
from django.db import connection

from apps.kpi import history
from apps.kpi.compaction import compact_price_history
from apps.providers.models import GPUOffer
from tests.conftest import services_required
from tests.kpi import market


def _as_dict(states: history.PastStates) -> dict[str, tuple[float | None, str]]:
    return {
        k: (None if math.isnan(p) else p, a)
        for k, p, a in zip(states.ids, states.price.tolist(), states.availability, strict=True)
    }


@pytest.mark.django_db
def test_past_states_equal_rewind(benchmarks):
    if services_required():
        assert connection.vendor == "postgresql", "REQUIRE_SERVICES=1 runs on PostgreSQL"
    if connection.vendor != "postgresql":
        pytest.skip("the one-statement read is PostgreSQL's; elsewhere past_states is rewind")
    rng = np.random.default_rng(5)
    people = market.providers("alpha", "beta")
    start = market.NOW - timedelta(days=30)
    h100 = market.offers(people["alpha"], 8, created_at=start)
    cards = market.offers(people["beta"], 8, gpu="RTX 4090", gpu_memory_gb=24, created_at=start)
    late = market.offers(people["beta"], 2, created_at=market.NOW - timedelta(hours=5))
    quiet = market.offers(people["alpha"], 2, created_at=start)  # no history at all
    changes: list[tuple] = []
    for offer in h100 + cards + late:
        born = start if offer not in late else market.NOW - timedelta(hours=5)
        hours = sorted(rng.uniform(0, (market.NOW - born).total_seconds() / 3600, size=25))
        for at in hours:
            price = Decimal(f"{rng.uniform(0.3, 3.0):.4f}")
            status = str(rng.choice([market.AVAILABLE, market.LIMITED, market.UNAVAILABLE]))
            changes.append((offer, born + timedelta(hours=float(at)), price, status))
    # Two changes of one offer at the same moment: the later row (higher id) is the state.
    tie = market.NOW - timedelta(days=2, minutes=17)
    changes.append((h100[0], tie, Decimal("1.1111"), str(market.AVAILABLE)))
    changes.append((h100[0], tie, Decimal("2.2222"), str(market.LIMITED)))
    market.record(changes)
    # Older history into daily and hourly rollups, so states before the raw window come from them.
    compact_price_history(now=market.NOW, raw_days=4, hourly_days=12, batch_offers=5)
    subset = GPUOffer.objects.filter(gpu_type=h100[0].gpu_type)
    moments = [
        market.NOW - timedelta(hours=2),
        market.NOW - timedelta(days=2, minutes=17),
        market.NOW - timedelta(days=2, minutes=16),
        market.NOW - timedelta(days=7),
        market.NOW - timedelta(days=20),
        market.NOW - timedelta(days=9, hours=3),
        market.NOW - timedelta(days=29, hours=23),
    ]
    checked = 0
    for moment in moments:
        for offers in (None, subset):
            expected = _as_dict(
                history.PastStates.of(
                    history.rewind(moment, GPUOffer.objects.all() if offers is None else subset)
                )
            )
            for recent in (True, False):  # both ways of finding the changed offers
                assert _as_dict(history.past_states(moment, offers, recent=recent)) == expected
            checked += len(expected)
        # Every offer's state before the moment in one statement (the index engine's carry-in)
        # is states_before's, decimals and all.
        before = history.states_before(moment, GPUOffer.objects.all())
        assert history.states_of_market(moment) == {str(k): v for k, v in before.items()}
        checked += len(before)
    assert checked > 100
    assert not any(str(o.pk) in _as_dict(history.past_states(start)) for o in quiet)

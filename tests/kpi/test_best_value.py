"""Market insights' best value (cost per million tokens, per TFLOP-hour) is the first offers by
(value, id) among the available offers that are not price anomalies — exactly what
``ORDER BY value, id LIMIT n`` over the SQL value keys gives — on SQLite and PostgreSQL, ties
included, though both rankings come from the market's own scan (``market(values=True)``)."""

from __future__ import annotations

import numpy as np
import pytest

from apps.kpi import selectors, services
from apps.math_core.algorithms.gpu_spec import Precision
from apps.providers import offer_metrics
from apps.providers.models import Availability, GPUOffer
from tests.kpi import market


def _expected(flagged: set[str], limit: int, key) -> list[str]:  # type: ignore[no-untyped-def]
    rows = (
        GPUOffer.objects.filter(availability_status=Availability.AVAILABLE)
        .exclude(pk__in=list(flagged))
        .alias(value_key=key)
        .filter(value_key__isnull=False)
        .order_by("value_key", "id")
        .values_list("pk", flat=True)[:limit]
    )
    return [str(pk) for pk in rows]


@pytest.mark.django_db
@pytest.mark.parametrize("limit", [1, 3, 7, 50])
def test_best_values_are_the_first_by_value_then_id(benchmarks, limit):
    people = market.providers("alpha", "beta", "gamma")
    offers = []
    # Equal prices (ties broken by id), several GPU models and counts, one unavailable tier.
    for i, name in enumerate(people):
        offers += market.offers(people[name], 4, price="2.0000")
        offers += market.offers(people[name], 3, gpu="RTX 4090", gpu_memory_gb=24, price="0.4")
        offers += market.offers(people[name], 2, price=f"{8 + i}.0000", gpu_count=4)
        offers += market.offers(
            people[name], 2, price="0.3", availability_status=Availability.UNAVAILABLE
        )
    flagged = {str(offers[0].pk), str(offers[5].pk)}
    m = selectors.market(values=True)
    tokens, tflops = services._best_values(m, np.array([k in flagged for k in m.ids]), limit)
    expected_tokens = _expected(flagged, limit, offer_metrics.cost_per_million_tokens_key())
    expected_tflops = _expected(
        flagged, limit, offer_metrics.cost_per_tflop_hour_key(Precision.FP16)
    )
    assert [v.offer.offer_id for v in tokens] == expected_tokens
    assert [v.offer.offer_id for v in tflops] == expected_tflops
    # 27 available offers, 2 of them flagged.
    assert len(expected_tokens) == min(limit, 25) and not flagged & set(expected_tokens)

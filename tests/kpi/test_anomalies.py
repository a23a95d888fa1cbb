"""Anomaly flags: 30 injected faults in a generated market with normal noise are found with
precision and recall ≥ 0.9 and the right reason code each; flags reach offers on both facades."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import numpy as np
import pytest

from apps.kpi.anomalies import AnomalyRules, FlagCode, PricePoint, flag_points
from apps.kpi.services import market_insights, offer_flags
from apps.providers.models import GPUOffer
from tests.graphql_client import execute
from tests.kpi import market

MODELS = (
    ("H100 SXM", 80, 2.4),
    ("A100 SXM4 80GB", 80, 1.4),
    ("RTX 4090", 24, 0.4),
    ("L40S", 48, 0.9),
)


def _generated_market(rng):
    """400 offers over 4 models × 2 tiers and 4 providers, log-normal noise (σ 12 %), 1-8 GPUs."""
    people = market.providers("p1", "p2", "p3", "p4")
    offers = []
    for gpu, memory, base in MODELS:
        for spot in (False, True):
            for i in range(50):
                provider = people[f"p{i % 4 + 1}"]
                count = int(rng.choice([1, 1, 2, 4, 8]))
                per_gpu = base * (0.6 if spot else 1.0) * rng.lognormal(0.0, 0.12)
                price = Decimal(f"{per_gpu * count:.4f}")
                (offer,) = market.offers(
                    provider,
                    1,
                    gpu=gpu,
                    gpu_memory_gb=memory,
                    price=price,
                    gpu_count=count,
                    is_spot=spot,
                )
                offers.append(offer)
    return offers


def _inject(offers, rng):
    """30 faults: 10 node prices read as per-GPU prices on 8-GPU nodes, 10 prices in cents read
    as dollars, 10 offers not seen for two days. Returns {offer id: expected code}."""
    eight = [o for o in offers if o.gpu_count == 8]
    others = [o for o in offers if o.gpu_count != 8]
    order = rng.permutation(len(others))
    per_node = list(rng.choice(len(eight), size=10, replace=False))
    expected = {}
    for position in per_node:
        offer = eight[position]
        offer.price_per_hour = (offer.price_per_hour * 8).quantize(Decimal("0.0001"))
        expected[str(offer.pk)] = FlagCode.LIKELY_PER_NODE_AS_PER_GPU
    for position in order[:10]:
        offer = others[position]
        offer.price_per_hour = (offer.price_per_hour * 100).quantize(Decimal("0.0001"))
        expected[str(offer.pk)] = FlagCode.LIKELY_CENTS_AS_DOLLARS
    GPUOffer.objects.bulk_update([o for o in offers if str(o.pk) in expected], ["price_per_hour"])
    stale = [others[p] for p in order[10:20]]
    GPUOffer.objects.filter(pk__in=[o.pk for o in stale]).update(
        last_seen_at=market.NOW - timedelta(days=2)
    )
    expected.update({str(o.pk): FlagCode.STALE for o in stale})
    return expected


@pytest.mark.django_db
def test_thirty_injected_faults_precision_and_recall(benchmarks):
    rng = np.random.default_rng(2026)
    offers = _generated_market(rng)
    expected = _inject(offers, rng)
    assert len(expected) == 30
    flags = offer_flags([o.pk for o in offers], now=market.NOW)
    found = {k: {f.code for f in v} for k, v in flags.items() if v}
    right = sum(1 for k, code in expected.items() if code.value in found.get(k, set()))
    precision = sum(1 for k in found if k in expected and expected[k].value in found[k]) / len(
        found
    )
    recall = right / len(expected)
    assert precision >= 0.9 and recall >= 0.9, (precision, recall, len(found))
    insights = market_insights("24h", now=market.NOW)
    counts = {c.code: c.count for c in insights.anomaly_counts}
    assert counts.get("LIKELY_CENTS_AS_DOLLARS", 0) >= 9 and counts.get("STALE", 0) >= 9


def test_rule_names_the_cause_and_respects_small_groups():
    rules = AnomalyRules()
    peers = [PricePoint(f"n{i}", "g", 2.0 + i / 100) for i in range(10)]
    odd = [
        PricePoint("cents", "g", 205.0),
        PricePoint("node", "g", 16.4, gpu_count=8),
        PricePoint("high", "g", 9.0),
        PricePoint("low", "g", 0.3),
        PricePoint("premium", "g", 3.0),  # 45 % above: a premium, not an anomaly
    ]
    flagged = flag_points(peers + odd, rules=rules)
    codes = {k: v[0].code for k, v in flagged.items()}
    assert codes == {
        "cents": FlagCode.LIKELY_CENTS_AS_DOLLARS,
        "node": FlagCode.LIKELY_PER_NODE_AS_PER_GPU,
        "high": FlagCode.PRICE_OUTLIER_HIGH,
        "low": FlagCode.PRICE_OUTLIER_LOW,
    }
    # four peers are not a market: no price flags
    assert (
        flag_points([PricePoint(str(i), "g", p) for i, p in enumerate([1, 1, 1, 100])], rules=rules)
        == {}
    )


@pytest.mark.django_db
def test_flags_on_offers_rest_and_graphql(client, benchmarks):
    people = market.providers("p1")
    normal = market.offers(people["p1"], 8, price="2.0000")
    (cents,) = market.offers(people["p1"], 1, price="200.0000")
    response = client.get("/api/v2/providers", {"per_page": 100})
    items = {item["id"]: item["flags"] for item in response.json()["items"]}
    assert [f["code"] for f in items[str(cents.pk)]] == ["LIKELY_CENTS_AS_DOLLARS"]
    assert items[str(normal[0].pk)] == []
    data = execute(
        client,
        "query($id: UUID!) { offer(id: $id) { ... on GPUOffer "
        "{ flags { code ratio peerMedian } } } }",
        {"id": str(cents.pk)},
    )
    flag = data["data"]["offer"]["flags"][0]
    assert flag["code"] == "LIKELY_CENTS_AS_DOLLARS" and flag["peerMedian"] == "2.0000"
    assert flag["ratio"] == pytest.approx(100.0)


@pytest.mark.django_db
def test_flags_of_a_page_are_one_query_and_equal_the_market_flags(
    benchmarks, django_assert_num_queries
):
    """The REST list's ``flags``: one query (the market) before the market's peer scales are
    cached (per catalogue version), then one query for another page's offers and none for a page
    asked again; always the very flags the whole-market computation gives."""
    from apps.kpi.services import market_flag_outs

    rng = np.random.default_rng(7)
    offers = _generated_market(rng)
    expected = _inject(offers, rng)
    page, other = [o.pk for o in offers[::7]], [o.pk for o in offers[3::7]]
    assert any(str(k) in expected for k in page) and any(str(k) in expected for k in other)
    with django_assert_num_queries(1):
        cold = offer_flags(page, now=market.NOW)
    with django_assert_num_queries(0):
        again = offer_flags(page, now=market.NOW)
    with django_assert_num_queries(1):
        second = offer_flags(other, now=market.NOW)
    whole = market_flag_outs(now=market.NOW)
    assert cold == again == {str(k): whole.get(str(k), []) for k in page}
    assert second == {str(k): whole.get(str(k), []) for k in other}
    for flags, keys in ((cold, page), (second, other)):
        assert sum(1 for v in flags.values() if v) == sum(1 for k in keys if str(k) in expected)

"""Both facades over one engine: every operation of ``graphql/operations/kpi.graphql`` runs, the
REST and GraphQL answers carry the same numbers (parity), and bad input is a 404 / 422 envelope on
REST and a typed ``NotFoundError`` / ``FieldError`` / validation error on GraphQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone

from apps.core.errors import GENERIC_CODES
from apps.kpi import index_engine
from apps.kpi.errors import KpiErrorCode
from tests.graphql_client import run_operation
from tests.kpi import market

#: Fields that name the moment of computation (each facade computes its own when uncached).
MOMENTS = {"as_of", "since", "age_seconds", "end"}


def snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).replace("24h", "_24h")


def _graphql_only(key: str, value: Any) -> bool:
    """``__typename`` and the ``offer`` link to the live GPUOffer exist on GraphQL only."""
    is_link = key == "offer" and isinstance(value, dict) and "offerId" not in value
    return key == "__typename" or is_link


def normalise(value: Any) -> Any:
    """GraphQL data in REST's shape: snake_case keys, decimals and times compared by value."""
    if isinstance(value, dict):
        return {snake(k): normalise(v) for k, v in value.items() if not _graphql_only(k, v)}
    if isinstance(value, list):
        return [normalise(v) for v in value]
    if isinstance(value, str):
        try:
            return Decimal(value) if value.replace(".", "", 1).lstrip("-").isdigit() else value
        except ArithmeticError:
            return value
    return value


def comparable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: comparable(v) for k, v in value.items() if k not in MOMENTS}
    if isinstance(value, list):
        return [comparable(v) for v in value]
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            pass
        try:
            return Decimal(value) if value.replace(".", "", 1).lstrip("-").isdigit() else value
        except ArithmeticError:
            return value
    return value


@pytest.fixture
def kpi_market(benchmarks):
    """Two providers, two GPU models, both tiers, with a week of history and stored periods."""
    people = market.providers("alpha", "beta")
    start = market.NOW - timedelta(days=8)
    h100 = market.offers(people["alpha"], 6, created_at=start) + market.offers(
        people["beta"], 6, created_at=start, country="DE", region="eu-central-1"
    )
    spot = market.offers(people["beta"], 5, created_at=start, is_spot=True, price="1.4")
    a4090 = market.offers(people["alpha"], 6, gpu="RTX 4090", gpu_memory_gb=24, price="0.4")
    changes = []
    for day in range(8):
        at = start + timedelta(days=day, hours=3)
        for i, offer in enumerate(h100 + spot):
            base = Decimal("2.0") if not offer.is_spot else Decimal("1.4")
            price = base + Decimal(i % 5) / 20 - Decimal(day) / 100
            changes.append((offer, at, price, market.AVAILABLE))
    for offer in a4090:
        changes.append((offer, market.NOW - timedelta(hours=30), Decimal("0.45"), market.AVAILABLE))
        changes.append((offer, market.NOW - timedelta(hours=2), Decimal("0.40"), market.LIMITED))
    market.record(changes)
    index_engine.update_price_index(bucket="day", now=market.NOW, backfill_days=8)
    return people


def test_every_kpi_operation_runs(client, kpi_market):
    overview = run_operation(client, "KpiOverview")
    assert "errors" not in overview, overview
    assert overview["data"]["kpiOverview"]["offersTotal"] == 23
    gpu = run_operation(client, "GpuKpis", {"gpuModel": "NVIDIA H100 80GB HBM3"})
    assert gpu["data"]["gpuKpis"]["__typename"] == "GpuKpis"
    assert gpu["data"]["gpuKpis"]["gpuModel"] == "H100 SXM 80GB"
    provider = run_operation(client, "ProviderKpis", {"name": "ALPHA"})
    assert provider["data"]["providerKpis"]["name"] == "alpha"
    insights = run_operation(client, "MarketInsights", {"window": "D7"})
    assert insights["data"]["marketInsights"]["window"] == "7d"
    index = run_operation(
        client, "PriceIndex", {"gpuModel": "h100", "from": "2026-10-01T00:00:00+00:00"}
    )
    points = index["data"]["priceIndex"]["points"]
    assert points and points[0]["indexValue"] == 100.0


@override_settings(KPI_CACHE_SECONDS=0)
@pytest.mark.parametrize(
    "rest,operation,variables,root",
    [
        ("/api/v2/kpi/overview", "KpiOverview", {}, "kpiOverview"),
        ("/api/v2/kpi/gpu/h100", "GpuKpis", {"gpuModel": "h100"}, "gpuKpis"),
        (
            "/api/v2/kpi/gpu/H100%20SXM?tier=spot&bucket=day",
            "GpuKpis",
            {"gpuModel": "H100 SXM", "tier": "SPOT"},
            "gpuKpis",
        ),
        ("/api/v2/kpi/provider/beta", "ProviderKpis", {"name": "beta"}, "providerKpis"),
        (
            "/api/v2/kpi/insights/market?window=30d",
            "MarketInsights",
            {"window": "D30"},
            "marketInsights",
        ),
        (
            "/api/v2/kpi/index/h100?from=2026-10-20&to=2026-11-01",
            "PriceIndex",
            {"gpuModel": "h100", "from": "2026-10-20T00:00:00Z", "to": "2026-11-01T00:00:00Z"},
            "priceIndex",
        ),
    ],
)
def test_rest_and_graphql_agree(client, kpi_market, rest, operation, variables, root):
    response = client.get(rest)
    assert response.status_code == 200, response.content
    data = run_operation(client, operation, variables)
    assert "errors" not in data, data
    graph = comparable(normalise(data["data"][root]))
    rest_body = comparable(response.json())
    assert graph == rest_body


@pytest.mark.parametrize(
    "path,status,field",
    [
        ("/api/v2/kpi/gpu/not-a-gpu", 404, None),
        ("/api/v2/kpi/provider/nobody", 404, None),
        ("/api/v2/kpi/index/unknown-gpu", 404, None),
        ("/api/v2/kpi/insights/market?window=90d", 422, "window"),
        ("/api/v2/kpi/gpu/h100?bucket=week", 422, "bucket"),
        ("/api/v2/kpi/gpu/h100?tier=reserved", 422, "tier"),
        ("/api/v2/kpi/index/h100?tier=reserved", 422, "tier"),
        ("/api/v2/kpi/index/h100?from=2026-10-10&to=2026-10-01", 422, "from"),
        ("/api/v2/kpi/index/h100?from=yesterday", 422, "from"),
        ("/api/v2/kpi/index/h100?bucket=hour&from=2026-01-01&to=2026-10-01", 422, "from"),
        # found by .ci/fuzz: before the first representable UTC moment was a 500
        ("/api/v2/kpi/index/h100?to=0001-01-01T00:00%2B05:00", 422, "to"),
        ("/api/v2/kpi/index/h100?from=9999-12-31T23:00-05:00", 422, "from"),
    ],
)
def test_rest_bad_input(client, kpi_market, path, status, field):
    response = client.get(path)
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["code"] == ("NOT_FOUND" if status == 404 else "VALIDATION_ERROR")
    if field:
        assert error["details"][0]["field"] == field


def test_a_range_at_the_calendars_start_is_an_empty_series(client, kpi_market):
    """Found by .ci/fuzz: ``to=0001-01-01`` without ``from`` (90 days before year 1) was a 500."""
    for bucket in ("day", "hour"):
        response = client.get("/api/v2/kpi/index/h100", {"to": "0001-01-01", "bucket": bucket})
        assert response.status_code == 200, response.content
        assert response.json()["points"] == []
    gql = run_operation(client, "PriceIndex", {"gpuModel": "h100", "to": "0001-01-01T00:00:00Z"})
    assert gql["data"]["priceIndex"]["points"] == []


def test_graphql_bad_input_is_typed(client, kpi_market):
    gpu = run_operation(client, "GpuKpis", {"gpuModel": "not-a-gpu"})["data"]["gpuKpis"]
    assert gpu == {
        "__typename": "NotFoundError",
        "message": "Unknown GPU 'not-a-gpu'.",
        "code": "NOT_FOUND",
    }
    provider = run_operation(client, "ProviderKpis", {"name": "nobody"})["data"]["providerKpis"]
    assert provider["__typename"] == "NotFoundError"
    index = run_operation(
        client,
        "PriceIndex",
        {"gpuModel": "h100", "from": "2026-10-10T00:00:00Z", "to": "2026-10-01T00:00:00Z"},
    )["data"]["priceIndex"]
    assert index["__typename"] == "KpiError" and index["field"] == "from"
    assert index["errorCode"] == "INVALID_RANGE"
    bad_window = run_operation(client, "MarketInsights", {"window": "D90"})
    assert bad_window["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


def test_empty_market_gives_nulls_not_zeros(client, benchmarks):
    market.providers("lonely")
    body = client.get("/api/v2/kpi/gpu/B200").json()
    assert body["offer_count"] == 0 and body["price"] == {
        "count": 0,
        "min": None,
        "p25": None,
        "median": None,
        "p75": None,
        "max": None,
        "mean": None,
    }
    assert body["availability_ratio"] is None and body["spot_discount_percent"] is None
    assert body["cost_per_million_tokens"] is None and body["series"] == []
    assert all(t["change_percent"] is None for t in body["trends"])
    provider = client.get("/api/v2/kpi/provider/lonely").json()
    assert provider["sync_success_rate"] is None and provider["price_index_vs_market"] is None
    overview = client.get("/api/v2/kpi/overview").json()
    assert overview["offers_total"] == 0 and overview["gpu_models"] == []
    insights = client.get("/api/v2/kpi/insights/market?window=30d").json()
    assert insights["price_drops"] == [] and insights["anomalies"] == []
    assert "NaN" not in str(body) + str(provider) + str(overview) + str(insights)


def test_kpi_error_codes_follow_the_domain_convention(client, kpi_market):
    assert set(GENERIC_CODES) <= set(KpiErrorCode.__members__)
    assert all(member.name == member.value for member in KpiErrorCode)
    detail = client.get("/api/v2/kpi/insights/market?window=1y").json()["error"]["details"][0]
    assert detail == {
        "field": "window",
        "message": "window must be one of 24h, 7d, 30d",
        "code": "INVALID_WINDOW",
    }


def test_sync_outcomes_give_the_success_rate(client, benchmarks):
    from apps.providers.events import sync_finished
    from apps.providers.sync import SyncReport

    market.providers("flaky")
    for ok in (True, True, False, True):
        sync_finished.send(
            sender=SyncReport,
            provider="flaky",
            ok=ok,
            error_code="" if ok else "timeout",
            finished_at=timezone.now(),
        )
    sync_finished.send(
        sender=SyncReport,
        provider="flaky",
        ok=False,
        error_code="old",
        finished_at=timezone.now() - timedelta(days=30),
    )
    body = client.get("/api/v2/kpi/provider/flaky").json()
    assert body["syncs_in_window"] == 4 and body["sync_success_rate"] == 0.75


@pytest.mark.django_db(transaction=True)
def test_a_failed_sync_invalidates_cached_provider_kpis(client, benchmarks):
    """A failed sync changes no offer (no catalogue event) but changes the provider's KPIs: its
    outcome bumps the catalogue version once committed, so a cached answer is not served."""
    from apps.providers.events import sync_finished
    from apps.providers.sync import SyncReport

    market.providers("flaky")

    def outcome(ok: bool) -> None:
        sync_finished.send(
            sender=SyncReport,
            provider="flaky",
            ok=ok,
            error_code="" if ok else "timeout",
            finished_at=timezone.now(),
        )

    outcome(True)
    with override_settings(KPI_CACHE_SECONDS=300, OFFER_CACHE_SECONDS=300):
        first = client.get("/api/v2/kpi/provider/flaky").json()
        assert first["syncs_in_window"] == 1 and first["sync_success_rate"] == 1.0
        outcome(False)
        again = client.get("/api/v2/kpi/provider/flaky").json()
    assert again["syncs_in_window"] == 2 and again["sync_success_rate"] == 0.5

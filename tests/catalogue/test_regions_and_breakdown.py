"""Macro-region filters, the stored location fields and the price breakdown on both facades."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.catalogue.facades import graphql_ids, rest_ids
from tests.catalogue_factories import make_offer, make_provider
from tests.graphql_client import execute, run_operation

pytestmark = pytest.mark.django_db

BREAKDOWN = {
    "includes": ["gpu", "cpu", "ram", "disk"],
    "excludes": ["network"],
    "components": {"gpu": "1.2000", "cpu": "0.0480", "ram": "0.0740", "disk": "0.0063"},
}


@pytest.fixture
def located(benchmarks):
    provider = make_provider("vultr")
    return {
        "ewr": make_offer(provider, region="ewr", country="US", price_per_hour=Decimal("1.1")),
        "fra": make_offer(provider, region="fra", country="DE", price_per_hour=Decimal("1.2")),
        "nrt": make_offer(provider, region="nrt", country="JP", price_per_hour=Decimal("1.3")),
        "unknown": make_offer(provider, region="somewhere", country="", price_per_hour=Decimal(2)),
        "eu-only": make_offer(
            provider,
            region="europe-01",
            country="",
            macro_region="europe",
            price_per_hour=Decimal("1.4"),
            price_breakdown=BREAKDOWN,
            raw_gpu_memory_gb=79.65,
        ),
    }


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"macro_region": ["europe"]}, ["fra", "eu-only"]),
        ({"macro_region": ["EUROPE", "asia_pacific"]}, ["fra", "nrt", "eu-only"]),
        ({"macro_region": ["north-america"], "country": ["US"]}, ["ewr"]),
        ({"country": ["de", "jp"]}, ["fra", "nrt"]),
        ({"macro_region": ["africa"]}, []),
    ],
)
def test_country_and_macro_region_filters_on_both_facades(client, located, filters, expected):
    ids = [str(located[name].id) for name in expected]
    assert rest_ids(client, filters) == (ids, len(ids))
    camel = {"macro_region": "macroRegion", "country": "country"}
    assert graphql_ids(client, {"filter": {camel[k]: v for k, v in filters.items()}}) == (
        ids,
        len(ids),
    )


def test_an_unknown_macro_region_is_a_422_naming_the_field(client, located):
    response = client.get("/api/v2/providers", {"macro_region": "atlantis"})
    assert response.status_code == 422
    assert "macro_region" in {d["field"] for d in response.json()["error"]["details"]}
    answer = execute(client, '{ offers(filter: {macroRegion: ["atlantis"]}) { totalCount } }')
    assert answer["errors"][0]["extensions"]["field"] == "macro_region"


def test_location_vram_and_breakdown_fields_on_both_facades(client, located):
    offer = located["eu-only"]
    item = next(
        i
        for i in client.get("/api/v2/providers", {"macro_region": "europe"}).json()["items"]
        if i["id"] == str(offer.id)
    )
    assert (item["region"], item["country"], item["macro_region"]) == ("europe-01", "", "europe")
    assert item["raw_gpu_memory_gb"] == 79.65 and item["gpu_memory_gb"] == 80
    assert item["price_breakdown"] == {
        "includes": ["gpu", "cpu", "ram", "disk"],
        "excludes": ["network"],
        "components": [
            {"name": "gpu", "usd_per_hour": "1.2000"},
            {"name": "cpu", "usd_per_hour": "0.0480"},
            {"name": "ram", "usd_per_hour": "0.0740"},
            {"name": "disk", "usd_per_hour": "0.0063"},
        ],
    }
    query = (
        "query($id: UUID!) { offer(id: $id) { ... on GPUOffer { macroRegion rawGpuMemoryGb "
        "priceBreakdown { includes excludes components { name usdPerHour } } } } }"
    )
    data = execute(client, query, {"id": str(offer.id)})["data"]["offer"]
    assert data["macroRegion"] == "europe" and data["rawGpuMemoryGb"] == 79.65
    assert data["priceBreakdown"]["excludes"] == ["network"]
    assert data["priceBreakdown"]["components"][0] == {"name": "gpu", "usdPerHour": "1.2000"}
    plain = execute(client, query, {"id": str(located["ewr"].id)})["data"]["offer"]
    assert plain["priceBreakdown"] is None and plain["macroRegion"] == "north-america"
    detail = run_operation(client, "OfferDetail", {"id": str(offer.id)})["data"]["offer"]
    assert detail["priceBreakdown"]["includes"] == ["gpu", "cpu", "ram", "disk"]
    assert (detail["macroRegion"], detail["rawGpuMemoryGb"]) == ("europe", 79.65)

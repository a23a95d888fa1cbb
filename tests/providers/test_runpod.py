"""RunPod adapter: GraphQL location discovery, per-location lowestPrice fan-out, booking."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest

from apps.providers.adapters import (
    BookingOptions,
    PriceBreakdown,
    ProviderAuthError,
    ProviderOffer,
    ProviderPayloadError,
    ProviderRequestError,
    ProviderUnavailable,
    RetryPolicy,
)
from apps.providers.adapters.runpod import (
    RunPodAdapter,
    datacenter_country,
    split_external_id,
)

from .helpers import FakeProvider, Sleeps, fixture

PRICE_FIXTURES = {
    ("dataCenterId", "US-TX-3"): "runpod/prices_secure_us_tx_3.json",
    ("dataCenterId", "EU-RO-1"): "runpod/prices_secure_eu_ro_1.json",
    ("countryCode", "US"): "runpod/prices_community_us.json",
    ("countryCode", "CA"): "runpod/prices_community_ca.json",
}


class GraphQLRunPod:
    """Answers RunPod's GraphQL endpoint by query and variables, like the real API."""

    def __init__(self, prices: dict | None = None, overrides: dict | None = None) -> None:
        self.prices = PRICE_FIXTURES if prices is None else prices
        self.overrides = overrides or {}
        self.fake = FakeProvider().on("POST", "/graphql", self.answer)

    def answer(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if "GpuBrokerLocations" in body["query"]:
            return httpx.Response(200, json=fixture("runpod/locations.json"))
        lowest = body["variables"]["lowestPriceInput"]
        key = (
            ("dataCenterId", lowest["dataCenterId"])
            if lowest["secureCloud"]
            else (
                "countryCode",
                lowest["countryCode"],
            )
        )
        if key in self.overrides:
            return self.overrides[key]
        return httpx.Response(200, json=fixture(self.prices[key]))


async def test_fetch_discovers_locations_then_queries_each_once():
    api = GraphQLRunPod()
    result = await RunPodAdapter(transport=api.fake.transport, sleep=Sleeps()).fetch_offers()

    bodies = [json.loads(r.content) for r in api.fake.requests]
    assert all(r.method == "POST" and r.url.path == "/graphql" for r in api.fake.requests)
    assert "Authorization" not in api.fake.requests[0].headers  # catalogue queries need no key
    assert "dataCenters" in bodies[0]["query"] and "countryCodes" in bodies[0]["query"]
    inputs = sorted(
        (
            b["variables"]["lowestPriceInput"]["secureCloud"],
            b["variables"]["lowestPriceInput"].get("dataCenterId")
            or b["variables"]["lowestPriceInput"]["countryCode"],
        )
        for b in bodies[1:]
    )
    # listed data centres only (CA-MTL-1 is unlisted); 2-letter country codes only
    # (null, "" and "USA" are skipped)
    assert inputs == [(False, "CA"), (False, "US"), (True, "EU-RO-1"), (True, "US-TX-3")]
    assert all(b["variables"]["lowestPriceInput"]["gpuCount"] == 1 for b in bodies[1:])
    assert all("lowestPrice(input: $lowestPriceInput)" in b["query"] for b in bodies[1:])

    offers = {o.external_id: o for o in result.offers}
    assert offers["secure:US-TX-3:NVIDIA GeForce RTX 4090:2x:on-demand"] == ProviderOffer(
        provider="runpod",
        external_id="secure:US-TX-3:NVIDIA GeForce RTX 4090:2x:on-demand",
        gpu_type="RTX 4090",
        raw_gpu_name="RTX 4090",
        gpu_memory_gb=24,
        gpu_count=2,
        price_per_hour=Decimal("1.3800"),  # 0.69 per GPU × 2: the whole offer
        region="US-TX-3",
        country="US",
        availability="available",  # stockStatus Medium
        is_spot=False,
        is_datacenter=True,
        cpu_cores=20,  # minVcpu 10 per GPU × 2
        ram_gb=116,  # minMemory 58 per GPU × 2
        storage_gb=0,
        compliance_tags=(),
        raw_gpu_memory_gb=24.0,
        macro_region="north-america",
        price_breakdown=PriceBreakdown(includes=("gpu", "cpu", "ram"), excludes=("disk",)),
    )
    spot = offers["secure:US-TX-3:NVIDIA GeForce RTX 4090:6x:spot"]
    assert (spot.price_per_hour, spot.is_spot, spot.price_per_gpu_hour) == (
        Decimal("3.0000"),
        True,
        Decimal("0.5000"),
    )
    h100 = offers["secure:US-TX-3:NVIDIA H100 80GB HBM3:2x:on-demand"]
    assert (h100.gpu_type, h100.availability, h100.price_per_hour) == (
        "H100 SXM 80GB",
        "limited",  # stockStatus Low
        Decimal("5.3800"),
    )
    community = offers["community:US:NVIDIA GeForce RTX 3090:2x:spot"]
    assert (community.price_per_hour, community.is_datacenter, community.country) == (
        Decimal("0.2200"),
        False,
        "US",
    )
    eu = offers["secure:EU-RO-1:NVIDIA GeForce RTX 4090:1x:on-demand"]
    assert (eu.country, eu.compliance_tags, eu.price_per_hour) == ("RO", ("GDPR",), Decimal("0.74"))
    assert "secure:EU-RO-1:NVIDIA GeForce RTX 4090:1x:spot" not in offers  # no bid price there
    # MI300X in EU-RO-1: no lowestPrice price, falls back to securePrice; counts 1..maxUnreserved
    mi300 = offers["secure:EU-RO-1:AMD Instinct MI300X OAM:2x:on-demand"]
    assert (mi300.price_per_hour, mi300.cpu_cores, mi300.ram_gb) == (Decimal("4.9800"), 48, 566)

    # US-TX-3: 4090 counts 1..6 and H100 1..2, on-demand + spot; MI300X out of stock (skipped)
    assert len([o for o in result.offers if o.region == "US-TX-3"]) == 16
    assert result.skipped["out_of_stock"] == 2  # MI300X in US-TX-3, H100 in EU-RO-1
    assert result.rejected == 0
    assert len(result.offers) == 16 + 3 + 4  # US-TX-3, EU-RO-1, community US


async def test_nasty_gpu_types_are_rejected_one_by_one():
    nasty = {("dataCenterId", "US-TX-3"): "runpod/prices_nasty.json"}
    prices = {**PRICE_FIXTURES, **nasty}
    api = GraphQLRunPod(prices=prices)
    result = await RunPodAdapter(transport=api.fake.transport, sleep=Sleeps()).fetch_offers()
    assert dict(result.rejection_reasons) == {
        "missing:memoryInGb": 1,
        "invalid:memoryInGb": 1,
        "out_of_range:uninterruptablePrice": 1,
        "missing:uninterruptablePrice": 1,
        "invalid:availableGpuCounts": 1,
        "missing:id": 1,
        "not_an_object": 1,
        "invalid:lowestPrice": 1,
        "invalid:uninterruptablePrice": 1,
        "duplicate:external_id": 2,  # the repeated RTX A5000 entry (on-demand + spot)
    }
    tx = {o.external_id: o for o in result.offers if o.region == "US-TX-3"}
    assert sorted(tx) == [
        "secure:US-TX-3:NVIDIA B300:1x:on-demand",
        "secure:US-TX-3:NVIDIA B300:8x:on-demand",
        "secure:US-TX-3:NVIDIA RTX A5000:1x:on-demand",
        "secure:US-TX-3:NVIDIA RTX A5000:1x:spot",
        "secure:US-TX-3:NVIDIA RTX A5000:2x:on-demand",
        "secure:US-TX-3:NVIDIA RTX A5000:2x:spot",
    ]
    b300 = tx["secure:US-TX-3:NVIDIA B300:8x:on-demand"]  # known since issue 14; odd stock word
    assert (b300.gpu_type, b300.gpu_model_known, b300.availability) == ("B300", True, "limited")
    assert b300.price_per_hour == Decimal("47.9200")
    assert dict(result.unknown_gpu_names) == {}


async def test_one_failing_location_fails_the_fetch_rather_than_vanishing_its_offers():
    api = GraphQLRunPod(
        overrides={
            ("countryCode", "CA"): httpx.Response(200, json=fixture("runpod/graphql_error.json"))
        }
    )
    with pytest.raises(ProviderUnavailable, match="Something went wrong"):
        await RunPodAdapter(transport=api.fake.transport, sleep=Sleeps()).fetch_offers()


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (
            httpx.Response(200, json={"data": {"countryCodes": "US", "dataCenters": []}}),
            ProviderPayloadError,
        ),
        (httpx.Response(200, json={"data": {}}), ProviderPayloadError),
        (httpx.Response(200, json=fixture("runpod/unauthorized.json")), ProviderAuthError),
        (
            httpx.Response(410, json={"message": "GraphQL API retired, use REST v2"}),
            ProviderUnavailable,
        ),
    ],
)
async def test_discovery_failures(answer, error):
    fake = FakeProvider().on("POST", "/graphql", answer)
    adapter = RunPodAdapter(transport=fake.transport, sleep=Sleeps(), retry=RetryPolicy(attempts=1))
    with pytest.raises(error):
        await adapter.fetch_offers()


async def test_validate_credentials_uses_bearer_and_myself():
    fake = FakeProvider().on(
        "POST", "/graphql", httpx.Response(200, json=fixture("runpod/myself.json"))
    )
    assert await RunPodAdapter(transport=fake.transport).validate_credentials({"api_key": "rp_1"})
    assert fake.requests[0].headers["Authorization"] == "Bearer rp_1"
    assert "myself" in fake.body()["query"]
    assert "api_key" not in str(fake.requests[0].url)  # the key never travels in the URL
    bad = FakeProvider().on(
        "POST", "/graphql", httpx.Response(200, json=fixture("runpod/unauthorized.json"))
    )
    assert not await RunPodAdapter(transport=bad.transport).validate_credentials({"api_key": "x"})
    denied = FakeProvider().on("POST", "/graphql", httpx.Response(401, text="Unauthorized"))
    assert not await RunPodAdapter(transport=denied.transport).validate_credentials(
        {"api_key": "x"}
    )


async def test_book_on_demand_sends_the_deploy_mutation():
    fake = FakeProvider().on(
        "POST", "/graphql", httpx.Response(200, json=fixture("runpod/deploy_on_demand.json"))
    )
    adapter = RunPodAdapter(transport=fake.transport, api_key="rp_key")
    booking = await adapter.book_instance(
        "secure:US-TX-3:NVIDIA GeForce RTX 4090:2x:on-demand",
        BookingOptions(name="llm", image="runpod/pytorch:2.4.0", disk_gb=40),
    )
    sent = fake.requests[0]
    assert sent.headers["Authorization"] == "Bearer rp_key"
    body = fake.body()
    assert "podFindAndDeployOnDemand" in body["query"]
    assert body["variables"]["input"] == {
        "cloudType": "SECURE",
        "gpuCount": 2,
        "gpuTypeId": "NVIDIA GeForce RTX 4090",
        "name": "llm",
        "imageName": "runpod/pytorch:2.4.0",
        "containerDiskInGb": 40,
        "volumeInGb": 0,
        "startSsh": True,
        "supportPublicIp": True,
        "dataCenterId": "US-TX-3",
    }
    assert (booking.instance_id, booking.status) == ("m3x1q7z0pd2k1a", "RUNNING")


async def test_book_spot_needs_a_bid_and_uses_the_interruptible_mutation():
    fake = FakeProvider().on(
        "POST",
        "/graphql",
        httpx.Response(
            200, json={"data": {"podRentInterruptable": {"id": "sp0t", "desiredStatus": "RUNNING"}}}
        ),
    )
    adapter = RunPodAdapter(transport=fake.transport, api_key="k")
    offer = "community:US:NVIDIA GeForce RTX 3090:1x:spot"
    with pytest.raises(ProviderRequestError, match="spot_bid_per_gpu"):
        await adapter.book_instance(offer, BookingOptions())
    booking = await adapter.book_instance(offer, BookingOptions(spot_bid_per_gpu=Decimal("0.12")))
    deploy = fake.body()["variables"]["input"]
    assert "podRentInterruptable" in fake.body()["query"]
    assert (deploy["cloudType"], deploy["countryCode"], deploy["bidPerGpu"]) == (
        "COMMUNITY",
        "US",
        0.12,
    )
    assert "dataCenterId" not in deploy and booking.instance_id == "sp0t"


async def test_booking_refusals():
    fake = FakeProvider().on(
        "POST", "/graphql", httpx.Response(200, json=fixture("runpod/deploy_unavailable.json"))
    )
    adapter = RunPodAdapter(transport=fake.transport, api_key="k")
    with pytest.raises(ProviderRequestError, match="no longer any instances"):
        await adapter.book_instance("secure:EU-RO-1:NVIDIA L40S:1x:on-demand", BookingOptions())
    with pytest.raises(ProviderRequestError, match="not a RunPod offer id"):
        await adapter.book_instance("18452731", BookingOptions())
    with pytest.raises(ProviderAuthError):
        await RunPodAdapter(transport=fake.transport).book_instance(
            "secure:EU-RO-1:NVIDIA L40S:1x:on-demand", BookingOptions()
        )


def test_external_ids_round_trip_and_datacenter_countries():
    assert split_external_id("secure:US-TX-3:NVIDIA GeForce RTX 4090:8x:spot") == (
        "secure",
        "US-TX-3",
        "NVIDIA GeForce RTX 4090",
        8,
        True,
    )
    assert datacenter_country("EU-RO-1") == "RO"
    assert datacenter_country("US-TX-3") == "US"
    assert datacenter_country("CA-MTL-1") == "CA"
    assert datacenter_country("OC-AU-1") == "AU"
    assert datacenter_country("SEA-SG-1") == ""

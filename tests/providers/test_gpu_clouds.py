"""Vultr, DataCrunch, DigitalOcean, Cudo, Hot Aisle and JarvisLabs against recorded payloads:
exact expected offers, authentication, units and bookings."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from apps.providers.adapters import (
    BookingOptions,
    PriceBreakdown,
    ProviderAuthError,
    ProviderOffer,
    ProviderRequestError,
)
from apps.providers.adapters.cudo import CudoAdapter
from apps.providers.adapters.datacrunch import DataCrunchAdapter
from apps.providers.adapters.digitalocean import DigitalOceanAdapter
from apps.providers.adapters.hotaisle import HotAisleAdapter
from apps.providers.adapters.jarvislabs import JarvisLabsAdapter
from apps.providers.adapters.vultr import VultrAdapter

from .helpers import FakeProvider, Sleeps, fixture, ok


def by_id(result) -> dict[str, ProviderOffer]:
    return {offer.external_id: offer for offer in result.offers}


# --- Vultr -------------------------------------------------------------------------------------
def vultr_fake() -> FakeProvider:
    return (
        FakeProvider()
        .on("GET", "/v2/plans", ok("vultr/plans_vcg.json"))
        .on("GET", "/v2/plans-metal", ok("vultr/plans_metal.json"))
    )


async def test_vultr_cloud_gpu_and_bare_metal_plans():
    fake = vultr_fake()
    result = await VultrAdapter(transport=fake.transport, sleep=Sleeps()).fetch_offers()
    assert fake.requests[0].url.params["type"] == "vcg"
    assert "Authorization" not in fake.requests[0].headers  # listings are public
    assert result.skipped == {"fractional_gpu": 1, "no_stock": 1, "cpu_only": 1}
    offers = by_id(result)
    assert offers["vcg-l40s-16c-180g-48vram:ams"] == ProviderOffer(
        provider="vultr",
        external_id="vcg-l40s-16c-180g-48vram:ams",
        gpu_type="L40S",
        raw_gpu_name="NVIDIA L40S",
        gpu_memory_gb=48,
        gpu_count=1,
        price_per_hour=Decimal("1.6710"),
        region="ams",
        country="NL",
        availability="available",
        is_spot=False,
        is_datacenter=True,
        cpu_cores=16,
        ram_gb=180,  # 184320 MB
        storage_gb=1200,
        raw_gpu_memory_gb=48.0,
        macro_region="europe",
        price_breakdown=PriceBreakdown(includes=("gpu", "cpu", "ram", "disk", "ipv4")),
    )
    a40 = offers["vcg-a40-24c-120g-96vram:nrt"]  # 96 GB of A40s = 2 GPUs
    assert (a40.gpu_count, a40.country, a40.macro_region) == (2, "JP", "asia-pacific")
    h100 = offers["vbm-112c-2048gb-8-h100-gpu:ewr"]
    assert (h100.gpu_type, h100.gpu_count, h100.price_per_hour) == (
        "H100 SXM 80GB",
        8,
        Decimal("24.9173"),  # monthly_cost 18189.6 / 730 h
    )
    assert (h100.cpu_cores, h100.ram_gb, h100.storage_gb) == (224, 2048, 7680)
    assert offers["vbm-256c-2048gb-8-mi300x-gpu:ord"].gpu_type == "MI300X"
    assert len(offers) == 10


async def test_vultr_books_cloud_gpu_and_bare_metal_with_the_key():
    fake = (
        FakeProvider()
        .on(
            "POST",
            "/v2/instances",
            httpx.Response(202, json={"instance": {"id": "i-1", "status": "pending"}}),
        )
        .on(
            "POST",
            "/v2/bare-metals",
            httpx.Response(202, json={"bare_metal": {"id": "b-1", "status": "pending"}}),
        )
    )
    adapter = VultrAdapter(api_key="vk", transport=fake.transport, sleep=Sleeps())
    booked = await adapter.book_instance(
        "vcg-l40s-16c-180g-48vram:ams", BookingOptions(name="run", ssh_key="key-1")
    )
    assert fake.requests[0].headers["Authorization"] == "Bearer vk"
    assert fake.body(0) == {
        "region": "ams",
        "plan": "vcg-l40s-16c-180g-48vram",
        "os_id": 2284,
        "label": "run",
        "sshkey_id": ["key-1"],
    }
    assert (booked.instance_id, booked.status) == ("i-1", "pending")
    metal = await adapter.book_instance("vbm-112c-2048gb-8-h100-gpu:ewr", BookingOptions())
    assert metal.instance_id == "b-1" and fake.requests[1].url.path == "/v2/bare-metals"
    with pytest.raises(ProviderRequestError, match="not a Vultr GPU offer id"):
        await adapter.book_instance("nonsense", BookingOptions())
    with pytest.raises(ProviderAuthError):
        await VultrAdapter(transport=fake.transport).book_instance("vcg-x:ewr", BookingOptions())


# --- DataCrunch --------------------------------------------------------------------------------
def datacrunch_fake() -> FakeProvider:
    on_demand = fixture("datacrunch/availability_on_demand.json")
    spot = fixture("datacrunch/availability_spot.json")

    def availability(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, json=spot if request.url.params["is_spot"] == "true" else on_demand
        )

    return (
        FakeProvider()
        .on("POST", "/v1/oauth2/token", ok("datacrunch/token.json"))
        .on("GET", "/v1/instance-types", ok("datacrunch/instance_types.json"))
        .on("GET", "/v1/locations", ok("datacrunch/locations.json"))
        .on("GET", "/v1/instance-availability", availability)
    )


async def test_datacrunch_client_credentials_then_offers_where_in_stock():
    fake = datacrunch_fake()
    adapter = DataCrunchAdapter(api_key="cid:csecret", transport=fake.transport, sleep=Sleeps())
    result = await adapter.fetch_offers()
    token = fake.requests[0]
    assert fake.body(0) == {
        "grant_type": "client_credentials",
        "client_id": "cid",
        "client_secret": "csecret",
    }
    assert "Authorization" not in token.headers
    assert all(r.headers["Authorization"] == "Bearer dc-access-token" for r in fake.requests[1:])
    assert result.skipped == {"cpu_only": 1}
    offers = by_id(result)
    assert offers["8H100.80S.176V:FIN-01:on-demand"] == ProviderOffer(
        provider="datacrunch",
        external_id="8H100.80S.176V:FIN-01:on-demand",
        gpu_type="H100 SXM 80GB",
        raw_gpu_name="H100 SXM5 80GB",
        gpu_memory_gb=80,  # 640 GB total / 8
        gpu_count=8,
        price_per_hour=Decimal("18.3200"),
        region="FIN-01",
        country="FI",
        availability="available",
        is_spot=False,
        is_datacenter=True,
        cpu_cores=176,
        ram_gb=1480,
        raw_gpu_memory_gb=80.0,
        macro_region="europe",
        price_breakdown=PriceBreakdown(includes=("gpu", "cpu", "ram"), excludes=("disk",)),
    )
    assert offers["1V100.6V:FIN-01:spot"].price_per_hour == Decimal("0.1400")
    assert offers["1B200.30V:ICE-01:on-demand"].gpu_type == "B200"
    assert offers["1B200.30V:ICE-01:on-demand"].country == "IS"
    assert "1A100.40S.22V:ICE-01:spot" not in offers  # no spot stock in Iceland
    assert sorted(offers) == [
        "1A100.40S.22V:ICE-01:on-demand",
        "1B200.30V:ICE-01:on-demand",
        "1H100.80S.30V:FIN-01:on-demand",
        "1H100.80S.30V:FIN-01:spot",
        "1RTX6000ADA.10V:ICE-01:on-demand",
        "1V100.6V:FIN-01:on-demand",
        "1V100.6V:FIN-01:spot",
        "8H100.80S.176V:FIN-01:on-demand",
    ]


async def test_datacrunch_key_format_validation_and_booking():
    adapter = DataCrunchAdapter(transport=datacrunch_fake().transport)
    assert not await adapter.validate_credentials({"api_key": "no-colon"})
    assert await adapter.validate_credentials({"api_key": "a:b"})
    refused = FakeProvider().on(
        "POST", "/v1/oauth2/token", httpx.Response(401, json={"message": "bad"})
    )
    assert not await DataCrunchAdapter(transport=refused.transport).validate_credentials(
        {"api_key": "a:b"}
    )
    fake = datacrunch_fake().on("POST", "/v1/instances", httpx.Response(202, text="inst-42"))
    booking = await DataCrunchAdapter(api_key="a:b", transport=fake.transport).book_instance(
        "1H100.80S.30V:FIN-01:spot", BookingOptions(name="ft", ssh_key="ssh-1")
    )
    assert booking.instance_id == "inst-42"
    assert fake.body() == {
        "instance_type": "1H100.80S.30V",
        "image": "ubuntu-22.04",
        "ssh_key_ids": ["ssh-1"],
        "hostname": "ft",
        "description": "ft",
        "location_code": "FIN-01",
        "is_spot": True,
    }


# --- DigitalOcean ------------------------------------------------------------------------------
async def test_digitalocean_gpu_droplets():
    fake = FakeProvider().on("GET", "/v2/sizes", ok("digitalocean/sizes.json"))
    result = await DigitalOceanAdapter(api_key="dop", transport=fake.transport).fetch_offers()
    assert fake.requests[0].headers["Authorization"] == "Bearer dop"
    assert result.skipped == {"cpu_only": 1}
    offers = by_id(result)
    assert offers["gpu-mi300x1-192gb:atl1"] == ProviderOffer(
        provider="digitalocean",
        external_id="gpu-mi300x1-192gb:atl1",
        gpu_type="MI300X",
        raw_gpu_name="amd mi300x",
        gpu_memory_gb=192,
        gpu_count=1,
        price_per_hour=Decimal("1.9900"),
        region="atl1",
        country="US",
        availability="available",
        is_spot=False,
        is_datacenter=True,
        cpu_cores=20,
        ram_gb=240,
        storage_gb=5840,  # 720 boot + 5120 scratch
        raw_gpu_memory_gb=192.0,
        macro_region="north-america",
        price_breakdown=PriceBreakdown(includes=("gpu", "cpu", "ram", "disk", "network")),
    )
    assert offers["gpu-6000adax1-48gb:tor1"].availability == "unavailable"
    assert offers["gpu-6000adax1-48gb:tor1"].gpu_type == "RTX 6000 Ada"
    assert offers["gpu-h100x8-640gb:atl1"].price_per_gpu_hour == Decimal("2.9900")
    with pytest.raises(ProviderAuthError):
        await DigitalOceanAdapter(transport=fake.transport).fetch_offers()


async def test_digitalocean_books_a_droplet():
    fake = FakeProvider().on(
        "POST", "/v2/droplets", httpx.Response(202, json={"droplet": {"id": 99, "status": "new"}})
    )
    booking = await DigitalOceanAdapter(api_key="dop", transport=fake.transport).book_instance(
        "gpu-h100x1-80gb:tor1", BookingOptions(name="job", ssh_key="aa:bb")
    )
    assert fake.body() == {
        "name": "job",
        "region": "tor1",
        "size": "gpu-h100x1-80gb",
        "image": "gpu-h100x1-base",
        "ssh_keys": ["aa:bb"],
    }
    assert (booking.instance_id, booking.status) == ("99", "new")


# --- Cudo --------------------------------------------------------------------------------------
async def test_cudo_all_in_price_from_separately_priced_components():
    fake = FakeProvider().on("GET", "/v1/vms/machine-types-2", ok("cudo/machine_types.json"))
    result = await CudoAdapter(transport=fake.transport).fetch_offers()
    assert result.skipped == {"no_capacity": 1, "cpu_only": 1}
    offers = by_id(result)
    assert offers["epyc-milan-h100-sxm:gb-bournemouth-1:1x"] == ProviderOffer(
        provider="cudo",
        external_id="epyc-milan-h100-sxm:gb-bournemouth-1:1x",
        gpu_type="H100 SXM 80GB",
        raw_gpu_name="H100 SXM",
        gpu_memory_gb=80,
        gpu_count=1,
        # 2.45 GPU + 4 vCPU × 0.0022 + 16 GiB × 0.003 + 100 GiB × 0.000163 + 0.005 IPv4
        price_per_hour=Decimal("2.5281"),
        region="gb-bournemouth-1",
        country="GB",
        availability="available",
        is_spot=False,
        is_datacenter=True,
        cpu_cores=4,
        ram_gb=16,
        storage_gb=100,
        raw_gpu_memory_gb=80.0,
        macro_region="europe",
        price_breakdown=PriceBreakdown(
            includes=("gpu", "cpu", "ram", "disk", "ipv4"),
            components=(
                ("gpu", Decimal("2.4500")),
                ("cpu", Decimal("0.0088")),
                ("ram", Decimal("0.0480")),
                ("disk", Decimal("0.0163")),
                ("ipv4", Decimal("0.0050")),
            ),
        ),
    )
    l40s = {o.gpu_count: o.cpu_cores for o in result.offers if o.gpu_type == "L40S"}
    assert l40s == {1: 4, 2: 8, 4: 12}  # 4x is capped by the 12 vCPUs free
    assert sorted(o.gpu_count for o in result.offers if o.gpu_type == "A40") == [1, 2]  # 3 free
    assert offers["epyc-rome-a40:se-smedjebacken-1:1x"].country == "SE"
    with pytest.raises(ProviderRequestError, match="project"):
        await CudoAdapter().book_instance("x", BookingOptions())


# --- Hot Aisle ---------------------------------------------------------------------------------
async def test_hot_aisle_team_listing_in_cents_and_bytes():
    path = "/api/teams/acme/virtual_machines/available/"
    fake = FakeProvider().on("GET", path, ok("hotaisle/available.json"))
    result = await HotAisleAdapter(api_key="acme:hk", transport=fake.transport).fetch_offers()
    assert fake.requests[0].headers["Authorization"] == "Token hk"
    eight = by_id(result)["8x-mi300x-104c-1792g"]
    assert (eight.price_per_hour, eight.price_per_gpu_hour) == (
        Decimal("15.9200"),
        Decimal("1.9900"),
    )
    assert (eight.gpu_memory_gb, eight.ram_gb, eight.storage_gb) == (192, 1792, 98304)
    assert (eight.region, eight.country) == ("us-michigan-1", "US")
    with pytest.raises(ProviderAuthError, match="team_handle"):
        await HotAisleAdapter(api_key="no-team", transport=fake.transport).fetch_offers()


# --- JarvisLabs --------------------------------------------------------------------------------
async def test_jarvislabs_per_gpu_prices_and_free_devices():
    fake = FakeProvider().on("GET", "/misc/server_meta", ok("jarvislabs/server_meta.json"))
    result = await JarvisLabsAdapter(api_key="jl", transport=fake.transport).fetch_offers()
    assert fake.requests[0].headers["Authorization"] == "Bearer jl"
    assert result.skipped == {"no_capacity": 1, "not_a_vm": 1}
    assert sorted(by_id(result)) == [
        "A100-80GB:india-01:1x:on-demand",
        "A100-80GB:india-01:1x:spot",
        "A100-80GB:india-01:2x:on-demand",
        "H100:europe-01:1x:on-demand",
        "H100:europe-01:2x:on-demand",  # 2 effectively free of 3
    ]
    two = by_id(result)["H100:europe-01:2x:on-demand"]
    assert (two.price_per_hour, two.cpu_cores, two.ram_gb) == (Decimal("5.3800"), 32, 400)
    assert (two.country, two.macro_region) == ("", "europe")  # only the macro-region is known
    spot = by_id(result)["A100-80GB:india-01:1x:spot"]
    assert (spot.is_spot, spot.price_per_hour, spot.country) == (True, Decimal("0.7900"), "IN")

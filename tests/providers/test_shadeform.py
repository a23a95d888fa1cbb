"""Shadeform adapter: instance types across clouds, X-API-KEY, cents → dollars."""

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
from apps.providers.adapters.shadeform import ShadeformAdapter

from .helpers import FakeProvider, ok

TYPES = "/v1/instances/types"


async def test_instance_types_become_offers_per_cloud_and_region():
    fake = FakeProvider().on("GET", TYPES, ok("shadeform/instance_types.json"))
    result = await ShadeformAdapter(api_key="sf_key", transport=fake.transport).fetch_offers()
    sent = fake.requests[0]
    assert sent.headers["X-API-KEY"] == "sf_key" and "Authorization" not in sent.headers
    assert [o.external_id for o in result.offers] == [
        "hyperstack:H100x8:canada-1",
        "hyperstack:H100x8:norway-1",
        "lambdalabs:H100x8:us-east-1",
    ]
    assert result.offers[1] == ProviderOffer(
        provider="shadeform",
        external_id="hyperstack:H100x8:norway-1",
        gpu_type="H100 SXM 80GB",  # gpu_type "H100" + interconnect "sxm5"
        raw_gpu_name="H100 sxm5",
        gpu_memory_gb=80,
        gpu_count=8,
        price_per_hour=Decimal("19.2000"),  # 1920 cents for the whole 8-GPU instance
        region="norway-1",
        country="NO",  # "NO, Oslo"
        availability="unavailable",
        is_spot=False,
        is_datacenter=True,
        cpu_cores=192,
        ram_gb=1440,
        storage_gb=32000,
        raw_gpu_memory_gb=80.0,
        macro_region="europe",
        price_breakdown=PriceBreakdown(includes=("gpu", "cpu", "ram", "disk")),
    )
    assert result.offers[0].availability == "available"
    assert result.offers[2].price_per_hour == Decimal("23.9200")
    assert result.offers[2].price_per_gpu_hour == Decimal("2.9900")


async def test_nasty_instance_types():
    fake = FakeProvider().on("GET", TYPES, ok("shadeform/instance_types_nasty.json"))
    result = await ShadeformAdapter(api_key="k", transport=fake.transport).fetch_offers()
    assert dict(result.rejection_reasons) == {
        "missing:hourly_price": 1,
        "invalid:availability.available": 1,  # "yes" is not a boolean
        "invalid:configuration": 1,
        "not_an_object": 1,
    }
    assert result.skipped == {"no_regions": 1}
    offers = {o.external_id: o for o in result.offers}
    assert offers["paperspace:A6000:ny2"].gpu_type == "RTX A6000"
    mi300 = offers["tensorwave:MI300Xx8:us-west-1"]
    assert (mi300.gpu_type, mi300.price_per_hour, mi300.availability) == (
        "MI300X",
        Decimal("15.9200"),
        "unavailable",
    )
    assert len(offers) == 5


async def test_key_required_and_validation():
    with pytest.raises(ProviderAuthError):
        await ShadeformAdapter(transport=FakeProvider().transport).fetch_offers()
    fake = FakeProvider().on("GET", "/v1/instances", ok("shadeform/instances.json"))
    assert await ShadeformAdapter(transport=fake.transport).validate_credentials({"api_key": "a"})
    assert fake.requests[0].headers["X-API-KEY"] == "a"
    bad = FakeProvider().on("GET", "/v1/instances", ok("shadeform/unauthorized.json", status=401))
    assert not await ShadeformAdapter(transport=bad.transport).validate_credentials(
        {"api_key": "b"}
    )


async def test_book_instance_creates_on_the_chosen_cloud():
    fake = FakeProvider().on("POST", "/v1/instances/create", ok("shadeform/create.json"))
    booking = await ShadeformAdapter(api_key="sf", transport=fake.transport).book_instance(
        "hyperstack:H100x8:canada-1", BookingOptions(name="big-train", ssh_key="key-uuid-1")
    )
    assert fake.requests[0].headers["X-API-KEY"] == "sf"
    assert fake.body() == {
        "cloud": "hyperstack",
        "region": "canada-1",
        "shade_instance_type": "H100x8",
        "shade_cloud": True,
        "name": "big-train",
        "ssh_key_id": "key-uuid-1",
    }
    assert booking.instance_id == "d290f1ee-6c54-4b01-90e6-d701748f0851"


async def test_booking_refusals():
    fake = FakeProvider().on(
        "POST", "/v1/instances/create", httpx.Response(409, json={"error": "out of capacity"})
    )
    adapter = ShadeformAdapter(api_key="sf", transport=fake.transport)
    with pytest.raises(ProviderRequestError, match="out of capacity"):
        await adapter.book_instance("crusoe:L40S:us-east1", BookingOptions())
    with pytest.raises(ProviderRequestError, match="not a Shadeform offer id"):
        await adapter.book_instance("crusoe:L40S", BookingOptions())
    empty = FakeProvider().on("POST", "/v1/instances/create", httpx.Response(200, json={}))
    with pytest.raises(ProviderRequestError, match="no instance id"):
        await ShadeformAdapter(api_key="sf", transport=empty.transport).book_instance(
            "crusoe:L40S:us-east1", BookingOptions()
        )

"""Lambda Cloud adapter: instance-types map with live capacity, cents → dollars."""

from __future__ import annotations

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
)
from apps.providers.adapters.lambda_cloud import LambdaAdapter

from .helpers import FakeProvider, Sleeps, ok

TYPES = "/api/v1/instance-types"


async def test_instance_types_become_one_offer_per_region_with_capacity():
    fake = FakeProvider().on("GET", TYPES, ok("lambda/instance_types.json"))
    result = await LambdaAdapter(api_key="secret_lk", transport=fake.transport).fetch_offers()

    sent = fake.requests[0]
    assert (sent.method, sent.url.path) == ("GET", TYPES)
    assert sent.headers["Authorization"] == "Bearer secret_lk"
    assert [o.external_id for o in result.offers] == [
        "gpu_1x_h100_sxm5:us-east-1",
        "gpu_1x_h100_sxm5:us-south-1",
        "gpu_1x_a10:us-west-1",
    ]
    assert result.offers[0] == ProviderOffer(
        provider="lambda",
        external_id="gpu_1x_h100_sxm5:us-east-1",
        gpu_type="H100 SXM 80GB",
        raw_gpu_name="H100 (80 GB SXM5)",
        gpu_memory_gb=80,
        gpu_count=1,
        price_per_hour=Decimal("3.2900"),  # 329 cents
        region="us-east-1",
        country="US",  # "Virginia, USA"
        availability="available",
        is_spot=False,
        is_datacenter=True,
        cpu_cores=26,
        ram_gb=225,
        storage_gb=2816,
        raw_gpu_memory_gb=80.0,
        macro_region="north-america",
        price_breakdown=PriceBreakdown(includes=("gpu", "cpu", "ram", "disk")),
    )
    a10 = result.offers[2]
    assert (a10.gpu_type, a10.price_per_hour, a10.gpu_memory_gb) == ("A10", Decimal("0.75"), 24)
    assert result.skipped == {"no_capacity": 1}  # 8x A100: sold out everywhere, no offer
    assert result.rejected == 0


async def test_a_key_is_required_before_any_request():
    fake = FakeProvider()
    with pytest.raises(ProviderAuthError, match="API key is required"):
        await LambdaAdapter(transport=fake.transport).fetch_offers()
    assert fake.requests == []


async def test_invalid_key_is_an_auth_error_with_lambdas_message():
    fake = FakeProvider().on("GET", TYPES, ok("lambda/invalid_key.json", status=401))
    with pytest.raises(ProviderAuthError, match="API key was invalid"):
        await LambdaAdapter(api_key="bad", transport=fake.transport).fetch_offers()


async def test_nasty_instance_types():
    fake = FakeProvider().on("GET", TYPES, ok("lambda/instance_types_nasty.json"))
    result = await LambdaAdapter(api_key="k", transport=fake.transport).fetch_offers()
    assert dict(result.rejection_reasons) == {
        "invalid:price": 1,  # "one dollar"
        "missing:gpu_memory": 1,  # "1x Mystery"
        "missing:specs": 1,  # specs null
        "invalid:regions_with_capacity_available": 1,  # null instead of a list
        "not_an_object": 1,
    }
    assert result.skipped == {"no_capacity": 1, "cpu_only": 1}
    offers = {o.external_id: o for o in result.offers}
    assert sorted(offers) == [
        "gpu_1x_a10:us-west-1",
        "gpu_1x_h100_sxm5:us-east-1",
        "gpu_1x_h100_sxm5:us-south-1",
        "gpu_1x_rtx6000:us-west-1",
        "gpu_2x_a6000:asia-south-1",
        "gpu_2x_a6000:europe-central-1",
    ]
    a6000 = offers["gpu_2x_a6000:europe-central-1"]  # count and GPU from the description
    assert (a6000.gpu_type, a6000.gpu_count, a6000.price_per_hour, a6000.country) == (
        "RTX A6000",
        2,
        Decimal("1.6000"),
        "DE",
    )
    assert offers["gpu_2x_a6000:asia-south-1"].country == "IN"
    quadro = offers["gpu_1x_rtx6000:us-west-1"]  # Quadro RTX 6000 (24 GB), not the Ada part
    assert (quadro.gpu_type, quadro.gpu_model_known, quadro.raw_gpu_name) == (
        "Quadro RTX 6000",
        True,
        "RTX 6000 (24 GB)",
    )


async def test_the_data_map_envelope_is_required():
    fake = FakeProvider().on("GET", TYPES, httpx.Response(200, json={"data": []}))
    with pytest.raises(ProviderPayloadError, match="expected Mapping"):
        await LambdaAdapter(api_key="k", transport=fake.transport).fetch_offers()


async def test_validate_credentials():
    fake = FakeProvider().on("GET", TYPES, ok("lambda/instance_types.json"))
    assert await LambdaAdapter(transport=fake.transport).validate_credentials({"api_key": "k1"})
    assert fake.requests[0].headers["Authorization"] == "Bearer k1"
    bad = FakeProvider().on("GET", TYPES, ok("lambda/invalid_key.json", status=401))
    assert not await LambdaAdapter(transport=bad.transport).validate_credentials({"api_key": "x"})


async def test_book_instance_launches_one_instance():
    fake = FakeProvider().on("POST", "/api/v1/instance-operations/launch", ok("lambda/launch.json"))
    adapter = LambdaAdapter(api_key="lk", transport=fake.transport, sleep=Sleeps())
    booking = await adapter.book_instance(
        "gpu_1x_h100_sxm5:us-east-1", BookingOptions(name="ft-run", ssh_key="laptop")
    )
    assert fake.requests[0].headers["Authorization"] == "Bearer lk"
    assert fake.body() == {
        "region_name": "us-east-1",
        "instance_type_name": "gpu_1x_h100_sxm5",
        "ssh_key_names": ["laptop"],
        "quantity": 1,
        "name": "ft-run",
    }
    assert booking.instance_id == "0920582c7ff041399e34823a0be62549"


async def test_booking_refusals():
    fake = FakeProvider().on(
        "POST",
        "/api/v1/instance-operations/launch",
        httpx.Response(
            400,
            json={
                "error": {
                    "code": "instance-operations/launch/insufficient-capacity",
                    "message": "Not enough capacity to fulfill launch request.",
                }
            },
        ),
    )
    adapter = LambdaAdapter(api_key="lk", transport=fake.transport)
    with pytest.raises(ProviderRequestError, match="SSH key"):
        await adapter.book_instance("gpu_1x_a10:us-west-1", BookingOptions())
    with pytest.raises(ProviderRequestError, match="not a Lambda offer id"):
        await adapter.book_instance("gpu_1x_a10", BookingOptions(ssh_key="k"))
    with pytest.raises(ProviderRequestError, match="Not enough capacity"):
        await adapter.book_instance("gpu_1x_a10:us-west-1", BookingOptions(ssh_key="k"))
    assert len(fake.requests) == 1  # the two malformed bookings never left the process

"""TensorDock adapter: v2 locations, per-GPU price composed into a whole-instance price."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from apps.providers.adapters import (
    BookingOptions,
    PriceBreakdown,
    ProviderOffer,
    ProviderPayloadError,
    ProviderRequestError,
)
from apps.providers.adapters.tensordock import TensorDockAdapter, gpu_counts

from .helpers import FakeProvider, ok

LOCATIONS = "/api/v2/locations"


def test_gpu_counts_are_powers_of_two_up_to_the_maximum():
    assert gpu_counts(1) == [1]
    assert gpu_counts(4) == [1, 2, 4]
    assert gpu_counts(6) == [1, 2, 4, 6]
    assert gpu_counts(8) == [1, 2, 4, 8]
    assert gpu_counts(0) == []


async def test_locations_become_whole_instance_offers():
    fake = FakeProvider().on("GET", LOCATIONS, ok("tensordock/locations.json"))
    result = await TensorDockAdapter(transport=fake.transport).fetch_offers()
    assert fake.requests[0].method == "GET"
    assert "Authorization" not in fake.requests[0].headers

    offers = {o.external_id: o for o in result.offers}
    assert len(offers) == 4 + 3 + 3  # H100 1/2/4/8, RTX 4090 1/2/4, A100 1/2/4
    one_h100 = offers["a1c2e3f4-0000-4000-8000-000000000001:h100-sxm5-80gb:1x"]
    # 1 × 2.25 GPU + 16 vCPU × 0.003 + 37 GB × 0.002 + 125 GB × 0.00005 = 2.37825 → 2.3783
    assert one_h100 == ProviderOffer(
        provider="tensordock",
        external_id="a1c2e3f4-0000-4000-8000-000000000001:h100-sxm5-80gb:1x",
        gpu_type="H100 SXM 80GB",
        raw_gpu_name="H100 SXM5 80GB",
        gpu_memory_gb=80,
        gpu_count=1,
        price_per_hour=Decimal("2.3783"),
        region="Austin, Texas",
        country="US",
        availability="available",
        is_spot=False,
        is_datacenter=True,
        cpu_cores=16,  # 128 vCPUs / 8 GPUs
        ram_gb=37,  # 300 GB / 8, floor
        storage_gb=125,  # 1000 GB / 8
        raw_gpu_memory_gb=80.0,
        macro_region="north-america",
        # v2 prices GPU, vCPU, RAM and disk separately: the stored price is their sum
        price_breakdown=PriceBreakdown(
            includes=("gpu", "cpu", "ram", "disk"),
            components=(
                ("gpu", Decimal("2.2500")),
                ("cpu", Decimal("0.0480")),  # 16 × 0.003
                ("ram", Decimal("0.0740")),  # 37 × 0.002
                ("disk", Decimal("0.0063")),  # 125 × 0.00005
            ),
        ),
    )
    eight = offers["a1c2e3f4-0000-4000-8000-000000000001:h100-sxm5-80gb:8x"]
    # 8 × 2.25 + 128 × 0.003 + 300 × 0.002 + 1000 × 0.00005 = 19.034
    assert eight.price_per_hour == Decimal("19.0340") and eight.cpu_cores == 128
    assert eight.price_per_gpu_hour == Decimal("2.3792")  # 2.37925, half-even like the model
    a100 = offers["a1c2e3f4-0000-4000-8000-000000000002:a100-pcie-80gb:2x"]
    # 2 × 0.95 + 32 × 0.004 + 128 × 0.0025 + 2000 × 0.00006 = 2.468
    assert (a100.gpu_type, a100.price_per_hour, a100.country, a100.region) == (
        "A100 PCIe 80GB",
        Decimal("2.4680"),
        "FI",
        "Helsinki, Uusimaa",
    )
    rtx = offers["a1c2e3f4-0000-4000-8000-000000000001:geforcertx4090-pcie-24gb:4x"]
    assert (rtx.gpu_type, rtx.gpu_memory_gb, rtx.price_per_hour) == (
        "RTX 4090",
        24,
        Decimal("1.8430"),
    )


async def test_nasty_locations():
    fake = FakeProvider().on("GET", LOCATIONS, ok("tensordock/locations_nasty.json"))
    result = await TensorDockAdapter(transport=fake.transport).fetch_offers()
    assert dict(result.rejection_reasons) == {
        "missing:price_per_hr": 1,
        "missing:gpu_memory": 1,  # "Mystery Accelerator"
        "invalid:pricing": 1,  # a string instead of an object
        "invalid:location": 2,  # gpus null, a bare string
        "missing:id": 1,  # location without id
    }
    offers = {o.external_id: o for o in result.offers}
    l4 = offers["a1c2e3f4-0000-4000-8000-000000000001:l4-pcie-24gb:2x"]  # strings are numbers
    # 2 × 0.31 + 8 × 0.003 + 32 × 0.002 + storage unit price missing (null → not charged)
    assert l4.price_per_hour == Decimal("0.7080")
    assert not any("v100-sxm2-16gb" in key for key in offers)  # max_count 0: nothing to rent
    assert len(offers) == 10 + 3  # the clean 10 plus L4 1/2/4


async def test_wrong_envelope():
    fake = FakeProvider().on("GET", LOCATIONS, httpx.Response(200, json={"locations": []}))
    with pytest.raises(ProviderPayloadError, match="'data'"):
        await TensorDockAdapter(transport=fake.transport).fetch_offers()


async def test_api_key_is_a_bearer_token_and_validates_against_instances():
    fake = FakeProvider().on("GET", "/api/v2/instances", ok("tensordock/instances.json"))
    assert await TensorDockAdapter(transport=fake.transport).validate_credentials({"api_key": "td"})
    assert fake.requests[0].headers["Authorization"] == "Bearer td"
    denied = FakeProvider().on(
        "GET", "/api/v2/instances", httpx.Response(403, json={"error": "no"})
    )
    assert not await TensorDockAdapter(transport=denied.transport).validate_credentials(
        {"api_key": "x"}
    )


async def test_book_instance_creates_a_virtual_machine():
    fake = FakeProvider().on("POST", "/api/v2/instances", ok("tensordock/create.json"))
    adapter = TensorDockAdapter(api_key="td_key", transport=fake.transport)
    booking = await adapter.book_instance(
        "a1c2e3f4-0000-4000-8000-000000000001:h100-sxm5-80gb:2x",
        BookingOptions(
            name="vm1",
            image="ubuntu2404",
            disk_gb=250,
            ssh_public_key="ssh-ed25519 AAAA",
            cpu_cores=32,
            ram_gb=75,
        ),
    )
    assert fake.requests[0].headers["Authorization"] == "Bearer td_key"
    assert fake.body() == {
        "data": {
            "type": "virtualmachine",
            "attributes": {
                "name": "vm1",
                "type": "virtualmachine",
                "image": "ubuntu2404",
                "resources": {
                    "vcpu_count": 32,
                    "ram_gb": 75,
                    "storage_gb": 250,
                    "gpus": {"h100-sxm5-80gb": {"count": 2}},
                },
                "location_id": "a1c2e3f4-0000-4000-8000-000000000001",
                "ssh_key": "ssh-ed25519 AAAA",
            },
        }
    }
    assert (booking.instance_id, booking.status) == (
        "8a7a3e2d-5a3c-4b52-9df6-3f4b0f1d2c11",
        "running",
    )


async def test_booking_needs_the_machine_size_and_a_key():
    fake = FakeProvider()
    adapter = TensorDockAdapter(api_key="k", transport=fake.transport)
    with pytest.raises(ProviderRequestError, match="SSH public key"):
        await adapter.book_instance("loc:h100-sxm5-80gb:1x", BookingOptions(cpu_cores=8, ram_gb=32))
    with pytest.raises(ProviderRequestError, match="not a TensorDock offer id"):
        await adapter.book_instance(
            "loc:h100", BookingOptions(ssh_public_key="k", cpu_cores=1, ram_gb=1)
        )
    assert fake.requests == []

"""Azure (Retail Prices API) and Oracle (price list API): key-free public price lists read
through the cited instance-type → GPU tables, to exact expected values."""

from __future__ import annotations

import logging
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
from apps.providers.adapters.azure import API_VERSION, FILTER, AzureAdapter, gpu_vms
from apps.providers.adapters.oci import OCIAdapter, price_matchers

from .helpers import FakeProvider, Sleeps, fixture, ok

PRICES = "/api/retail/prices"
PRODUCTS = "/pls/apex/cetools/api/v1/products/"


async def test_azure_follows_pages_and_maps_vm_sizes_to_gpus(caplog):
    caplog.set_level(logging.INFO, logger="gpubroker.providers")
    fake = FakeProvider().on(
        "GET", PRICES, ok("azure/prices_page1.json"), ok("azure/prices_page2.json")
    )
    result = await AzureAdapter(transport=fake.transport, sleep=Sleeps()).fetch_offers()
    first, second = fake.requests
    assert "Authorization" not in first.headers  # key-free
    assert first.url.params["api-version"] == API_VERSION
    assert first.url.params["$filter"] == FILTER
    assert second.url.params["$skip"] == "1000"  # NextPageLink followed
    assert result.records_seen == 15 and result.rejected == 0
    assert result.skipped == {
        "low_priority_meter": 1,
        "fractional_gpu": 1,  # NV6ads A10 v5: a sixth of an A10
        "unmapped_vm_size": 1,  # NC8ads A10 v4 is not in the table
        "windows_license": 1,
    }
    offers = {o.external_id: o for o in result.offers}
    assert offers["Standard_ND96isr_H100_v5:eastus:on-demand"] == ProviderOffer(
        provider="azure",
        external_id="Standard_ND96isr_H100_v5:eastus:on-demand",
        gpu_type="H100 SXM 80GB",
        raw_gpu_name="H100 SXM5 80GB",
        gpu_memory_gb=80,
        gpu_count=8,
        price_per_hour=Decimal("98.3200"),  # retailPrice: USD/h for the whole VM
        region="eastus",
        country="US",
        availability="limited",  # a price list is not a capacity signal
        is_spot=False,
        is_datacenter=True,
        cpu_cores=96,
        ram_gb=1900,
        raw_gpu_memory_gb=80.0,
        macro_region="north-america",
        price_breakdown=PriceBreakdown(includes=("gpu", "cpu", "ram"), excludes=("disk",)),
    )
    spot = offers["Standard_NC24ads_A100_v4:eastus:spot"]
    assert (spot.is_spot, spot.price_per_hour, spot.gpu_type) == (
        True,
        Decimal("0.7346"),
        "A100 PCIe 80GB",
    )
    nvl = offers["Standard_NC40ads_H100_v5:swedencentral:on-demand"]
    assert (nvl.gpu_type, nvl.gpu_memory_gb, nvl.country) == ("H100 NVL 94GB", 94, "SE")
    mi300x = offers["Standard_ND96isr_MI300X_v5:canadacentral:on-demand"]
    assert (mi300x.gpu_type, mi300x.price_per_gpu_hour, mi300x.macro_region) == (
        "MI300X",
        Decimal("6.0000"),
        "north-america",
    )
    v100 = offers["Standard_NC6s_v3:eastus:on-demand"]
    assert (v100.gpu_type, v100.gpu_count, v100.cpu_cores) == ("V100 16GB", 1, 6)
    assert offers["Standard_NV36ads_A10_v5:uksouth:on-demand"].country == "GB"
    assert len(offers) == 11


async def test_azure_refuses_a_next_page_on_another_host():
    page = fixture("azure/prices_page1.json")
    page["NextPageLink"] = "https://evil.example/api/retail/prices?$skip=1000"
    fake = FakeProvider().on("GET", PRICES, httpx.Response(200, json=page))
    with pytest.raises(ProviderPayloadError, match="leaves the price API"):
        await AzureAdapter(transport=fake.transport).fetch_offers()


def test_azure_table_is_cited_and_every_size_normalises():
    for vm in gpu_vms().values():
        assert vm.source.startswith("learn.microsoft.com/azure/virtual-machines/sizes/")
        assert vm.vcpus > 0 and vm.ram_gb > 0


async def test_azure_and_oracle_take_no_key_and_refuse_bookings_with_a_reason():
    for adapter in (AzureAdapter(), OCIAdapter()):
        assert adapter.REQUIRES_CREDENTIALS is False
        assert await adapter.validate_credentials({"api_key": "anything"}) is False
        with pytest.raises(ProviderRequestError, match=r"console|portal"):
            await adapter.book_instance("x", BookingOptions())


async def test_oracle_prices_per_gpu_hour_times_the_shape_count(caplog):
    caplog.set_level(logging.INFO, logger="gpubroker.providers")  # the skip is logged, not fatal
    fake = FakeProvider().on("GET", PRODUCTS, ok("oci/products.json"))
    result = await OCIAdapter(transport=fake.transport, sleep=Sleeps()).fetch_offers()
    assert fake.requests[0].url.params["currencyCode"] == "USD"
    assert result.records_seen == 10 and result.rejected == 0
    assert result.skipped == {"unmapped_gpu_price": 1, "not_gpu_compute": 1}  # B200; an OCPU
    assert "OCI GPU price without a shape in the table" in caplog.text
    offers = {o.external_id: o for o in result.offers}
    assert offers["BM.GPU.H100.8:B98415"] == ProviderOffer(
        provider="oci",
        external_id="BM.GPU.H100.8:B98415",
        gpu_type="H100 SXM 80GB",
        raw_gpu_name="H100 SXM 80GB",
        gpu_memory_gb=80,
        gpu_count=8,
        price_per_hour=Decimal("80.0000"),  # $10.00 per GPU-hour × 8
        region="oci-global",
        country="",
        availability="limited",
        is_spot=False,
        is_datacenter=True,
        cpu_cores=224,  # 112 OCPU
        ram_gb=2048,
        raw_gpu_memory_gb=80.0,
        macro_region="",
        price_breakdown=PriceBreakdown(includes=("gpu", "cpu", "ram"), excludes=("disk",)),
    )
    # "A100 - v1" and "A100 - v2" are different shapes; "A10" is not "A100"
    assert offers["BM.GPU4.8:B93114"].gpu_type == "A100 40GB"
    assert offers["BM.GPU4.8:B93114"].price_per_hour == Decimal("24.4000")
    assert offers["BM.GPU.A100-v2.8:B95909"].gpu_type == "A100 SXM 80GB"
    a10 = sorted(o.gpu_count for o in result.offers if o.gpu_type == "A10")
    assert a10 == [1, 2, 4]
    assert offers["BM.GPU3.8:B88517"].price_per_hour == Decimal("23.6000")  # 2.95 × 8
    assert len(result.offers) == 13


def test_oracle_shape_table_matches_each_gpu_price_to_its_shapes():
    names = {
        "Compute - GPU - A100 - v2": {"BM.GPU.A100-v2.8"},
        "Compute - GPU - A100 - v1": {"BM.GPU4.8"},
        "Compute - GPU - A10": {"VM.GPU.A10.1", "VM.GPU.A10.2", "BM.GPU.A10.4"},
        "Compute - GPU - H100": {"BM.GPU.H100.8"},
    }
    for name, shapes in names.items():
        found = {shape.instance_type for pattern, shape in price_matchers() if pattern.search(name)}
        assert found == shapes, name

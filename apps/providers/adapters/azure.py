"""Microsoft Azure: the **Retail Prices API** (``GET https://prices.azure.com/api/retail/prices``),
public and key-free.

The request filters to Linux pay-as-you-go prices of N-series (GPU) virtual machines::

    serviceName eq 'Virtual Machines' and priceType eq 'Consumption'
    and contains(armSkuName, 'Standard_N') and contains(productName, 'Windows') eq false

``{"BillingCurrency": "USD", "Items": [{armSkuName, armRegionName, meterName, productName,
retailPrice, unitOfMeasure, currencyCode, type, …}], "NextPageLink": "…$skip=1000", "Count"}``;
pages are followed through ``NextPageLink`` (only on the API's own host, at most
:data:`MAX_PAGES`). Units and rules:

* ``retailPrice`` is USD per **hour for the whole VM** (``unitOfMeasure`` ``"1 Hour"``; anything
  else is rejected). The Linux price covers the VM's GPUs, vCPUs, RAM and temporary disk; the
  managed OS disk is billed separately (``price_breakdown``).
* The price list names VM sizes, not GPUs: ``adapters/data/azure_gpu_vms.csv`` maps each size to
  its GPU model, count, VRAM per GPU, vCPUs and RAM, with the Microsoft Learn page of its series.
  Fractional-GPU sizes (NVadsA10 v5 below 36 vCPU) are skipped on purpose; N-series sizes the
  table does not list are skipped and counted (``unmapped_vm_size``) so the table can be extended.
* ``meterName`` ending in ``Spot`` → spot; ``Low Priority`` meters (retired) are skipped.
* Availability: a price list says a size *can* be ordered in a region, not that capacity is free
  now, so offers are ``limited`` (orderable subject to quota and capacity).
* Regions are ARM names (``eastus``); ``apps.providers.regions`` maps them to countries.

No key exists for this API; booking Azure VMs needs an Azure subscription and ARM (Entra ID)
credentials, which GPUBROKER does not hold, so ``book_instance`` refuses with an explanation.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import httpx

from .base import (
    LIMITED,
    BaseProviderAdapter,
    BookingOptions,
    BookingResult,
    FetchResult,
    PriceBreakdown,
    ProviderOffer,
    enumerate_records,
    envelope,
    resolve_gpu,
)
from .errors import ProviderAuthError, ProviderPayloadError, ProviderRequestError
from .instance_tables import instance_table
from .registry import ProviderRegistry
from .units import RecordRejected, decimal_amount, money, require, text

PRICES_PATH = "/api/retail/prices"
API_VERSION = "2023-01-01-preview"
FILTER = (
    "serviceName eq 'Virtual Machines' and priceType eq 'Consumption' "
    "and contains(armSkuName, 'Standard_N') and contains(productName, 'Windows') eq false"
)
#: 1,000 items per page; the GPU sizes of every region fit in a few pages.
MAX_PAGES = 40
VM_PRICE = PriceBreakdown(includes=("gpu", "cpu", "ram"), excludes=("disk",))


def gpu_vms() -> Mapping[str, Any]:
    return instance_table("azure_gpu_vms.csv", "arm_sku_name")


class AzureAdapter(BaseProviderAdapter):
    PROVIDER_NAME = "azure"
    DISPLAY_NAME = "Microsoft Azure"
    BASE_URL = "https://prices.azure.com"
    REQUIRES_CREDENTIALS = False

    async def _fetch(self) -> FetchResult:
        result = self.new_result()
        params: dict[str, Any] = {"api-version": API_VERSION, "$filter": FILTER}
        async with self.http() as client:
            for _ in range(MAX_PAGES):
                payload = await client.request_json("GET", PRICES_PATH, params=params)
                result.merge(self.parse(payload))
                next_params = self._next_page(payload)
                if next_params is None:
                    return result
                params = next_params
        raise ProviderPayloadError(
            f"more than {MAX_PAGES} pages of prices: not trusted", provider=self.PROVIDER_NAME
        )

    def _next_page(self, payload: Mapping[str, Any]) -> dict[str, Any] | None:
        link = payload.get("NextPageLink")
        if link in (None, ""):
            return None
        if not isinstance(link, str):
            raise ProviderPayloadError("NextPageLink is not a URL", provider=self.PROVIDER_NAME)
        url = httpx.URL(link)
        if url.host != httpx.URL(self.base_url).host or url.path != PRICES_PATH:
            raise ProviderPayloadError(
                f"NextPageLink leaves the price API: {link[:80]!r}", provider=self.PROVIDER_NAME
            )
        return dict(url.params)

    def parse(self, payload: Any) -> FetchResult:
        items = envelope(payload, "Items", provider=self.PROVIDER_NAME)
        return self.parse_each(enumerate_records(items, "meterId"), self._parse_item)

    def _parse_item(self, item: Any, result: FetchResult) -> Iterator[ProviderOffer]:
        sku = text(require(item, "armSkuName"), "armSkuName")
        meter = text(require(item, "meterName"), "meterName")
        if "low priority" in meter.lower():
            result.skip("low_priority_meter")
            return
        if "windows" in str(item.get("productName", "")).lower():
            result.skip("windows_license")
            return
        vm = gpu_vms().get(sku)
        if vm is None:
            result.skip("unmapped_vm_size")
            self.logger.info(
                "Azure VM size not in the GPU table", extra={"provider": "azure", "sku": sku}
            )
            return
        if vm.fractional:
            result.skip("fractional_gpu")
            return
        unit = text(require(item, "unitOfMeasure"), "unitOfMeasure")
        if unit != "1 Hour":
            raise RecordRejected("invalid:unitOfMeasure", unit[:40])
        currency = text(require(item, "currencyCode"), "currencyCode")
        if currency != "USD":
            raise RecordRejected("invalid:currencyCode", currency[:10])
        region = text(require(item, "armRegionName"), "armRegionName")
        price = money(decimal_amount(require(item, "retailPrice"), "retailPrice"), "retailPrice")
        is_spot = meter.lower().endswith("spot")
        gpu_type, known = resolve_gpu(vm.gpu_name, float(vm.vram_gb))
        yield ProviderOffer(
            provider=self.PROVIDER_NAME,
            external_id=f"{sku}:{region}:{'spot' if is_spot else 'on-demand'}",
            gpu_type=gpu_type,
            raw_gpu_name=vm.gpu_name,
            gpu_model_known=known,
            gpu_memory_gb=vm.vram_gb,
            gpu_count=int(vm.gpu_count),
            price_per_hour=price,
            region=region[:100],
            availability=LIMITED,
            is_spot=is_spot,
            is_datacenter=True,
            cpu_cores=vm.vcpus,
            ram_gb=vm.ram_gb,
            price_breakdown=VM_PRICE,
        )

    async def _probe_credentials(self, api_key: str) -> None:
        raise ProviderAuthError(
            "Azure's price list needs no key, and Azure VMs are booked with ARM (Entra ID) "
            "credentials, which GPUBROKER does not store",
            provider=self.PROVIDER_NAME,
        )

    async def book_instance(self, offer_id: str, options: BookingOptions) -> BookingResult:
        raise ProviderRequestError(
            "booking Azure VMs needs an Azure subscription and ARM credentials; rent this offer "
            "in the Azure portal (size and region are in the offer id)",
            provider=self.PROVIDER_NAME,
        )


ProviderRegistry.register(AzureAdapter.PROVIDER_NAME, AzureAdapter)

"""Shadeform (a marketplace over many clouds): ``GET /v1/instances/types`` (``X-API-KEY``).

``{"instance_types": [{cloud, shade_instance_type, configuration{…}, hourly_price, availability:
[{region, available, display_name}]}]}``. One offer per (cloud, instance type, region). Units:

* ``hourly_price`` is US **cents** per hour for the **whole instance** → ÷ 100.
* ``configuration.vram_per_gpu_in_gb`` is per GPU; ``memory_in_gb``/``storage_in_gb`` are GB.
* The GPU name given to the normaliser is ``gpu_type`` plus ``interconnect`` (``"H100 sxm5"``),
  which keeps H100 SXM and PCIe apart.
* ``availability[].available`` → available / unavailable (the API lists both). Country comes
  from ``display_name`` (``"CA, Montreal"``). No spot pricing is published.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .base import (
    AVAILABLE,
    UNAVAILABLE,
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
from .errors import ProviderRequestError
from .registry import ProviderRegistry
from .units import (
    RecordRejected,
    cents_to_dollars,
    country_code,
    money,
    number,
    require,
    text,
    whole,
)

#: ``hourly_price`` is the whole instance: GPUs, vCPUs, RAM and its boot/local storage.
INSTANCE_PRICE = PriceBreakdown(includes=("gpu", "cpu", "ram", "disk"))


class ShadeformAdapter(BaseProviderAdapter):
    PROVIDER_NAME = "shadeform"
    DISPLAY_NAME = "Shadeform"
    BASE_URL = "https://api.shadeform.ai"
    REQUIRES_CREDENTIALS = True

    def auth_headers(self, api_key: str | None) -> dict[str, str]:
        return {"X-API-KEY": api_key} if api_key else {}

    async def _fetch(self) -> FetchResult:
        key = self.require_key()
        payload = await self.http(key).request_json("GET", "/v1/instances/types")
        return self.parse(payload)

    def parse(self, payload: Any) -> FetchResult:
        types = envelope(payload, "instance_types", provider=self.PROVIDER_NAME)

        def records() -> Iterator[tuple[str, Any]]:
            for record_id, item in enumerate_records(types):
                if isinstance(item, Mapping) and item.get("shade_instance_type"):
                    record_id = f"{item.get('cloud')}:{item['shade_instance_type']}"
                yield record_id, item

        return self.parse_each(records(), self._parse_type)

    def _parse_type(self, item: Any, result: FetchResult) -> Iterator[ProviderOffer]:
        cloud = text(require(item, "cloud"), "cloud")
        instance_type = text(require(item, "shade_instance_type"), "shade_instance_type")
        config = require(item, "configuration")
        if not isinstance(config, Mapping):
            raise RecordRejected("invalid:configuration", type(config).__name__)
        gpu_count = whole(require(config, "num_gpus"), "num_gpus")
        if gpu_count == 0:
            result.skip("cpu_only")
            return
        gpu_name = text(require(config, "gpu_type"), "gpu_type")
        interconnect = config.get("interconnect")
        raw_name = f"{gpu_name} {interconnect}" if isinstance(interconnect, str) else gpu_name
        vram_gb = whole(require(config, "vram_per_gpu_in_gb"), "vram_per_gpu_in_gb", minimum=1)
        price = money(cents_to_dollars(require(item, "hourly_price"), "hourly_price"))
        regions = item.get("availability")
        if not isinstance(regions, list):
            raise RecordRejected("invalid:availability", type(regions).__name__)
        if not regions:
            result.skip("no_regions")
            return
        gpu_type, known = resolve_gpu(raw_name, float(vram_gb))
        vcpus = whole(config.get("vcpus") or 0, "vcpus")
        ram_gb = round(number(config.get("memory_in_gb") or 0, "memory_in_gb"))
        storage_gb = round(number(config.get("storage_in_gb") or 0, "storage_in_gb"))
        for slot in regions:
            region = text(require(slot, "region"), "availability.region")
            available = slot.get("available")
            if not isinstance(available, bool):
                raise RecordRejected("invalid:availability.available", repr(available)[:20])
            yield ProviderOffer(
                provider=self.PROVIDER_NAME,
                external_id=f"{cloud}:{instance_type}:{region}",
                gpu_type=gpu_type,
                raw_gpu_name=raw_name,
                gpu_model_known=known,
                gpu_memory_gb=vram_gb,
                gpu_count=gpu_count,
                price_per_hour=price,
                region=region[:100],
                country=country_code(slot.get("display_name")),
                availability=AVAILABLE if available else UNAVAILABLE,
                is_spot=False,
                is_datacenter=True,
                cpu_cores=vcpus,
                ram_gb=ram_gb,
                storage_gb=storage_gb,
                price_breakdown=INSTANCE_PRICE,
            )

    async def _probe_credentials(self, api_key: str) -> None:
        await self.http(api_key).request_json("GET", "/v1/instances")

    async def book_instance(self, offer_id: str, options: BookingOptions) -> BookingResult:
        """``POST /v1/instances/create`` on Shadeform's own account at the cloud."""
        key = self.require_key()
        parts = offer_id.split(":")
        if len(parts) != 3 or not all(parts):
            raise ProviderRequestError(
                f"not a Shadeform offer id: {offer_id!r}", provider=self.PROVIDER_NAME
            )
        cloud, instance_type, region = parts
        body: dict[str, Any] = {
            "cloud": cloud,
            "region": region,
            "shade_instance_type": instance_type,
            "shade_cloud": True,
            "name": options.name,
        }
        if options.ssh_key:
            body["ssh_key_id"] = options.ssh_key
        answer = await self.http(key).request_json(
            "POST", "/v1/instances/create", json_body=body, idempotent=False
        )
        if not isinstance(answer, Mapping) or not answer.get("id"):
            raise ProviderRequestError("create returned no instance id", provider="shadeform")
        return BookingResult(
            provider=self.PROVIDER_NAME,
            offer_id=offer_id,
            instance_id=str(answer["id"]),
            status="creating",
            raw=answer,
        )


ProviderRegistry.register(ShadeformAdapter.PROVIDER_NAME, ShadeformAdapter)

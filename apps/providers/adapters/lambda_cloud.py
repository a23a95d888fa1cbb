"""Lambda Cloud: ``GET /api/v1/instance-types`` (Bearer key required).

The answer is a **map** ``{name: {"instance_type": …, "regions_with_capacity_available": […]}}``.
One offer per (instance type, region with capacity). Units:

* ``price_cents_per_hour`` is US **cents** per hour for the **whole instance** → ÷ 100.
* ``specs.memory_gib`` / ``specs.storage_gib`` are GiB → whole GB; ``specs.gpus`` is the count
  (else parsed from ``description``, ``"8x A100 (80 GB SXM4)"``); VRAM per GPU is the ``NN GB`` of
  ``gpu_description``.
* Capacity is live: a region listed → available. An instance type with no capacity anywhere yields
  no offer (counted as skipped), so its earlier regional offers are marked unavailable by the sync
  — the catalogue never shows "possible" instances as rentable (gpuhunt and SkyPilot list every
  type in every region). Lambda has no spot market.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from .base import (
    AVAILABLE,
    BaseProviderAdapter,
    BookingOptions,
    BookingResult,
    FetchResult,
    PriceBreakdown,
    ProviderOffer,
    envelope,
    resolve_gpu,
)
from .errors import ProviderRequestError
from .registry import ProviderRegistry
from .units import (
    RecordRejected,
    cents_to_dollars,
    country_code,
    gib_to_gb,
    money,
    number,
    require,
    text,
    whole,
)

#: The instance price covers GPUs, vCPUs, RAM and the local NVMe disk.
INSTANCE_PRICE = PriceBreakdown(includes=("gpu", "cpu", "ram", "disk"))
DESCRIPTION = re.compile(r"^\s*(\d+)\s*x\s+(.+)$", re.IGNORECASE)
MEMORY = re.compile(r"\((\d+)\s*GB", re.IGNORECASE)


def region_country(name: str, description: Any) -> str:
    found = country_code(description)
    if found:
        return found
    return "US" if name.lower().startswith("us-") else ""


class LambdaAdapter(BaseProviderAdapter):
    PROVIDER_NAME = "lambda"
    DISPLAY_NAME = "Lambda"
    BASE_URL = "https://cloud.lambda.ai"
    REQUIRES_CREDENTIALS = True

    async def _fetch(self) -> FetchResult:
        key = self.require_key()
        payload = await self.http(key).request_json("GET", "/api/v1/instance-types")
        return self.parse(payload)

    def parse(self, payload: Any) -> FetchResult:
        types = envelope(payload, "data", provider=self.PROVIDER_NAME, expect=Mapping)
        return self.parse_each(
            ((str(name)[:100], entry) for name, entry in types.items()), self._parse_type
        )

    def _parse_type(self, entry: Any, result: FetchResult) -> Iterator[ProviderOffer]:
        instance = require(entry, "instance_type")
        name = text(require(instance, "name"), "name")
        specs = instance.get("specs") if isinstance(instance, Mapping) else None
        if not isinstance(specs, Mapping):
            raise RecordRejected("missing:specs")
        description = instance.get("description")
        raw_name = instance.get("gpu_description")
        if not raw_name and isinstance(description, str):
            match = DESCRIPTION.match(description)
            raw_name = match.group(2) if match else None
        count_value = specs.get("gpus")
        if count_value is None and isinstance(description, str):
            match = DESCRIPTION.match(description)
            count_value = match.group(1) if match else None
        if count_value is None:
            raise RecordRejected("missing:gpus")
        gpu_count = whole(count_value, "gpus")
        if gpu_count == 0:
            result.skip("cpu_only")
            return
        raw_name = text(raw_name, "gpu_description")
        memory = MEMORY.search(raw_name)
        if not memory:
            raise RecordRejected("missing:gpu_memory", raw_name[:60])
        vram_gb = int(memory.group(1))
        price = money(cents_to_dollars(require(instance, "price_cents_per_hour"), "price"))
        regions = entry.get("regions_with_capacity_available")
        if not isinstance(regions, list):
            raise RecordRejected("invalid:regions_with_capacity_available", type(regions).__name__)
        if not regions:
            result.skip("no_capacity")
            return
        gpu_type, known = resolve_gpu(raw_name, float(vram_gb))
        vcpus = whole(specs.get("vcpus") or 0, "vcpus")
        ram_gb = gib_to_gb(number(specs.get("memory_gib") or 0, "memory_gib"))
        storage_gb = gib_to_gb(number(specs.get("storage_gib") or 0, "storage_gib"))
        for region in regions:
            region_name = text(require(region, "name"), "region.name")
            yield ProviderOffer(
                provider=self.PROVIDER_NAME,
                external_id=f"{name}:{region_name}",
                gpu_type=gpu_type,
                raw_gpu_name=raw_name,
                gpu_model_known=known,
                gpu_memory_gb=vram_gb,
                gpu_count=gpu_count,
                price_per_hour=price,
                region=region_name[:100],
                country=region_country(region_name, region.get("description")),
                availability=AVAILABLE,
                is_spot=False,
                is_datacenter=True,
                cpu_cores=vcpus,
                ram_gb=ram_gb,
                storage_gb=storage_gb,
                price_breakdown=INSTANCE_PRICE,
            )

    async def _probe_credentials(self, api_key: str) -> None:
        await self.http(api_key).request_json("GET", "/api/v1/instance-types")

    async def book_instance(self, offer_id: str, options: BookingOptions) -> BookingResult:
        """``POST /api/v1/instance-operations/launch`` (one instance; one SSH key name)."""
        key = self.require_key()
        instance_type, _, region = offer_id.partition(":")
        if not instance_type or not region:
            raise ProviderRequestError(
                f"not a Lambda offer id: {offer_id!r}", provider=self.PROVIDER_NAME
            )
        if not options.ssh_key:
            raise ProviderRequestError(
                "Lambda launches need the name of an SSH key registered with Lambda",
                provider=self.PROVIDER_NAME,
            )
        body = {
            "region_name": region,
            "instance_type_name": instance_type,
            "ssh_key_names": [options.ssh_key],
            "quantity": 1,
            "name": options.name,
        }
        answer = await self.http(key).request_json(
            "POST", "/api/v1/instance-operations/launch", json_body=body, idempotent=False
        )
        ids = envelope(answer, "data", "instance_ids", provider=self.PROVIDER_NAME)
        if not ids:
            raise ProviderRequestError("launch returned no instance", provider=self.PROVIDER_NAME)
        return BookingResult(
            provider=self.PROVIDER_NAME,
            offer_id=offer_id,
            instance_id=str(ids[0]),
            status="booting",
            raw=answer,
        )


ProviderRegistry.register(LambdaAdapter.PROVIDER_NAME, LambdaAdapter)

"""TensorDock: API v2 ``GET /api/v2/locations`` (Bearer token when configured; v0 is retired).

``{"data": {"locations": [{id, city, stateprovince, country, tier, gpus: [...]}]}}``. Each GPU
entry is one record; it yields one offer per GPU count in 1, 2, 4, … up to ``max_count`` (and
``max_count`` itself). Units:

* ``price_per_hr`` is USD/h **per GPU and excludes CPU, RAM and disk**, which v2 bills through
  ``pricing.per_vcpu_hr`` / ``per_gb_ram_hr`` / ``per_gb_storage_hr``. A TensorDock VM cannot run
  without them, so the stored price is the **whole instance**: ``n × price_per_hr`` plus the GPU's
  fair share of the host — ``n / max_count`` of ``resources.max_vcpus``/``max_ram_gb``/
  ``max_storage_gb`` (at least 1 vCPU and 1 GB RAM) — at those unit prices. The composed vCPUs,
  RAM and disk are stored on the offer, so the price is reproducible.
* VRAM per GPU comes from the name (``"H100 SXM5 80GB"``, ``h100-sxm5-80gb``).
* Country names ("United States") become ISO codes; ``tier`` ≥ 3 is a datacentre host.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from decimal import ROUND_HALF_UP, Decimal
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
    parse_records,
    resolve_gpu,
)
from .errors import ProviderRequestError
from .registry import ProviderRegistry
from .units import (
    RecordRejected,
    country_code,
    decimal_amount,
    money,
    number,
    require,
    text,
    whole,
)

MEMORY = re.compile(r"(\d{1,3})\s*GB", re.IGNORECASE)


def gpu_counts(max_count: int) -> list[int]:
    """1, 2, 4, … ≤ max_count, plus max_count (so 6 → [1, 2, 4, 6])."""
    counts = []
    n = 1
    while n <= max_count:
        counts.append(n)
        n *= 2
    if max_count and counts[-1] != max_count:
        counts.append(max_count)
    return counts


def money_part(amount: Decimal) -> Decimal:
    """A price component, 4 decimal places (zero allowed, unlike a whole price)."""
    return amount.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def share(total: float, count: int, max_count: int, *, floor: int) -> int:
    return max(floor, int(total * count / max_count)) if total > 0 else 0


class TensorDockAdapter(BaseProviderAdapter):
    PROVIDER_NAME = "tensordock"
    DISPLAY_NAME = "TensorDock"
    BASE_URL = "https://dashboard.tensordock.com"
    REQUIRES_CREDENTIALS = False

    async def _fetch(self) -> FetchResult:
        payload = await self.http().request_json("GET", "/api/v2/locations")
        return self.parse(payload)

    def parse(self, payload: Any) -> FetchResult:
        locations = envelope(payload, "data", "locations", provider=self.PROVIDER_NAME)
        result = self.new_result()

        def records() -> Iterator[tuple[str, Any]]:
            for index, location in enumerate(locations):
                if not isinstance(location, Mapping) or not isinstance(location.get("gpus"), list):
                    yield f"location:{index}", location  # rejected by the parser below
                    continue
                for gpu_index, gpu in enumerate(location["gpus"]):
                    name = gpu.get("v0Name") if isinstance(gpu, Mapping) else None
                    yield f"{location.get('id', index)}:{name or gpu_index}", (location, gpu)

        parse_records(result, records(), self._parse_gpu, logger=self.logger)
        return result

    def _parse_gpu(self, record: Any) -> Iterator[ProviderOffer]:
        if not isinstance(record, tuple):
            raise RecordRejected("invalid:location", "location without a gpus list")
        location, gpu = record
        location_id = text(require(location, "id"), "location.id")
        v0_name = text(require(gpu, "v0Name"), "v0Name")
        raw_name = gpu.get("displayName") or v0_name
        raw_name = text(raw_name, "displayName")
        memory = MEMORY.search(raw_name) or MEMORY.search(v0_name)
        if not memory:
            raise RecordRejected("missing:gpu_memory", raw_name[:60])
        vram_gb = int(memory.group(1))
        max_count = whole(require(gpu, "max_count"), "max_count")
        per_gpu = decimal_amount(require(gpu, "price_per_hr"), "price_per_hr")
        pricing = require(gpu, "pricing")
        if not isinstance(pricing, Mapping):
            raise RecordRejected("invalid:pricing", type(pricing).__name__)
        per_vcpu = decimal_amount(pricing.get("per_vcpu_hr") or 0, "per_vcpu_hr")
        per_ram = decimal_amount(pricing.get("per_gb_ram_hr") or 0, "per_gb_ram_hr")
        per_disk = decimal_amount(pricing.get("per_gb_storage_hr") or 0, "per_gb_storage_hr")
        resources = gpu.get("resources") or {}
        if not isinstance(resources, Mapping):
            raise RecordRejected("invalid:resources", type(resources).__name__)
        max_vcpus = number(resources.get("max_vcpus") or 0, "max_vcpus")
        max_ram = number(resources.get("max_ram_gb") or 0, "max_ram_gb")
        max_disk = number(resources.get("max_storage_gb") or 0, "max_storage_gb")
        if max_count == 0:
            return

        city = location.get("city") if isinstance(location.get("city"), str) else ""
        state = location.get("stateprovince")
        region = ", ".join(p for p in (city, state) if isinstance(p, str) and p) or location_id
        tier = location.get("tier")
        is_datacenter = tier is None or number(tier, "tier") >= 3
        gpu_type, known = resolve_gpu(raw_name, float(vram_gb))
        for count in gpu_counts(max_count):
            vcpus = share(max_vcpus, count, max_count, floor=1)
            ram = share(max_ram, count, max_count, floor=1)
            disk = share(max_disk, count, max_count, floor=0)
            parts = (
                ("gpu", per_gpu * count),
                ("cpu", per_vcpu * vcpus),
                ("ram", per_ram * ram),
                ("disk", per_disk * Decimal(disk)),
            )
            price = sum((amount for _, amount in parts), Decimal(0))
            breakdown = PriceBreakdown(
                includes=("gpu", "cpu", "ram", "disk"),
                components=tuple((name, money_part(amount)) for name, amount in parts),
            )
            yield ProviderOffer(
                provider=self.PROVIDER_NAME,
                external_id=f"{location_id}:{v0_name}:{count}x",
                gpu_type=gpu_type,
                raw_gpu_name=raw_name,
                gpu_model_known=known,
                gpu_memory_gb=vram_gb,
                gpu_count=count,
                price_per_hour=money(price),
                region=region[:100],
                country=country_code(location.get("country")),
                availability=AVAILABLE,
                is_spot=False,
                is_datacenter=is_datacenter,
                cpu_cores=vcpus,
                ram_gb=ram,
                storage_gb=disk,
                price_breakdown=breakdown,
            )

    async def _probe_credentials(self, api_key: str) -> None:
        await self.http(api_key).request_json("GET", "/api/v2/instances")

    async def book_instance(self, offer_id: str, options: BookingOptions) -> BookingResult:
        """``POST /api/v2/instances`` with a JSON:API body. vCPUs/RAM are the offer's
        (``options.cpu_cores``/``ram_gb``), the disk is ``options.disk_gb``."""
        key = self.require_key()
        parts = offer_id.split(":")
        if len(parts) != 3 or not parts[2].endswith("x") or not parts[2][:-1].isdigit():
            raise ProviderRequestError(
                f"not a TensorDock offer id: {offer_id!r}", provider=self.PROVIDER_NAME
            )
        location_id, v0_name, count = parts[0], parts[1], int(parts[2][:-1])
        if not options.ssh_public_key or options.cpu_cores < 1 or options.ram_gb < 1:
            raise ProviderRequestError(
                "TensorDock VMs need an SSH public key, cpu_cores and ram_gb (the offer's)",
                provider=self.PROVIDER_NAME,
            )
        attributes: dict[str, Any] = {
            "name": options.name,
            "type": "virtualmachine",
            "image": options.image,
            "resources": {
                "vcpu_count": options.cpu_cores,
                "ram_gb": options.ram_gb,
                "storage_gb": options.disk_gb,
                "gpus": {v0_name: {"count": count}},
            },
            "location_id": location_id,
            "ssh_key": options.ssh_public_key,
        }
        answer = await self.http(key).request_json(
            "POST",
            "/api/v2/instances",
            json_body={"data": {"type": "virtualmachine", "attributes": attributes}},
            idempotent=False,
        )
        data = envelope(answer, "data", provider=self.PROVIDER_NAME, expect=Mapping)
        return BookingResult(
            provider=self.PROVIDER_NAME,
            offer_id=offer_id,
            instance_id=str(data.get("id", "")),
            status=str(data.get("status", "")),
            raw=answer,
        )


ProviderRegistry.register(TensorDockAdapter.PROVIDER_NAME, TensorDockAdapter)

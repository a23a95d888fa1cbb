"""Vultr: ``GET /v2/plans?type=vcg`` (Cloud GPU) and ``GET /v2/plans-metal`` (bare metal); the
plan listings are public (no key). Bookings use a Bearer API key.

``{"plans": [{id, vcpu_count, ram, disk, hourly_cost, monthly_cost, type, locations, gpu_vram_gb,
gpu_type}], "meta": {"links": {"next": cursor}}}`` and ``{"plans_metal": [{id, cpu_threads, ram,
disk, disk_count, hourly_cost?, monthly_cost, locations}]}``. One offer per (plan, location in
``locations``). Units and rules:

* ``hourly_cost`` is USD per hour for the **whole plan**; bare-metal plans that only state
  ``monthly_cost`` are priced at ``monthly_cost / 730`` (hours in an average month, as gpuhunt
  does). The plan price includes the vCPUs, RAM, disk and one IPv4 address.
* ``ram`` is MB → GB; ``disk`` is GB (times ``disk_count`` for bare metal).
* Cloud GPU plans: ``gpu_type`` (``NVIDIA_A100``) names the GPU and ``gpu_vram_gb`` is the plan's
  **total** VRAM; the GPU count is that total over the model's nominal VRAM. Plans below one
  whole GPU (Vultr sells 1/10 … 1/2 of an A100 or A40) are skipped on purpose
  (``fractional_gpu``).
* Bare-metal plans name the GPUs in the id: ``vbm-256c-2048gb-8-h100-gpu`` (8 × H100; a plan id
  without a count, ``vbm-64c-2048gb-l40-gpu``, has one GPU). CPU-only plans are skipped.
* A location in ``locations`` has stock → available. Regions are Vultr's airport codes (``ewr``),
  mapped to countries by ``apps.providers.regions``. No spot market.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from apps.math_core.algorithms.gpu_names import canonical_gpu_name, nominal_vram_gb

from .base import (
    AVAILABLE,
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
from .errors import ProviderPayloadError, ProviderRequestError
from .registry import ProviderRegistry
from .units import RecordRejected, decimal_amount, money, number, require, text, whole

HOURS_PER_MONTH = Decimal(730)
MAX_PAGES = 20
METAL_GPU = re.compile(r"^vbm-.*?-(?:(\d+)-)?([a-z0-9]+)-gpu$", re.IGNORECASE)
PLAN_PRICE = PriceBreakdown(includes=("gpu", "cpu", "ram", "disk", "ipv4"))
DEFAULT_OS_ID = 2284  # Ubuntu 24.04 LTS x64 (GET /v2/os)


class VultrAdapter(BaseProviderAdapter):
    PROVIDER_NAME = "vultr"
    DISPLAY_NAME = "Vultr"
    BASE_URL = "https://api.vultr.com"
    REQUIRES_CREDENTIALS = False

    async def _fetch(self) -> FetchResult:
        result = self.new_result()
        async with self.http() as client:
            params: dict[str, Any] = {"type": "vcg", "per_page": 500}
            for _ in range(MAX_PAGES):
                payload = await client.request_json("GET", "/v2/plans", params=params)
                result.merge(self.parse_plans(payload))
                cursor = self._next_cursor(payload)
                if not cursor:
                    break
                params = {"type": "vcg", "per_page": 500, "cursor": cursor}
            else:
                raise ProviderPayloadError(
                    f"more than {MAX_PAGES} pages of plans", provider=self.PROVIDER_NAME
                )
            metal = await client.request_json("GET", "/v2/plans-metal", params={"per_page": 500})
            result.merge(self.parse_metal(metal))
        return result

    def _next_cursor(self, payload: Mapping[str, Any]) -> str | None:
        meta = payload.get("meta")
        links = meta.get("links") if isinstance(meta, Mapping) else None
        cursor = links.get("next") if isinstance(links, Mapping) else None
        return cursor if isinstance(cursor, str) and cursor else None

    def parse_plans(self, payload: Any) -> FetchResult:
        plans = envelope(payload, "plans", provider=self.PROVIDER_NAME)
        return self.parse_each(enumerate_records(plans, "id"), self._parse_cloud_gpu)

    def parse_metal(self, payload: Any) -> FetchResult:
        plans = envelope(payload, "plans_metal", provider=self.PROVIDER_NAME)
        return self.parse_each(enumerate_records(plans, "id"), self._parse_metal)

    def _parse_cloud_gpu(self, plan: Any, result: FetchResult) -> Iterator[ProviderOffer]:
        plan_id = text(require(plan, "id"), "id")
        gpu_code = plan.get("gpu_type")
        if not gpu_code:
            result.skip("cpu_only")
            return
        raw_name = text(gpu_code, "gpu_type").replace("_", " ")
        total_vram = number(require(plan, "gpu_vram_gb"), "gpu_vram_gb")
        nominal = nominal_vram_gb(canonical_gpu_name(raw_name))
        if nominal is None:
            raise RecordRejected("unknown:gpu_type", raw_name[:60])
        gpus = total_vram / nominal
        if gpus < 1 or gpus != int(gpus):
            result.skip("fractional_gpu")
            return
        price = money(decimal_amount(require(plan, "hourly_cost"), "hourly_cost"), "hourly_cost")
        yield from self._offers(
            plan,
            plan_id,
            raw_name,
            int(gpus),
            nominal,
            price,
            vcpus=whole(plan.get("vcpu_count") or 0, "vcpu_count"),
            disk_gb=whole(plan.get("disk") or 0, "disk"),
            result=result,
        )

    def _parse_metal(self, plan: Any, result: FetchResult) -> Iterator[ProviderOffer]:
        plan_id = text(require(plan, "id"), "id")
        match = METAL_GPU.match(plan_id)
        if not match:
            result.skip("cpu_only")
            return
        count = int(match.group(1) or 1)
        raw_name = match.group(2).upper()
        nominal = nominal_vram_gb(canonical_gpu_name(raw_name))
        if nominal is None:
            raise RecordRejected("unknown:gpu", raw_name[:60])
        hourly = plan.get("hourly_cost")
        if hourly is not None:
            price = money(decimal_amount(hourly, "hourly_cost"), "hourly_cost")
        else:
            monthly = decimal_amount(require(plan, "monthly_cost"), "monthly_cost")
            price = money(monthly / HOURS_PER_MONTH, "monthly_cost")
        disks = whole(plan.get("disk_count") or 1, "disk_count")
        yield from self._offers(
            plan,
            plan_id,
            raw_name,
            count,
            nominal,
            price,
            vcpus=whole(plan.get("cpu_threads") or plan.get("cpu_count") or 0, "cpu_threads"),
            disk_gb=whole(plan.get("disk") or 0, "disk") * disks,
            result=result,
        )

    def _offers(
        self,
        plan: Mapping[str, Any],
        plan_id: str,
        raw_name: str,
        count: int,
        vram_gb: int,
        price: Decimal,
        *,
        vcpus: int,
        disk_gb: int,
        result: FetchResult,
    ) -> Iterator[ProviderOffer]:
        locations = require(plan, "locations")
        if not isinstance(locations, list):
            raise RecordRejected("invalid:locations", type(locations).__name__)
        if not locations:
            result.skip("no_stock")
            return
        ram_gb = round(number(plan.get("ram") or 0, "ram") / 1024)
        gpu_type, known = resolve_gpu(raw_name, float(vram_gb))
        for location in locations:
            region = text(location, "locations[]")
            yield ProviderOffer(
                provider=self.PROVIDER_NAME,
                external_id=f"{plan_id}:{region}",
                gpu_type=gpu_type,
                raw_gpu_name=raw_name,
                gpu_model_known=known,
                gpu_memory_gb=vram_gb,
                gpu_count=count,
                price_per_hour=price,
                region=region[:100],
                availability=AVAILABLE,
                is_spot=False,
                is_datacenter=True,
                cpu_cores=vcpus,
                ram_gb=ram_gb,
                storage_gb=disk_gb,
                price_breakdown=PLAN_PRICE,
            )

    async def _probe_credentials(self, api_key: str) -> None:
        await self.http(api_key).request_json("GET", "/v2/account")

    async def book_instance(self, offer_id: str, options: BookingOptions) -> BookingResult:
        """``POST /v2/instances`` (Cloud GPU) or ``POST /v2/bare-metals`` with plan and region."""
        key = self.require_key()
        plan, _, region = offer_id.rpartition(":")
        if not plan or not region or not plan.startswith(("vcg-", "vbm-")):
            raise ProviderRequestError(
                f"not a Vultr GPU offer id: {offer_id!r}", provider=self.PROVIDER_NAME
            )
        body: dict[str, Any] = {
            "region": region,
            "plan": plan,
            "os_id": DEFAULT_OS_ID,
            "label": options.name,
        }
        if options.ssh_key:
            body["sshkey_id"] = [options.ssh_key]
        metal = plan.startswith("vbm-")
        answer = await self.http(key).request_json(
            "POST",
            "/v2/bare-metals" if metal else "/v2/instances",
            json_body=body,
            idempotent=False,
        )
        created = envelope(
            answer,
            "bare_metal" if metal else "instance",
            provider=self.PROVIDER_NAME,
            expect=Mapping,
        )
        return BookingResult(
            provider=self.PROVIDER_NAME,
            offer_id=offer_id,
            instance_id=str(created.get("id", "")),
            status=str(created.get("status", "")),
            raw=answer,
        )


ProviderRegistry.register(VultrAdapter.PROVIDER_NAME, VultrAdapter)

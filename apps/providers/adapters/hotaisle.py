"""Hot Aisle (AMD Instinct cloud): ``GET /api/teams/{team}/virtual_machines/available/``
(``Authorization: Token <key>``).

The key is ``"<team_handle>:<api_key>"`` (the listing is per team). The answer is a **list** of
``{OnDemandPrice, Specs: {cpu_cores, ram_capacity, disk_capacity, cpus: {model}, gpus: [{count,
model}]}}``. Units and rules:

* ``OnDemandPrice`` is US **cents** per hour for the whole VM → ÷ 100; it covers the GPUs, CPU
  cores, RAM and the local disk.
* ``ram_capacity`` / ``disk_capacity`` are **bytes** → GB (GiB, rounded).
* VRAM is the model's nominal size (the listing states none; Hot Aisle rents MI300X, 192 GB).
* Every listed VM is available now; Hot Aisle has one datacentre (``us-michigan-1``). No spot.

Booking a VM needs more than an offer id (Hot Aisle sizes VMs by the team's quota), so
``book_instance`` refuses with an explanation.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
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
    parse_records,
    resolve_gpu,
)
from .errors import ProviderAuthError, ProviderPayloadError, ProviderRequestError
from .registry import ProviderRegistry
from .units import RecordRejected, cents_to_dollars, money, number, require, text, whole

REGION = "us-michigan-1"
GIB = 1024**3
VM_PRICE = PriceBreakdown(includes=("gpu", "cpu", "ram", "disk"))


class HotAisleAdapter(BaseProviderAdapter):
    PROVIDER_NAME = "hotaisle"
    DISPLAY_NAME = "Hot Aisle"
    BASE_URL = "https://admin.hotaisle.app"
    REQUIRES_CREDENTIALS = True
    REPLAY_API_KEY = "replay-team:replay-sample-key"

    def auth_headers(self, api_key: str | None) -> dict[str, str]:
        if not api_key:
            return {}
        return {"Authorization": f"Token {api_key.partition(':')[2] or api_key}"}

    def _team(self, api_key: str) -> str:
        team, sep, key = api_key.partition(":")
        if not sep or not team or not key:
            raise ProviderAuthError(
                "the key must be '<team_handle>:<api_key>'", provider=self.PROVIDER_NAME
            )
        return team

    async def _fetch(self) -> FetchResult:
        key = self.require_key()
        team = self._team(key)
        payload = await self.http(key).request_json(
            "GET", f"/api/teams/{team}/virtual_machines/available/"
        )
        return self.parse(payload)

    def parse(self, payload: Any) -> FetchResult:
        if not isinstance(payload, list):
            raise ProviderPayloadError(
                f"response is {type(payload).__name__}, expected list", provider=self.PROVIDER_NAME
            )
        result = self.new_result()
        parse_records(
            result,
            ((str(i), item) for i, item in enumerate(payload)),
            self._parse_vm,
            logger=self.logger,
        )
        return result

    def _parse_vm(self, item: Any) -> Iterator[ProviderOffer]:
        price = money(cents_to_dollars(require(item, "OnDemandPrice"), "OnDemandPrice"))
        specs = require(item, "Specs")
        if not isinstance(specs, Mapping):
            raise RecordRejected("invalid:Specs", type(specs).__name__)
        gpus = require(specs, "gpus")
        if not isinstance(gpus, list) or not gpus:
            raise RecordRejected("invalid:gpus", "no GPU in the VM")
        gpu = gpus[0]
        count = whole(require(gpu, "count"), "gpus.count", minimum=1)
        raw_name = text(require(gpu, "model"), "gpus.model")
        vram = nominal_vram_gb(canonical_gpu_name(raw_name))
        if vram is None:
            raise RecordRejected("unknown:gpus.model", raw_name[:60])
        cores = whole(require(specs, "cpu_cores"), "cpu_cores")
        ram = round(number(specs.get("ram_capacity") or 0, "ram_capacity") / GIB)
        disk = round(number(specs.get("disk_capacity") or 0, "disk_capacity") / GIB)
        gpu_type, known = resolve_gpu(raw_name, float(vram))
        yield ProviderOffer(
            provider=self.PROVIDER_NAME,
            external_id=f"{count}x-{raw_name}-{cores}c-{ram}g".replace(" ", "-").lower(),
            gpu_type=gpu_type,
            raw_gpu_name=raw_name,
            gpu_model_known=known,
            gpu_memory_gb=vram,
            gpu_count=count,
            price_per_hour=price,
            region=REGION,
            availability=AVAILABLE,
            is_spot=False,
            is_datacenter=True,
            cpu_cores=cores,
            ram_gb=ram,
            storage_gb=disk,
            price_breakdown=VM_PRICE,
        )

    async def _probe_credentials(self, api_key: str) -> None:
        team = self._team(api_key)
        await self.http(api_key).request_json("GET", f"/api/teams/{team}/virtual_machines/")

    async def book_instance(self, offer_id: str, options: BookingOptions) -> BookingResult:
        raise ProviderRequestError(
            "Hot Aisle VMs are provisioned against the team's quota in the Hot Aisle console; "
            "booking through GPUBROKER is not supported",
            provider=self.PROVIDER_NAME,
        )


ProviderRegistry.register(HotAisleAdapter.PROVIDER_NAME, HotAisleAdapter)

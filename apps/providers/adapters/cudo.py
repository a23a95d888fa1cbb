"""Cudo Compute: ``GET /v1/vms/machine-types-2`` (public; no key needed to list).

``{"machineTypes": [{dataCenterId, machineType, gpuModel, gpuModelId, vcpuPriceHr{value},
memoryGibPriceHr{value}, gpuPriceHr{value}, minStorageGibPriceHr{value}, ipv4PriceHr{value},
maxGpuFree, maxVcpuFree, maxMemoryGibFree, minVcpuPerGpu, maxVcpuPerGpu, …}]}``.

Cudo prices **every component separately** (USD per hour, as decimal strings): per GPU, per vCPU,
per GiB of RAM, per GiB of disk and per IPv4 address. A VM needs all of them, so each offer is an
**all-in** configuration whose price is the sum, and ``price_breakdown`` lists the components:

* ``n`` GPUs for ``n`` in 1, 2, 4, 8 up to ``maxGpuFree`` (what is free now → available);
* vCPUs: ``n × max(minVcpuPerGpu, 4)``, at most ``n × maxVcpuPerGpu`` and ``maxVcpuFree``;
* RAM: :data:`RAM_GIB_PER_VCPU` GiB per vCPU (gpuhunt's balance), at most ``maxMemoryGibFree``;
* disk: :data:`DISK_GIB` GiB; one IPv4 address.

The GPU name is ``gpuModel`` (``"H100 SXM"``, ``"A40 (compute mode)"``); VRAM is the model's
nominal size (the listing states none). Data-centre ids are ISO-prefixed
(``gb-bournemouth-1``): ``apps.providers.regions`` reads the country from them. CPU-only machine
types are skipped. Booking needs a Cudo project (``POST /v1/projects/{id}/vm``) that the key alone
does not name, so ``book_instance`` refuses with an explanation.
"""

from __future__ import annotations

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
from .errors import ProviderRequestError
from .registry import ProviderRegistry
from .units import RecordRejected, decimal_amount, money, number, require, text, whole

MIN_VCPU_PER_GPU = 4
RAM_GIB_PER_VCPU = 4
DISK_GIB = 100
COUNTS = (1, 2, 4, 8)
STEP = Decimal("0.0001")


def component(record: Mapping[str, Any], key: str) -> Decimal:
    value = record.get(key)
    if value is None:
        raise RecordRejected(f"missing:{key}")
    if not isinstance(value, Mapping):
        raise RecordRejected(f"invalid:{key}", type(value).__name__)
    return decimal_amount(require(value, "value"), key)


class CudoAdapter(BaseProviderAdapter):
    PROVIDER_NAME = "cudo"
    DISPLAY_NAME = "Cudo Compute"
    BASE_URL = "https://rest.compute.cudo.org"
    REQUIRES_CREDENTIALS = False

    async def _fetch(self) -> FetchResult:
        payload = await self.http().request_json("GET", "/v1/vms/machine-types-2")
        return self.parse(payload)

    def parse(self, payload: Any) -> FetchResult:
        machine_types = envelope(payload, "machineTypes", provider=self.PROVIDER_NAME)
        return self.parse_each(
            enumerate_records(machine_types, "machineType"), self._parse_machine_type
        )

    def _parse_machine_type(self, record: Any, result: FetchResult) -> Iterator[ProviderOffer]:
        machine = text(require(record, "machineType"), "machineType")
        datacenter = text(require(record, "dataCenterId"), "dataCenterId")
        raw_name = record.get("gpuModel")
        if not raw_name:
            result.skip("cpu_only")
            return
        raw_name = text(raw_name, "gpuModel")
        vram = nominal_vram_gb(canonical_gpu_name(raw_name))
        if vram is None:
            raise RecordRejected("unknown:gpuModel", raw_name[:60])
        prices = {
            name: component(record, key)
            for name, key in (
                ("gpu", "gpuPriceHr"),
                ("cpu", "vcpuPriceHr"),
                ("ram", "memoryGibPriceHr"),
                ("disk", "minStorageGibPriceHr"),
                ("ipv4", "ipv4PriceHr"),
            )
        }
        free_gpus = whole(record.get("maxGpuFree") or 0, "maxGpuFree")
        free_vcpus = whole(record.get("maxVcpuFree") or 0, "maxVcpuFree")
        free_ram = number(record.get("maxMemoryGibFree") or 0, "maxMemoryGibFree")
        per_gpu_min = max(whole(record.get("minVcpuPerGpu") or 0, "minVcpuPerGpu"), 1)
        per_gpu_max = whole(record.get("maxVcpuPerGpu") or 0, "maxVcpuPerGpu") or 10_000
        counts = [n for n in COUNTS if n <= free_gpus]
        if not counts:
            result.skip("no_capacity")
            return
        gpu_type, known = resolve_gpu(raw_name, float(vram))
        for n in counts:
            vcpus = min(n * max(per_gpu_min, MIN_VCPU_PER_GPU), n * per_gpu_max, free_vcpus)
            ram = min(vcpus * RAM_GIB_PER_VCPU, int(free_ram))
            if vcpus < 1 or ram < 1:
                result.skip("no_capacity")
                continue
            parts = (
                ("gpu", prices["gpu"] * n),
                ("cpu", prices["cpu"] * vcpus),
                ("ram", prices["ram"] * ram),
                ("disk", prices["disk"] * DISK_GIB),
                ("ipv4", prices["ipv4"]),
            )
            total = sum((amount for _, amount in parts), Decimal(0))
            yield ProviderOffer(
                provider=self.PROVIDER_NAME,
                external_id=f"{machine}:{datacenter}:{n}x",
                gpu_type=gpu_type,
                raw_gpu_name=raw_name,
                gpu_model_known=known,
                gpu_memory_gb=vram,
                gpu_count=n,
                price_per_hour=money(total, "gpuPriceHr"),
                region=datacenter[:100],
                availability=AVAILABLE,
                is_spot=False,
                is_datacenter=True,
                cpu_cores=vcpus,
                ram_gb=ram,
                storage_gb=DISK_GIB,
                price_breakdown=PriceBreakdown(
                    includes=("gpu", "cpu", "ram", "disk", "ipv4"),
                    components=tuple((name, amount.quantize(STEP)) for name, amount in parts),
                ),
            )

    async def _probe_credentials(self, api_key: str) -> None:
        await self.http(api_key).request_json("GET", "/v1/projects")

    async def book_instance(self, offer_id: str, options: BookingOptions) -> BookingResult:
        raise ProviderRequestError(
            "Cudo VMs are created inside a Cudo project (POST /v1/projects/{id}/vm), which the "
            "API key alone does not name; create the VM in the Cudo console",
            provider=self.PROVIDER_NAME,
        )


ProviderRegistry.register(CudoAdapter.PROVIDER_NAME, CudoAdapter)

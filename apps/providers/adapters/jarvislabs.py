"""JarvisLabs: ``GET /misc/server_meta`` (Bearer key).

``{"server_meta": [{gpu_type, region, price_per_hour, spot_price, num_gpus, num_free_devices,
effective_num_free_devices, spot_num_free_devices, cpus_per_gpu, ram_per_gpu, vram,
workload_type}], "cpu_meta": {…}}``. Units and rules:

* ``price_per_hour`` / ``spot_price`` are USD per hour **per GPU**; an offer of ``n`` GPUs costs
  ``n ×`` that (gpuhunt reads them the same way). The price covers the GPUs with
  ``cpus_per_gpu`` vCPUs and ``ram_per_gpu`` GB of RAM each; storage is billed separately.
* ``vram`` is GB per GPU. ``gpu_type`` is the GPU name (``"A100-80GB"``, ``"H100"``,
  ``"RTX6000Ada"``).
* One offer per (GPU type, region, n) for ``n`` from 1 to ``min(free devices, num_gpus)``,
  on-demand (free = ``effective_num_free_devices`` or ``num_free_devices``) and spot
  (``spot_num_free_devices``): what is free now → available; nothing free → no offer.
* Rows whose ``workload_type`` is neither ``vm`` nor null (containers) are skipped, as are CPU
  offers. Regions are ``india-01``, ``india-noida-01``, ``europe-01`` (cited table in
  ``apps/providers/data/provider_regions.csv``).

JarvisLabs creates instances through region-specific API hosts that ``server_meta`` does not
name, so ``book_instance`` refuses with an explanation.
"""

from __future__ import annotations

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
    enumerate_records,
    envelope,
    resolve_gpu,
)
from .errors import ProviderRequestError
from .registry import ProviderRegistry
from .units import RecordRejected, decimal_amount, money, number, require, text, whole

INSTANCE_PRICE = PriceBreakdown(includes=("gpu", "cpu", "ram"), excludes=("disk",))


def _free(record: Mapping[str, Any], *keys: str) -> int:
    for key in keys:
        value = record.get(key)
        if value is not None:
            return whole(value, key)
    return 0


class JarvisLabsAdapter(BaseProviderAdapter):
    PROVIDER_NAME = "jarvislabs"
    DISPLAY_NAME = "JarvisLabs"
    BASE_URL = "https://backendprod.jarvislabs.net"
    REQUIRES_CREDENTIALS = True

    async def _fetch(self) -> FetchResult:
        payload = await self.http(self.require_key()).request_json("GET", "/misc/server_meta")
        return self.parse(payload)

    def parse(self, payload: Any) -> FetchResult:
        rows = envelope(payload, "server_meta", provider=self.PROVIDER_NAME)
        return self.parse_each(enumerate_records(rows, "gpu_type"), self._parse_row)

    def _parse_row(self, row: Any, result: FetchResult) -> Iterator[ProviderOffer]:
        gpu_name = text(require(row, "gpu_type"), "gpu_type")
        region = text(require(row, "region"), "region")
        if row.get("workload_type") not in ("vm", None):
            result.skip("not_a_vm")
            return
        vram = number(require(row, "vram"), "vram")
        if vram <= 0:
            raise RecordRejected("out_of_range:vram", repr(vram))
        max_gpus = whole(row.get("num_gpus") or 1, "num_gpus", minimum=1)
        cpus = whole(require(row, "cpus_per_gpu"), "cpus_per_gpu")
        ram = number(require(row, "ram_per_gpu"), "ram_per_gpu")
        kinds = (
            (
                False,
                row.get("price_per_hour"),
                _free(row, "effective_num_free_devices", "num_free_devices"),
            ),
            (True, row.get("spot_price"), _free(row, "spot_num_free_devices")),
        )
        if kinds[0][1] is None and kinds[1][1] is None:
            raise RecordRejected("missing:price_per_hour")
        gpu_type, known = resolve_gpu(gpu_name, vram)
        emitted = False
        for is_spot, price_value, free in kinds:
            if price_value is None:
                continue
            per_gpu = decimal_amount(price_value, "spot_price" if is_spot else "price_per_hour")
            for n in range(1, min(free, max_gpus) + 1):
                emitted = True
                yield ProviderOffer(
                    provider=self.PROVIDER_NAME,
                    external_id=f"{gpu_name}:{region}:{n}x:{'spot' if is_spot else 'on-demand'}",
                    gpu_type=gpu_type,
                    raw_gpu_name=gpu_name,
                    gpu_model_known=known,
                    gpu_memory_gb=round(vram),
                    raw_gpu_memory_gb=vram,
                    gpu_count=n,
                    price_per_hour=money(per_gpu * n),
                    region=region[:100],
                    availability=AVAILABLE,
                    is_spot=is_spot,
                    is_datacenter=True,
                    cpu_cores=cpus * n,
                    ram_gb=round(ram * n),
                    price_breakdown=INSTANCE_PRICE,
                )
        if not emitted:
            result.skip("no_capacity")

    async def _probe_credentials(self, api_key: str) -> None:
        await self.http(api_key).request_json("GET", "/misc/server_meta")

    async def book_instance(self, offer_id: str, options: BookingOptions) -> BookingResult:
        raise ProviderRequestError(
            "JarvisLabs creates instances through region-specific hosts that its price listing "
            "does not name; launch this offer from the JarvisLabs console",
            provider=self.PROVIDER_NAME,
        )


ProviderRegistry.register(JarvisLabsAdapter.PROVIDER_NAME, JarvisLabsAdapter)

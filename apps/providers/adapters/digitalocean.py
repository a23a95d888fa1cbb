"""DigitalOcean GPU Droplets: ``GET /v2/sizes`` (Bearer token required).

``{"sizes": [{slug, memory, vcpus, disk, price_hourly, price_monthly, regions, available,
gpu_info: {count, model, vram: {amount, unit}}, disk_info: [{type, size: {amount, unit}}]}],
"links": {"pages": {"next": url}}}``. Units and rules:

* ``price_hourly`` is USD per hour for the **whole Droplet**: GPUs, vCPUs, RAM, the boot and
  scratch disks and the transfer allowance (``price_breakdown``).
* ``gpu_info.vram.amount`` is VRAM **per GPU** (GiB as DigitalOcean writes it, kept raw);
  ``gpu_info.model`` (``nvidia_h100``, ``amd_mi300x``, ``nvidia_rtx6000_ada``) is the GPU name.
  Sizes without ``gpu_info`` (CPU Droplets) are skipped.
* ``memory`` is MB → GB; disks add up ``disk_info`` sizes (GB).
* One offer per (size, region in ``regions``); ``available: false`` sizes are listed as
  unavailable. Regions are DigitalOcean slugs (``tor1``), mapped to countries by
  ``apps.providers.regions``. No spot market.
* Pages are followed through ``links.pages.next`` (same host only, at most :data:`MAX_PAGES`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import httpx

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
from .errors import ProviderPayloadError, ProviderRequestError
from .registry import ProviderRegistry
from .units import RecordRejected, decimal_amount, money, number, require, text, whole

MAX_PAGES = 10
DROPLET_PRICE = PriceBreakdown(includes=("gpu", "cpu", "ram", "disk", "network"))
DEFAULT_IMAGE = "gpu-h100x1-base"  # DigitalOcean's AI/ML-ready GPU image
GENERIC_IMAGE = "ubuntu-22.04"  # BookingOptions' default, not a DigitalOcean image slug


class DigitalOceanAdapter(BaseProviderAdapter):
    PROVIDER_NAME = "digitalocean"
    DISPLAY_NAME = "DigitalOcean"
    BASE_URL = "https://api.digitalocean.com"
    REQUIRES_CREDENTIALS = True

    async def _fetch(self) -> FetchResult:
        result = self.new_result()
        params: dict[str, Any] = {"per_page": 200}
        async with self.http(self.require_key()) as client:
            for _ in range(MAX_PAGES):
                payload = await client.request_json("GET", "/v2/sizes", params=params)
                result.merge(self.parse(payload))
                next_params = self._next_page(payload)
                if next_params is None:
                    return result
                params = next_params
        raise ProviderPayloadError(f"more than {MAX_PAGES} pages", provider=self.PROVIDER_NAME)

    def _next_page(self, payload: Mapping[str, Any]) -> dict[str, Any] | None:
        links = payload.get("links")
        pages = links.get("pages") if isinstance(links, Mapping) else None
        link = pages.get("next") if isinstance(pages, Mapping) else None
        if not isinstance(link, str) or not link:
            return None
        url = httpx.URL(link)
        if url.host != httpx.URL(self.base_url).host or url.path != "/v2/sizes":
            raise ProviderPayloadError("next page leaves the API", provider=self.PROVIDER_NAME)
        return dict(url.params)

    def parse(self, payload: Any) -> FetchResult:
        sizes = envelope(payload, "sizes", provider=self.PROVIDER_NAME)
        return self.parse_each(enumerate_records(sizes, "slug"), self._parse_size)

    def _parse_size(self, size: Any, result: FetchResult) -> Iterator[ProviderOffer]:
        slug = text(require(size, "slug"), "slug")
        gpu = size.get("gpu_info")
        if gpu is None:
            result.skip("cpu_only")
            return
        if not isinstance(gpu, Mapping):
            raise RecordRejected("invalid:gpu_info", type(gpu).__name__)
        count = whole(require(gpu, "count"), "gpu_info.count", minimum=1)
        raw_name = text(require(gpu, "model"), "gpu_info.model").replace("_", " ")
        vram = number(require(require(gpu, "vram"), "amount"), "gpu_info.vram.amount")
        price = money(decimal_amount(require(size, "price_hourly"), "price_hourly"))
        regions = require(size, "regions")
        if not isinstance(regions, list):
            raise RecordRejected("invalid:regions", type(regions).__name__)
        if not regions:
            result.skip("no_regions")
            return
        disks = size.get("disk_info")
        storage = (
            sum(
                number(require(require(d, "size"), "amount"), "disk_info.size")
                for d in disks
                if isinstance(d, Mapping)
            )
            if isinstance(disks, list) and disks
            else number(size.get("disk") or 0, "disk")
        )
        available = size.get("available", True) is not False
        gpu_type, known = resolve_gpu(raw_name, vram)
        for region in regions:
            region_slug = text(region, "regions[]")
            yield ProviderOffer(
                provider=self.PROVIDER_NAME,
                external_id=f"{slug}:{region_slug}",
                gpu_type=gpu_type,
                raw_gpu_name=raw_name,
                gpu_model_known=known,
                gpu_memory_gb=round(vram),
                raw_gpu_memory_gb=vram,
                gpu_count=count,
                price_per_hour=price,
                region=region_slug[:100],
                availability=AVAILABLE if available else UNAVAILABLE,
                is_spot=False,
                is_datacenter=True,
                cpu_cores=whole(size.get("vcpus") or 0, "vcpus"),
                ram_gb=round(number(size.get("memory") or 0, "memory") / 1024),
                storage_gb=round(storage),
                price_breakdown=DROPLET_PRICE,
            )

    async def _probe_credentials(self, api_key: str) -> None:
        await self.http(api_key).request_json("GET", "/v2/account")

    async def book_instance(self, offer_id: str, options: BookingOptions) -> BookingResult:
        """``POST /v2/droplets`` with the size slug, region and an SSH key id or fingerprint."""
        key = self.require_key()
        slug, _, region = offer_id.rpartition(":")
        if not slug.startswith("gpu-") or not region:
            raise ProviderRequestError(
                f"not a DigitalOcean GPU offer id: {offer_id!r}", provider=self.PROVIDER_NAME
            )
        body: dict[str, Any] = {
            "name": options.name,
            "region": region,
            "size": slug,
            "image": DEFAULT_IMAGE if options.image == GENERIC_IMAGE else options.image,
        }
        if options.ssh_key:
            body["ssh_keys"] = [options.ssh_key]
        answer = await self.http(key).request_json(
            "POST", "/v2/droplets", json_body=body, idempotent=False
        )
        droplet = envelope(answer, "droplet", provider=self.PROVIDER_NAME, expect=Mapping)
        return BookingResult(
            provider=self.PROVIDER_NAME,
            offer_id=offer_id,
            instance_id=str(droplet.get("id", "")),
            status=str(droplet.get("status", "")),
            raw=answer,
        )


ProviderRegistry.register(DigitalOceanAdapter.PROVIDER_NAME, DigitalOceanAdapter)

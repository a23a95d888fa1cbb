"""Vast.ai: the marketplace's bundle search (``POST /api/v0/bundles/``).

One offer per ask contract. Units (see ``/work/shared/reference/providers/README.md``):

* ``gpu_ram`` is per-GPU memory in MiB as nvidia-smi reports it (24564 for a 24 GB card):
  divided by 1024 and snapped to the nominal size (7 % tolerance).
* ``dph_total`` is USD/h for the **whole offer** (all ``num_gpus``) including the
  ``allocated_storage`` we ask for (:data:`ALLOCATED_STORAGE_GB`); it is stored as is.
* ``cpu_ram`` is the **host's** RAM in MiB; the renter's share is
  ``cpu_ram × cpu_cores_effective / cpu_cores`` (gpuhunt's rule); vCPUs are
  ``cpu_cores_effective``. When the host does not report cores, CPU and RAM stay 0 (unknown)
  rather than the offer being dropped.
* ``disk_space`` (GB) is the disk available to allocate → ``storage_gb``.
* ``geolocation`` is ``"<region>, <CC>"``; ``hosting_type`` ≥ 1 is a datacentre host.
* ``is_bid`` marks interruptible asks (spot); this adapter searches on-demand asks.

Auth is optional for search (a key raises rate limits); booking needs a key.
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
    parse_records,
    resolve_gpu,
)
from .errors import ProviderPayloadError, ProviderRequestError
from .registry import ProviderRegistry
from .units import (
    RecordRejected,
    country_code,
    decimal_amount,
    money,
    number,
    require,
    snap_vram_gb,
    text,
    whole,
)

#: GiB of disk priced into ``dph_total`` (vast-cli's default is 5; 50 is a usable working disk).
ALLOCATED_STORAGE_GB = 50
DEFAULT_LIMIT = 10_000


def search_query(limit: int = DEFAULT_LIMIT) -> dict[str, Any]:
    """vast-cli's default filters (verified, not external, rentable, not rented), on-demand."""
    return {
        "verified": {"eq": True},
        "external": {"eq": False},
        "rentable": {"eq": True},
        "rented": {"eq": False},
        "num_gpus": {"gte": 1},
        "order": [["dph_total", "asc"]],
        "type": "on-demand",
        "limit": limit,
        "allocated_storage": ALLOCATED_STORAGE_GB,
    }


#: ``dph_total`` is compute plus the allocated disk; bandwidth is billed per GB on top.
ASK_PRICE = PriceBreakdown(includes=("gpu", "cpu", "ram", "disk"), excludes=("network",))


class VastAIAdapter(BaseProviderAdapter):
    PROVIDER_NAME = "vastai"
    DISPLAY_NAME = "Vast.ai"
    BASE_URL = "https://console.vast.ai"
    REQUIRES_CREDENTIALS = False

    def __init__(self, *, limit: int = DEFAULT_LIMIT, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.limit = limit

    async def _fetch(self) -> FetchResult:
        payload = await self.http().request_json(
            "POST", "/api/v0/bundles/", json_body=search_query(self.limit)
        )
        return self.parse(payload)

    def parse(self, payload: Any) -> FetchResult:
        if isinstance(payload, Mapping) and payload.get("success") is False:
            raise ProviderPayloadError(
                f"search failed: {payload.get('msg') or payload.get('error') or 'no reason'}",
                provider=self.PROVIDER_NAME,
            )
        offers = envelope(payload, "offers", provider=self.PROVIDER_NAME)
        result = self.new_result()
        parse_records(
            result, enumerate_records(offers, "id"), self._parse_offer, logger=self.logger
        )
        return result

    def _parse_offer(self, record: Any) -> Iterator[ProviderOffer]:
        ask_id = whole(require(record, "id"), "id", minimum=1)
        gpu_count = whole(require(record, "num_gpus"), "num_gpus", minimum=1)
        raw_name = text(require(record, "gpu_name"), "gpu_name")
        gpu_ram_mib = number(require(record, "gpu_ram"), "gpu_ram")
        if gpu_ram_mib <= 0:
            raise RecordRejected("out_of_range:gpu_ram", str(gpu_ram_mib))
        reported_gb = round(gpu_ram_mib / 1024, 2)
        vram_gb = snap_vram_gb(reported_gb)

        price_value = record.get("dph_total")
        if price_value is None and isinstance(record.get("search"), Mapping):
            price_value = record["search"].get("totalHour")
        if price_value is None:
            raise RecordRejected("missing:dph_total")
        price = money(decimal_amount(price_value, "dph_total"), "dph_total")

        cpu_cores, ram_gb = self._cpu_and_ram_share(record)
        disk = record.get("disk_space")
        storage_gb = int(number(disk, "disk_space")) if disk is not None else 0

        location = record.get("geolocation")
        region = location.strip() if isinstance(location, str) and location.strip() else "unknown"
        hosting = record.get("hosting_type")
        is_datacenter = hosting is not None and number(hosting, "hosting_type") >= 1

        available = record.get("rentable", True) is not False and record.get("rented") is not True
        gpu_type, known = resolve_gpu(raw_name, float(vram_gb))
        yield ProviderOffer(
            provider=self.PROVIDER_NAME,
            external_id=str(ask_id),
            gpu_type=gpu_type,
            raw_gpu_name=raw_name,
            gpu_model_known=known,
            gpu_memory_gb=vram_gb,
            gpu_count=gpu_count,
            price_per_hour=price,
            region=region[:100],
            country=country_code(location),
            availability=AVAILABLE if available else UNAVAILABLE,
            is_spot=record.get("is_bid") is True,
            is_datacenter=is_datacenter,
            cpu_cores=cpu_cores,
            ram_gb=ram_gb,
            storage_gb=storage_gb,
            raw_gpu_memory_gb=reported_gb,
            price_breakdown=ASK_PRICE,
        )

    @staticmethod
    def _cpu_and_ram_share(record: Mapping[str, Any]) -> tuple[int, int]:
        effective = record.get("cpu_cores_effective")
        cores = record.get("cpu_cores")
        host_ram_mib = record.get("cpu_ram")
        if effective is None:
            return 0, 0
        vcpus = number(effective, "cpu_cores_effective")
        if host_ram_mib is None or cores is None:
            return int(vcpus), 0
        host_cores = number(cores, "cpu_cores")
        host_ram = number(host_ram_mib, "cpu_ram")
        if host_cores <= 0:
            return int(vcpus), 0
        share = min(1.0, vcpus / host_cores)
        return int(vcpus), round(host_ram * share / 1024)

    async def _probe_credentials(self, api_key: str) -> None:
        await self.http(api_key).request_json("GET", "/api/v0/users/current/")

    async def book_instance(self, offer_id: str, options: BookingOptions) -> BookingResult:
        """``PUT /api/v0/asks/{id}/`` — accept the ask (vast-cli ``create instance``)."""
        key = self.require_key()
        ask_id = offer_id.strip()
        if not ask_id.isdigit():
            raise ProviderRequestError(
                f"not a Vast.ai ask id: {offer_id!r}", provider=self.PROVIDER_NAME
            )
        body: dict[str, Any] = {
            "client_id": "me",
            "image": options.image,
            "disk": options.disk_gb,
            "label": options.name,
            "runtype": "ssh",
        }
        if options.spot_bid_per_gpu is not None:
            body["price"] = float(options.spot_bid_per_gpu)
        answer = await self.http(key).request_json(
            "PUT", f"/api/v0/asks/{ask_id}/", json_body=body, idempotent=False
        )
        if not isinstance(answer, Mapping) or answer.get("success") is not True:
            reason = answer.get("msg") if isinstance(answer, Mapping) else None
            raise ProviderRequestError(
                f"booking refused: {reason or 'no reason given'}", provider=self.PROVIDER_NAME
            )
        return BookingResult(
            provider=self.PROVIDER_NAME,
            offer_id=ask_id,
            instance_id=str(answer.get("new_contract", "")),
            status="created",
            raw=answer,
        )


ProviderRegistry.register(VastAIAdapter.PROVIDER_NAME, VastAIAdapter)

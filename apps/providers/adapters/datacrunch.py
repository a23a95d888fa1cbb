"""DataCrunch (now Verda): the public API v1 with OAuth2 client credentials.

The key is ``"<client_id>:<client_secret>"``; ``POST /v1/oauth2/token`` (``grant_type
client_credentials``) gives the Bearer token for ``GET /v1/instance-types`` (``[{instance_type,
price_per_hour, spot_price, description, cpu{number_of_cores}, gpu{description, number_of_gpus},
memory{size_in_gigabytes}, gpu_memory{size_in_gigabytes}}]``), ``GET /v1/locations``
(``[{code, name, country_code}]``) and ``GET /v1/instance-availability?is_spot=…``
(``[{location_code, availabilities: [instance_type, …]}]``). Units and rules:

* ``price_per_hour`` / ``spot_price`` are USD per hour for the **whole instance** (numbers or
  numeric strings); they cover GPUs, vCPUs and RAM — the OS and data volumes are billed per GB
  separately (``price_breakdown``).
* ``gpu_memory.size_in_gigabytes`` is the instance's **total** VRAM → per GPU = total / count.
  The GPU name comes from ``gpu.description`` (``"8x H100 SXM5 80GB"``). CPU-only types are
  skipped.
* One offer per (instance type, location, on-demand | spot) where the availability list for that
  kind names the type (live capacity); other locations yield nothing (``no_capacity``), so a
  sold-out offer is marked unavailable by the sync.
* Locations carry their ISO country (``country_code``).
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
    enumerate_records,
    resolve_gpu,
)
from .errors import ProviderAuthError, ProviderPayloadError, ProviderRequestError
from .registry import ProviderRegistry
from .units import RecordRejected, decimal_amount, money, number, require, text, whole

DESCRIPTION = re.compile(r"^\s*(\d+)\s*x\s+(.+?)\s*$", re.IGNORECASE)
INSTANCE_PRICE = PriceBreakdown(includes=("gpu", "cpu", "ram"), excludes=("disk",))


class DataCrunchAdapter(BaseProviderAdapter):
    PROVIDER_NAME = "datacrunch"
    DISPLAY_NAME = "DataCrunch (Verda)"
    BASE_URL = "https://api.datacrunch.io"
    REQUIRES_CREDENTIALS = True
    REPLAY_API_KEY = "replay-client:replay-secret"

    def _client_credentials(self, api_key: str) -> tuple[str, str]:
        client_id, sep, secret = api_key.partition(":")
        if not sep or not client_id or not secret:
            raise ProviderAuthError(
                "the key must be '<client_id>:<client_secret>'", provider=self.PROVIDER_NAME
            )
        return client_id, secret

    async def _token(self, api_key: str) -> str:
        client_id, secret = self._client_credentials(api_key)
        answer = await self.http("").request_json(
            "POST",
            "/v1/oauth2/token",
            json_body={
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": secret,
            },
        )
        token = answer.get("access_token") if isinstance(answer, Mapping) else None
        if not isinstance(token, str) or not token:
            raise ProviderPayloadError("token answer has no access_token", provider="datacrunch")
        return token

    async def _fetch(self) -> FetchResult:
        token = await self._token(self.require_key())
        async with self.http(token) as client:
            types = await client.request_json("GET", "/v1/instance-types")
            locations = await client.request_json("GET", "/v1/locations")
            on_demand = await client.request_json(
                "GET", "/v1/instance-availability", params={"is_spot": "false"}
            )
            spot = await client.request_json(
                "GET", "/v1/instance-availability", params={"is_spot": "true"}
            )
        return self.parse(types, locations, on_demand, spot)

    def _availability(self, payload: Any) -> dict[str, set[str]]:
        if not isinstance(payload, list):
            raise ProviderPayloadError(
                f"instance-availability is {type(payload).__name__}, expected list",
                provider=self.PROVIDER_NAME,
            )
        found: dict[str, set[str]] = {}
        for entry in payload:
            if not isinstance(entry, Mapping) or not isinstance(entry.get("location_code"), str):
                continue
            names = entry.get("availabilities")
            if isinstance(names, list):
                found[entry["location_code"]] = {n for n in names if isinstance(n, str)}
        return found

    def parse(self, types: Any, locations: Any, on_demand: Any, spot: Any) -> FetchResult:
        for name, value in (("instance-types", types), ("locations", locations)):
            if not isinstance(value, list):
                raise ProviderPayloadError(
                    f"{name} is {type(value).__name__}, expected list", provider=self.PROVIDER_NAME
                )
        countries = {
            loc["code"]: str(loc.get("country_code") or "")
            for loc in locations
            if isinstance(loc, Mapping) and isinstance(loc.get("code"), str)
        }
        stock = {False: self._availability(on_demand), True: self._availability(spot)}
        return self.parse_each(
            enumerate_records(types, "instance_type"),
            lambda record, result: self._parse_type(record, countries, stock, result),
        )

    def _parse_type(
        self,
        record: Any,
        countries: Mapping[str, str],
        stock: Mapping[bool, Mapping[str, set[str]]],
        result: FetchResult,
    ) -> Iterator[ProviderOffer]:
        name = text(require(record, "instance_type"), "instance_type")
        gpu = require(record, "gpu")
        if not isinstance(gpu, Mapping):
            raise RecordRejected("invalid:gpu", type(gpu).__name__)
        count = whole(require(gpu, "number_of_gpus"), "number_of_gpus")
        if count == 0:
            result.skip("cpu_only")
            return
        description = text(require(gpu, "description"), "gpu.description")
        match = DESCRIPTION.match(description)
        raw_name = match.group(2) if match else description
        total_vram = number(require(require(record, "gpu_memory"), "size_in_gigabytes"), "vram")
        per_gpu_vram = total_vram / count
        cpu = record.get("cpu") if isinstance(record.get("cpu"), Mapping) else {}
        memory = record.get("memory") if isinstance(record.get("memory"), Mapping) else {}
        vcpus = whole(cpu.get("number_of_cores") or 0, "cpu.number_of_cores")
        ram_gb = round(number(memory.get("size_in_gigabytes") or 0, "memory"))
        prices = {False: record.get("price_per_hour"), True: record.get("spot_price")}
        if prices[False] is None and prices[True] is None:
            raise RecordRejected("missing:price_per_hour")
        gpu_type, known = resolve_gpu(raw_name, per_gpu_vram)
        emitted = False
        for is_spot, value in prices.items():
            if value is None or decimal_amount(value, "price_per_hour") == 0:
                continue
            price = money(decimal_amount(value, "price_per_hour"), "price_per_hour")
            for location, names in sorted(stock[is_spot].items()):
                if name not in names:
                    continue
                emitted = True
                yield ProviderOffer(
                    provider=self.PROVIDER_NAME,
                    external_id=f"{name}:{location}:{'spot' if is_spot else 'on-demand'}",
                    gpu_type=gpu_type,
                    raw_gpu_name=raw_name,
                    gpu_model_known=known,
                    gpu_memory_gb=round(per_gpu_vram),
                    raw_gpu_memory_gb=per_gpu_vram,
                    gpu_count=count,
                    price_per_hour=price,
                    region=location[:100],
                    country=countries.get(location, ""),
                    availability=AVAILABLE,
                    is_spot=is_spot,
                    is_datacenter=True,
                    cpu_cores=vcpus,
                    ram_gb=ram_gb,
                    price_breakdown=INSTANCE_PRICE,
                )
        if not emitted:
            result.skip("no_capacity")

    async def _probe_credentials(self, api_key: str) -> None:
        await self._token(api_key)

    async def book_instance(self, offer_id: str, options: BookingOptions) -> BookingResult:
        """``POST /v1/instances``; the answer is the new instance id as plain text."""
        token = await self._token(self.require_key())
        parts = offer_id.split(":")
        if len(parts) != 3 or parts[2] not in ("on-demand", "spot"):
            raise ProviderRequestError(
                f"not a DataCrunch offer id: {offer_id!r}", provider=self.PROVIDER_NAME
            )
        if not options.ssh_key:
            raise ProviderRequestError(
                "DataCrunch instances need the id of an SSH key registered with DataCrunch",
                provider=self.PROVIDER_NAME,
            )
        body = {
            "instance_type": parts[0],
            "image": options.image,
            "ssh_key_ids": [options.ssh_key],
            "hostname": options.name,
            "description": options.name,
            "location_code": parts[1],
            "is_spot": parts[2] == "spot",
        }
        response = await self.http(token).request(
            "POST", "/v1/instances", json_body=body, idempotent=False
        )
        instance_id = response.text.strip().strip('"')
        if not instance_id:
            raise ProviderRequestError("create returned no instance id", provider="datacrunch")
        return BookingResult(
            provider=self.PROVIDER_NAME,
            offer_id=offer_id,
            instance_id=instance_id,
            status="provisioning",
            raw={"id": instance_id},
        )


ProviderRegistry.register(DataCrunchAdapter.PROVIDER_NAME, DataCrunchAdapter)

"""RunPod: the GraphQL API (``POST /graphql``): ``dataCenters``/``countryCodes`` to discover
locations, then ``gpuTypes { lowestPrice(input: …) }`` once per location.

Offers: one per (cloud, location, GPU type, GPU count, on-demand|spot). Secure Cloud is addressed by
data-centre id (``US-TX-3``), Community Cloud only by country code. Units:

* ``lowestPrice.uninterruptablePrice`` / ``minimumBidPrice`` are USD/h **per GPU**; the stored
  price is for the whole offer: ``per-GPU × gpu_count`` (per-GPU is derived again downstream).
  When a location in stock quotes no on-demand price, the type's ``securePrice`` /
  ``communityPrice`` list price is used; spot offers exist only where a bid price is quoted.
* ``memoryInGb`` is VRAM per GPU in GB. ``lowestPrice.minVcpu``/``minMemory`` are the vCPUs and
  RAM (GB) the cheapest 1-GPU pod comes with; pods scale them per GPU, so they are multiplied by
  the count (RunPod changes them within minutes — SkyPilot PR #6824 — so treat them as indicative).
* ``stockStatus`` High/Medium → available, Low → limited, null → nothing rentable there (no offer;
  a previous offer at that location is then marked unavailable by the sync).
* GPU counts come from ``lowestPrice.availableGpuCounts`` (what is in stock for 1 GPU queries).
* The pod price covers GPU, vCPU and RAM; container and volume disk are billed per GB-month on
  top (``price_breakdown`` says so).

RunPod announced the retirement of this API (REST v1 410 from 2026-11-15, GraphQL "early 2027";
dstack #4167) in favour of REST v2 ``GET /v2/catalog/gpus``. The v2 shape is only known from
third-party clients that disagree on its envelope, so this adapter stays on GraphQL until the v2
OpenAPI can be checked; a retired endpoint surfaces as ``ProviderUnavailable("… 410 Gone")``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from .base import (
    AVAILABLE,
    LIMITED,
    AvailabilityValue,
    BaseProviderAdapter,
    BookingOptions,
    BookingResult,
    FetchResult,
    PriceBreakdown,
    ProviderOffer,
    envelope,
    resolve_gpu,
)
from .errors import (
    ProviderAuthError,
    ProviderPayloadError,
    ProviderRequestError,
    ProviderUnavailable,
)
from .http import ProviderHTTPClient
from .registry import ProviderRegistry
from .units import RecordRejected, decimal_amount, money, require, text, whole

#: Pods bill GPU, vCPU and RAM by the hour; container/volume disk per GB-month on top.
POD_PRICE = PriceBreakdown(includes=("gpu", "cpu", "ram"), excludes=("disk",))
LOCATIONS_QUERY = "query GpuBrokerLocations { countryCodes dataCenters { id name listed } }"
PRICES_QUERY = (
    "query GpuBrokerPrices($lowestPriceInput: GpuLowestPriceInput, $gpuTypesInput: GpuTypeFilter) "
    "{ gpuTypes(input: $gpuTypesInput) { id displayName manufacturer memoryInGb maxGpuCount "
    "securePrice communityPrice secureSpotPrice communitySpotPrice "
    "lowestPrice(input: $lowestPriceInput) { minimumBidPrice uninterruptablePrice minVcpu "
    "minMemory stockStatus compliance countryCode maxUnreservedGpuCount availableGpuCounts } } }"
)
VALIDATE_QUERY = "query GpuBrokerWhoAmI { myself { id } }"
DEPLOY_ON_DEMAND = (
    "mutation GpuBrokerDeploy($input: PodFindAndDeployOnDemandInput) "
    "{ podFindAndDeployOnDemand(input: $input) { id desiredStatus imageName machineId } }"
)
DEPLOY_SPOT = (
    "mutation GpuBrokerDeploySpot($input: PodRentInterruptableInput!) "
    "{ podRentInterruptable(input: $input) { id desiredStatus imageName machineId } }"
)

SECURE = "secure"
COMMUNITY = "community"
STOCK = {"HIGH": AVAILABLE, "MEDIUM": AVAILABLE, "LOW": LIMITED}
CONTINENT_PREFIXES = {"EU", "AP", "OC", "SA", "NA", "AS", "AF", "ME"}
#: Location queries in flight at once (RunPod applies staged rate limits to GraphQL).
CONCURRENCY = 4


def offer_external_id(cloud: str, location: str, gpu_id: str, count: int, spot: bool) -> str:
    return f"{cloud}:{location}:{gpu_id}:{count}x:{'spot' if spot else 'on-demand'}"


def split_external_id(external_id: str) -> tuple[str, str, str, int, bool]:
    parts = external_id.split(":")
    if len(parts) < 5 or parts[0] not in (SECURE, COMMUNITY) or not parts[-2].endswith("x"):
        raise ValueError(f"not a RunPod offer id: {external_id!r}")
    count = int(parts[-2][:-1])
    return parts[0], parts[1], ":".join(parts[2:-2]), count, parts[-1] == "spot"


def datacenter_country(datacenter_id: str) -> str:
    """``US-TX-3`` → US, ``EU-RO-1`` → RO, ``CA-MTL-1`` → CA."""
    parts = datacenter_id.upper().split("-")
    if len(parts) > 1 and parts[0] in CONTINENT_PREFIXES and len(parts[1]) == 2:
        return parts[1]
    return parts[0] if len(parts[0]) == 2 and parts[0].isalpha() else ""


def graphql_data(payload: Any, field: str, *, provider: str) -> Any:
    """``data[field]`` of a GraphQL answer; GraphQL errors (HTTP 200) become provider errors."""
    if not isinstance(payload, Mapping):
        raise ProviderPayloadError("GraphQL answer is not an object", provider=provider)
    errors = payload.get("errors")
    messages = []
    if isinstance(errors, list):
        messages = [str(e.get("message", "")) for e in errors if isinstance(e, Mapping)]
    joined = "; ".join(m for m in messages if m)[:300]
    lowered = joined.lower()
    if any(word in lowered for word in ("unauthorized", "unauthenticated", "api key")):
        raise ProviderAuthError(f"credentials rejected: {joined}", provider=provider)
    data = payload.get("data")
    value = data.get(field) if isinstance(data, Mapping) else None
    if value is None:
        if errors:
            raise ProviderUnavailable(
                f"GraphQL error: {joined or 'unspecified'}", provider=provider
            )
        raise ProviderPayloadError(f"GraphQL answer has no data.{field}", provider=provider)
    return value


class RunPodAdapter(BaseProviderAdapter):
    PROVIDER_NAME = "runpod"
    DISPLAY_NAME = "RunPod"
    BASE_URL = "https://api.runpod.io"
    REQUIRES_CREDENTIALS = False

    async def _graphql(
        self, http: ProviderHTTPClient, query: str, variables: Mapping[str, Any], field: str
    ) -> Any:
        payload = await http.request_json(
            "POST", "/graphql", json_body={"query": query, "variables": dict(variables)}
        )
        return graphql_data(payload, field, provider=self.PROVIDER_NAME)

    async def _fetch(self) -> FetchResult:
        async with self.http() as http:
            payload = await http.request_json(
                "POST", "/graphql", json_body={"query": LOCATIONS_QUERY, "variables": {}}
            )
            datacenters = graphql_data(payload, "dataCenters", provider=self.PROVIDER_NAME)
            countries = payload["data"].get("countryCodes") or []
            locations = self._locations(datacenters, countries)
            gate = asyncio.Semaphore(CONCURRENCY)

            async def prices(cloud: str, location: str) -> tuple[str, str, Any]:
                async with gate:
                    lowest: dict[str, Any] = {"gpuCount": 1, "secureCloud": cloud == SECURE}
                    lowest["dataCenterId" if cloud == SECURE else "countryCode"] = location
                    variables = {"gpuTypesInput": {"cluster": False}, "lowestPriceInput": lowest}
                    gpu_types = await self._graphql(http, PRICES_QUERY, variables, "gpuTypes")
                    return cloud, location, gpu_types

            answers = await asyncio.gather(*(prices(c, loc) for c, loc in locations))
        result = self.new_result()
        for cloud, location, gpu_types in answers:
            result.merge(self.parse_location(cloud, location, gpu_types))
        return result

    def _locations(self, datacenters: Any, countries: Any) -> list[tuple[str, str]]:
        if not isinstance(datacenters, list) or not isinstance(countries, list):
            raise ProviderPayloadError(
                "dataCenters/countryCodes are not lists", provider=self.PROVIDER_NAME
            )
        found = [
            (SECURE, dc["id"])
            for dc in datacenters
            if isinstance(dc, Mapping) and dc.get("listed") and isinstance(dc.get("id"), str)
        ]
        found += [
            (COMMUNITY, code.upper())
            for code in countries
            if isinstance(code, str) and len(code.strip()) == 2
        ]
        return found

    def parse_location(self, cloud: str, location: str, gpu_types: Any) -> FetchResult:
        """The offers of one ``gpuTypes`` answer for one location."""
        if not isinstance(gpu_types, list):
            raise ProviderPayloadError(
                f"gpuTypes for {location} is {type(gpu_types).__name__}",
                provider=self.PROVIDER_NAME,
            )

        def records() -> Iterator[tuple[str, Any]]:
            for index, item in enumerate(gpu_types):
                gpu_id = item.get("id") if isinstance(item, Mapping) else None
                yield f"{cloud}:{location}:{gpu_id or index}", item

        return self.parse_each(
            records(), lambda record, result: self._parse_gpu_type(cloud, location, record, result)
        )

    def _parse_gpu_type(
        self, cloud: str, location: str, record: Any, result: FetchResult
    ) -> Iterator[ProviderOffer]:
        gpu_id = text(require(record, "id"), "id")
        raw_name = record.get("displayName") or gpu_id
        raw_name = text(raw_name, "displayName")
        memory_gb = whole(require(record, "memoryInGb"), "memoryInGb", minimum=1)
        lowest_value = record.get("lowestPrice")
        if lowest_value is not None and not isinstance(lowest_value, Mapping):
            raise RecordRejected("invalid:lowestPrice", type(lowest_value).__name__)
        lowest: Mapping[str, Any] = lowest_value or {}
        stock = lowest.get("stockStatus")
        if stock is None:
            result.skip("out_of_stock")
            return
        availability: AvailabilityValue = STOCK.get(text(stock, "stockStatus").upper(), LIMITED)

        on_demand = self._per_gpu_price(
            lowest.get("uninterruptablePrice"),
            record.get("securePrice" if cloud == SECURE else "communityPrice"),
            "uninterruptablePrice",
        )
        # Spot only where this location quotes a bid: the type's list spot price says nothing
        # about whether interruptible capacity exists here.
        spot = self._per_gpu_price(lowest.get("minimumBidPrice"), None, "minimumBidPrice")
        if on_demand is None and spot is None:
            raise RecordRejected("missing:uninterruptablePrice")

        counts = self._gpu_counts(lowest)
        vcpus = whole(lowest.get("minVcpu") or 0, "minVcpu")
        ram = whole(lowest.get("minMemory") or 0, "minMemory")
        country = lowest.get("countryCode")
        if not (isinstance(country, str) and len(country) == 2):
            country = location if cloud == COMMUNITY else datacenter_country(location)
        compliance = lowest.get("compliance") or []
        tags = (
            tuple(str(t) for t in compliance if isinstance(t, str))
            if isinstance(compliance, list)
            else ()
        )
        gpu_type, known = resolve_gpu(raw_name, float(memory_gb))

        for count in counts:
            for is_spot, per_gpu in ((False, on_demand), (True, spot)):
                if per_gpu is None:
                    continue
                yield ProviderOffer(
                    provider=self.PROVIDER_NAME,
                    external_id=offer_external_id(cloud, location, gpu_id, count, is_spot),
                    gpu_type=gpu_type,
                    raw_gpu_name=raw_name,
                    gpu_model_known=known,
                    gpu_memory_gb=memory_gb,
                    gpu_count=count,
                    price_per_hour=money(per_gpu * count),
                    region=location,
                    country=country.upper(),
                    availability=availability,
                    is_spot=is_spot,
                    is_datacenter=cloud == SECURE,
                    cpu_cores=vcpus * count,
                    ram_gb=ram * count,
                    compliance_tags=tags,
                    price_breakdown=POD_PRICE,
                )

    @staticmethod
    def _per_gpu_price(primary: Any, fallback: Any, field: str) -> Decimal | None:
        value = primary if primary is not None else fallback
        if value is None:
            return None
        amount = decimal_amount(value, field)
        return amount if amount > 0 else None

    @staticmethod
    def _gpu_counts(lowest: Mapping[str, Any]) -> list[int]:
        listed = lowest.get("availableGpuCounts")
        if isinstance(listed, list) and listed:
            return sorted({whole(n, "availableGpuCounts", minimum=1) for n in listed})
        if listed is not None and not isinstance(listed, list):
            raise RecordRejected("invalid:availableGpuCounts", type(listed).__name__)
        most = lowest.get("maxUnreservedGpuCount")
        top = whole(most, "maxUnreservedGpuCount") if most is not None else 1
        return list(range(1, max(top, 1) + 1))

    async def _probe_credentials(self, api_key: str) -> None:
        payload = await self.http(api_key).request_json(
            "POST", "/graphql", json_body={"query": VALIDATE_QUERY, "variables": {}}
        )
        graphql_data(payload, "myself", provider=self.PROVIDER_NAME)

    async def book_instance(self, offer_id: str, options: BookingOptions) -> BookingResult:
        """``podFindAndDeployOnDemand`` (or ``podRentInterruptable`` for a spot offer)."""
        key = self.require_key()
        try:
            cloud, location, gpu_id, count, spot = split_external_id(offer_id)
        except ValueError as exc:
            raise ProviderRequestError(str(exc), provider=self.PROVIDER_NAME) from exc
        deploy: dict[str, Any] = {
            "cloudType": cloud.upper(),
            "gpuCount": count,
            "gpuTypeId": gpu_id,
            "name": options.name,
            "imageName": options.image,
            "containerDiskInGb": options.disk_gb,
            "volumeInGb": 0,
            "startSsh": True,
            "supportPublicIp": cloud == SECURE,
        }
        deploy["dataCenterId" if cloud == SECURE else "countryCode"] = location
        if spot:
            if options.spot_bid_per_gpu is None:
                raise ProviderRequestError(
                    "a spot offer needs spot_bid_per_gpu", provider=self.PROVIDER_NAME
                )
            deploy["bidPerGpu"] = float(options.spot_bid_per_gpu)
        query, field = (
            (DEPLOY_SPOT, "podRentInterruptable")
            if spot
            else (DEPLOY_ON_DEMAND, "podFindAndDeployOnDemand")
        )
        payload = await self.http(key).request_json(
            "POST",
            "/graphql",
            json_body={"query": query, "variables": {"input": deploy}},
            idempotent=False,
        )
        try:
            pod = graphql_data(payload, field, provider=self.PROVIDER_NAME)
        except ProviderUnavailable as exc:  # "no longer any instances available" etc.
            raise ProviderRequestError(exc.message, provider=self.PROVIDER_NAME) from exc
        pod = envelope({"pod": pod}, "pod", provider=self.PROVIDER_NAME, expect=Mapping)
        return BookingResult(
            provider=self.PROVIDER_NAME,
            offer_id=offer_id,
            instance_id=str(pod.get("id", "")),
            status=str(pod.get("desiredStatus", "")),
            raw=pod,
        )


ProviderRegistry.register(RunPodAdapter.PROVIDER_NAME, RunPodAdapter)

"""The nasty-payload set for every adapter added in issue 14: missing fields, nulls, wrong types,
unknown GPUs, non-objects (``*_nasty.json``, with the exact rejection reasons), empty lists,
HTML error pages, truncated JSON, a wrong envelope, 429 with ``Retry-After`` and 5xx."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from apps.providers.adapters import (
    BaseProviderAdapter,
    ProviderPayloadError,
    ProviderRateLimited,
    ProviderUnavailable,
    RetryPolicy,
)
from apps.providers.adapters.azure import AzureAdapter
from apps.providers.adapters.cudo import CudoAdapter
from apps.providers.adapters.datacrunch import DataCrunchAdapter
from apps.providers.adapters.digitalocean import DigitalOceanAdapter
from apps.providers.adapters.hotaisle import HotAisleAdapter
from apps.providers.adapters.jarvislabs import JarvisLabsAdapter
from apps.providers.adapters.oci import OCIAdapter
from apps.providers.adapters.vultr import VultrAdapter

from .helpers import FakeProvider, Sleeps, fixture, ok


@dataclass
class Spec:
    adapter: type[BaseProviderAdapter]
    key: str | None
    #: The listing the nasty answers replace: (method, path).
    main: tuple[str, str]
    good: list[str]
    nasty: str
    empty: Any
    wrong_envelope: Any
    #: Other routes the fetch needs, answered well: (method, path, fixture).
    others: list[tuple[str, str, str]] = field(default_factory=list)
    rejected: dict[str, int] = field(default_factory=dict)
    offers: int = 0
    unknown: dict[str, int] = field(default_factory=dict)


DATACRUNCH_AVAILABILITY = "/v1/instance-availability"
SPECS = {
    "azure": Spec(
        AzureAdapter,
        None,
        ("GET", "/api/retail/prices"),
        ["azure/prices_page1.json", "azure/prices_page2.json"],
        "azure/prices_nasty.json",
        {"Items": [], "NextPageLink": None},
        {"value": []},
        rejected={
            "missing:armSkuName": 1,
            "missing:retailPrice": 1,
            "invalid:retailPrice": 1,
            "invalid:unitOfMeasure": 1,
            "invalid:currencyCode": 1,
            "not_an_object": 1,
            "PRICE_OUTLIER_LOW": 1,
        },
        offers=1,
    ),
    "oci": Spec(
        OCIAdapter,
        None,
        ("GET", "/pls/apex/cetools/api/v1/products/"),
        ["oci/products.json"],
        "oci/products_nasty.json",
        {"items": []},
        {"products": []},
        rejected={
            "missing:partNumber": 1,
            "missing:displayName": 1,
            "invalid:currencyCodeLocalizations": 1,
            "missing:PAY_AS_YOU_GO": 1,
            "invalid:value": 1,
            "LIKELY_CENTS_AS_DOLLARS": 3,  # $200 per A10-hour: every A10 shape
            "not_an_object": 1,
        },
        offers=1,
    ),
    "vultr": Spec(
        VultrAdapter,
        None,
        ("GET", "/v2/plans"),
        ["vultr/plans_vcg.json"],
        "vultr/plans_nasty.json",
        {"plans": [], "meta": {}},
        {"plan": []},
        others=[("GET", "/v2/plans-metal", "vultr/plans_metal.json")],
        rejected={
            "missing:id": 1,
            "missing:hourly_cost": 1,
            "invalid:gpu_vram_gb": 1,
            "unknown:gpu_type": 1,
            "invalid:locations": 1,
            "not_an_object": 1,
        },
        offers=1 + 3,  # the good plan, and the three bare-metal offers of plans_metal.json
    ),
    "datacrunch": Spec(
        DataCrunchAdapter,
        "client:secret",
        ("GET", "/v1/instance-types"),
        ["datacrunch/instance_types.json"],
        "datacrunch/instance_types_nasty.json",
        [],
        {"instance_types": []},
        others=[
            ("POST", "/v1/oauth2/token", "datacrunch/token.json"),
            ("GET", "/v1/locations", "datacrunch/locations.json"),
        ],
        rejected={
            "missing:instance_type": 1,
            "invalid:gpu": 1,
            "invalid:number_of_gpus": 1,
            "missing:price_per_hour": 1,
            "missing:gpu_memory": 1,
            "not_an_object": 1,
        },
        offers=3,  # V100 on-demand + spot in FIN-01, the unknown GPU on-demand
        unknown={"Xyz 9000 24GB": 1},
    ),
    "digitalocean": Spec(
        DigitalOceanAdapter,
        "do-token",
        ("GET", "/v2/sizes"),
        ["digitalocean/sizes.json"],
        "digitalocean/sizes_nasty.json",
        {"sizes": [], "links": {}},
        {"droplets": []},
        rejected={
            "missing:slug": 1,
            "invalid:gpu_info": 1,
            "out_of_range:gpu_info.count": 1,
            "invalid:price_hourly": 1,
            "missing:regions": 1,
            "not_an_object": 1,
        },
        offers=2,
        unknown={"nvidia zz100": 1},
    ),
    "cudo": Spec(
        CudoAdapter,
        None,
        ("GET", "/v1/vms/machine-types-2"),
        ["cudo/machine_types.json"],
        "cudo/machine_types_nasty.json",
        {"machineTypes": []},
        {"machine_types": []},
        rejected={
            "missing:machineType": 1,
            "missing:gpuPriceHr": 1,
            "invalid:vcpuPriceHr": 1,
            "invalid:gpuPriceHr": 1,
            "unknown:gpuModel": 1,
            "invalid:maxGpuFree": 1,
            "not_an_object": 1,
        },
        offers=1,
    ),
    "hotaisle": Spec(
        HotAisleAdapter,
        "team:key",
        ("GET", "/api/teams/team/virtual_machines/available/"),
        ["hotaisle/available.json"],
        "hotaisle/available_nasty.json",
        [],
        {"virtual_machines": []},
        rejected={
            "missing:OnDemandPrice": 1,
            "missing:Specs": 1,
            "invalid:gpus": 1,
            "unknown:gpus.model": 1,
            "invalid:cpu_cores": 1,
            "out_of_range:OnDemandPrice": 1,
            "not_an_object": 1,
        },
        offers=1,
    ),
    "jarvislabs": Spec(
        JarvisLabsAdapter,
        "jl-key",
        ("GET", "/misc/server_meta"),
        ["jarvislabs/server_meta.json"],
        "jarvislabs/server_meta_nasty.json",
        {"server_meta": []},
        {"meta": []},
        rejected={
            "missing:gpu_type": 1,
            "missing:region": 1,
            "invalid:vram": 1,
            "missing:price_per_hour": 1,
            "missing:cpus_per_gpu": 1,
            "not_an_object": 1,
        },
        offers=2,
        unknown={"Z100": 1},
    ),
}
NAMES = sorted(SPECS)


def build(name: str, *main_answers: Any, sleeps: Sleeps | None = None) -> BaseProviderAdapter:
    spec = SPECS[name]
    fake = FakeProvider()
    for method, path, answer in spec.others:
        fake.on(method, path, ok(answer))
    if name == "datacrunch":
        availability = fixture("datacrunch/availability_on_demand.json")
        availability[0]["availabilities"].append("1XYZ.4V")
        fake.on("GET", DATACRUNCH_AVAILABILITY, _by_spot(availability))
    fake.on(*spec.main, *main_answers)
    return spec.adapter(
        api_key=spec.key,
        transport=fake.transport,
        sleep=sleeps or Sleeps(),
        retry=RetryPolicy(attempts=3, base_delay=0.01),
    )


def _by_spot(on_demand: Any) -> Callable[[httpx.Request], httpx.Response]:
    spot = fixture("datacrunch/availability_spot.json")

    def answer(request: httpx.Request) -> httpx.Response:
        spot_query = request.url.params.get("is_spot") == "true"
        return httpx.Response(200, json=spot if spot_query else on_demand)

    return answer


def good_answers(name: str) -> list[httpx.Response]:
    return [ok(path) for path in SPECS[name].good]


@pytest.mark.parametrize("name", NAMES)
async def test_recorded_payloads_parse_with_nothing_rejected(name):
    result = await build(name, *good_answers(name)).fetch_offers()
    assert result.rejected == 0, result.rejection_reasons
    assert len(result.offers) >= 3
    for offer in result.offers:
        assert offer.provider == name and offer.price_per_hour > 0
        assert offer.gpu_count >= 1 and offer.gpu_model_known
        assert offer.price_breakdown is not None and "gpu" in offer.price_breakdown.includes


@pytest.mark.parametrize("name", NAMES)
async def test_nasty_records_are_rejected_with_reasons_and_the_rest_kept(name, caplog):
    caplog.set_level(logging.INFO, logger="gpubroker.providers")
    spec = SPECS[name]
    result = await build(name, ok(spec.nasty)).fetch_offers()
    assert dict(result.rejection_reasons) == spec.rejected
    assert result.rejected == sum(spec.rejected.values())
    assert len(result.offers) == spec.offers
    assert dict(result.unknown_gpu_names) == spec.unknown
    logged = {
        getattr(r, "reason", None)
        for r in caplog.records
        if r.getMessage() in ("provider record rejected", "provider offer implausible; rejected")
    }
    assert set(spec.rejected) <= logged  # every rejection is logged with its reason


@pytest.mark.parametrize("name", NAMES)
async def test_an_empty_listing_is_no_offers_and_no_rejections(name):
    result = await build(name, httpx.Response(200, json=SPECS[name].empty)).fetch_offers()
    assert (len(result.offers), result.rejected) == (0 if name != "vultr" else 3, 0)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (httpx.Response(200, text="<!DOCTYPE html><html><body>Bad gateway</body></html>"), "HTML"),
        (httpx.Response(200, text='{"items": [{"partNumber": "B9'), "truncated"),
        (httpx.Response(200, text=""), "empty response body"),
    ],
)
async def test_garbage_bodies_fail_the_fetch(name, answer, message):
    with pytest.raises(ProviderPayloadError, match=message):
        await build(name, answer).fetch_offers()


@pytest.mark.parametrize("name", NAMES)
async def test_a_wrong_envelope_fails_the_fetch(name):
    with pytest.raises(ProviderPayloadError):
        await build(name, httpx.Response(200, json=SPECS[name].wrong_envelope)).fetch_offers()


@pytest.mark.parametrize("name", NAMES)
async def test_429_with_retry_after_is_waited_for_then_retried(name):
    sleeps = Sleeps()
    limited = httpx.Response(429, headers={"Retry-After": "3"}, json={"error": "slow down"})
    result = await build(name, limited, *good_answers(name), sleeps=sleeps).fetch_offers()
    assert sleeps.delays == [3.0]
    assert result.rejected == 0 and len(result.offers) >= 3


@pytest.mark.parametrize("name", NAMES)
async def test_a_long_retry_after_is_not_waited_for(name):
    limited = httpx.Response(429, headers={"Retry-After": "3600"})
    with pytest.raises(ProviderRateLimited) as caught:
        await build(name, limited).fetch_offers()
    assert caught.value.retry_after == 3600.0


@pytest.mark.parametrize("name", NAMES)
async def test_5xx_is_retried_then_unavailable(name):
    sleeps = Sleeps()
    with pytest.raises(ProviderUnavailable, match="server error"):
        await build(name, httpx.Response(503, text="upstream down"), sleeps=sleeps).fetch_offers()
    assert len(sleeps.delays) == 2  # three attempts

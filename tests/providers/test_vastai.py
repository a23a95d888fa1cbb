"""Vast.ai adapter against recorded bundle-search payloads."""

from __future__ import annotations

import logging
from decimal import Decimal

import httpx
import pytest

from apps.providers.adapters import (
    BookingOptions,
    PriceBreakdown,
    ProviderAuthError,
    ProviderOffer,
    ProviderPayloadError,
    ProviderRequestError,
    ProviderUnavailable,
    RetryPolicy,
)
from apps.providers.adapters.vastai import ALLOCATED_STORAGE_GB, VastAIAdapter

from .helpers import FakeProvider, Sleeps, fixture, fixture_text, ok

BUNDLES = "/api/v0/bundles/"


def adapter(fake: FakeProvider, **kwargs) -> VastAIAdapter:
    return VastAIAdapter(transport=fake.transport, sleep=Sleeps(), **kwargs)


async def test_bundle_search_request_shape_and_exact_offers():
    fake = FakeProvider().on("POST", BUNDLES, ok("vastai/bundles.json"))
    result = await adapter(fake, limit=500).fetch_offers()

    sent = fake.requests[0]
    assert sent.method == "POST" and sent.url.path == BUNDLES
    assert "Authorization" not in sent.headers  # search works anonymously
    body = fake.body()
    assert body["type"] == "on-demand" and body["limit"] == 500
    assert body["allocated_storage"] == ALLOCATED_STORAGE_GB
    assert body["rentable"] == {"eq": True} and body["rented"] == {"eq": False}
    assert body["verified"] == {"eq": True} and body["external"] == {"eq": False}

    assert result.records_seen == 3 and result.rejected == 0
    first, h100, rtx3090 = result.offers
    assert first == ProviderOffer(
        provider="vastai",
        external_id="18452731",
        gpu_type="RTX 4090",
        raw_gpu_name="RTX 4090",
        gpu_memory_gb=24,  # 24564 MiB from nvidia-smi, snapped
        gpu_count=1,
        price_per_hour=Decimal("0.3304"),  # dph_total: compute + 50 GiB disk, whole offer
        region="Texas, US",
        country="US",
        availability="available",
        is_spot=False,
        is_datacenter=False,  # hosting_type 0
        cpu_cores=24,  # cpu_cores_effective
        ram_gb=63,  # 257840 MiB host × 24/96 cores = 64460 MiB ≈ 63 GB
        storage_gb=412,
        raw_gpu_memory_gb=23.99,  # the provider's figure is kept beside the nominal size
        macro_region="north-america",
        price_breakdown=PriceBreakdown(
            includes=("gpu", "cpu", "ram", "disk"), excludes=("network",)
        ),
    )
    assert h100.gpu_type == "H100 SXM 80GB" and h100.gpu_memory_gb == 80  # 81559 MiB
    assert h100.gpu_count == 8 and h100.price_per_hour == Decimal("16.8174")
    assert h100.price_per_gpu_hour == Decimal("2.1022")
    assert (h100.cpu_cores, h100.ram_gb, h100.is_datacenter) == (224, 2015, True)
    assert (h100.region, h100.country) == ("Sweden, SE", "SE")
    assert rtx3090.gpu_count == 2 and rtx3090.price_per_hour == Decimal("0.3704")
    assert (rtx3090.cpu_cores, rtx3090.ram_gb, rtx3090.country) == (16, 63, "CA")


async def test_an_api_key_is_sent_as_bearer_when_configured():
    fake = FakeProvider().on("POST", BUNDLES, ok("vastai/empty.json"))
    result = await adapter(fake, api_key="vast-key-1").fetch_offers()
    assert fake.requests[0].headers["Authorization"] == "Bearer vast-key-1"
    assert result.offers == [] and result.rejected == 0 and result.records_seen == 0


async def test_nasty_records_are_rejected_with_reasons_and_valid_ones_kept(caplog):
    caplog.set_level(logging.INFO, logger="gpubroker.providers")
    fake = FakeProvider().on("POST", BUNDLES, ok("vastai/bundles_nasty.json"))
    result = await adapter(fake).fetch_offers()

    assert result.records_seen == 18
    assert dict(result.rejection_reasons) == {
        "missing:gpu_ram": 1,
        "missing:num_gpus": 1,
        "invalid:num_gpus": 2,  # "two" and 1.5
        "out_of_range:dph_total": 2,  # negative, absurd
        "invalid:dph_total": 2,  # "NaN", true
        "not_an_object": 1,
        "invalid:gpu_name": 1,
        "out_of_range:gpu_ram": 1,
        "missing:id": 1,
        "duplicate:external_id": 1,
    }
    assert result.rejected == 13
    kept = {o.external_id: o for o in result.offers}
    assert sorted(kept) == ["30000001", "30000007", "30000009", "30000015", "30000016"]
    assert kept["30000001"].price_per_hour == Decimal("0.3304")  # the first of the duplicates
    unknown = kept["30000007"]  # unknown GPU: kept under the provider's name, never dropped
    assert (unknown.gpu_type, unknown.gpu_model_known, unknown.gpu_memory_gb) == (
        "Radeon Pro W7900",
        False,
        48,
    )
    assert dict(result.unknown_gpu_names) == {"Radeon Pro W7900": 1}
    no_cpu = kept["30000009"]
    assert (no_cpu.cpu_cores, no_cpu.ram_gb, no_cpu.region, no_cpu.country) == (
        0,
        0,
        "unknown",
        "",
    )
    assert kept["30000015"].price_per_hour == Decimal("0.4100")  # from search.totalHour
    assert kept["30000016"].availability == "unavailable"  # rented
    rejected_ids = {r.record_id for r in result.rejections}
    assert {"30000002", "30000006", "7"} <= rejected_ids  # "oops" is record 7
    messages = [r.getMessage() for r in caplog.records]
    assert "provider record rejected" in messages
    assert "provider records rejected" in messages  # the per-fetch summary


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (httpx.Response(200, json={"bundles": []}), ProviderPayloadError),
        (httpx.Response(200, json=[1, 2]), ProviderPayloadError),
        (httpx.Response(200, json={"offers": {"a": 1}}), ProviderPayloadError),
        (httpx.Response(200, json={"success": False, "msg": "bad query"}), ProviderPayloadError),
        (
            httpx.Response(200, text=fixture_text("common/truncated_bundles.json")),
            ProviderPayloadError,
        ),
        (httpx.Response(502, text=fixture_text("common/cloudflare_502.html")), ProviderUnavailable),
    ],
)
async def test_a_response_that_is_not_the_envelope_fails_the_whole_fetch(answer, error):
    fake = FakeProvider().on("POST", BUNDLES, answer)
    with pytest.raises(error):
        await VastAIAdapter(
            transport=fake.transport, sleep=Sleeps(), retry=RetryPolicy(attempts=2)
        ).fetch_offers()


async def test_validate_credentials():
    fake = FakeProvider().on("GET", "/api/v0/users/current/", ok("vastai/current_user.json"))
    assert await adapter(fake).validate_credentials({"api_key": "good"}) is True
    assert fake.requests[0].headers["Authorization"] == "Bearer good"

    fake = FakeProvider().on("GET", "/api/v0/users/current/", httpx.Response(401, json={}))
    assert await adapter(fake).validate_credentials({"api_key": "bad"}) is False
    assert await adapter(fake).validate_credentials({"api_key": "  "}) is False
    assert len(fake.requests) == 1  # a blank key is refused without a request

    fake = FakeProvider().on("GET", "/api/v0/users/current/", httpx.Response(503))
    with pytest.raises(ProviderUnavailable):
        await VastAIAdapter(
            transport=fake.transport, sleep=Sleeps(), retry=RetryPolicy(attempts=1)
        ).validate_credentials({"api_key": "k"})


async def test_book_instance_accepts_the_ask():
    fake = FakeProvider().on("PUT", "/api/v0/asks/18452731/", ok("vastai/accept_ask.json"))
    booking = await adapter(fake, api_key="vk").book_instance(
        "18452731", BookingOptions(name="train-1", image="pytorch/pytorch:2.4.0", disk_gb=80)
    )
    sent = fake.requests[0]
    assert sent.method == "PUT" and sent.headers["Authorization"] == "Bearer vk"
    assert fake.body() == {
        "client_id": "me",
        "image": "pytorch/pytorch:2.4.0",
        "disk": 80,
        "label": "train-1",
        "runtype": "ssh",
    }
    assert (booking.instance_id, booking.status, booking.offer_id) == (
        "7835610",
        "created",
        "18452731",
    )


async def test_book_instance_errors():
    fake = FakeProvider().on(
        "PUT", "/api/v0/asks/1/", httpx.Response(200, json={"success": False, "msg": "taken"})
    )
    with pytest.raises(ProviderAuthError):
        await adapter(fake).book_instance("1", BookingOptions())
    with pytest.raises(ProviderRequestError, match=r"not a Vast\.ai ask id"):
        await adapter(fake, api_key="k").book_instance("secure:x", BookingOptions())
    with pytest.raises(ProviderRequestError, match="taken"):
        await adapter(fake, api_key="k").book_instance("1", BookingOptions())
    spot = FakeProvider().on("PUT", "/api/v0/asks/2/", ok("vastai/accept_ask.json"))
    await adapter(spot, api_key="k").book_instance(
        "2", BookingOptions(spot_bid_per_gpu=Decimal("0.21"))
    )
    assert spot.body()["price"] == 0.21


async def test_nominal_vram_with_the_raw_figure_kept_and_the_plausibility_gate(caplog):
    """Issue 14: a Vast L40S reports 44.99 GiB; it is a 48 GB part. Implausible prices are
    rejected under the KPI anomaly codes and logged; TPUs are skipped on purpose."""
    caplog.set_level(logging.INFO, logger="gpubroker.providers")
    template = fixture("vastai/bundles.json")["offers"][0]
    l40s = {**template, "id": 1, "gpu_name": "L40S", "gpu_ram": 46068, "dph_total": 0.79}
    cents = {**template, "id": 2, "dph_total": 33.04}  # 33 cents read as dollars
    node = {**template, "id": 3, "gpu_name": "H100 SXM", "gpu_ram": 81559, "num_gpus": 8}
    node["dph_total"] = 8 * 8 * 2.5  # a node price taken as per GPU, times 8 again
    mig = {**template, "id": 4, "gpu_name": "A100 SXM4", "gpu_ram": 10240, "dph_total": 0.5}
    tpu = {**template, "id": 5, "gpu_name": "TPU v5e", "gpu_ram": 16384}
    fake = FakeProvider().on(
        "POST", BUNDLES, httpx.Response(200, json={"offers": [l40s, cents, node, mig, tpu]})
    )
    result = await adapter(fake).fetch_offers()
    [kept] = result.offers
    assert (kept.gpu_type, kept.gpu_memory_gb, kept.raw_gpu_memory_gb) == ("L40S", 48, 44.99)
    assert result.rejection_reasons == {
        "LIKELY_CENTS_AS_DOLLARS": 1,
        "LIKELY_PER_NODE_AS_PER_GPU": 1,
        "VRAM_IMPLAUSIBLE": 1,
    }
    assert result.skipped == {"non_gpu_accelerator:TPU": 1}
    assert result.unknown_gpu_names == {}
    logged = [r for r in caplog.records if r.getMessage() == "provider offer implausible; rejected"]
    assert sorted(r.reason for r in logged) == sorted(result.rejection_reasons)

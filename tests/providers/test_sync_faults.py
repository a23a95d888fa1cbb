"""Fault isolation: a provider that times out or answers garbage leaves the others synced and
its own previous offers intact."""

from __future__ import annotations

import httpx
import pytest

from apps.providers.adapters import ProviderRegistry, RetryPolicy
from apps.providers.adapters.tensordock import TensorDockAdapter
from apps.providers.events import catalogue_changed
from apps.providers.models import GPUOffer, PriceHistory, Provider
from apps.providers.sync import sync_provider, sync_providers
from apps.providers.sync_lock import provider_sync_lock
from apps.providers.sync_sources import use_transport

from .helpers import FakeProvider, fixture_text, ok

pytestmark = pytest.mark.django_db

HEALTHY = {
    "vastai": ("POST", "/api/v0/bundles/", "vastai/bundles.json"),
    "tensordock": ("GET", "/api/v2/locations", "tensordock/locations.json"),
}


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch):
    """Retries still happen (and are counted), without real waiting."""

    async def instant(delay: float) -> None:
        return None

    monkeypatch.setattr("apps.providers.adapters.http.asyncio.sleep", instant)


def healthy(name: str) -> FakeProvider:
    method, path, payload = HEALTHY[name]
    return FakeProvider().on(method, path, ok(payload))


def timing_out(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("provider did not answer in time", request=request)


def sync_both():
    return {r.provider: r for r in sync_providers(["vastai", "tensordock"])}


def snapshot(provider: str) -> list[tuple]:
    return sorted(
        GPUOffer.objects.filter(provider__name=provider).values_list(
            "external_id", "price_per_hour", "availability_status"
        )
    )


@pytest.mark.parametrize(
    ("failure", "code"),
    [
        (timing_out, "unavailable"),
        (
            lambda r: httpx.Response(200, text=fixture_text("common/cloudflare_502.html")),
            "bad_payload",
        ),
        (
            lambda r: httpx.Response(200, text=fixture_text("common/truncated_bundles.json")),
            "bad_payload",
        ),
        (lambda r: httpx.Response(503, json={"msg": "maintenance"}), "unavailable"),
        (lambda r: httpx.Response(200, json={"offers": ["x", None, 3]}), "bad_payload"),
    ],
)
def test_one_failing_provider_leaves_the_other_synced_and_its_offers_intact(failure, code):
    with (
        use_transport("vastai", healthy("vastai").transport),
        use_transport("tensordock", healthy("tensordock").transport),
    ):
        first = sync_both()
    assert first["vastai"].ok and first["tensordock"].ok
    before_vast = snapshot("vastai")
    history = PriceHistory.objects.filter(offer__provider__name="vastai").count()
    vast_synced_at = Provider.objects.get(name="vastai").last_sync_at
    tensordock_synced_at = Provider.objects.get(name="tensordock").last_sync_at

    broken = FakeProvider().on("POST", "/api/v0/bundles/", failure)
    with (
        use_transport("vastai", broken.transport),
        use_transport("tensordock", healthy("tensordock").transport),
    ):
        second = sync_both()

    assert second["vastai"].status == "failed" and second["vastai"].error_code == code
    assert second["tensordock"].ok and second["tensordock"].unchanged == 10
    assert snapshot("vastai") == before_vast  # nothing wiped, nothing marked unavailable
    assert PriceHistory.objects.filter(offer__provider__name="vastai").count() == history
    vast = Provider.objects.get(name="vastai")
    assert vast.error_count == 1 and vast.last_sync_at == vast_synced_at
    assert vast.reliability_score < 1.0
    resynced_at = Provider.objects.get(name="tensordock").last_sync_at
    assert resynced_at is not None and tensordock_synced_at is not None
    assert resynced_at > tensordock_synced_at


def test_a_timeout_is_retried_before_the_provider_is_given_up():
    broken = FakeProvider().on("POST", "/api/v0/bundles/", timing_out)
    with use_transport("vastai", broken.transport):
        report = sync_provider("vastai")
    assert report.status == "failed" and "timed out" in report.error
    assert len(broken.requests) == RetryPolicy().attempts


def test_a_failed_sync_publishes_no_event(django_capture_on_commit_callbacks):
    received = []

    def receiver(sender, **kwargs):
        received.append(kwargs)

    catalogue_changed.connect(receiver)
    try:
        broken = FakeProvider().on("POST", "/api/v0/bundles/", httpx.Response(500))
        with (
            django_capture_on_commit_callbacks(execute=True),
            use_transport("vastai", broken.transport),
        ):
            sync_provider("vastai")
    finally:
        catalogue_changed.disconnect(receiver)
    assert received == []


def test_an_adapter_bug_fails_only_its_provider():
    class CrashingTensorDock(TensorDockAdapter):
        async def _fetch(self):
            raise RuntimeError("bug in the parser")

    ProviderRegistry.register("tensordock", CrashingTensorDock)
    try:
        with use_transport("vastai", healthy("vastai").transport):
            reports = sync_both()
    finally:
        ProviderRegistry.register("tensordock", TensorDockAdapter)
    assert reports["tensordock"].status == "failed"
    assert reports["tensordock"].error_code == "RuntimeError"
    assert reports["vastai"].ok and reports["vastai"].new == 3


def test_credentials_missing_is_a_failure_not_a_crash():
    report = sync_provider("lambda")  # no GPUBROKER_LAMBDA_API_KEY, no integration
    assert report.status == "failed" and report.error_code == "auth_failed"
    assert Provider.objects.get(name="lambda").error_count == 1


def test_a_provider_locked_by_another_process_is_skipped_untouched():
    with use_transport("vastai", healthy("vastai").transport):
        sync_provider("vastai")
        before = Provider.objects.get(name="vastai")
        with provider_sync_lock("vastai") as acquired:
            assert acquired
            report = sync_provider("vastai")
    assert report.status == "skipped" and report.error_code == "locked"
    after = Provider.objects.get(name="vastai")
    assert (after.last_sync_at, after.error_count) == (before.last_sync_at, before.error_count)


def test_a_rate_limit_with_retry_after_is_waited_out(monkeypatch):
    waited = []

    async def record(delay: float) -> None:
        waited.append(delay)

    monkeypatch.setattr("apps.providers.adapters.http.asyncio.sleep", record)
    limited = FakeProvider().on(
        "POST",
        "/api/v0/bundles/",
        httpx.Response(429, headers={"Retry-After": "2"}, json={"msg": "too many requests"}),
        ok("vastai/bundles.json"),
    )
    with use_transport("vastai", limited.transport):
        report = sync_provider("vastai")
    assert report.ok and report.new == 3
    assert waited == [2.0]


def test_switched_off_providers_are_left_out_of_a_full_sync():
    from apps.providers.sync import providers_to_sync
    from apps.providers.sync_sources import SyncSource

    Provider.objects.create(
        name="runpod",
        display_name="RunPod",
        api_base_url="https://api.runpod.io",
        status="inactive",
    )
    Provider.objects.create(
        name="lambda", display_name="Lambda", api_base_url="https://x", status="maintenance"
    )
    expected = [n for n in ProviderRegistry.list_adapters() if n not in ("lambda", "runpod")]
    assert len(expected) == 11
    assert providers_to_sync() == expected
    assert providers_to_sync(["runpod"]) == ["runpod"]  # asked for by name: synced anyway
    reports = sync_providers(source=SyncSource("replay"))
    assert [r.provider for r in reports] == expected
    assert all(r.ok for r in reports), [(r.provider, r.error) for r in reports if not r.ok]


def test_an_empty_listing_while_offers_are_on_sale_is_not_trusted():
    with use_transport("vastai", healthy("vastai").transport):
        sync_provider("vastai")
    before = snapshot("vastai")
    empty = FakeProvider().on("POST", "/api/v0/bundles/", ok("vastai/empty.json"))
    with use_transport("vastai", empty.transport):
        report = sync_provider("vastai")
    assert report.status == "failed" and "empty listing while 3 offers" in report.error
    assert snapshot("vastai") == before

    GPUOffer.objects.update(availability_status="unavailable")
    with use_transport("vastai", empty.transport):
        quiet = sync_provider("vastai")  # nothing on sale: an empty listing is believable
    assert quiet.ok and quiet.offers == 0 and quiet.vanished == 0


@pytest.mark.parametrize(
    "failure",
    [
        httpx.Response(503, text="<html>Service Unavailable</html>"),
        httpx.Response(200, text="<!DOCTYPE html><html>maintenance</html>"),
        httpx.Response(200, text='{"Items": [{"armSkuName": "Standard_NC'),
        httpx.Response(429, headers={"Retry-After": "3600"}),
    ],
)
def test_a_failing_new_provider_keeps_its_offers_and_stops_no_other(failure):
    """Issue 14's providers behave like the first five: Azure failing after a good sync keeps
    its last good offers (none marked unavailable) and Oracle still syncs."""
    azure_ok = FakeProvider().on(
        "GET", "/api/retail/prices", ok("azure/prices_page1.json"), ok("azure/prices_page2.json")
    )
    oracle = FakeProvider().on("GET", "/pls/apex/cetools/api/v1/products/", ok("oci/products.json"))
    with use_transport("azure", azure_ok.transport), use_transport("oci", oracle.transport):
        assert all(r.ok for r in sync_providers(["azure", "oci"]))
    before = snapshot("azure")
    assert len(before) == 11 and {row[2] for row in before} == {"limited"}
    broken = FakeProvider().on("GET", "/api/retail/prices", failure)
    with use_transport("azure", broken.transport), use_transport("oci", oracle.transport):
        azure, oci = sync_providers(["azure", "oci"])
    assert (azure.status, oci.status) == ("failed", "ok")
    assert snapshot("azure") == before
    assert Provider.objects.get(name="azure").error_count == 1

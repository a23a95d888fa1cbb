"""The sync engine on the real database: upserts, price history, vanished offers, events,
provider statistics and statement counts."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.providers.adapters.vastai import VastAIAdapter
from apps.providers.events import OfferChange, catalogue_changed
from apps.providers.models import GPUOffer, PriceHistory, Provider
from apps.providers.sync import LAST_SEEN_RESOLUTION, RELIABILITY_ALPHA, sync_provider

from .helpers import fixture

pytestmark = pytest.mark.django_db


def vast(offers: list[dict]) -> VastAIAdapter:
    body = json.dumps({"offers": offers}).encode()
    return VastAIAdapter(
        transport=httpx.MockTransport(lambda request: httpx.Response(200, content=body))
    )


def bundles() -> list[dict]:
    return copy.deepcopy(fixture("vastai/bundles.json")["offers"])


@pytest.fixture
def events():
    received: list[tuple[str, list[OfferChange]]] = []

    def receiver(sender, provider, changes, **kwargs):
        received.append((provider, changes))

    catalogue_changed.connect(receiver)
    yield received
    catalogue_changed.disconnect(receiver)


def test_first_sync_creates_offers_history_and_links_benchmarks(
    benchmarks, events, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        report = sync_provider("vastai", adapter=vast(bundles()))
    assert (report.status, report.fetched, report.new, report.changed, report.vanished) == (
        "ok",
        3,
        3,
        0,
        0,
    )
    provider = Provider.objects.get(name="vastai")
    assert provider.display_name == "Vast.ai" and provider.api_base_url == "https://console.vast.ai"
    assert provider.last_sync_at is not None and provider.error_count == 0
    assert provider.is_sample_data is False

    h100 = GPUOffer.objects.get(provider=provider, external_id="20017744")
    assert (h100.gpu_type, h100.raw_gpu_name, h100.gpu_count, h100.gpu_memory_gb) == (
        "H100 SXM 80GB",
        "H100 SXM",
        8,
        80,
    )
    assert h100.price_per_hour == Decimal("16.8174")
    assert h100.price_per_gpu_hour == Decimal("2.1022")
    assert (h100.region, h100.country, h100.is_datacenter, h100.cpu_cores, h100.ram_gb) == (
        "Sweden, SE",
        "SE",
        True,
        224,
        2015,
    )
    assert h100.benchmark is not None and h100.benchmark.gpu_model == "H100 SXM 80GB"
    assert list(h100.price_history.values_list("price_per_hour", "availability_status")) == [
        (Decimal("16.8174"), "available")
    ]
    assert PriceHistory.objects.count() == 3

    [(name, changes)] = events
    assert name == "vastai" and {c.kind for c in changes} == {"new"}
    change = next(c for c in changes if c.offer_id == str(h100.id))
    assert change.as_message()["new_price_per_hour"] == "16.8174"
    assert change.as_message()["new_price_per_gpu_hour"] == "2.1022"
    assert (change.old_price_per_hour, change.old_availability) == (None, None)
    assert (change.gpu_model, change.gpu_count, change.region, change.country) == (
        "H100 SXM 80GB",
        8,
        "Sweden, SE",
        "SE",
    )
    assert change.extra == {"external_id": "20017744", "raw_gpu_name": "H100 SXM"}


def test_resync_writes_history_only_for_real_changes(events, django_capture_on_commit_callbacks):
    sync_provider("vastai", adapter=vast(bundles()))
    history = PriceHistory.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        same = sync_provider("vastai", adapter=vast(bundles()))
    assert (same.new, same.changed, same.unchanged, same.vanished) == (0, 0, 3, 0)
    assert PriceHistory.objects.count() == history
    assert events[-1] == ("vastai", [])  # re-synced, nothing changed: still signalled

    offers = bundles()
    offers[0]["dph_total"] = 0.3104  # price cut
    offers[1]["rented"] = True  # now unavailable
    offers[2]["cpu_ram"] = 257550  # attribute change only: no history
    with django_capture_on_commit_callbacks(execute=True):
        moved = sync_provider("vastai", adapter=vast(offers))
    assert (moved.new, moved.changed, moved.unchanged, moved.vanished) == (0, 2, 1, 0)
    assert PriceHistory.objects.count() == history + 2
    cut = GPUOffer.objects.get(external_id="18452731")
    assert cut.price_per_hour == Decimal("0.3104")
    assert list(cut.price_history.order_by("id").values_list("price_per_hour", flat=True)) == [
        Decimal("0.3304"),
        Decimal("0.3104"),
    ]
    assert GPUOffer.objects.get(external_id="19266010").ram_gb == 126  # rewritten, no history
    kinds = {(c.offer_id, c.kind) for c in events[-1][1]}
    assert kinds == {
        (str(cut.id), "changed"),
        (str(GPUOffer.objects.get(external_id="20017744").id), "changed"),
    }
    price_change = next(c for c in events[-1][1] if c.offer_id == str(cut.id))
    assert (price_change.old_price_per_hour, price_change.new_price_per_hour) == (
        Decimal("0.3304"),
        Decimal("0.3104"),
    )
    avail = next(c for c in events[-1][1] if c.offer_id != str(cut.id))
    assert (avail.old_availability, avail.new_availability) == ("available", "unavailable")


def test_vanished_offers_are_marked_unavailable_not_deleted_and_can_return(
    events, django_capture_on_commit_callbacks
):
    sync_provider("vastai", adapter=vast(bundles()))
    seen_at = GPUOffer.objects.get(external_id="19266010").last_seen_at
    with django_capture_on_commit_callbacks(execute=True):
        report = sync_provider("vastai", adapter=vast(bundles()[:2]))
    assert report.vanished == 1
    gone = GPUOffer.objects.get(external_id="19266010")
    assert gone.availability_status == "unavailable"
    assert gone.last_seen_at == seen_at  # when it was last listed, not now
    assert gone.price_history.latest("id").availability_status == "unavailable"
    [vanished] = [c for c in events[-1][1] if c.kind == "vanished"]
    assert (vanished.offer_id, vanished.new_price_per_hour) == (str(gone.id), Decimal("0.3704"))

    again = sync_provider("vastai", adapter=vast(bundles()[:2]))
    assert (again.vanished, again.changed) == (0, 0)  # still gone: no new history

    back = sync_provider("vastai", adapter=vast(bundles()))
    assert (back.new, back.changed) == (0, 1)
    gone.refresh_from_db()
    assert gone.availability_status == "available" and gone.last_seen_at > seen_at
    assert gone.price_history.count() == 3  # new, vanished, back


def test_unknown_gpus_are_stored_unlinked_and_duplicates_rejected():
    offers = bundles()
    offers[0]["gpu_name"] = "Radeon Pro W7900"
    offers[0]["gpu_ram"] = 49136
    offers.append(copy.deepcopy(offers[1]))
    report = sync_provider("vastai", adapter=vast(offers))
    assert (report.offers, report.rejected) == (3, 1)
    assert report.rejection_reasons == {"duplicate:external_id": 1}
    odd = GPUOffer.objects.get(external_id="18452731")
    assert (odd.gpu_type, odd.benchmark_id, odd.gpu_memory_gb) == ("Radeon Pro W7900", None, 48)


def test_statement_count_does_not_grow_with_the_number_of_offers():
    template = bundles()[0]

    def generated(n: int, start: int) -> list[dict]:
        return [{**template, "id": start + i, "dph_total": 0.3 + i / 10_000} for i in range(n)]

    counts = {}
    for n, start in ((20, 1_000), (400, 100_000)):
        offers = generated(n, start)
        Provider.objects.filter(name="vastai").delete()
        with CaptureQueriesContext(connection) as first:
            sync_provider("vastai", adapter=vast(offers))
        offers[0]["dph_total"] = 0.45  # a plausible new price (the gate rejects absurd ones)
        offers[1]["rented"] = True
        with CaptureQueriesContext(connection) as resync:
            report = sync_provider("vastai", adapter=vast(offers))
        assert report.changed == 2
        counts[n] = (len(first.captured_queries), len(resync.captured_queries))
    assert counts[20][1] == counts[400][1], counts  # re-sync: the same statements for 20x offers
    # first sync: INSERTs go in batches (bounded by the backend's parameter limit), never per offer
    assert counts[400][0] < 400 / 10, counts


def test_last_seen_is_refreshed_in_bulk_once_older_than_the_resolution():
    sync_provider("vastai", adapter=vast(bundles()))
    old = timezone.now() - LAST_SEEN_RESOLUTION * 2
    GPUOffer.objects.update(last_seen_at=old)
    sync_provider("vastai", adapter=vast(bundles()[:2]))
    seen = dict(GPUOffer.objects.values_list("external_id", "last_seen_at"))
    assert seen["19266010"] == old  # vanished: keeps when it was last listed
    assert seen["18452731"] > old and seen["20017744"] > old

    fresh = seen["18452731"]
    sync_provider("vastai", adapter=vast(bundles()[:2]))
    assert GPUOffer.objects.get(external_id="18452731").last_seen_at == fresh  # within resolution


def test_reliability_is_an_ewma_and_error_count_counts_consecutive_failures():
    broken = VastAIAdapter(
        transport=httpx.MockTransport(lambda r: httpx.Response(200, text="<html>"))
    )
    sync_provider("vastai", adapter=vast(bundles()))
    provider = Provider.objects.get(name="vastai")
    assert provider.reliability_score == pytest.approx(1.0)
    sync_provider("vastai", adapter=broken)
    sync_provider("vastai", adapter=broken)
    provider.refresh_from_db()
    assert provider.error_count == 2
    assert provider.reliability_score == pytest.approx((1 - RELIABILITY_ALPHA) ** 2)
    sync_provider("vastai", adapter=vast(bundles()))
    provider.refresh_from_db()
    assert provider.error_count == 0
    assert provider.reliability_score == pytest.approx(
        (1 - RELIABILITY_ALPHA) ** 3 + RELIABILITY_ALPHA
    )


def test_switching_from_sample_to_live_data_starts_afresh():
    from apps.providers.sync_sources import SyncSource

    sample = sync_provider("vastai", source=SyncSource("replay", snapshot=1))
    assert sample.ok and Provider.objects.get(name="vastai").is_sample_data
    assert GPUOffer.objects.filter(provider__name="vastai").count() == sample.offers
    live = sync_provider("vastai", adapter=vast(bundles()))
    assert live.new == 3 and live.vanished == 0
    assert set(GPUOffer.objects.values_list("external_id", flat=True)) == {
        "18452731",
        "20017744",
        "19266010",
    }
    assert Provider.objects.get(name="vastai").is_sample_data is False
    assert PriceHistory.objects.count() == 3  # the sample history went with the sample offers


def test_provider_last_sync_is_the_start_of_the_successful_sync():
    before = timezone.now()
    sync_provider("vastai", adapter=vast(bundles()))
    synced_at = Provider.objects.get(name="vastai").last_sync_at
    assert synced_at is not None
    assert before <= synced_at <= timezone.now()
    assert synced_at - before < timedelta(seconds=30)

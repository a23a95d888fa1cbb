"""The offer cache: the key scheme, invalidation by a sync (visible on the very next request),
and a broken Redis that degrades to the database instead of failing requests."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from apps.providers import offer_cache
from apps.providers.events import OfferChange, catalogue_changed, publish_offer_changes
from apps.providers.models import GPUOffer
from apps.providers.offer_filters import OfferFilters
from tests.catalogue.facades import graphql_ids, rest_ids
from tests.catalogue_factories import make_offer, make_provider

pytestmark = pytest.mark.django_db

#: Nothing listens on this port (it is in this worktree's private range): a Redis that is down.
DEAD_REDIS = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:18599/0",
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
    }
}


def test_key_is_v2_prefixed_sha256_of_the_normalised_search():
    one = OfferFilters(region=["eu-ro-1", "US-TX-3"], price_max=Decimal("2.5")).validated()
    same = OfferFilters(region=["us-tx-3", "EU-RO-1", "eu-ro-1"], price_max=Decimal("2.50"))
    key = offer_cache.page_key({"filters": one.cache_parts(), "page": {"offset": 0}}, 7)
    assert key.startswith("v2:offers:") and len(key) == len("v2:offers:") + 64
    assert key == offer_cache.page_key(
        {"page": {"offset": 0}, "filters": same.validated().cache_parts()}, 7
    )
    assert key != offer_cache.page_key({"filters": one.cache_parts(), "page": {"offset": 20}}, 7)
    assert key != offer_cache.page_key({"filters": one.cache_parts(), "page": {"offset": 0}}, 8)


@pytest.fixture
def two_offers(db):
    provider = make_provider("runpod")
    cheap = make_offer(provider, gpu="RTX 4090", gpu_memory_gb=24, price_per_hour=Decimal("1.0"))
    dear = make_offer(provider, gpu="RTX 4090", gpu_memory_gb=24, price_per_hour=Decimal("1.5"))
    return provider, cheap, dear


def _change(offer: GPUOffer, old: Decimal, new: Decimal) -> OfferChange:
    return OfferChange(
        kind="changed",
        offer_id=str(offer.id),
        provider="runpod",
        gpu_model=offer.gpu_type,
        gpu_count=offer.gpu_count,
        region=offer.region,
        country=offer.country,
        is_spot=offer.is_spot,
        old_price_per_hour=old,
        new_price_per_hour=new,
        old_availability="available",
        new_availability="available",
        changed_at=timezone.now(),
    )


def test_a_sync_that_changes_prices_is_visible_on_the_very_next_request(
    client, two_offers, django_capture_on_commit_callbacks
):
    _, cheap, dear = two_offers
    params = {"price_max": "1.2"}
    assert rest_ids(client, params) == ([str(cheap.id)], 1)
    assert graphql_ids(client, {"filter": {"priceMax": "1.2"}}) == ([str(cheap.id)], 1)

    # A write that bypasses the sync's event is not seen: the page of ids comes from the cache.
    GPUOffer.objects.filter(pk=cheap.pk).update(price_per_hour=Decimal("2.0"))
    assert rest_ids(client, params) == ([str(cheap.id)], 1)

    # The sync engine's way: change prices and publish in one transaction; after commit the
    # catalogue version moves on, so the next request reads the database.
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        GPUOffer.objects.filter(pk=dear.pk).update(price_per_hour=Decimal("0.9"))
        publish_offer_changes("runpod", [_change(dear, Decimal("1.5"), Decimal("0.9"))])
    assert len(callbacks) == 1
    assert rest_ids(client, params) == ([str(dear.id)], 1)
    assert graphql_ids(client, {"filter": {"priceMax": "1.2"}}) == ([str(dear.id)], 1)
    item = client.get("/api/v2/providers", params).json()["items"][0]
    assert item["price_per_hour"] == "0.9000"


def test_a_rolled_back_sync_keeps_the_version(two_offers, django_capture_on_commit_callbacks):
    version = offer_cache.current_version()
    assert version is not None
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                publish_offer_changes("runpod", [])
                raise RuntimeError("provider API failed mid-sync")
        except RuntimeError:
            pass
    assert callbacks == []
    assert offer_cache.current_version() == version
    catalogue_changed.send(sender=OfferChange, provider="runpod", changes=[])
    assert offer_cache.current_version() == version + 1


def test_an_evicted_version_counter_is_recreated_never_reused(client, two_offers):
    _, cheap, _ = two_offers
    first = offer_cache.current_version()
    assert first is not None
    rest_ids(client, {"price_max": "1.2"})
    offer_cache._cache().delete(offer_cache.VERSION_KEY)
    offer_cache.bump_version()
    assert (offer_cache.current_version() or 0) > first
    assert rest_ids(client, {"price_max": "1.2"}) == ([str(cheap.id)], 1)


@override_settings(OFFER_CACHE_SECONDS=0)
def test_zero_ttl_turns_the_cache_off(client, two_offers, django_assert_num_queries):
    for _ in range(2):
        # count, page, and (uncached too) the market rows the items' anomaly flags compare with
        with django_assert_num_queries(3):
            client.get("/api/v2/providers")


@override_settings(CACHES=DEAD_REDIS)
def test_redis_down_serves_from_the_database_and_logs(client, two_offers, caplog):
    _, cheap, dear = two_offers
    caplog.set_level(logging.WARNING, logger="gpubroker.offer_cache")
    assert rest_ids(client, {}) == ([str(cheap.id), str(dear.id)], 2)
    assert graphql_ids(client, {}) == ([str(cheap.id), str(dear.id)], 2)
    warnings = [r for r in caplog.records if r.name == "gpubroker.offer_cache"]
    # One failure opens the breaker: the next requests do not wait on Redis again.
    assert len(warnings) == 1 and "serving from the database" in warnings[0].getMessage()
    # A sync finishing while Redis is down is not an error either.
    catalogue_changed.send(sender=OfferChange, provider="runpod", changes=[])
    offer_cache.reset_breaker()
    response = client.get("/api/v2/providers", {"price_max": "1.2"})
    assert response.status_code == 200 and response.json()["total"] == 1

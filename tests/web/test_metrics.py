"""``/metrics``: not public outside development, bearer-token protected when configured; the
domain metrics move when the things they count happen."""

from __future__ import annotations

import gc

import pytest
from django.test import override_settings
from prometheus_client import REGISTRY

from apps.providers import offer_cache
from apps.providers.services import replay_tick
from gpubroker import metrics

pytestmark = pytest.mark.django_db


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@override_settings(METRICS_TOKEN="", DEBUG=False)
def test_not_public_without_a_token_outside_debug(client):
    response = client.get("/metrics")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"


@override_settings(METRICS_TOKEN="s3cret-metrics-token")
def test_bearer_token_required_when_configured(client):
    for headers in ({}, {"HTTP_AUTHORIZATION": "Bearer wrong"}, {"HTTP_AUTHORIZATION": "Basic x"}):
        refused = client.get("/metrics", **headers)
        assert refused.status_code == 401
        assert refused["WWW-Authenticate"].startswith("Bearer")
        assert refused.json()["error"]["code"] == "UNAUTHENTICATED"
    answer = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-metrics-token")
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/plain")
    body = answer.content.decode()
    assert "django_http_requests_total_by_method_total" in body  # django-prometheus
    assert "gpubroker_sync_duration_seconds" in body


@override_settings(METRICS_TOKEN="", DEBUG=True)
def test_open_in_development(client):
    assert client.get("/metrics").status_code == 200


def test_sync_metrics_follow_the_sync_report(benchmarks):
    before_runs = sample("gpubroker_sync_duration_seconds_count", provider="lambda", status="ok")
    before_new = sample("gpubroker_sync_offers_total", provider="lambda", outcome="new")
    reports = {r.provider: r for r in replay_tick(0, providers=["lambda"])}
    assert (
        sample("gpubroker_sync_duration_seconds_count", provider="lambda", status="ok")
        == before_runs + 1
    )
    after_new = sample("gpubroker_sync_offers_total", provider="lambda", outcome="new")
    assert after_new - before_new == reports["lambda"].new > 0


@override_settings(OFFER_CACHE_SECONDS=30)
def test_offer_cache_hits_and_misses_are_counted(client, benchmarks):
    replay_tick(0, providers=["lambda"])
    offer_cache.reset_breaker()
    hits, misses = (
        sample("gpubroker_offer_cache_requests_total", result=r) for r in ("hit", "miss")
    )
    assert client.get("/api/v2/providers?gpu_type=H100").status_code == 200
    assert client.get("/api/v2/providers?gpu_type=H100").status_code == 200
    assert sample("gpubroker_offer_cache_requests_total", result="miss") == misses + 1
    assert sample("gpubroker_offer_cache_requests_total", result="hit") == hits + 1


def test_operation_names_are_bounded():
    assert metrics.operation_label(None) == "anonymous"
    assert metrics.operation_label("not a name!") == "invalid"
    assert metrics.operation_label("x" * 65) == "invalid"
    assert metrics.operation_label("CheapestOffers") == "CheapestOffers"
    with override_settings(METRICS_MAX_OPERATION_NAMES=len(metrics._names)):
        assert metrics.operation_label("NeverSeenBefore123") == "other"
        assert metrics.operation_label("CheapestOffers") == "CheapestOffers"


def test_garbage_collector_pauses_are_counted_per_generation():
    before_count = sample("gpubroker_gc_pauses_total", generation="2")
    before_seconds = sample("gpubroker_gc_pause_seconds_total", generation="2")
    for _ in range(3):
        gc.collect()
    assert sample("gpubroker_gc_pauses_total", generation="2") == before_count + 3
    assert sample("gpubroker_gc_pause_seconds_total", generation="2") > before_seconds
    longest = sample("gpubroker_gc_pause_max_seconds", generation="2")
    assert 0 < longest <= sample("gpubroker_gc_pause_seconds_total", generation="2")

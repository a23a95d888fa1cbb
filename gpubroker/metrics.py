"""Prometheus metrics (seed D11): django-prometheus' request, database and cache metrics plus the
domain's own, all exposed at ``/metrics`` by :func:`metrics_view`.

``/metrics`` is not public in production: with ``METRICS_TOKEN`` set it answers only requests
carrying ``Authorization: Bearer <METRICS_TOKEN>`` (401 otherwise); without it, only when
``DEBUG`` is on (development), and 404 elsewhere. Each server process keeps its own counters:
Prometheus scrapes every process (compose: ``web1:8000`` and ``web2:8000``), not the balancer.

Domain metrics (names as exported):

* ``gpubroker_sync_duration_seconds{provider, status}``: one provider sync (histogram);
* ``gpubroker_sync_offers_total{provider, outcome}``: offers per sync, outcome new, changed,
  unchanged or vanished; ``gpubroker_sync_rejected_total{provider}``: records rejected;
* ``gpubroker_graphql_duration_seconds{operation, type}``: GraphQL execution by operation name;
* ``gpubroker_graphql_query_cost{operation}``: each operation's size (fields after fragments);
* ``gpubroker_websocket_connections{endpoint}``: open, admitted connections (graphql, ws);
* ``gpubroker_price_events_published_total``: price changes sent to the channel layer;
  ``gpubroker_price_events_delivered_total{endpoint}``: price changes delivered to subscribers;
* ``gpubroker_offer_cache_requests_total{result}``: offer-search cache lookups, result hit, miss,
  error or bypass (cache down); the hit ratio is hit / all;
* ``gpubroker_gc_pause_seconds_total{generation}``, ``gpubroker_gc_pauses_total{generation}`` and
  ``gpubroker_gc_pause_max_seconds{generation}``: the cyclic garbage collector's collections and
  the CPU time they took (the interpreter is held while one runs; ``gpubroker/asgi.py`` freezes
  what start-up built so that full collections stay short); ``gpubroker_gc_tracked_objects`` and
  ``gpubroker_gc_frozen_objects``: what a full collection walks, and what it skips. CPU time of
  the collecting thread, not wall time: on a busy machine the process may wait for a CPU in the
  middle of a collection, which says nothing about the collector.

Operation names come from clients, so their label is bounded: names that are not GraphQL names
count as ``invalid``, unnamed operations as ``anonymous``, and past ``METRICS_MAX_OPERATION_NAMES``
distinct names the rest count as ``other``.
"""

from __future__ import annotations

import gc
import hmac
import re
import threading
import time
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django_prometheus.exports import ExportToDjangoView
from prometheus_client import REGISTRY, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from apps.core.errors import envelope
from gpubroker.observability import current_trace_id

SYNC_DURATION = Histogram(
    "gpubroker_sync_duration_seconds",
    "Duration of one provider sync.",
    ["provider", "status"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)
SYNC_OFFERS = Counter(
    "gpubroker_sync_offers_total",
    "Offers seen by provider syncs, by outcome.",
    ["provider", "outcome"],
)
SYNC_REJECTED = Counter(
    "gpubroker_sync_rejected_total", "Provider records rejected by the adapters.", ["provider"]
)
GRAPHQL_DURATION = Histogram(
    "gpubroker_graphql_duration_seconds",
    "GraphQL operation execution time by operation name.",
    ["operation", "type"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
GRAPHQL_COST = Histogram(
    "gpubroker_graphql_query_cost",
    "Computed cost of GraphQL operations.",
    ["operation"],
    buckets=(1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000),
)
WEBSOCKET_CONNECTIONS = Gauge(
    "gpubroker_websocket_connections", "Open, admitted WebSocket connections.", ["endpoint"]
)
PRICE_EVENTS_PUBLISHED = Counter(
    "gpubroker_price_events_published_total", "Price changes published to the channel layer."
)
PRICE_EVENTS_DELIVERED = Counter(
    "gpubroker_price_events_delivered_total",
    "Price changes delivered to WebSocket subscribers.",
    ["endpoint"],
)
OFFER_CACHE_REQUESTS = Counter(
    "gpubroker_offer_cache_requests_total", "Offer-search cache lookups.", ["result"]
)


class GcPauses:
    """Pauses of the cyclic garbage collector per generation, from ``gc.callbacks``. The
    callback only does arithmetic on its own lists (no lock: it runs inside whatever allocation
    triggered the collection, possibly while a metric's lock is held); ``collect`` reads them at
    scrape time."""

    def __init__(self) -> None:
        self.count = [0, 0, 0]
        self.seconds = [0.0, 0.0, 0.0]
        self.longest = [0.0, 0.0, 0.0]
        self._started = 0.0

    def callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.thread_time()
            return
        generation = int(info.get("generation", 2))
        paused = time.thread_time() - self._started
        self.count[generation] += 1
        self.seconds[generation] += paused
        if paused > self.longest[generation]:
            self.longest[generation] = paused

    def collect(self) -> Any:
        total = CounterMetricFamily(
            "gpubroker_gc_pause_seconds",
            "Time the cyclic garbage collector held the interpreter.",
            labels=["generation"],
        )
        count = CounterMetricFamily(
            "gpubroker_gc_pauses",
            "Collections of the cyclic garbage collector.",
            labels=["generation"],
        )
        longest = GaugeMetricFamily(
            "gpubroker_gc_pause_max_seconds",
            "Longest pause of the cyclic garbage collector since start.",
            labels=["generation"],
        )
        tracked = GaugeMetricFamily(
            "gpubroker_gc_tracked_objects",
            "Objects the collector walks in a full collection (the frozen ones excluded).",
            value=len(gc.get_objects()),
        )
        frozen = GaugeMetricFamily(
            "gpubroker_gc_frozen_objects",
            "Objects frozen out of the collector (gc.freeze()).",
            value=gc.get_freeze_count(),
        )
        for generation in range(3):
            total.add_metric([str(generation)], self.seconds[generation])
            count.add_metric([str(generation)], self.count[generation])
            longest.add_metric([str(generation)], self.longest[generation])
        yield from (total, count, longest, tracked, frozen)


GC_PAUSES = GcPauses()
gc.callbacks.append(GC_PAUSES.callback)
REGISTRY.register(GC_PAUSES)

_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]{0,63}$")
_names: set[str] = set()
_names_lock = threading.Lock()


def operation_label(name: str | None) -> str:
    """A bounded label value for a client-chosen operation name."""
    if not name:
        return "anonymous"
    if not _NAME.match(name):
        return "invalid"
    if name in _names:
        return name
    with _names_lock:
        if len(_names) >= int(getattr(settings, "METRICS_MAX_OPERATION_NAMES", 200)):
            return "other"
        _names.add(name)
    return name


def endpoint_label(path: str | None) -> str:
    return "graphql" if (path or "").startswith("/graphql") else "ws"


def record_sync(report: Any) -> None:
    """One provider sync's figures (``apps.providers.sync.SyncReport``)."""
    SYNC_DURATION.labels(report.provider, report.status).observe(report.seconds)
    for outcome in ("new", "changed", "unchanged", "vanished"):
        count = int(getattr(report, outcome, 0) or 0)
        if count:
            SYNC_OFFERS.labels(report.provider, outcome).inc(count)
    if report.rejected:
        SYNC_REJECTED.labels(report.provider).inc(report.rejected)


def _bearer(request: HttpRequest) -> str:
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else ""


def metrics_view(request: HttpRequest) -> HttpResponse:
    token = str(getattr(settings, "METRICS_TOKEN", "") or "")
    if token:
        if not hmac.compare_digest(_bearer(request).encode(), token.encode()):
            refused = JsonResponse(
                envelope(
                    "UNAUTHENTICATED",
                    "Metrics need the metrics bearer token.",
                    None,
                    current_trace_id(),
                ),
                status=401,
            )
            refused["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return refused
    elif not settings.DEBUG:
        return JsonResponse(
            envelope("NOT_FOUND", "Not found.", None, current_trace_id()), status=404
        )
    response: HttpResponse = ExportToDjangoView(request)
    response["Cache-Control"] = "no-store"
    return response

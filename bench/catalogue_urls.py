"""Bench-only URLconf: the product's URLs plus

* ``/bench/offers``, a bare Django view returning the same page of offers (with provider and
  benchmark) as JSON — the baseline of what the stack costs with no API framework;
* ``/graphql-async/``, the same schema behind strawberry's *async* Django view (the wiring the
  product had before; the product now uses the sync view), to keep that choice measured.

Never part of the product's URLs."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from strawberry.django.views import AsyncGraphQLView

from apps.providers.models import GPUOffer
from gpubroker.urls import urlpatterns as product_urlpatterns
from schema import schema

PAGE_SIZE = 50


def bare_offers(request: HttpRequest) -> JsonResponse:
    page = max(1, int(request.GET.get("page", "1")))
    matching = GPUOffer.objects.filter(availability_status="available")
    total = matching.count()
    rows = matching.select_related("provider", "benchmark").order_by("price_per_hour", "id")
    start = (page - 1) * PAGE_SIZE
    items = []
    for offer in rows[start : start + PAGE_SIZE]:
        benchmark = offer.benchmark
        items.append(
            {
                "id": str(offer.id),
                "gpuType": offer.gpu_type,
                "gpuCount": offer.gpu_count,
                "gpuMemoryGb": offer.gpu_memory_gb,
                "pricePerHour": str(offer.price_per_hour),
                "pricePerGpuHour": str(offer.price_per_gpu_hour),
                "region": offer.region,
                "country": offer.country,
                "availabilityStatus": offer.availability_status,
                "isSpot": offer.is_spot,
                "lastSeenAt": offer.last_seen_at.isoformat(),
                "provider": {
                    "name": offer.provider.name,
                    "displayName": offer.provider.display_name,
                    "reliabilityScore": offer.provider.reliability_score,
                },
                "benchmark": None
                if benchmark is None
                else {
                    "gpuModel": benchmark.gpu_model,
                    "vendor": benchmark.vendor,
                    "tflopsFp16": benchmark.tflops_fp16,
                    "tokensPerSecond7b": benchmark.tokens_per_second_7b,
                },
            }
        )
    return JsonResponse({"total": total, "items": items})


urlpatterns = [
    path("bench/offers", bare_offers),
    path("graphql-async/", csrf_exempt(AsyncGraphQLView.as_view(schema=schema))),
    *product_urlpatterns,
]

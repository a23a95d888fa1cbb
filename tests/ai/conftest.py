from __future__ import annotations

from decimal import Decimal

import pytest


@pytest.fixture
def model_catalogue(db):
    """The model catalogue (``manage.py load_models``): published architectures by alias."""
    from apps.math_core.model_catalogue import load_models

    load_models()


@pytest.fixture
def demo_catalogue(model_catalogue):
    """What ``make run`` loads: the GPU dataset, the model catalogue and the recorded provider
    snapshots replayed through the real adapters (so price history exists)."""
    from apps.math_core.benchmark_loader import load_benchmarks
    from apps.providers.services import load_demo_data

    load_benchmarks()
    load_demo_data()


@pytest.fixture(autouse=True)
def _fresh_circuits():
    from apps.ai_assistant.circuit import reset_breakers

    reset_breakers()
    yield
    reset_breakers()


@pytest.fixture
def h100_history(demo_catalogue, settings):
    """The demo catalogue's H100 offers with 35 days of recorded history: 25 % dearer 35 days
    ago, 15 % 8 days ago, 5 % 30 hours ago, today's price for the last hour; the daily and
    hourly price index stored over it (what ``make run``'s maintenance does)."""
    from datetime import timedelta

    from django.utils import timezone

    from apps.kpi.index_engine import update_price_index
    from apps.providers.models import GPUOffer
    from tests.kpi.market import record

    settings.KPI_INDEX_BACKFILL_DAYS = 40
    now = timezone.now()
    h100s = list(GPUOffer.objects.filter(gpu_type__startswith="H100"))
    assert h100s
    GPUOffer.objects.filter(pk__in=[o.pk for o in h100s]).update(
        created_at=now - timedelta(days=40)
    )
    changes = []
    for offer in h100s:
        price = offer.price_per_hour
        for age, factor in (
            (timedelta(days=35), "1.25"),
            (timedelta(days=8), "1.15"),
            (timedelta(hours=30), "1.05"),
            (timedelta(hours=1), "1"),
        ):
            new = (price * Decimal(factor)).quantize(Decimal("0.0001"))
            changes.append((offer, now - age, new, offer.availability_status))
    record(changes)
    update_price_index(bucket="day")
    update_price_index(bucket="hour")
    return h100s

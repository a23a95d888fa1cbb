"""The landing page at ``/``: links, the market snapshot from the catalogue, no made-up chart."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.providers.models import Availability
from apps.providers.snapshot import most_offered_models
from tests.catalogue_factories import make_offer, make_provider

pytestmark = pytest.mark.django_db


@pytest.fixture
def market():
    cheap = make_provider("cheapcloud", display_name="Cheap Cloud")
    dear = make_provider("dearcloud", display_name="Dear Cloud")
    # H100: three on sale; the cheapest *per GPU-hour* is the 8-GPU node (16.00 / 8 = 2.00).
    make_offer(dear, gpu="NVIDIA H100 80GB HBM3", price_per_hour=Decimal("2.4900"))
    make_offer(cheap, gpu="H100 SXM", price_per_hour=Decimal("16.0000"), gpu_count=8, region="eu-1")
    make_offer(dear, gpu="H100_SXM5", price_per_hour=Decimal("2.2000"))
    # ... and a cheaper one that is not on sale
    make_offer(
        cheap,
        gpu="H100 SXM",
        price_per_hour=Decimal("0.5000"),
        availability_status=Availability.UNAVAILABLE,
    )
    # RTX 4090: two on sale; A100: one
    make_offer(cheap, gpu="GeForce RTX 4090", gpu_memory_gb=24, price_per_hour=Decimal("0.4400"))
    make_offer(
        dear, gpu="RTX 4090", gpu_memory_gb=24, price_per_hour=Decimal("0.3900"), is_spot=True
    )
    make_offer(dear, gpu="A100 SXM4 80GB", price_per_hour=Decimal("1.2900"))


def test_snapshot_ranks_models_by_offers_on_sale_with_the_cheapest_per_gpu_hour(market):
    rows = most_offered_models(limit=2)
    assert [(r.gpu_model, r.offers_on_sale) for r in rows] == [
        ("H100 SXM 80GB", 3),
        ("RTX 4090", 2),
    ]
    assert rows[0].cheapest.provider.name == "cheapcloud"
    assert rows[0].cheapest_per_gpu_hour == Decimal("2.0000")
    assert rows[1].cheapest_per_gpu_hour == Decimal("0.3900")
    assert most_offered_models(limit=0) == []


def test_landing_page_shows_links_snapshot_and_says_when_there_is_no_kpi_data(client, market):
    response = client.get("/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    for href in ('href="/api/v2/docs"', 'href="/admin/"', 'href="/health"'):
        assert href in html
    assert "H100 SXM 80GB" in html and "$2.0000" in html and "8× at Cheap Cloud, eu-1" in html
    assert "RTX 4090" in html and "(spot)" in html
    assert 'id="no-kpi-data"' in html and "<svg" not in html
    assert '<meta http-equiv="refresh"' in html
    assert "<script" not in html  # plain HTML: works without scripts


def test_empty_catalogue_says_so(client):
    html = client.get("/").content.decode()
    assert "No offers in the catalogue yet" in html
    assert 'id="no-kpi-data"' in html


def test_only_safe_methods(client):
    assert client.head("/").status_code == 200
    assert client.post("/").status_code == 405


def test_admin_view_site_leads_to_the_landing_page(admin_client):
    html = admin_client.get("/admin/").content.decode()
    assert 'href="/"' in html


def test_the_chart_is_the_kpi_engines_hourly_series(client, benchmarks):
    from datetime import timedelta

    from django.utils import timezone

    from apps.kpi.index_engine import update_price_index
    from tests.catalogue_factories import make_history

    provider = make_provider("chartcloud", display_name="Chart Cloud")
    start = timezone.now() - timedelta(hours=6)
    for price in ("2.00", "2.10", "2.20"):
        offer = make_offer(provider, gpu="NVIDIA H100 80GB HBM3", price_per_hour=Decimal(price))
        make_history(offer, [price, price, price, price, price], start=start + timedelta(hours=4))
    update_price_index(bucket="hour", backfill_days=1)

    from gpubroker.web.views import price_series

    series = price_series("H100 SXM 80GB")
    assert len(series) >= 2
    for point in series:
        assert point.low is not None and point.high is not None
        assert point.low <= point.value <= point.high
    html = client.get("/").content.decode()
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="price-chart"' in html
    assert "H100 SXM 80GB median price per GPU-hour" in html
    assert 'id="no-kpi-data"' not in html

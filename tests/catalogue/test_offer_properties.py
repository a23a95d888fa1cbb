"""Property-based: for generated catalogues, filters, orderings and pages, both facades return
exactly what the plain-Python statement of the rules (``tests/catalogue/reference.py``) returns —
on whichever database the suite runs (SQLite and PostgreSQL in CI)."""

from __future__ import annotations

import base64
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.providers import offer_cache
from apps.providers.models import Availability, GPUOffer
from apps.providers.offer_filters import RANGE_PAIRS, OfferFilters
from apps.providers.offer_metrics import TFLOPS_COLUMN, OrderField
from tests.catalogue.facades import graphql_filter, graphql_ids, rest_ids
from tests.catalogue.reference import expected_ids
from tests.catalogue_factories import benchmark_index, build_offer, make_provider
from tests.graphql_client import run_operation

pytestmark = pytest.mark.django_db

GPUS = [
    ("H100 SXM", 80),
    ("NVIDIA H100 80GB HBM3", 80),
    ("H100 PCIe", 80),
    ("H100 NVL", 94),
    ("A100 PCIE", 80),
    ("A100", 40),
    ("GeForce RTX 4090", 24),
    ("RTX 3090", 24),
    ("L40S", 48),
    ("A10G", 24),
    ("T4", 16),
    ("MI300X", 192),
    ("RTX A5000", 24),
    ("MI250X", 128),
    ("Tesla K80", 12),
    ("Gaudi 2", 96),
]
PRICE_GRID = [Decimal(p) for p in ("0.0000", "0.3400", "0.5000", "1.0000", "1.2000", "2.0000")]
prices = st.one_of(
    st.sampled_from(PRICE_GRID),
    st.decimals(min_value=0, max_value=60, places=4, allow_nan=False, allow_infinity=False),
)
TAGS = ["SOC2", "soc2", "HIPAA", "gdpr", "ISO27001"]

offer_specs = st.fixed_dictionaries(
    {
        "provider": st.integers(0, 2),
        "gpu": st.sampled_from(GPUS),
        "gpu_count": st.sampled_from([1, 2, 3, 4, 8]),
        "price_per_hour": prices,
        "region": st.sampled_from(["us-east-1", "US-EAST-1", "eu-ro-1", "Texas, US"]),
        "country": st.sampled_from(["US", "us", "RO", "CA", "", "JP"]),
        "availability_status": st.sampled_from(Availability.values),
        "is_spot": st.booleans(),
        "is_datacenter": st.booleans(),
        "compliance_tags": st.lists(st.sampled_from(TAGS), max_size=3),
        "cpu_cores": st.sampled_from([0, 8, 16, 32]),
        "ram_gb": st.sampled_from([0, 64, 256]),
        "storage_gb": st.sampled_from([0, 100, 1000]),
        "minutes_ago": st.integers(0, 4),
    }
)


def _ordered_ranges(values: dict[str, Any]) -> dict[str, Any]:
    for low, high in RANGE_PAIRS:
        if low in values and high in values and values[low] > values[high]:
            values[low], values[high] = values[high], values[low]
    return values


filter_specs = st.fixed_dictionaries(
    {},
    optional={
        "gpu_model": st.lists(
            st.sampled_from(
                ["H100_SXM5", "rtx 4090", "A100 40GB", "tesla k80", "MI250X", "H100", "a100"]
            ),
            min_size=1,
            max_size=3,
        ),
        "gpu_family": st.lists(
            st.sampled_from(["H100", "a100", "RTX4090", "L40S", "Gaudi 2"]), min_size=1, max_size=2
        ),
        "gpu_type": st.sampled_from(["A100", "4090", "h100_sxm5", "gaudi", "RTX", "k8"]),
        "vendor": st.sampled_from(["NVIDIA", "AMD"]),
        "vram_gb_min": st.sampled_from([0, 24, 48, 80]),
        "vram_gb_max": st.sampled_from([24, 48, 96, 192]),
        "total_vram_gb_min": st.sampled_from([24, 80, 160]),
        "total_vram_gb_max": st.sampled_from([48, 96, 320]),
        "gpu_count_min": st.integers(1, 4),
        "gpu_count_max": st.integers(1, 8),
        "provider_name": st.lists(st.sampled_from(["runpod", "VASTAI", "lambda"]), min_size=1),
        "region": st.lists(st.sampled_from(["us-east-1", "EU-RO-1", "texas, us"]), min_size=1),
        "country": st.lists(st.sampled_from(["US", "ro", "DE"]), min_size=1, max_size=2),
        "macro_region": st.lists(
            st.sampled_from(["europe", "north-america", "asia-pacific"]), min_size=1, max_size=2
        ),
        "price_min": prices,
        "price_max": prices,
        "price_per_gpu_hour_min": prices,
        "price_per_gpu_hour_max": prices,
        "availability": st.lists(st.sampled_from(Availability.values), min_size=1, max_size=2),
        "is_spot": st.booleans(),
        "datacenter_only": st.booleans(),
        "compliance_tags": st.lists(st.sampled_from(TAGS), min_size=1, max_size=2),
        "reliability_min": st.sampled_from([0.5, 0.82, 0.9, 0.99]),
        "cpu_cores_min": st.sampled_from([8, 16]),
        "ram_gb_min": st.sampled_from([64, 256]),
        "storage_gb_min": st.sampled_from([100, 1000]),
    },
).map(_ordered_ranges)


@pytest.fixture
def three_providers(benchmarks):
    return [
        make_provider("runpod", reliability_score=0.99),
        make_provider("vastai", reliability_score=0.82),
        make_provider("lambda", reliability_score=0.97),
    ]


def _create(providers, specs: list[dict[str, Any]]) -> list[GPUOffer]:
    index = benchmark_index()
    now = timezone.now()
    offers = []
    for spec in specs:
        values = dict(spec)
        gpu, memory = values.pop("gpu")
        provider = providers[values.pop("provider")]
        values.pop("minutes_ago")
        offers.append(
            build_offer(provider, gpu=gpu, gpu_memory_gb=memory, benchmarks=index, **values)
        )
    GPUOffer.objects.bulk_create(offers)
    for minutes in {spec["minutes_ago"] for spec in specs}:
        ids = [o.id for o, s in zip(offers, specs, strict=True) if s["minutes_ago"] == minutes]
        GPUOffer.objects.filter(id__in=ids).update(last_seen_at=now - timedelta(minutes=minutes))
    # A re-sync happened: cached pages of earlier examples must not be served.
    offer_cache.bump_version()
    return list(GPUOffer.objects.select_related("provider", "benchmark"))


def _rest_params(filters: dict[str, Any]) -> dict[str, Any]:
    return {k: str(v) if isinstance(v, Decimal) else v for k, v in filters.items()}


def _cursor(position: int) -> str:
    return base64.b64encode(f"offer:{position}".encode()).decode()


PROPERTY_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@PROPERTY_SETTINGS
@given(
    specs=st.lists(offer_specs, max_size=18),
    filters=filter_specs,
    order=st.sampled_from(list(OrderField)),
    descending=st.booleans(),
    precision=st.sampled_from(list(TFLOPS_COLUMN)),
)
def test_both_facades_return_exactly_the_reference_selection(
    client, three_providers, specs, filters, order, descending, precision
):
    with transaction.atomic():
        offers = _create(three_providers, specs)
        expected = expected_ids(
            offers, OfferFilters.from_values(filters), order, descending, precision
        )
        rest, rest_total = rest_ids(
            client,
            {
                **_rest_params(filters),
                "order_by": order.value,
                "descending": descending,
                "precision": precision.value,
            },
        )
        graphql, graphql_total = graphql_ids(
            client,
            {
                "filter": graphql_filter(_rest_params(filters)),
                "orderBy": order.name,
                "direction": "DESC" if descending else "ASC",
                "precision": precision.name,
            },
        )
        transaction.set_rollback(True)
    assert rest == expected
    assert graphql == expected
    assert rest_total == graphql_total == len(expected)


@PROPERTY_SETTINGS
@given(
    specs=st.lists(offer_specs, min_size=1, max_size=18),
    filters=filter_specs,
    order=st.sampled_from(list(OrderField)),
    per_page=st.integers(1, 7),
    page=st.integers(1, 4),
)
def test_pages_and_cursors_slice_the_reference_order(
    client, three_providers, specs, filters, order, per_page, page
):
    with transaction.atomic():
        offers = _create(three_providers, specs)
        expected = expected_ids(offers, OfferFilters.from_values(filters), order)
        window = expected[(page - 1) * per_page : page * per_page]
        rest = client.get(
            "/api/v2/providers",
            {**_rest_params(filters), "order_by": order.value, "page": page, "per_page": per_page},
        ).json()
        after = _cursor((page - 1) * per_page - 1) if page > 1 else None
        graphql = run_operation(
            client,
            "OfferSearch",
            {
                "filter": graphql_filter(_rest_params(filters)),
                "orderBy": order.name,
                "first": per_page,
                "after": after,
            },
        )["data"]["offers"]
        transaction.set_rollback(True)
    assert [item["id"] for item in rest["items"]] == window
    assert [edge["node"]["id"] for edge in graphql["edges"]] == window
    assert rest["total"] == graphql["totalCount"] == len(expected)
    assert graphql["pageInfo"]["hasNextPage"] == (page * per_page < len(expected))

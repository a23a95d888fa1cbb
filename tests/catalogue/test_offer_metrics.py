"""The SQL ordering keys compute exactly what the per-row fields compute with ``costs.py`` (same
IEEE operations, so the same numbers on SQLite, PostgreSQL and Python); the portable JSON tag
condition; cursors and filter normalisation."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from apps.core.errors import ValidationFailed
from apps.math_core.algorithms import costs
from apps.math_core.algorithms.gpu_spec import Precision
from apps.providers import offer_metrics
from apps.providers.json_tags import JSONArrayHasText
from apps.providers.models import GPUOffer
from apps.providers.offer_filters import OfferFilters
from apps.providers.offer_metrics import TFLOPS_COLUMN
from apps.providers.offer_pages import CursorPage, NumberedPage, decode_cursor, encode_cursor
from tests.catalogue_factories import make_offer

AWKWARD_PRICES = ["0.0001", "0.3333", "0.7000", "1.1000", "2.6900", "23.9200", "999999.9999"]


@pytest.fixture
def awkward_offers(catalogue):
    provider = catalogue.providers["runpod"]
    for position, price in enumerate(AWKWARD_PRICES):
        for gpu, memory in (("H100 NVL", 94), ("RTX 3090", 24), ("A10G", 24), ("T4", 16)):
            make_offer(
                provider,
                gpu=gpu,
                gpu_memory_gb=memory,
                gpu_count=(1, 3, 7, 8)[position % 4],
                price_per_hour=Decimal(price),
            )
    return catalogue


@pytest.mark.django_db
def test_sql_cost_keys_equal_the_costs_module_exactly(awkward_offers):
    rows = GPUOffer.objects.select_related("benchmark").annotate(
        tokens=offer_metrics.cost_per_million_tokens_key(),
        per_gpu=offer_metrics.price_per_gpu_hour_key(),
        **{p.value: offer_metrics.cost_per_tflop_hour_key(p) for p in TFLOPS_COLUMN},
    )
    checked = 0
    row: Any
    for row in rows:
        assert row.tokens == offer_metrics.cost_per_million_tokens_value(row)
        assert row.per_gpu == float(row.price_per_hour) / row.gpu_count
        for precision in TFLOPS_COLUMN:
            assert getattr(row, precision.value) == offer_metrics.cost_per_tflop_hour_value(
                row, precision
            )
        if row.benchmark is not None and row.benchmark.tflops_fp16:
            assert row.fp16 == costs.cost_per_tflop_hour(
                price_per_hour=row.price_per_hour,
                tflops_per_gpu=row.benchmark.tflops_fp16,
                gpu_count=row.gpu_count,
            )
            checked += 1
    assert checked >= 20
    # T4s hold a 7-8B FP16 model only in pairs: a 1-GPU T4 has no figure, a 3-GPU one runs one
    # replica (the same rule in SQL and in costs.py).
    t4 = {row.gpu_count: row.tokens for row in rows if row.gpu_type == "T4"}  # type: ignore[attr-defined]
    assert t4[1] is None and t4[3] is not None and t4[8] is not None


@pytest.mark.django_db
def test_a10g_without_fp8_or_int8_figures_is_null_not_zero(awkward_offers):
    a10g = GPUOffer.objects.select_related("benchmark").filter(gpu_type="A10G")[0]
    assert offer_metrics.cost_per_tflop_hour(a10g, Precision.INT8) is None
    assert offer_metrics.cost_per_tflop_hour(a10g, Precision.FP16) is not None


@pytest.mark.django_db
def test_compliance_tag_condition_is_exact_and_case_insensitive(catalogue):
    make_offer(catalogue.providers["runpod"], gpu="L4", compliance_tags=["SOC2-Type2", "iso"])
    make_offer(catalogue.providers["runpod"], gpu="L4", compliance_tags={"soc2": True})

    def tagged(tag: str) -> set[str]:
        return {
            o.gpu_type for o in GPUOffer.objects.filter(JSONArrayHasText("compliance_tags", tag))
        }

    assert tagged("SOC2") == {"H100 SXM 80GB", "L40S"}  # not "SOC2-Type2", not an object key
    assert tagged("soc2-type2") == {"L4"}
    assert tagged("hipaa") == {"H100 SXM 80GB"}
    assert tagged("so") == set()


def test_cursors_round_trip_and_reject_anything_else():
    assert decode_cursor(encode_cursor(41), "after") == 41
    for bad in ["", "b2ZmZXI6", encode_cursor(-1), "x" * 100, "offer:3", "b2ZmZXI6MDE="]:
        with pytest.raises(ValidationFailed) as error:
            decode_cursor(bad, "after")
        assert error.value.field == "after"


def test_page_bounds():
    assert NumberedPage(page=3, per_page=10).bounds(100) == (20, 30)
    assert CursorPage(first=5, after=encode_cursor(9)).bounds(100) == (10, 15)
    assert CursorPage(last=5).bounds(12) == (7, 12)
    assert CursorPage(last=5, before=encode_cursor(3)).bounds(12) == (0, 3)
    assert CursorPage(first=5, after=encode_cursor(50)).bounds(12) == (51, 51)
    assert CursorPage().bounds(100) == (0, 20)


def test_filters_are_normalised_for_equal_cache_keys():
    one = OfferFilters(gpu_model=["H100", "A100"], country=["us", "DE"], compliance_tags=["SOC2"])
    two = OfferFilters(
        gpu_model=["A100", "H100", "A100"], country=["de", "US"], compliance_tags=["soc2"]
    )
    assert one.validated().cache_parts() == two.validated().cache_parts()
    assert OfferFilters(datacenter_only=False).validated().cache_parts() == {}

"""GPU families on both facades: a family name matches every variant, a variant only itself
(issue 14: ``gpuModel: ["H100"]`` used to mean H100 SXM only and hid the cheapest H100)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.math_core.algorithms.gpu_names import gpu_family_list
from tests.catalogue.facades import graphql_ids, rest_ids
from tests.catalogue_factories import make_offer, make_provider
from tests.graphql_client import run_operation

pytestmark = pytest.mark.django_db


@pytest.fixture
def h100s(benchmarks):
    provider = make_provider("runpod")
    return {
        "sxm": make_offer(provider, gpu="H100 SXM", price_per_hour=Decimal("1.6800")),
        "pcie": make_offer(provider, gpu="H100 PCIe", price_per_hour=Decimal("1.5000")),
        "nvl": make_offer(provider, gpu="H100 NVL", gpu_memory_gb=94, price_per_hour=Decimal("2")),
        "h200": make_offer(provider, gpu="H200", gpu_memory_gb=141, price_per_hour=Decimal("3")),
        "a100": make_offer(
            provider, gpu="A100-PCIE-40GB", gpu_memory_gb=40, price_per_hour=Decimal("1.2")
        ),
    }


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"gpu_model": ["H100"]}, ["pcie", "sxm", "nvl"]),
        ({"gpu_model": ["nvidia h100"]}, ["pcie", "sxm", "nvl"]),
        ({"gpu_model": ["H100 PCIe"]}, ["pcie"]),
        ({"gpu_model": ["H100_SXM5"]}, ["sxm"]),
        ({"gpu_model": ["H100 PCIe", "A100"]}, ["a100", "pcie"]),
        ({"gpu_family": ["h100"]}, ["pcie", "sxm", "nvl"]),
        ({"gpu_family": ["H200", "A100"]}, ["a100", "h200"]),
        ({"gpu_family": ["H100"], "gpu_model": ["H100 NVL"]}, ["nvl"]),
    ],
)
def test_family_rule_on_both_facades(client, h100s, filters, expected):
    ids = [str(h100s[name].id) for name in expected]
    assert rest_ids(client, filters) == (ids, len(ids))
    camel = {"gpu_model": "gpuModel", "gpu_family": "gpuFamily"}
    variables = {"filter": {camel[k]: v for k, v in filters.items()}}
    assert graphql_ids(client, variables) == (ids, len(ids))


def test_the_cheapest_h100_is_found_by_the_family_name(client, h100s):
    body = client.get("/api/v2/providers", {"gpu_model": "H100", "per_page": 1}).json()
    assert body["items"][0]["gpu_type"] == "H100 PCIe 80GB"
    assert body["items"][0]["price_per_hour"] == "1.5000"
    assert body["items"][0]["gpu_family"] == "H100"


@pytest.mark.parametrize("value", ["H100 PCIe", "Tesla K80", "Q"])
def test_gpu_family_filter_refuses_what_is_not_a_family(client, h100s, value):
    response = client.get("/api/v2/providers", {"gpu_family": value})
    assert response.status_code == 422
    assert "gpu_family" in {detail["field"] for detail in response.json()["error"]["details"]}
    answer = run_operation(client, "OfferSearch", {"filter": {"gpuFamily": [value]}})
    assert answer["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR"
    assert answer["errors"][0]["extensions"]["field"] == "gpu_family"


def test_offers_and_benchmarks_expose_the_family(client, h100s):
    data = run_operation(client, "OfferSearch", {"filter": {"gpuFamily": ["H100"]}})["data"]
    assert {edge["node"]["gpuFamily"] for edge in data["offers"]["edges"]} == {"H100"}
    detail = run_operation(client, "BenchmarkDetail", {"gpuModel": "H100 PCIe"})["data"]
    assert detail["benchmark"]["gpuFamily"] == "H100"
    rest = client.get("/api/v2/math/benchmarks/H100 PCIe").json()
    assert rest["gpu_family"] == "H100"


def test_gpu_families_list_is_the_same_on_both_facades(client):
    expected = [
        {"name": name, "vendor": vendor, "variants": list(variants)}
        for name, vendor, variants in gpu_family_list()
    ]
    data = run_operation(client, "GpuFamilies", {})["data"]["gpuFamilies"]
    assert data == expected
    assert client.get("/api/v2/providers/gpu-families").json() == expected
    h100 = next(item for item in data if item["name"] == "H100")
    assert h100 == {
        "name": "H100",
        "vendor": "NVIDIA",
        "variants": ["H100 NVL 94GB", "H100 PCIe 80GB", "H100 SXM 80GB"],
    }

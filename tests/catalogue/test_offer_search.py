"""The offer search through both facades: each filter, orderings, pagination, and the two facades
agreeing row for row."""

from __future__ import annotations

from typing import Any

import pytest

from apps.providers.offer_filters import OfferFilters
from apps.providers.offer_metrics import OrderField, Precision
from tests.catalogue.facades import graphql_filter, graphql_ids, rest_ids
from tests.catalogue.reference import expected_ids
from tests.graphql_client import run_operation

pytestmark = pytest.mark.django_db


# (REST params == OfferFilters fields, the offers of the catalogue fixture expected to match)
FILTER_CASES: list[tuple[dict[str, Any], set[str]]] = [
    ({"gpu_model": ["H100_SXM5"]}, {"h100_runpod", "h100x8_lambda"}),
    (
        {"gpu_model": ["nvidia geforce rtx 4090", "A100 40GB"]},
        {"4090_vast", "4090_runpod_spot", "a100_40_lambda"},
    ),
    ({"gpu_model": ["tesla k80"]}, {"k80_vast"}),
    ({"gpu_type": "A100"}, {"a100_40_lambda", "a100_80_vast"}),
    ({"gpu_type": "H100_SXM5"}, {"h100_runpod", "h100x8_lambda"}),
    ({"gpu_type": "gaudi"}, {"gaudi_lambda"}),
    ({"vendor": "AMD"}, {"mi300x_runpod", "mi250x_vast"}),
    (
        {"vendor": "nvidia", "gpu_count_min": 2},
        {"h100x8_lambda", "a100_80_vast", "4090_vast", "a5000_vast"},
    ),
    (
        {"vram_gb_min": 80, "vram_gb_max": 96},
        {"h100_runpod", "h100x8_lambda", "a100_80_vast", "gaudi_lambda"},
    ),
    (
        {"total_vram_gb_min": 160},
        {"h100x8_lambda", "a100_80_vast", "mi300x_runpod", "gaudi_lambda"},
    ),
    (
        {"total_vram_gb_max": 48},
        {"a100_40_lambda", "4090_runpod_spot", "l40s_runpod", "k80_vast", "a5000_vast"},
    ),
    ({"gpu_count_max": 1, "price_max": "0.9"}, {"4090_runpod_spot", "l40s_runpod", "mi250x_vast"}),
    ({"price_min": "2.49", "price_max": "2.69"}, {"h100_runpod", "mi300x_runpod"}),
    (
        {"price_per_gpu_hour_max": "0.34"},
        {"4090_vast", "4090_runpod_spot", "a5000_vast", "k80_vast"},
    ),
    ({"price_per_gpu_hour_min": "2.99"}, {"h100x8_lambda"}),
    (
        {"provider_name": ["RunPod", "lambda"], "region": ["eu-ro-1"]},
        {"4090_runpod_spot", "l40s_runpod"},
    ),
    ({"country": ["ca", "DE"]}, {"a100_80_vast", "gaudi_lambda"}),
    ({"availability": ["limited", "unavailable"]}, {"4090_vast", "a5000_vast"}),
    ({"is_spot": True}, {"a100_80_vast", "4090_runpod_spot"}),
    (
        {"is_spot": False, "datacenter_only": True, "vendor": "AMD"},
        {"mi300x_runpod", "mi250x_vast"},
    ),
    ({"datacenter_only": True, "gpu_type": "4090"}, {"4090_runpod_spot"}),
    ({"compliance_tags": ["soc2"]}, {"h100x8_lambda", "l40s_runpod"}),
    ({"compliance_tags": ["GDPR", "SOC2"]}, {"l40s_runpod"}),
    ({"reliability_min": 0.97, "cpu_cores_min": 16}, {"h100x8_lambda", "gaudi_lambda"}),
    ({"ram_gb_min": 256, "storage_gb_min": 1600}, {"h100x8_lambda", "gaudi_lambda"}),
]


@pytest.mark.parametrize(("params", "expected"), FILTER_CASES)
def test_each_filter_on_both_facades(client, catalogue, params, expected):
    ids_by_name = {str(offer.id): name for name, offer in catalogue.offers.items()}
    rest, rest_total = rest_ids(client, params)
    graphql, graphql_total = graphql_ids(client, {"filter": graphql_filter(params)})
    assert {ids_by_name[i] for i in rest} == expected
    assert rest == graphql
    assert rest_total == graphql_total == len(expected)
    # ... and the plain-Python statement of the filters agrees.
    assert rest == expected_ids(catalogue.all(), OfferFilters.from_values(params))


def test_no_filter_lists_every_offer_including_unknown_gpus(client, catalogue):
    rest, total = rest_ids(client, {})
    assert total == len(catalogue.offers) == len(rest)
    body = client.get("/api/v2/providers", {"gpu_type": "k80"}).json()
    (k80,) = body["items"]
    assert k80["vendor"] is None and k80["cost_per_million_tokens"] is None


@pytest.mark.parametrize("order", list(OrderField))
@pytest.mark.parametrize("descending", [False, True])
def test_orderings_agree_with_the_reference_on_both_facades(client, catalogue, order, descending):
    precision = Precision.FP8
    rest, _ = rest_ids(
        client, {"order_by": order.value, "descending": descending, "precision": precision.value}
    )
    graphql, _ = graphql_ids(
        client,
        {
            "orderBy": order.name,
            "direction": "DESC" if descending else "ASC",
            "precision": precision.name,
        },
    )
    assert rest == graphql
    assert rest == expected_ids(catalogue.all(), OfferFilters(), order, descending, precision)


def test_offers_without_a_rate_sort_last_in_both_directions(client, catalogue):
    no_tokens = {
        str(catalogue.offers[n].id)
        for n in ("a5000_vast", "mi250x_vast", "k80_vast", "gaudi_lambda")
    }
    for descending in (False, True):
        ids, _ = rest_ids(client, {"order_by": "cost_per_million_tokens", "descending": descending})
        assert set(ids[-len(no_tokens) :]) == no_tokens
        assert not no_tokens & set(ids[: -len(no_tokens)])
    # A100s publish no FP8 figure: they join the unbenchmarked offers at the end.
    ids, _ = rest_ids(client, {"order_by": "cost_per_tflop_hour", "precision": "fp8"})
    tail = no_tokens | {str(catalogue.offers[n].id) for n in ("a100_40_lambda", "a100_80_vast")}
    assert set(ids[-len(tail) :]) == tail


def test_graphql_cursor_pagination_walks_forward_and_back(client, catalogue):
    everything, total = graphql_ids(client, {})
    seen: list[str] = []
    after = None
    while True:
        page = run_operation(client, "OfferSearch", {"first": 5, "after": after})["data"]["offers"]
        assert page["totalCount"] == total
        seen += [edge["node"]["id"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == everything
    last = run_operation(client, "OfferSearch", {"first": None, "last": 3, "before": after})
    connection = last["data"]["offers"]
    assert [edge["node"]["id"] for edge in connection["edges"]] == everything[6:9]
    assert connection["pageInfo"]["hasPreviousPage"] is True
    tail = run_operation(client, "OfferSearch", {"first": None, "last": 2})["data"]["offers"]
    assert [edge["node"]["id"] for edge in tail["edges"]] == everything[-2:]
    empty = run_operation(client, "OfferSearch", {"first": 0})["data"]["offers"]
    assert empty["edges"] == [] and empty["totalCount"] == total


def test_rest_pages_match_graphql_pages(client, catalogue):
    for page in (1, 2, 3):
        rest = client.get("/api/v2/providers", {"page": page, "per_page": 5}).json()
        assert rest["page"] == page and rest["per_page"] == 5 and rest["total"] == 12
        after = None if page == 1 else _cursor((page - 1) * 5 - 1)
        gql = run_operation(client, "OfferSearch", {"first": 5, "after": after})
        assert [i["id"] for i in rest["items"]] == [
            e["node"]["id"] for e in gql["data"]["offers"]["edges"]
        ]
    beyond = client.get("/api/v2/providers", {"page": 9, "per_page": 5}).json()
    assert beyond["items"] == [] and beyond["total"] == 12


def _cursor(position: int) -> str:
    import base64

    return base64.b64encode(f"offer:{position}".encode()).decode()


def test_rest_items_carry_the_seed_field_names_and_decimal_money(client, catalogue):
    item = client.get("/api/v2/providers", {"gpu_model": "H100 SXM", "gpu_count_min": 8}).json()[
        "items"
    ][0]
    seed_fields = {"id", "provider", "gpu_type", "gpu_memory_gb", "price_per_hour", "region"}
    assert seed_fields | {"availability_status", "compliance_tags"} <= set(item)
    assert item["provider"] == "lambda"
    assert item["gpu_type"] == "H100 SXM 80GB"
    assert item["price_per_hour"] == "23.9200"
    assert item["price_per_gpu_hour"] == "2.9900"
    assert item["gpu_count"] == 8 and item["total_vram_gb"] == 640
    assert item["availability_status"] == "available"
    assert item["is_spot"] is False and item["is_datacenter"] is True
    assert item["cost_per_tflop_hour"] == "0.00302173"  # 23.92 / (989.5 x 8), 6 digits

"""Offer detail, providers, computed fields, and bad input on both facades (clear errors naming
the field; never a 500)."""

from __future__ import annotations

import base64
import uuid
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.utils import timezone

from apps.math_core.algorithms import costs
from apps.providers.models import ProviderStatus
from tests.catalogue_factories import make_history, make_offer
from tests.graphql_client import execute, run_operation

pytestmark = pytest.mark.django_db


def test_offer_detail_with_history_and_computed_costs(client, catalogue):
    offer = catalogue.offers["h100x8_lambda"]
    make_history(offer, ["25.0000", "24.5000", "23.9200"], step=timedelta(days=1))
    data = run_operation(client, "OfferDetail", {"id": str(offer.id), "historyFirst": 2})
    detail = data["data"]["offer"]
    assert detail["__typename"] == "GPUOffer"
    assert detail["provider"]["name"] == "lambda" and detail["provider"]["status"] == "ACTIVE"
    assert detail["benchmark"]["gpuModel"] == "H100 SXM 80GB"
    assert detail["pricePerGpuHour"] == "2.9900"
    assert [row["pricePerHour"] for row in detail["priceHistory"]] == ["23.9200", "24.5000"]
    expected_tokens = costs.cost_per_million_tokens(
        price_per_hour=Decimal("23.92"), tokens_per_second=offer.benchmark.tokens_per_second_7b * 8
    )
    tokens = detail["costPerMillionTokens"]
    # An 8B FP16 model fits one 80 GB GPU: eight replicas, one stream each.
    assert Decimal(tokens["costPerMillionTokens"]) == Decimal(repr(expected_tokens)).quantize(
        Decimal("0.0001"), rounding=ROUND_HALF_UP
    )
    assert tokens["tokensPerSecond"] == offer.benchmark.tokens_per_second_7b * 8
    assert (tokens["gpusPerReplica"], tokens["replicas"]) == (1, 8)
    assert detail["fp16"] == "0.00302173"  # 23.92 / (989.5 x 8), 6 significant digits
    assert detail["fp32"] == "0.0446269"  # 23.92 / (67 x 8)
    since = (timezone.now() - timedelta(hours=36)).isoformat()
    recent = run_operation(client, "OfferDetail", {"id": str(offer.id), "historySince": since})
    assert [r["pricePerHour"] for r in recent["data"]["offer"]["priceHistory"]] == [
        "23.9200",
        "24.5000",
    ]


def test_token_cost_for_other_model_sizes_is_a_labelled_bandwidth_estimate(client, catalogue):
    small_card = str(catalogue.offers["4090_runpod_spot"].id)  # measured 7-8B rate, 1 x 24 GB
    small = run_operation(client, "OfferDetail", {"id": small_card})["data"]["offer"]
    assert small["costPerMillionTokens"]["isEstimate"] is False
    assert "measured" in small["costPerMillionTokens"]["basis"]
    # 141 GB of FP16 weights cannot be held by one 24 GB card: no figure, not a wrong one.
    big = run_operation(client, "OfferDetail", {"id": small_card, "modelSize": "SIZE_70B"})
    assert big["data"]["offer"]["costPerMillionTokens"] is None
    # ... but by 8 x 80 GB: two GPUs per replica, four replicas, a bandwidth estimate.
    eight = str(catalogue.offers["h100x8_lambda"].id)
    data = run_operation(client, "OfferDetail", {"id": eight, "modelSize": "SIZE_70B"})
    cost = data["data"]["offer"]["costPerMillionTokens"]
    assert (cost["gpusPerReplica"], cost["replicas"], cost["isEstimate"]) == (2, 4, True)
    assert "memory bandwidth" in cost["basis"] and cost["modelParamsBillion"] == 70.6
    assert Decimal(cost["costPerMillionTokens"]) == Decimal(
        repr(23.92 / (cost["tokensPerSecond"] * 3600) * 1e6)
    ).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
    quantised = run_operation(
        client, "OfferDetail", {"id": small_card, "paramsBillion": 3.0, "weights": "INT4"}
    )
    custom = quantised["data"]["offer"]["costPerMillionTokens"]
    assert (custom["modelParamsBillion"], custom["precision"]) == (3.0, "int4")


def test_costs_are_null_without_benchmark_data(client, catalogue):
    offer = catalogue.offers["k80_vast"]
    detail = run_operation(client, "OfferDetail", {"id": str(offer.id)})["data"]["offer"]
    assert detail["benchmark"] is None and detail["vendor"] is None
    assert detail["costPerMillionTokens"] is None
    assert detail["fp16"] is None and detail["pricePerGpuHour"] == "0.0300"
    a100 = run_operation(client, "OfferDetail", {"id": str(catalogue.offers["a100_80_vast"].id)})
    assert a100["data"]["offer"]["fp8"] is None  # the A100 publishes no FP8 figure
    assert a100["data"]["offer"]["int8"] is not None


def test_unknown_offer_is_a_typed_not_found(client, catalogue):
    missing = uuid.uuid4()
    data = run_operation(client, "OfferDetail", {"id": str(missing)})
    assert data["data"]["offer"] == {
        "__typename": "NotFoundError",
        "message": f"No offer with id {missing}.",
        "code": "NOT_FOUND",
    }
    malformed = run_operation(client, "OfferDetail", {"id": "not-a-uuid"})
    assert malformed["data"] is None
    assert malformed["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "$id" in malformed["errors"][0]["message"]


def test_providers_with_status_reliability_and_offer_counts(client, catalogue):
    catalogue.providers["lambda"].status = ProviderStatus.MAINTENANCE
    catalogue.providers["lambda"].save()
    data = run_operation(client, "ProviderList", {})
    rows = {row["name"]: row for row in data["data"]["providers"]}
    assert list(rows) == ["lambda", "runpod", "vastai"]
    assert rows["vastai"]["offerCount"] == 5
    assert rows["vastai"]["availableOfferCount"] == 3  # one limited, one unavailable
    assert rows["runpod"]["offerCount"] == 4 and rows["runpod"]["reliabilityScore"] == 0.99
    assert rows["lambda"]["status"] == "MAINTENANCE" and rows["lambda"]["isSampleData"] is False
    assert rows["lambda"]["lastSyncAt"] is not None
    only = run_operation(client, "ProviderList", {"status": "MAINTENANCE"})
    assert [row["name"] for row in only["data"]["providers"]] == ["lambda"]


# --- bad input -------------------------------------------------------------------------------
def _cursor(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"after": "garbage!"}, "after"),
        ({"after": _cursor("offer:-1")}, "after"),
        ({"after": _cursor("offer:abc")}, "after"),
        ({"after": _cursor("user:3")}, "after"),
        ({"first": None, "last": 5, "before": "%%%"}, "before"),
        ({"first": 101}, "first"),
        ({"first": -1}, "first"),
        ({"first": 5, "last": 5}, "last"),
        ({"filter": {"priceMin": "5", "priceMax": "1"}}, "price_min"),
        ({"filter": {"vramGbMin": -8}}, "vram_gb_min"),
        ({"filter": {"gpuCountMin": 9, "gpuCountMax": 2}}, "gpu_count_min"),
        ({"filter": {"pricePerGpuHourMax": "-0.5"}}, "price_per_gpu_hour_max"),
        ({"filter": {"priceMax": "0.00001"}}, "price_max"),
        ({"filter": {"reliabilityMin": 1.5}}, "reliability_min"),
        ({"filter": {"country": ["USA"]}}, "country"),
        ({"filter": {"complianceTags": ["soc2'; drop table"]}}, "compliance_tags"),
        ({"filter": {"gpuType": "   "}}, "gpu_type"),
        ({"filter": {"region": ["x"] * 51}}, "region"),
    ],
)
def test_graphql_bad_search_input_is_a_validation_error_naming_the_field(
    client, catalogue, variables, field
):
    response = run_operation(client, "OfferSearch", variables)
    assert response["data"] is None
    error = response["errors"][0]
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    assert error["extensions"]["field"] == field
    assert field in error["message"] or field in {"after", "before"}


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("{ offers(orderBy: PRICEY) { totalCount } }", "OfferOrderField"),
        ("{ offers(filter: {availability: [SOMETIMES]}) { totalCount } }", "Availability"),
        ("{ offers(filter: {vendor: QUALCOMM}) { totalCount } }", "Vendor"),
        ('{ offers(first: "ten") { totalCount } }', "Int cannot represent"),
        ('{ offers(filter: {priceMax: "cheap"}) { totalCount } }', "Decimal"),
    ],
)
def test_graphql_unknown_enums_and_wrong_types_are_rejected(client, catalogue, query, fragment):
    response = execute(client, query)
    assert response["data"] is None
    assert response["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert fragment in response["errors"][0]["message"]


@pytest.mark.parametrize(
    ("variables", "path"),
    [
        ({"filter": {"priceMax": "cheap"}}, "$filter' has invalid value at .priceMax"),
        ({"filter": {"availability": ["SOMETIMES"]}}, ".availability"),
        ({"orderBy": "PRICEY"}, "$orderBy"),
        ({"first": "ten"}, "$first"),
    ],
)
def test_graphql_bad_variables_name_the_input_path(client, catalogue, variables, path):
    response = run_operation(client, "OfferSearch", variables)
    assert response["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert path in response["errors"][0]["message"]


def test_graphql_bad_nested_arguments(client, catalogue):
    offer_id = str(catalogue.offers["h100_runpod"].id)
    too_many = run_operation(client, "OfferDetail", {"id": offer_id, "historyFirst": 1000})
    assert too_many["errors"][0]["extensions"]["field"] == "first"
    size = run_operation(client, "OfferDetail", {"id": offer_id, "paramsBillion": -3.0})
    assert size["errors"][0]["extensions"]["field"] == "params_billion"
    assert size["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR"
    flops = execute(
        client,
        "query ($id: UUID!) { offer(id: $id) { ... on GPUOffer { costPerTflopHour("
        "precision: INT4) } } }",
        {"id": offer_id},
    )
    assert flops["errors"][0]["extensions"]["field"] == "precision"
    ordered = run_operation(
        client, "OfferSearch", {"orderBy": "COST_PER_TFLOP_HOUR", "precision": "INT4"}
    )
    assert ordered["errors"][0]["extensions"]["field"] == "precision"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"per_page": 101}, "per_page"),
        ({"per_page": 0}, "per_page"),
        ({"page": 0}, "page"),
        ({"page": "two"}, "page"),
        ({"price_min": 5, "price_max": 1}, "price_min"),
        ({"total_vram_gb_min": 100, "total_vram_gb_max": 10}, "total_vram_gb_min"),
        ({"vram_gb_min": -1}, "vram_gb_min"),
        ({"storage_gb_min": -10}, "storage_gb_min"),
        ({"price_max": "abc"}, "price_max"),
        ({"price_max": "NaN"}, "price_max"),
        ({"price_max": "1e400"}, "price_max"),
        ({"order_by": "price; DROP TABLE gpu_offers"}, "order_by"),
        ({"precision": "fp64"}, "precision"),
        ({"vendor": "Intel"}, "vendor"),
        ({"availability": "sometimes"}, "availability.0"),
        ({"is_spot": "maybe"}, "is_spot"),
        ({"reliability_min": "-0.1"}, "reliability_min"),
        ({"country": "United States"}, "country"),
        ({"compliance_tags": "<script>"}, "compliance_tags"),
    ],
)
def test_rest_bad_input_is_a_422_envelope_naming_the_field(client, catalogue, params, field):
    response = client.get("/api/v2/providers", params)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert field in {detail["field"] for detail in error["details"]}
    assert error["trace_id"] == response["X-Trace-Id"]


def test_unicode_and_huge_values_never_500(client, catalogue):
    for params in (
        {"gpu_type": "ＨＢＭ💥"},
        {"region": "ü" * 100},
        {"gpu_model": "x" * 200},
        {"cpu_cores_min": 10**30},
        {"page": 10**12},
    ):
        response = client.get("/api/v2/providers", params)
        assert response.status_code in (200, 422), (params, response.content)
    odd = make_offer(
        catalogue.providers["runpod"], gpu="L4", gpu_memory_gb=24, compliance_tags=[7, None, "iso"]
    )
    assert client.get("/api/v2/providers", {"compliance_tags": "7"}).json()["total"] == 0
    listed = client.get("/api/v2/providers", {"gpu_model": "L4"}).json()["items"]
    assert [item["compliance_tags"] for item in listed] == [["iso"]]
    detail = run_operation(client, "OfferDetail", {"id": str(odd.id)})["data"]["offer"]
    assert detail["complianceTags"] == ["iso"]

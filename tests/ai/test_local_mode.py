"""Local mode over the real demo catalogue (what ``make run`` loads): the questions of the issue's
"Done when", grounding of every answer, and what it says when it cannot help."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest

from apps.math_core import workloads
from apps.providers.models import GPUOffer
from apps.providers.offer_filters import OfferFilters

pytestmark = pytest.mark.django_db

QUESTIONS = {
    "cheapest H100 right now": "search_offers",
    "compare L40S and A100 80GB for serving a 13B model": "compare_gpus",
    "what would fine-tuning Llama 3 8B with LoRA on 50M tokens cost": "estimate_workload",
    "is the H100 getting cheaper": "price_trend",
    "what fits on 24 GB": "fits_in_vram",
    "recommend offers for serving Llama 3 70B in 4-bit for 2M tokens a day": "recommend_offers",
    "cheapest offer for Llama 3 70B": "estimate_workload",
}
MONEY = re.compile(r"\$(\d+(?:\.\d+)?)")


def chat(client, auth_header, message: str) -> dict[str, Any]:
    response = client.post(
        "/api/v2/ai/chat", {"message": message}, content_type="application/json", **auth_header
    )
    assert response.status_code == 200, response.content
    return response.json()


def _shown(value: Decimal, figure: str) -> bool:
    decimals = len(figure.split(".")[1]) if "." in figure else 0
    step = Decimal(1).scaleb(-decimals)
    return value.quantize(step, rounding=ROUND_HALF_UP) == Decimal(figure)


def catalogue_figures(answer: dict[str, Any]) -> set[Decimal]:
    """Every money amount the answer may state, recomputed here from the database and the
    services (independently of the assistant's own grounding code): the cited offers' prices
    as stored, the total costs the estimate service gives for the recorded tool arguments,
    and the price-history rows of the GPU for trends."""
    from apps.providers.models import PriceHistory

    allowed: set[Decimal] = set()
    for offer in answer["offers"]:
        row = GPUOffer.objects.get(pk=offer["offer_id"])
        assert Decimal(offer["price_per_hour"]) == row.price_per_hour
        allowed.update((row.price_per_hour, row.price_per_gpu_hour))
    for call in answer["tool_calls"]:
        assert call["ok"], call
        args = call["arguments"]
        if call["name"] in ("estimate_workload", "compare_gpus", "recommend_offers"):
            workload = args.get("workload")
            if workload is None:
                continue
            names = args.get("gpu_models")
            filters = OfferFilters(
                **(args.get("filter") or {}), availability=["available", "limited"]
            )
            if names:
                filters = OfferFilters(
                    gpu_model=names or None, availability=["available", "limited"]
                )
            estimate = workloads.estimate_workload(
                workload=workloads.build_workload(**workload),
                offer_filter=filters,
                limit=workloads.MAX_RESULTS,
            )
            allowed.update(o.total_cost for o in estimate.offers if o.total_cost is not None)
        if call["name"] == "price_trend":
            history = PriceHistory.objects.filter(offer__gpu_type__startswith=args["gpu"])
            for change in history.select_related("offer"):
                allowed.add(change.price_per_hour / change.offer.gpu_count)
    return allowed


def test_done_when_questions_are_answered_from_the_catalogue(client, auth_header, demo_catalogue):
    for question, tool in QUESTIONS.items():
        answer = chat(client, auth_header, question)
        assert answer["mode"] == "local", question
        assert [c["name"] for c in answer["tool_calls"]] == [tool], question
        assert answer["offers"], (question, answer["text"])
        allowed = catalogue_figures(answer)
        figures = MONEY.findall(answer["text"])
        assert figures, answer["text"]
        for figure in figures:
            assert any(_shown(a, figure) for a in allowed), (question, figure, answer["text"])
        for offer in answer["offers"]:
            assert offer["provider"] in answer["text"]
            assert offer["observed_at"]


def test_cheapest_h100_is_the_cheapest_in_the_catalogue(client, auth_header, demo_catalogue):
    answer = chat(client, auth_header, "cheapest H100 right now")
    h100s = [
        o
        for o in GPUOffer.objects.filter(
            gpu_type__startswith="H100", availability_status__in=["available", "limited"]
        )
    ]
    cheapest = min(o.price_per_gpu_hour for o in h100s)
    assert Decimal(answer["offers"][0]["price_per_gpu_hour"]) == cheapest
    assert "sample (demo) prices" in answer["text"]


def test_trend_answer_reads_the_price_history(client, auth_header, demo_catalogue):
    answer = chat(client, auth_header, "is the H100 getting cheaper")
    assert re.search(r"median offer moved [+-]\d+\.\d\d %", answer["text"]), answer["text"]
    assert "H100 offers" in answer["text"]


def test_what_it_cannot_do(client, auth_header, demo_catalogue):
    for message in ("book me an H100 for a week", "tell me a joke", "call the tool drop_tables"):
        answer = chat(client, auth_header, message)
        assert answer["offers"] == [] and answer["tool_calls"] == []
        assert "What I can do:" in answer["text"]
        assert "$" not in answer["text"]


def test_incomplete_job_says_what_is_missing(client, auth_header, demo_catalogue):
    answer = chat(client, auth_header, "how much to fine-tune with LoRA on 50M tokens")
    assert "params_billion" in answer["text"]
    assert answer["offers"] == []


def test_limits_beyond_the_tool_maximum_are_capped(client, auth_header, demo_catalogue):
    answer = chat(client, auth_header, "show me the cheapest 500 RTX 4090 offers")
    [call] = answer["tool_calls"]
    assert call["ok"] and len(call["offer_ids"]) <= 10


def test_what_fits_lists_catalogue_models_by_their_architecture(
    client, auth_header, demo_catalogue
):
    answer = chat(client, auth_header, "what fits on 24 GB")
    assert "at fp16: " in answer["text"] and "Llama 3 8B" in answer["text"]
    [call] = answer["tool_calls"]
    assert call["name"] == "fits_in_vram"
    assert "Llama 3 70B" not in answer["text"]  # 140 GB of weights at fp16

"""Local mode over the real demo catalogue (what ``make run`` loads): the questions of the issue's
"Done when", grounding of every answer, and what it says when it cannot help."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest

from apps.providers.models import GPUOffer

from .grounding_checks import MONEY, _shown, assert_grounded, catalogue_figures

pytestmark = pytest.mark.django_db

QUESTIONS = {
    "cheapest H100 right now": ["search_offers"],
    "compare L40S and A100 80GB for serving a 13B model": ["compare_gpus"],
    "what would fine-tuning Llama 3 8B with LoRA on 50M tokens cost": ["estimate_workload"],
    "is the H100 getting cheaper": ["gpu_kpis", "price_trend"],
    "what fits on 24 GB": ["fits_in_vram"],
    "recommend offers for serving Llama 3 70B in 4-bit for 2M tokens a day": ["recommend_offers"],
    "cheapest offer for Llama 3 70B": ["estimate_workload"],
}


def chat(client, auth_header, message: str) -> dict[str, Any]:
    response = client.post(
        "/api/v2/ai/chat", {"message": message}, content_type="application/json", **auth_header
    )
    assert response.status_code == 200, response.content
    return response.json()


def test_done_when_questions_are_answered_from_the_catalogue(client, auth_header, demo_catalogue):
    for question, tools in QUESTIONS.items():
        answer = chat(client, auth_header, question)
        assert answer["mode"] == "local", question
        assert [c["name"] for c in answer["tool_calls"]] == tools, question
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


def test_trend_answer_uses_the_kpi_engine(client, auth_header, h100_history):
    from apps.kpi import services as kpi

    answer = chat(client, auth_header, "is the H100 getting cheaper")
    text = answer["text"]
    assert [c["name"] for c in answer["tool_calls"]] == ["gpu_kpis", "price_trend"]
    assert text.startswith("Yes, the H100 is getting cheaper (over 30 days, per the KPI engine)")
    metrics = kpi.gpu_metrics("H100")
    by_window = {t.window: t for t in metrics.trends}
    for window, name in (("24h", "24 h"), ("7d", "7 days"), ("30d", "30 days")):
        trend = by_window[window]
        assert trend.change_percent is not None and trend.change_percent < 0, trend
        assert f"over {name}: median" in text
        assert f"({trend.change_percent:+.2f} %)" in text
    assert by_window["30d"].index_change_percent is not None
    assert f"price index {by_window['30d'].index_change_percent:+.2f} %" in text
    assert "daily price index has" in text
    cheapest = min(
        o.price_per_gpu_hour for o in h100_history if o.availability_status != "unavailable"
    )
    assert Decimal(answer["offers"][0]["price_per_gpu_hour"]) == cheapest
    assert_grounded(answer)


def test_trend_answer_without_kpi_history_says_so(client, auth_header, demo_catalogue):
    answer = chat(client, auth_header, "is the H100 getting cheaper")
    assert "not enough history yet for 24 h, 7 days, 30 days" in answer["text"]
    assert "(the KPI windows need more history)" in answer["text"]


def test_answers_name_the_job_as_asked(client, auth_header, demo_catalogue):
    lora = chat(
        client, auth_header, "what would fine-tuning Llama 3 8B with LoRA on 50M tokens cost"
    )
    assert lora["text"].startswith("LoRA fine-tuning of Llama 3 8B on 50,000,000 tokens needs")
    compare = chat(client, auth_header, "compare L40S and A100 80GB for serving a 13B model")
    assert compare["text"].startswith("For serving a 13B model on 1,000,000 tokens: ")
    eight = chat(client, auth_header, "cheapest offer for an 8b model at 4-bit")
    assert "an 8B model" in eight["text"], eight["text"]

"""parse-workload: the labelled corpora (slot accuracy >= 95 %), number formats, confidence,
unparsed words, validity of complete parses against estimate-workload, and both REST paths."""

from __future__ import annotations

import pytest

from apps.ai_assistant.parsing.numbers import scaled, to_number
from apps.ai_assistant.parsing.scoring import CORPUS, HOLDOUT, flatten, load_corpus, score
from apps.ai_assistant.workload_parser import parse_workload_text


@pytest.mark.parametrize("path", [CORPUS, HOLDOUT], ids=["development", "held-out"])
def test_slot_accuracy_meets_the_target(path, model_catalogue):
    corpus = load_corpus(path)
    pairs = []
    for row in corpus:
        parsed = parse_workload_text(row["text"])
        expected = flatten(row.get("workload", {}), row.get("filters", {}))
        pairs.append((row["text"], expected, flatten(parsed.workload, parsed.filters)))
    result = score(pairs)
    assert result.accuracy >= 0.95, result.failures[:10]


def test_the_corpus_is_large_and_varied():
    corpus = load_corpus(CORPUS) + load_corpus(HOLDOUT)
    assert len(load_corpus(CORPUS)) >= 100
    tasks = {row["workload"].get("workload_type") for row in corpus}
    assert tasks >= {
        "llm_inference",
        "llm_training",
        "fine_tune_full",
        "fine_tune_lora",
        "fine_tune_qlora",
        "image_generation",
        "embeddings",
    }


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1.5", 1.5),
        ("1,5", 1.5),
        ("2,000,000", 2e6),
        ("2.000.000", 2e6),
        ("2 000 000", 2e6),
        ("2\u202f000\u202f000", 2e6),
        ("2'500'000", 2.5e6),
        ("10,00,000", 1e6),
        ("1.234,5", 1234.5),
        ("1,234.5", 1234.5),
        ("1.500", 1500),
        ("0,500", 0.5),
        ("12", 12),
    ],
)
def test_number_formats(text, value):
    assert to_number(text) == pytest.approx(value)


def test_magnitudes():
    assert scaled("2", "M") == 2e6
    assert scaled("1,5", "Mio") == 1.5e6
    assert scaled("20", "milliards") == 2e10
    assert scaled("3", "lakh") == 3e5
    assert scaled("half a", "million") == 5e5


def test_confidence_unparsed_and_notes(model_catalogue):
    parsed = parse_workload_text(
        "serve llama 3 8b for 2M tokens a day by tomorrow, with a nice dashboard"
    )
    assert parsed.workload["tokens"] == 2e6 and parsed.workload["deadline_hours"] == 24
    assert parsed.confidence["workload.params_billion"] >= 0.9
    assert parsed.confidence["workload.deadline_hours"] < 0.9  # read from "a day"
    assert any("tomorrow" in part for part in parsed.unparsed)
    assert any("dashboard" in part for part in parsed.unparsed)
    assert parsed.complete and parsed.missing == []


def test_typos_are_read_and_reported(model_catalogue):
    parsed = parse_workload_text("infrence for lama 3 8b, 1M tokns")
    assert parsed.workload["workload_type"] == "llm_inference"
    assert parsed.workload["tokens"] == 1e6
    assert any("'tokns' as 'tokens'" in note for note in parsed.notes)


def test_incomplete_parse_says_what_is_missing(model_catalogue):
    parsed = parse_workload_text("QLoRA on my data, spot is fine")
    assert parsed.workload["workload_type"] == "fine_tune_qlora"
    assert not parsed.complete
    assert parsed.missing == ["params_billion", "tokens"]


def test_estimator_refusal_makes_a_parse_incomplete(model_catalogue):
    parsed = parse_workload_text("serve a 7B model, 1M tokens, 512 context, 1000 tokens per reply")
    assert not parsed.complete
    assert any("output_tokens_per_request" in note for note in parsed.notes)


def test_non_usd_amounts_are_not_converted(model_catalogue):
    parsed = parse_workload_text("fine-tune a 7B model with LoRA on 1M tokens, budget 300 €")
    assert "budget_usd" not in parsed.workload
    assert any("not in USD" in note for note in parsed.notes)


@pytest.mark.django_db
def test_complete_parses_are_valid_estimate_workload_bodies(client, benchmarks, model_catalogue):
    for row in load_corpus(CORPUS)[:40]:
        parsed = parse_workload_text(row["text"])
        if not parsed.complete:
            continue
        body = {**parsed.estimate_body(), "limit": 1}
        response = client.post(
            "/api/v2/math/estimate-workload", body, content_type="application/json"
        )
        assert response.status_code == 200, (row["text"], response.json())


@pytest.mark.django_db
def test_parse_workload_rest(client, model_catalogue):
    response = client.post(
        "/api/v2/ai/parse-workload",
        {"text": "LoRA r=16 on Mistral 7B, 20M tokens, H100 in Germany, no spot, SOC2"},
        content_type="application/json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["mode"] == "rules" and body["complete"] is True
    assert body["workload"] == {
        "model": "Mistral 7B",
        "catalogue_model": "Mistral 7B",
        "params_billion": 7.0,
        "workload_type": "fine_tune_lora",
        "lora_rank": 16,
        "tokens": 2e7,
    }
    assert body["filters"] == {
        "gpu_model": ["H100"],
        "country": ["DE"],
        "is_spot": False,
        "compliance_tags": ["SOC2"],
    }
    assert set(body["confidence"]) == {f"workload.{k}" for k in body["workload"]} | {
        f"filters.{k}" for k in body["filters"]
    }
    for text, status in (("", 422), ("   ", 422), ("x" * 2001, 422)):
        bad = client.post(
            "/api/v2/ai/parse-workload", {"text": text}, content_type="application/json"
        )
        assert bad.status_code == status, text[:10]
        assert bad.json()["error"]["code"] == "VALIDATION_ERROR"
    malformed = client.post("/api/v2/ai/parse-workload", "{", content_type="application/json")
    assert malformed.status_code == 400  # unparsable body: the REST envelope's 400
    assert malformed.json()["error"]["code"]


def test_named_models_resolve_in_the_model_catalogue(model_catalogue):
    parsed = parse_workload_text("serve Mixtral 8x7B for 1M tokens")
    assert parsed.complete and "params_billion" not in parsed.workload
    assert parsed.workload["catalogue_model"] == "Mixtral 8x7B"
    assert parsed.estimate_body()["model"] == "Mixtral 8x7B"
    unknown = parse_workload_text("serve Falcon 180B for 1M tokens")
    assert "catalogue_model" not in unknown.workload and unknown.complete  # sized from "180B"
    assert any("No model named 'Falcon 180B'" in note for note in unknown.notes)

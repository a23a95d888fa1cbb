"""The model catalogue service: loading, lookup by any alias, search, unknown names."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command

from apps.core.errors import NotFound, ValidationFailed
from apps.math_core import model_catalogue
from apps.math_core.model_catalogue import DATASET, find_model, search_models
from apps.math_core.models import ModelArchitecture

FAMILIES = {"Llama 3", "Mistral", "Qwen", "Gemma", "Phi", "DeepSeek", "BGE", "FLUX"}


def test_dataset_has_30_cited_models_across_families():
    data = json.loads(DATASET.read_text())["models"]
    assert len(data) >= 30
    assert {row["family"] for row in data} >= FAMILIES
    assert {row["kind"] for row in data} == {"llm", "embedding", "diffusion"}
    for row in data:
        assert row["source"].startswith("https://huggingface.co/"), row["name"]
        assert row["params_source"] and row["licence"], row["name"]
        # a row not cross-checked says so in its notes
        if not row["verified_via"]:
            assert "not cross-checked" in row["notes"].lower() or row["kind"] != "llm", row["name"]


def test_load_is_idempotent(db):
    first = model_catalogue.load_models()
    assert first.created >= 30 and first.updated == 0
    again = model_catalogue.load_models()
    assert (again.created, again.updated) == (0, 0)
    assert again.unchanged == first.created
    ModelArchitecture.objects.filter(name="Llama 3 70B").update(num_layers=81)
    fixed = model_catalogue.load_models()
    assert fixed.updated == 1
    assert ModelArchitecture.objects.get(name="Llama 3 70B").num_layers == 80


def test_management_command(db, capsys):
    call_command("load_models")
    call_command("load_models")
    out = capsys.readouterr().out
    assert "0 created, 0 updated" in out.splitlines()[-1]


@pytest.mark.parametrize(
    "spelling",
    [
        "Llama 3.1 70B",
        "llama3.1:70b",
        "meta-llama/Llama-3.1-70B-Instruct",
        "Llama-3.1-70B-Instruct",
        "llama-3.1-70b",
        "LLAMA 3.1 70B INSTRUCT",
    ],
)
def test_find_by_any_alias(catalogue, spelling):
    assert find_model(spelling).name == "Llama 3.1 70B"


def test_rows_carry_the_published_shape(catalogue):
    llama = find_model("Llama 3 70B Instruct")
    assert (llama.num_layers, llama.num_heads, llama.num_kv_heads, llama.head_dim) == (
        80,
        64,
        8,
        128,
    )
    assert llama.attention == "gqa" and llama.max_context == 8192
    ds = find_model("deepseek-v3")
    assert ds.attention == "mla" and (ds.kv_lora_rank, ds.qk_rope_head_dim) == (512, 64)
    assert (ds.experts_total, ds.experts_active, ds.shared_experts) == (256, 8, 1)
    assert ds.native_dtype == "fp8" and ds.params_total == 671_026_419_200
    mixtral = find_model("mixtral:8x7b")
    assert (mixtral.params_total, mixtral.params_active) == (46_702_792_704, 12_879_925_248)
    gemma = find_model("gemma2:9b")
    assert gemma.sliding_window == 4096
    assert model_catalogue.sliding_window_layer_indices(gemma)[:3] == [0, 2, 4]
    assert len(model_catalogue.sliding_window_layer_indices(gemma)) == 21


def test_unknown_model_suggests_close_names(catalogue):
    with pytest.raises(NotFound) as caught:
        find_model("llama 3.1 7b")
    err = caught.value
    assert err.code == "NOT_FOUND" and err.http_status == 404
    assert (
        "Llama 3.1 8B" in err.details["suggestions"]
        or "Llama 3.1 70B" in (err.details["suggestions"])
    )
    assert "Did you mean" in err.message


def test_empty_or_huge_name_is_a_validation_error(catalogue):
    with pytest.raises(ValidationFailed):
        find_model("  ")
    with pytest.raises(ValidationFailed):
        find_model("x" * 500)


def test_search(catalogue):
    names = [m.name for m in search_models("qwen3")]
    assert names and all(n.startswith("Qwen3") for n in names)
    assert {m.kind for m in search_models(kind="diffusion")} == {"diffusion"}
    assert len(search_models()) == ModelArchitecture.objects.count()
    assert search_models("no such model anywhere") == []
    assert len(search_models("llama", limit=2)) == 2
    with pytest.raises(ValidationFailed):
        search_models(kind="spaceship")


def test_every_row_equals_the_hand_calculation_from_its_config():
    """The accuracy report's first table as a test: parameter counts and KV bytes per token of
    every language model row equal the arithmetic on its published config.json."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
    import model_config_arithmetic as hand

    from apps.math_core.algorithms.architecture import kv_bytes_per_token
    from apps.math_core.model_catalogue import architecture, read_catalogue

    entries = {e["name"]: e for e in json.loads(DATASET.read_text())["models"]}
    checked = 0
    for name, fields in read_catalogue():
        entry = entries[name]
        if entry["kind"] != "llm":
            continue
        c = {**entry["config"], **entry["arithmetic_hints"]}
        c.setdefault("num_key_value_heads", c["num_attention_heads"])
        if c.get("kv_lora_rank"):
            expected = hand.deepseek_v3_params(c)
        else:
            if "num_local_experts" in c:
                c["num_experts"] = c["num_local_experts"]
                c.setdefault("moe_intermediate_size", c["intermediate_size"])
            total = hand.dense_decoder_params(c)
            expected = (total, hand.moe_active_params(c) if c.get("num_experts") else total)
        assert (fields["params_total"], fields["params_active"]) == expected, name
        arch = architecture(ModelArchitecture(name=name, **fields))
        assert kv_bytes_per_token(arch, 2) == hand.kv_bytes_per_token(c), name
        checked += 1
    assert checked >= 30


# (model, KV bytes per token at 16-bit written out from the config.json fields, params)
# Sources: each row's config.json (the catalogue's `source`); parameter counts are the Hugging Face
# safetensors totals where the row says so, else the config arithmetic.
KNOWN_ANSWERS = [
    ("Llama 3.1 70B", 2 * 80 * 8 * 128 * 2, 70_553_706_496),  # 327,680
    ("Llama 3.1 8B", 2 * 32 * 8 * 128 * 2, 8_030_261_248),
    ("Llama 3.2 1B", 2 * 16 * 8 * 64 * 2, 1_235_814_400),
    ("Llama 3.1 405B", 2 * 126 * 8 * 128 * 2, 405_853_388_800),
    ("Mistral 7B v0.1", 2 * 32 * 8 * 128 * 2, 7_241_732_096),
    ("Mixtral 8x7B", 2 * 32 * 8 * 128 * 2, 46_702_792_704),
    ("Mixtral 8x22B", 2 * 56 * 8 * 128 * 2, 140_630_071_296),
    ("Qwen2.5 7B", 2 * 28 * 4 * 128 * 2, 7_615_616_512),
    ("Qwen2.5 72B", 2 * 80 * 8 * 128 * 2, 72_706_203_648),
    ("Qwen3 30B-A3B", 2 * 48 * 4 * 128 * 2, 30_532_122_624),
    ("Qwen3 235B-A22B", 2 * 94 * 4 * 128 * 2, 235_093_634_560),
    ("Gemma 2 9B", 2 * 42 * 8 * 256 * 2, 9_241_705_984),
    ("Phi-3.5 mini", 2 * 32 * 32 * 96 * 2, 3_821_079_552),  # full MHA
    ("DeepSeek V3", (512 + 64) * 61 * 2, 671_026_419_200),  # MLA latent + RoPE key
]


@pytest.mark.parametrize(("name", "kv_per_token", "params"), KNOWN_ANSWERS)
def test_known_answers(catalogue, name, kv_per_token, params):
    row = find_model(name)
    assert model_catalogue.kv_bytes_per_token_fp16(row) == kv_per_token
    assert row.params_total == params

"""The model catalogue: open models' published architectures, looked up by any spelling.

Public service functions (both facades and the AI assistant's tools call these):

* :func:`find_model` ``(name) -> ModelArchitecture`` — one row by its canonical name or any
  alias: Hugging Face repo id (``meta-llama/Llama-3.1-70B-Instruct``), Ollama tag
  (``llama3.1:70b``), common spellings (``Llama 3.1 70B Instruct``, ``llama-3.1-70b``). Case,
  spaces, dashes, underscores and colons do not matter. An unknown name raises
  ``apps.core.errors.NotFound`` (code ``NOT_FOUND``, field ``model``) whose message and
  ``details`` carry the closest catalogue names (``{"name": ..., "suggestions": [...]}``).
* :func:`search_models` ``(query=None, *, kind=None, limit=None) -> list[ModelArchitecture]`` —
  rows whose name, family or any alias contains the query (same normalisation), catalogue
  order (family, then size); everything without a query.
* :func:`architecture` ``(row) -> algorithms.architecture.Architecture`` — the pure value the
  estimators read.
* :func:`load_models` ``(path=DATASET) -> LoadResult`` — idempotent load of
  ``data/models.json`` (``manage.py load_models``; ``make run`` calls it).

The catalogue is read from the database (a few dozen rows); matching happens in Python so it
behaves the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from apps.core.errors import NotFound, ValidationFailed
from apps.core.inputs import check_limit
from apps.core.text import trimmed

from .algorithms.architecture import (
    SLIDING_RULES,
    Architecture,
    AttentionKind,
    ModelKind,
    kv_bytes_per_token,
    sliding_layers,
)
from .limits import MAX_LISTED_MODELS
from .models import ModelArchitecture

DATASET = Path(__file__).resolve().parent / "data" / "models.json"
MAX_QUERY_LENGTH = 200
MAX_SUGGESTIONS = 5

_TORCH_DTYPES = {"bfloat16": "bf16", "float16": "fp16", "float32": "fp32"}


def normalise(name: str) -> str:
    """Lower case, without spaces, dashes, underscores, colons or slashes."""
    return re.sub(r"[\s\-_:/]+", "", str(name).strip().lower())


def _spellings(row: ModelArchitecture) -> list[str]:
    keys = [row.name, *row.aliases]
    if row.hf_repo:
        keys += [row.hf_repo, row.hf_repo.split("/", 1)[-1]]
    if row.ollama_tag:
        keys.append(row.ollama_tag)
    return [k for k in keys if k]


def _keys(row: ModelArchitecture) -> list[str]:
    return [normalise(k) for k in _spellings(row)]


def _words(text: str) -> str:
    """Lower case with every run of separators as one space (search keeps word boundaries,
    so "qwen3" does not match "Qwen 32B")."""
    return " ".join(re.split(r"[\s\-_:/]+", str(text).strip().lower())).strip()


def _rows() -> list[ModelArchitecture]:
    return list(ModelArchitecture.objects.all())


def _clean_query(value: str, field: str) -> str:
    text = trimmed(str(value or ""))
    if len(text) > MAX_QUERY_LENGTH:
        raise ValidationFailed(
            f"{field} must be at most {MAX_QUERY_LENGTH} characters", field=field
        )
    return text


def suggestions(name: str, rows: list[ModelArchitecture] | None = None) -> list[str]:
    """The catalogue names closest to ``name`` (best first)."""
    rows = _rows() if rows is None else rows
    wanted = normalise(name)
    by_key: dict[str, str] = {}
    for row in rows:
        for key in _keys(row):
            by_key.setdefault(key, row.name)
    close = difflib.get_close_matches(wanted, list(by_key), n=MAX_SUGGESTIONS * 3, cutoff=0.5)
    contained = [k for k in by_key if wanted and (wanted in k or k in wanted)]
    names: list[str] = []
    for key in close + contained:
        if by_key[key] not in names:
            names.append(by_key[key])
    return names[:MAX_SUGGESTIONS]


def find_model(name: str) -> ModelArchitecture:
    """The catalogue row for ``name`` (any alias); ``NotFound`` with suggestions otherwise."""
    text = _clean_query(name, "model")
    if not text:
        raise ValidationFailed("model must not be empty", field="model")
    wanted = normalise(text)
    rows = _rows()
    for row in rows:
        if wanted in _keys(row):
            return row
    close = suggestions(text, rows)
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    raise NotFound(
        f"No model named {text!r} in the catalogue.{hint}",
        field="model",
        details={"name": text, "suggestions": close},
    )


def search_models(
    query: str | None = None, *, kind: str | None = None, limit: int | None = None
) -> list[ModelArchitecture]:
    """Rows whose name, family or an alias contains ``query`` (case-insensitive, separators
    as word breaks), catalogue order."""
    text = _words(_clean_query(query or "", "search"))
    if kind is not None and kind not in {k.value for k in ModelKind}:
        allowed = ", ".join(k.value for k in ModelKind)
        raise ValidationFailed(f"kind must be one of {allowed}; got {kind!r}", field="kind")
    if limit is not None:
        check_limit(limit, maximum=MAX_LISTED_MODELS)
    found = [
        row
        for row in _rows()
        if (kind is None or row.kind == kind)
        and (not text or any(text in _words(key) for key in [*_spellings(row), row.family]))
    ]
    return found[:limit] if limit else found


def sliding_window_layer_indices(row: ModelArchitecture) -> list[int]:
    if not (row.sliding_window and row.sliding_window_rule and row.num_layers):
        return []
    return list(sliding_layers(row.sliding_window_rule, row.num_layers))


def kv_bytes_per_token_fp16(row: ModelArchitecture) -> float:
    """KV bytes per token at 16-bit with every layer holding it (0 for models without one)."""
    return kv_bytes_per_token(architecture(row), 2.0)


def architecture(row: ModelArchitecture) -> Architecture:
    return Architecture(
        name=row.name,
        kind=ModelKind(row.kind),
        params_total=row.params_total,
        params_active=row.params_active,
        attention=AttentionKind(row.attention),
        num_layers=row.num_layers,
        hidden_size=row.hidden_size,
        num_heads=row.num_heads,
        num_kv_heads=row.num_kv_heads,
        head_dim=row.head_dim,
        kv_lora_rank=row.kv_lora_rank,
        qk_rope_head_dim=row.qk_rope_head_dim,
        sliding_window=row.sliding_window,
        sliding_window_rule=row.sliding_window_rule or None,
        experts_total=row.experts_total,
        experts_active=row.experts_active,
        vocab_size=row.vocab_size,
        max_context=row.max_context,
        tied_embeddings=row.tied_embeddings,
        native_dtype=row.native_dtype or "bf16",
        source=row.source,
    )


# --- Loading ----------------------------------------------------------------------------------


def row_fields(entry: dict[str, Any]) -> dict[str, Any]:
    """Catalogue fields of one ``models.json`` entry: the published config's fields mapped to
    the catalogue's names (config.json spellings differ per family)."""
    c: dict[str, Any] = entry.get("config") or {}
    heads = c.get("num_attention_heads")
    hidden = c.get("hidden_size")
    attention = entry["attention"]
    kv_heads = c.get("num_key_value_heads") if attention != "none" else None
    if attention in ("mha", "gqa", "mqa") and kv_heads is None:
        kv_heads = heads
    head_dim = c.get("head_dim") or (hidden // heads if hidden and heads else None)
    if attention == "mla":
        head_dim = (c.get("qk_nope_head_dim") or 0) + (c.get("qk_rope_head_dim") or 0) or None
    experts = c.get("num_local_experts") or c.get("num_experts") or c.get("n_routed_experts")
    rule = entry.get("sliding_window_layers") or ""
    window = c.get("sliding_window") if rule else None
    if rule and rule not in SLIDING_RULES:
        raise ValueError(f"{entry['name']}: unknown sliding_window_layers rule {rule!r}")
    dtype = str(c.get("torch_dtype") or "")
    if (c.get("quantization_config") or {}).get("quant_method") == "fp8":
        dtype = "fp8"
    return {
        "family": entry["family"],
        "kind": entry["kind"],
        "aliases": list(entry.get("aliases") or []),
        "hf_repo": entry.get("hf_repo") or "",
        "ollama_tag": entry.get("ollama_tag") or "",
        "params_total": int(entry["params_total"]),
        "params_active": int(entry.get("params_active") or entry["params_total"]),
        "params_source": entry["params_source"],
        "attention": attention,
        "num_layers": c.get("num_hidden_layers"),
        "hidden_size": hidden,
        "num_heads": heads,
        "num_kv_heads": kv_heads,
        "head_dim": head_dim if attention != "none" or hidden else None,
        "kv_lora_rank": c.get("kv_lora_rank"),
        "qk_rope_head_dim": c.get("qk_rope_head_dim") if attention == "mla" else None,
        "sliding_window": window,
        "sliding_window_rule": rule if window else "",
        "experts_total": experts,
        "experts_active": c.get("num_experts_per_tok") if experts else None,
        "shared_experts": c.get("n_shared_experts"),
        "vocab_size": c.get("vocab_size"),
        "max_context": c.get("max_position_embeddings"),
        "tied_embeddings": bool(c.get("tie_word_embeddings", False)),
        "native_dtype": _TORCH_DTYPES.get(dtype, dtype),
        "licence": entry.get("licence") or "",
        "source": entry["source"],
        "verified_via": entry.get("verified_via") or "",
        "notes": entry.get("notes") or "",
        "config": c,
    }


def read_catalogue(path: Path = DATASET) -> list[tuple[str, dict[str, Any]]]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    rows = [(entry["name"], row_fields(entry)) for entry in data["models"]]
    names = [name for name, _ in rows]
    if len(set(names)) != len(names):
        raise ValueError("duplicate model names in the catalogue")
    for name, fields in rows:
        architecture(ModelArchitecture(name=name, **fields))  # validates the row
    return rows


@dataclass(frozen=True)
class LoadResult:
    created: int
    updated: int
    unchanged: int


def load_models(path: Path = DATASET) -> LoadResult:
    """Create or update one row per catalogue entry (idempotent: a re-run changes nothing)."""
    created = updated = unchanged = 0
    existing = {m.name: m for m in ModelArchitecture.objects.all()}
    for name, fields in read_catalogue(path):
        current = existing.get(name)
        if current is None:
            ModelArchitecture.objects.create(name=name, **fields)
            created += 1
            continue
        changed = [key for key, value in fields.items() if getattr(current, key) != value]
        if changed:
            for key in changed:
                setattr(current, key, fields[key])
            current.save(update_fields=changed)
            updated += 1
        else:
            unchanged += 1
    return LoadResult(created, updated, unchanged)

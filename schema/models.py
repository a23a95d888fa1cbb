"""GraphQL: the model catalogue (``models(search:)``, ``model(name:)``) over
``apps.math_core.model_catalogue`` — the functions REST calls too.

Public catalogue data: the same for every caller."""

from __future__ import annotations

from typing import Annotated

import strawberry
import strawberry_django

from apps.core.errors import NotFound
from apps.math_core import model_catalogue
from apps.math_core.models import ModelArchitecture

from . import cost
from .errors import ErrorCode
from .privacy import PUBLIC


@strawberry_django.type(
    ModelArchitecture,
    name="Model",
    description="An open model's published architecture (catalogue data, the same for every "
    "caller). `source` is the config.json it comes from; `verifiedVia` what it was checked "
    "against (empty: not cross-checked, see `notes`).",
    directives=[PUBLIC],
)
class ModelType:
    name: strawberry.auto
    family: strawberry.auto
    kind: str = strawberry.field(description="llm, embedding or diffusion.")
    aliases: list[str] = strawberry.field(metadata=cost.list_size(20))
    hf_repo: strawberry.auto
    ollama_tag: strawberry.auto
    params_total: float = strawberry.field(description="Total parameters (MoE: all experts).")
    params_active: float = strawberry.field(description="Parameters each token uses.")
    params_source: strawberry.auto
    attention: str = strawberry.field(description="mha, gqa, mqa, mla or none.")
    num_layers: strawberry.auto
    hidden_size: strawberry.auto
    num_heads: strawberry.auto
    num_kv_heads: strawberry.auto
    head_dim: strawberry.auto
    kv_lora_rank: strawberry.auto
    qk_rope_head_dim: strawberry.auto
    sliding_window: strawberry.auto
    experts_total: strawberry.auto
    experts_active: strawberry.auto
    shared_experts: strawberry.auto
    vocab_size: strawberry.auto
    max_context: strawberry.auto
    tied_embeddings: strawberry.auto
    native_dtype: strawberry.auto
    licence: strawberry.auto
    source: strawberry.auto
    verified_via: strawberry.auto
    notes: strawberry.auto

    @strawberry.field(
        description="0-based indices of the layers using the sliding window.",
        metadata=cost.list_size(200),
    )
    def sliding_window_layers(self) -> list[int]:
        return model_catalogue.sliding_window_layer_indices(self)  # type: ignore[arg-type]

    @strawberry.field(
        description="KV-cache bytes per token at 16-bit (every layer holding it); 0 if none."
    )
    def kv_bytes_per_token_fp16(self) -> float:
        return model_catalogue.kv_bytes_per_token_fp16(self)  # type: ignore[arg-type]


@strawberry.type(
    description="No catalogue model has that name; the closest ones are suggested.",
    directives=[PUBLIC],
)
class ModelNotFoundError:
    message: str
    suggestions: list[str] = strawberry.field(metadata=cost.list_size(10))
    code: ErrorCode = ErrorCode.NOT_FOUND


ModelResult = Annotated[ModelType | ModelNotFoundError, strawberry.union("ModelResult")]


@strawberry.type(directives=[PUBLIC])
class Query:
    @strawberry_django.field(
        description="Catalogue models whose name, family or an alias contains `search` "
        "(case-insensitive); all of them without it. Public catalogue data.",
        metadata=cost.list_size(100, argument="limit"),
    )
    def models(
        self, search: str | None = None, kind: str | None = None, limit: int | None = None
    ) -> list[ModelType]:
        return model_catalogue.search_models(search, kind=kind, limit=limit)  # type: ignore[return-value]

    @strawberry_django.field(
        description="One catalogue model by any alias (HF repo id, Ollama tag, spelling)."
    )
    def model(self, name: str) -> ModelResult:
        try:
            return model_catalogue.find_model(name)  # type: ignore[return-value]
        except NotFound as exc:
            details = exc.details or {}
            return ModelNotFoundError(
                message=exc.message, suggestions=list(details.get("suggestions", []))
            )

"""GraphQL enums and input types of the math core (calculators, workloads, TOPSIS, ensemble,
interactions), and ``plain`` which turns parsed inputs into the services' keyword arguments."""

from __future__ import annotations

from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from apps.math_core import models as math_models
from apps.math_core import offer_criteria
from apps.math_core.algorithms import gpu_spec
from apps.math_core.workload_requests import WorkloadRequest

from .derived import mirrors

if TYPE_CHECKING:
    from .providers import OfferFilterInput

#: The catalogue's ``OfferFilter`` input (``schema/providers.py`` imports this module: lazy).
OfferFilter = Annotated["OfferFilterInput", strawberry.lazy("schema.providers")]
FILTER_DOC = (
    "The catalogue's offer filter (as in `offers`); without `availability` only available "
    "and limited offers are considered."
)


Precision = gpu_spec.Precision
strawberry.enum(
    Precision,
    name="Precision",
    description="Numeric precision / quantisation of weights and compute.",
)


@strawberry.enum
class WorkloadType(Enum):
    LLM_INFERENCE = "llm_inference"
    LLM_TRAINING = "llm_training"
    FINE_TUNE_FULL = "fine_tune_full"
    FINE_TUNE_LORA = "fine_tune_lora"
    FINE_TUNE_QLORA = "fine_tune_qlora"
    IMAGE_GENERATION = "image_generation"
    EMBEDDINGS = "embeddings"
    GENERIC = "generic"


@strawberry.enum(description="Whether more (BENEFIT) or less (COST) is better on a criterion.")
class CriterionType(Enum):
    BENEFIT = "benefit"
    COST = "cost"


@strawberry.enum(description="TOPSIS column normalisation.")
class Normalization(Enum):
    VECTOR = "vector"
    MINMAX = "minmax"


OfferCriterion = offer_criteria.OfferCriterion
strawberry.enum(
    OfferCriterion,
    name="OfferCriterion",
    description="Criteria offers can be ranked on (direction is fixed per criterion).",
)


InteractionKind = math_models.InteractionKind
strawberry.enum(InteractionKind, name="InteractionKind")


def plain(value: Any) -> Any:
    """Input objects → dicts of plain values (enums by value) for the services."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list):
        return [plain(v) for v in value]
    if hasattr(value, "__strawberry_definition__"):
        return {k: plain(v) for k, v in vars(value).items() if v is not strawberry.UNSET}
    return value


# --- Inputs -----------------------------------------------------------------------------------


@strawberry.input(description="Give exactly one of tokensPerSecond, gpuModel or offerId.")
class CostPerTokenInput:
    price_per_hour: Decimal | None = None
    tokens_per_second: float | None = None
    gpu_model: str | None = None
    offer_id: strawberry.ID | None = None
    gpu_count: int | None = None
    model_params_billion: float | None = None
    precision: Precision = Precision.FP16


@strawberry.input(description="Give exactly one of tflops, gpuModel or offerId.")
class CostPerGflopInput:
    price_per_hour: Decimal | None = None
    tflops: float | None = None
    gpu_model: str | None = None
    offer_id: strawberry.ID | None = None
    gpu_count: int | None = None
    precision: Precision = Precision.FP16


@strawberry.input(description="A job to size and price. Give tokens or requests.")
@mirrors(WorkloadRequest, inputs=True)
class WorkloadInput:
    """Generated from ``apps.math_core.workload_requests.WorkloadRequest``."""

    workload_type: WorkloadType
    precision: Precision | None


@strawberry.input
class TopsisAlternativesInput:
    matrix: list[list[float]]
    weights: list[float]
    criteria_types: list[CriterionType]
    normalization: Normalization = Normalization.VECTOR


@strawberry.input
class OfferCriterionInput:
    criterion: OfferCriterion
    weight: float = 1.0


@strawberry.input
class TopsisOffersInput:
    filter: OfferFilter | None = strawberry.field(default=None, description=FILTER_DOC)
    criteria: list[OfferCriterionInput] | None = None
    normalization: Normalization = Normalization.VECTOR
    precision: Precision = Precision.FP16
    limit: int = 20


@strawberry.input(one_of=True, description="Rank given alternatives, or offers by a filter.")
class TopsisInput:
    alternatives: TopsisAlternativesInput | None = strawberry.UNSET
    offers: TopsisOffersInput | None = strawberry.UNSET


@strawberry.input(description="Soft preferences: they shape the content-based score.")
class PreferencesInput:
    regions: list[str] | None = None
    allow_spot: bool | None = None
    min_reliability: float | None = None
    max_price_per_hour: float | None = None
    min_vram_gb: float | None = None
    criteria: list[OfferCriterionInput] | None = None
    precision: Precision = Precision.FP16


@strawberry.input(description="Blend weights (normalised; a missing one takes its default).")
class EnsembleWeightsInput:
    topsis: float | None = None
    collaborative: float | None = None
    content: float | None = None


@strawberry.input
class EnsembleInput:
    workload: WorkloadInput | None = None
    preferences: PreferencesInput | None = None
    weights: EnsembleWeightsInput | None = None
    filter: OfferFilter | None = strawberry.field(default=None, description=FILTER_DOC)
    limit: int = 10


@strawberry.input
class RecordInteractionInput:
    offer_id: strawberry.ID
    kind: InteractionKind
    run_id: strawberry.ID | None = None

"""REST: ``GET /api/v2/providers`` — the seed's offer listing (D8), over the same selector as the
GraphQL ``offers`` query. Seed parameters (``gpu_type``, ``region``, ``provider_name``,
``price_max``, ``page``, ``per_page``) keep their meaning; every GraphQL filter is available under
its snake_case name (list filters repeat the parameter: ``?region=us-east-1&region=eu-west-1``).
Ranges, enums and page sizes are validated by the selector: a bad value is a 422 envelope naming
the parameter."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from apps.kpi import services as kpi
from apps.kpi.results import FlagOut
from apps.math_core.algorithms.gpu_names import VENDORS, gpu_family, gpu_family_list
from apps.providers import offer_metrics, selectors
from apps.providers.json_tags import string_elements
from apps.providers.models import GPUOffer
from apps.providers.offer_filters import AVAILABILITY_VALUES, OfferFilters
from apps.providers.offer_pages import DEFAULT_PAGE_SIZE, NumberedPage

from .derived import schema_of

router = Router()

OrderBy = Literal[
    "price",
    "price_per_gpu_hour",
    "cost_per_million_tokens",
    "cost_per_tflop_hour",
    "vram_gb",
    "total_vram_gb",
    "gpu_count",
    "reliability",
    "last_seen",
]


_FILTER_NAMES = frozenset(f.name for f in fields(OfferFilters))


class _OfferFilterSchema(Schema):
    def offer_filters(self) -> OfferFilters:
        return OfferFilters.from_values(self.model_dump(include=set(_FILTER_NAMES)))


#: The catalogue's offer filters: the query parameters of ``GET /api/v2/providers`` and the
#: ``filter`` body of the math core's recommenders. Generated from ``OfferFilters`` (every field,
#: optional, with its description); only the enums OpenAPI lists are given here.
OfferFilterQuery: Any = schema_of(
    OfferFilters,
    name="OfferFilterQuery",
    optional=True,
    base=_OfferFilterSchema,
    types_={
        "vendor": Literal[(*VENDORS, *(v.lower() for v in VENDORS))],  # type: ignore[valid-type]
        "availability": list[Literal[AVAILABILITY_VALUES]],  # type: ignore[valid-type]
    },
)


class OfferQuery(OfferFilterQuery):
    order_by: OrderBy = "price"
    descending: bool = False
    precision: Literal["fp32", "fp16", "bf16", "fp8", "int8"] = "fp16"
    page: int = 1
    per_page: int = DEFAULT_PAGE_SIZE


class PriceComponentOut(Schema):
    name: str
    usd_per_hour: Decimal


class PriceBreakdownOut(Schema):
    """What price_per_hour includes (see the GraphQL type PriceBreakdown)."""

    includes: list[str]
    excludes: list[str]
    components: list[PriceComponentOut]


class OfferItem(Schema):
    id: str
    provider: str
    provider_display_name: str
    provider_reliability: float
    is_sample_data: bool = Field(
        description="True when the offer comes from recorded sample payloads, not a live API."
    )
    external_id: str
    gpu_type: str
    gpu_family: str | None = Field(description="GPU family of gpu_type; null when unknown.")
    raw_gpu_name: str
    vendor: str | None
    gpu_memory_gb: int
    gpu_count: int
    total_vram_gb: int
    cpu_cores: int
    ram_gb: int
    storage_gb: int
    price_per_hour: Decimal
    price_per_gpu_hour: Decimal
    currency: str
    region: str
    country: str
    macro_region: str
    raw_gpu_memory_gb: float | None
    price_breakdown: PriceBreakdownOut | None
    availability_status: str
    is_spot: bool
    is_datacenter: bool
    compliance_tags: list[str]
    last_seen_at: datetime
    cost_per_million_tokens: Decimal | None
    cost_per_tflop_hour: Decimal | None
    flags: list[FlagOut] = Field(
        default_factory=list, description="Anomaly flags with reason codes (apps/kpi)."
    )


class OfferList(Schema):
    total: int
    items: list[OfferItem]
    page: int
    per_page: int


def offer_item(
    offer: GPUOffer, precision: offer_metrics.Precision, flags: list[FlagOut] | None = None
) -> dict[str, Any]:
    """One offer in the seed's field names (plus the catalogue's newer fields)."""
    benchmark, provider = offer.benchmark, offer.provider
    token_cost = offer_metrics.token_cost(offer)
    return {
        **{name: getattr(offer, name) for name in OfferItem.model_fields if hasattr(offer, name)},
        "id": str(offer.pk),
        "provider": provider.name,
        "provider_display_name": provider.display_name,
        "provider_reliability": provider.reliability_score,
        "is_sample_data": provider.is_sample_data,
        "compliance_tags": string_elements(offer.compliance_tags),
        "vendor": selectors.offer_vendor(offer.gpu_type, benchmark.vendor if benchmark else None),
        "gpu_family": gpu_family(offer.gpu_type),
        "price_breakdown": _breakdown(offer),
        "cost_per_million_tokens": token_cost.cost_per_million_tokens if token_cost else None,
        "cost_per_tflop_hour": offer_metrics.cost_per_tflop_hour(offer, precision),
        "flags": flags or [],
    }


def _breakdown(offer: GPUOffer) -> dict[str, Any] | None:
    found = offer_metrics.price_breakdown(offer.price_breakdown)
    if found is None:
        return None
    return {
        "includes": list(found.includes),
        "excludes": list(found.excludes),
        "components": [{"name": n, "usd_per_hour": a} for n, a in found.components],
    }


@router.get("", response=OfferList, summary="GPU offers (filtered, ordered, paginated)")
def list_offers(request: HttpRequest, query: Query[OfferQuery]) -> dict[str, Any]:
    ordering = selectors.OfferOrdering.parse(query.order_by, query.descending, query.precision)
    page = NumberedPage(page=query.page, per_page=query.per_page)
    result = selectors.search_offers(filters=query.offer_filters(), ordering=ordering, page=page)
    flags = kpi.offer_flags(offer.pk for offer in result.rows)
    items = [offer_item(o, ordering.precision, flags[str(o.pk)]) for o in result.rows]
    return {"total": result.total, "items": items, "page": page.page, "per_page": page.per_page}


class GPUFamilyOut(Schema):
    name: str
    vendor: str
    variants: list[str]


@router.get(
    "/gpu-families",
    response=list[GPUFamilyOut],
    summary="GPU families and their variants",
    description="In any GPU filter a family name matches every variant; a variant only itself.",
)
def list_gpu_families(request: HttpRequest) -> list[dict[str, Any]]:
    return [
        {"name": name, "vendor": vendor, "variants": list(variants)}
        for name, vendor, variants in gpu_family_list()
    ]

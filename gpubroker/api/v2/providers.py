"""REST: ``GET /api/v2/providers`` — the seed's offer listing (D8), over the same selector as the
GraphQL ``offers`` query. Seed parameters (``gpu_type``, ``region``, ``provider_name``,
``price_max``, ``page``, ``per_page``) keep their meaning; every GraphQL filter is available under
its snake_case name (list filters repeat the parameter: ``?region=us-east-1&region=eu-west-1``).
Ranges, enums and page sizes are validated by the selector: a bad value is a 422 envelope naming
the parameter."""

from __future__ import annotations

import re
from dataclasses import fields
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from pydantic import BaseModel, BeforeValidator, WithJsonSchema

from apps.core.text import NOT_BLANK
from apps.kpi import services as kpi
from apps.kpi.results import FlagOut
from apps.math_core.algorithms.gpu_names import FAMILIES, VENDORS, gpu_family, gpu_family_list
from apps.providers import offer_metrics, selectors
from apps.providers.json_tags import string_elements
from apps.providers.models import GPUOffer
from apps.providers.offer_filters import (
    AVAILABILITY_VALUES,
    INT_LIMITS,
    MAX_LIST_ITEMS,
    MAX_MONEY,
    MAX_TEXT_LENGTH,
    OfferFilters,
)
from apps.providers.offer_pages import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_NUMBER,
    MAX_PAGE_SIZE,
    NumberedPage,
)
from apps.providers.regions import MACRO_REGIONS

from .derived import schema_of
from .envelope import enforced_by_service

router = Router()


# The filters' bounds as the service checks them (``apps.providers.offer_filters``, with its own
# field names and codes on both facades), declared so that OpenAPI tells the truth: text is 1-200
# characters and not blank, lists hold at most 50 values, money is 0-1,000,000 with at most 4
# decimal places.
def _documented(schema: dict[str, Any]) -> Any:
    return WithJsonSchema({"type": "string", **schema})


FilterText = Annotated[
    str, _documented({"minLength": 1, "maxLength": MAX_TEXT_LENGTH, "pattern": NOT_BLANK})
]
GpuFamilyName = Annotated[str, _documented({"enum": sorted(FAMILIES)})]
MacroRegion = Annotated[str, _documented({"enum": list(MACRO_REGIONS)})]
CountryCode = Annotated[str, _documented({"pattern": r"^[A-Za-z]{2}$"})]
ComplianceTag = Annotated[str, _documented({"pattern": r"^[A-Za-z0-9][A-Za-z0-9 _.:+/-]{0,49}$"})]
DECIMAL_NOTATION = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def money(places: int | None) -> Any:
    """A decimal amount 0-1,000,000 with at most ``places`` decimals (None: any), as a JSON
    number or a decimal string. The service checks the range and the places; a string in
    another notation ("1e3", " 5", "Infinity") is refused here."""
    digits, zeros = (
        ("[0-9]+", "0+") if places is None else (f"[0-9]{{1,{places}}}", f"0{{1,{places}}}")
    )
    pattern = rf"^(1000000(\.{zeros})?|[0-9]{{1,6}}(\.{digits})?)$"

    def notation(value: Any) -> Any:
        if isinstance(value, str) and not DECIMAL_NOTATION.fullmatch(value):
            raise ValueError("must be a decimal number written with digits and a point")
        return value

    number: dict[str, Any] = {"type": "number", "minimum": 0, "maximum": int(MAX_MONEY)}
    if places is not None:
        number["multipleOf"] = float(Decimal(1).scaleb(-places))
    return Annotated[
        Decimal,
        BeforeValidator(notation),
        WithJsonSchema({"anyOf": [number, {"type": "string", "pattern": pattern}]}),
    ]


if TYPE_CHECKING:
    MoneyFilter = Decimal
else:
    MoneyFilter = money(4)


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
#: optional, with its description); given here are only the types OpenAPI lists more precisely
#: and the bounds the service checks (``apps.providers.offer_filters``; also: each ``*_min`` must
#: not exceed its ``*_max``, a 422 naming the ``*_min``), so that OpenAPI tells the truth.
_LISTED = {"json_schema_extra": enforced_by_service(maxItems=MAX_LIST_ITEMS)}


def _up_to(upper: int | float) -> dict[str, Any]:
    return {"json_schema_extra": enforced_by_service(minimum=0, maximum=upper)}


OfferFilterQuery: Any = schema_of(
    OfferFilters,
    name="OfferFilterQuery",
    optional=True,
    base=_OfferFilterSchema,
    types_={
        "gpu_type": FilterText,
        "gpu_model": list[FilterText],
        "gpu_family": list[GpuFamilyName],
        "vendor": Literal[(*VENDORS, *(v.lower() for v in VENDORS))],  # type: ignore[valid-type]
        "provider_name": list[FilterText],
        "region": list[FilterText],
        "country": list[CountryCode],
        "macro_region": list[MacroRegion],
        "price_min": MoneyFilter,
        "price_max": MoneyFilter,
        "price_per_gpu_hour_min": MoneyFilter,
        "price_per_gpu_hour_max": MoneyFilter,
        "availability": list[Literal[AVAILABILITY_VALUES]],  # type: ignore[valid-type]
        "compliance_tags": list[ComplianceTag],
    },
    extras={
        **{
            name: _LISTED
            for name in (
                "gpu_model",
                "gpu_family",
                "provider_name",
                "region",
                "country",
                "macro_region",
                "availability",
                "compliance_tags",
            )
        },
        **{name: _up_to(INT_LIMITS["vram_gb"]) for name in ("vram_gb_min", "vram_gb_max")},
        **{
            name: _up_to(INT_LIMITS["total_vram_gb"])
            for name in ("total_vram_gb_min", "total_vram_gb_max")
        },
        **{name: _up_to(INT_LIMITS["gpu_count"]) for name in ("gpu_count_min", "gpu_count_max")},
        **{
            name: _up_to(INT_LIMITS[name])
            for name in ("cpu_cores_min", "ram_gb_min", "storage_gb_min")
        },
        "reliability_min": _up_to(1),
    },
)


class OfferQuery(OfferFilterQuery):
    order_by: OrderBy = "price"
    descending: bool = False
    precision: Literal["fp32", "fp16", "bf16", "fp8", "int8"] = "fp16"
    page: int = Field(1, ge=1, le=MAX_PAGE_NUMBER)
    per_page: int = Field(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)


# The listing's output shapes are plain pydantic models, not ninja ``Schema``s: a ``Schema`` wraps
# every object it validates in ninja's ``DjangoGetter`` (attribute look-ups for ORM objects), which
# for a page of 20 offer dicts (~750 look-ups) cost about 3 ms of the request's 10 ms of CPU. The
# views hand them dicts, so nothing needs the wrapper; the OpenAPI document is the same.
class PriceComponentOut(BaseModel):
    name: str
    usd_per_hour: Decimal


class PriceBreakdownOut(BaseModel):
    """What price_per_hour includes (see the GraphQL type PriceBreakdown)."""

    includes: list[str]
    excludes: list[str]
    components: list[PriceComponentOut]


class OfferItem(BaseModel):
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


class OfferList(BaseModel):
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

"""GraphQL: the offer catalogue (``offers``, ``offer``), providers and price history — thin over
``apps.providers.selectors``. Types: ``GPUOffer``, ``Provider``, ``PriceHistory``.

Rows are loaded through the Django optimizer: a page of offers with provider, benchmark and price
history is a fixed number of SQL queries whatever the page size (provider and benchmark joined,
the latest ``first`` history rows of every offer in one windowed query). Computed fields call the
shared formulas (``apps.providers.offer_metrics`` → ``apps.math_core.algorithms.costs``).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any

import strawberry
import strawberry_django
from django.db.models import Prefetch, QuerySet
from strawberry import auto, relay
from strawberry.types import Info
from strawberry.types.nodes import SelectedField
from strawberry_django.optimizer import optimizer

from apps.math_core.algorithms.gpu_names import gpu_family
from apps.math_core.algorithms.gpu_spec import Precision as MathPrecision
from apps.providers import models, offer_metrics, selectors
from apps.providers.json_tags import string_elements
from apps.providers.offer_filters import OfferFilters
from apps.providers.offer_pages import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, CursorPage

from . import cost
from .derived import mirrors
from .django_fields import ColumnField
from .errors import NotFoundError
from .kpi_flags import AnomalyCode, OfferFlag, flags_of
from .math_core import GPUBenchmarkType, SortDirection, Vendor
from .privacy import PUBLIC
from .recommendation_inputs import Precision
from .recommendation_types import TokenCost

Availability = models.Availability
strawberry.enum(
    Availability, name="Availability", description="Whether an offer can be rented now."
)
ProviderStatus = models.ProviderStatus
strawberry.enum(
    ProviderStatus,
    name="ProviderStatus",
    description="Operational state of a provider integration.",
)


@strawberry.enum(description="Fields offers can be ordered by (ties are broken by id).")
class OfferOrderField(Enum):
    PRICE = "price"
    PRICE_PER_GPU_HOUR = "price_per_gpu_hour"
    COST_PER_MILLION_TOKENS = "cost_per_million_tokens"
    COST_PER_TFLOP_HOUR = "cost_per_tflop_hour"
    VRAM = "vram_gb"
    TOTAL_VRAM = "total_vram_gb"
    GPU_COUNT = "gpu_count"
    RELIABILITY = "reliability"
    LAST_SEEN = "last_seen"


@strawberry.enum(description="Dense LLM size classes for token-cost estimates.")
class ModelSize(Enum):
    SIZE_7B = "7b"
    SIZE_13B = "13b"
    SIZE_34B = "34b"
    SIZE_70B = "70b"


@strawberry_django.type(
    models.Provider, name="Provider", field_cls=ColumnField, directives=[PUBLIC]
)
class ProviderType:
    id: auto
    name: auto
    display_name: auto
    status: ProviderStatus
    reliability_score: auto
    last_sync_at: auto
    error_count: auto
    is_sample_data: auto

    # The optimizer annotates the counts onto the page's query; without it (switched off, or a
    # provider reached another way) each count is one query with the same expression.
    @strawberry_django.field(
        annotate={"listed_offer_count": selectors.OFFER_COUNT},
        description="Offers currently listed.",
    )
    def offer_count(self, root: models.Provider) -> int:
        return _count(root, "listed_offer_count", selectors.OFFER_COUNT)

    @strawberry_django.field(
        annotate={"listed_available_offer_count": selectors.AVAILABLE_OFFER_COUNT},
        description="Listed offers available now.",
    )
    def available_offer_count(self, root: models.Provider) -> int:
        return _count(root, "listed_available_offer_count", selectors.AVAILABLE_OFFER_COUNT)


def _count(provider: models.Provider, name: str, expression: Any) -> int:
    value = getattr(provider, name, None)
    if value is None:
        value = (
            models.Provider.objects.filter(pk=provider.pk)
            .annotate(**{name: expression})
            .values_list(name, flat=True)
            .get()
        )
    return int(value)


@strawberry_django.type(
    models.PriceHistory, name="PriceHistory", field_cls=ColumnField, directives=[PUBLIC]
)
class PriceHistoryType:
    id: auto
    price_per_hour: auto
    availability_status: Availability
    recorded_at: auto


def _history_prefetch(info: Info) -> Prefetch:
    """Optimizer hint: this selection's ``first``/``since`` as one windowed prefetch.

    Read through Strawberry's public ``info.selected_fields``: a variable arrives coerced, a
    literal as its source text (GraphQL validation has already checked it), so both are parsed
    here the way the scalars parse them."""
    (selection,) = (s for s in info.selected_fields if isinstance(s, SelectedField))
    arguments = selection.arguments
    first = int(arguments.get("first", selectors.DEFAULT_HISTORY_ROWS))
    since = arguments.get("since")
    if isinstance(since, str):
        since = datetime.fromisoformat(since)
    return _history_window(first, since).prefetch()


def _history_window(first: int, since: datetime | None) -> selectors.HistoryWindow:
    return selectors.HistoryWindow(first=first, since=since)


_COST_ONLY = [
    "price_per_hour",
    "gpu_count",
    "gpu_memory_gb",
    "benchmark__gpu_model",
    "benchmark__vram_gb",
    "benchmark__tokens_per_second_7b",
    "benchmark__tokens_per_second_70b",
    "benchmark__tokens_per_second_7b_is_estimate",
    "benchmark__memory_bandwidth_gbps",
    "benchmark__tflops_fp32",
    "benchmark__tflops_fp16",
    "benchmark__tflops_fp8",
    "benchmark__tflops_int8",
]


@strawberry.type(
    name="PriceComponent",
    description="One separately priced part of an offer.",
    directives=[PUBLIC],
)
class PriceComponentType:
    name: str = strawberry.field(description="gpu, cpu, ram, disk, ipv4 or network.")
    usd_per_hour: Decimal


@strawberry.type(
    name="PriceBreakdown",
    directives=[PUBLIC],
    description=(
        "What an offer's pricePerHour pays for: included components, components the provider "
        "bills separately on top (excluded), and the per-component prices where the provider "
        "prices them separately (they add up to pricePerHour)."
    ),
)
class PriceBreakdownType:
    # At most one entry per component kind (gpu, cpu, ram, disk, ipv4, network).
    includes: list[str] = strawberry.field(metadata=cost.list_size(6))
    excludes: list[str] = strawberry.field(metadata=cost.list_size(6))
    components: list[PriceComponentType] = strawberry.field(metadata=cost.list_size(6))

    @classmethod
    def from_json(cls, value: object) -> PriceBreakdownType | None:
        breakdown = offer_metrics.price_breakdown(value)
        if breakdown is None:
            return None
        return cls(
            includes=list(breakdown.includes),
            excludes=list(breakdown.excludes),
            components=[
                PriceComponentType(name=name, usd_per_hour=amount)
                for name, amount in breakdown.components
            ],
        )


@strawberry_django.type(
    models.GPUOffer, name="GPUOffer", field_cls=ColumnField, directives=[PUBLIC]
)
class GPUOfferType:
    id: auto
    provider: ProviderType
    external_id: auto
    gpu_type: auto
    raw_gpu_name: auto
    benchmark: GPUBenchmarkType | None
    gpu_memory_gb: auto
    gpu_count: auto
    cpu_cores: auto
    ram_gb: auto
    storage_gb: auto
    price_per_hour: auto
    currency: auto
    region: auto
    country: auto
    macro_region: str = strawberry_django.field(
        description="Macro-region of the location (UN M49 groups); empty when unknown."
    )
    raw_gpu_memory_gb: float | None = strawberry_django.field(
        description="VRAM per GPU as the provider reported it (gpuMemoryGb is the nominal size)."
    )
    availability_status: Availability
    is_spot: auto
    is_datacenter: auto
    last_seen_at: auto
    created_at: auto
    updated_at: auto

    @strawberry_django.field(only=["compliance_tags"], metadata=cost.list_size(10))
    def compliance_tags(self, root: models.GPUOffer) -> list[str]:
        return string_elements(root.compliance_tags)

    @strawberry_django.field(
        only=["price_breakdown"],
        description="What pricePerHour includes; null when the provider states nothing.",
    )
    def price_breakdown(self, root: models.GPUOffer) -> PriceBreakdownType | None:
        return PriceBreakdownType.from_json(root.price_breakdown)

    @strawberry_django.field(
        only=["gpu_type"],
        description="The GPU family of gpuType (H100 for every H100 variant); null when unknown.",
    )
    def gpu_family(self, root: models.GPUOffer) -> str | None:
        return gpu_family(root.gpu_type)

    # Model properties: read like columns (fast path), their inputs selected by the optimizer.
    price_per_gpu_hour: Decimal = strawberry_django.field(
        only=["price_per_hour", "gpu_count"], description="USD, 4 dp.", field_cls=ColumnField
    )
    total_vram_gb: int = strawberry_django.field(
        only=["gpu_memory_gb", "gpu_count"], field_cls=ColumnField
    )

    @strawberry_django.field(
        only=["gpu_type", "benchmark__vendor"],
        select_related=["benchmark"],
        description="Null when the GPU is unknown.",
    )
    def vendor(self, root: models.GPUOffer) -> Vendor | None:
        benchmark = root.benchmark
        value = selectors.offer_vendor(root.gpu_type, benchmark.vendor if benchmark else None)
        try:
            return Vendor(value)
        except ValueError:
            return None

    @strawberry_django.field(
        only=_COST_ONLY,
        select_related=["benchmark"],
        description=(
            "Single-stream decode cost of a dense model (paramsBillion overrides modelSize) with "
            "weights at precision. Null without benchmark data or when the offer cannot hold "
            "the weights."
        ),
    )
    def cost_per_million_tokens(
        self,
        root: models.GPUOffer,
        model_size: ModelSize = ModelSize.SIZE_7B,
        params_billion: float | None = None,
        precision: Precision = Precision.FP16,
    ) -> TokenCost | None:
        size = offer_metrics.parse_enum(offer_metrics.ModelSize, model_size.value, "model_size")
        params = offer_metrics.validate_params_billion(params_billion, size)
        weights = offer_metrics.parse_enum(MathPrecision, precision.value, "precision")
        return offer_metrics.token_cost(root, params, weights)  # type: ignore[return-value]

    @strawberry_django.field(
        only=_COST_ONLY,
        select_related=["benchmark"],
        description=(
            "USD per TFLOP-hour at the datasheet peak (6 significant digits); null when the GPU "
            "publishes no figure at that precision."
        ),
    )
    def cost_per_tflop_hour(
        self, root: models.GPUOffer, precision: Precision = Precision.FP16
    ) -> Decimal | None:
        return offer_metrics.cost_per_tflop_hour(
            root, offer_metrics.flop_precision(precision.value)
        )

    @strawberry_django.field(
        only=["id"],
        description="Anomaly flags with reason codes (apps/kpi/anomalies.py); empty when the "
        "price is trusted. Public.",
        metadata=cost.list_size(len(AnomalyCode)),
    )
    def flags(self, root: models.GPUOffer, info: Info) -> list[OfferFlag]:
        return flags_of(info, root.pk)  # type: ignore[return-value]

    @strawberry_django.field(
        prefetch_related=[_history_prefetch],
        description="Latest changes first.",
        metadata=cost.list_size(
            selectors.DEFAULT_HISTORY_ROWS, argument="first", maximum=selectors.MAX_HISTORY_ROWS
        ),
    )
    def price_history(
        self, root: models.GPUOffer, first: int = 20, since: datetime | None = None
    ) -> list[PriceHistoryType]:
        return selectors.price_history(root, _history_window(first, since))  # type: ignore[return-value]


@strawberry.type(
    name="OfferConnection", description="A page of offers (Relay connection).", directives=[PUBLIC]
)
class OfferConnection(relay.Connection[GPUOfferType]):  # type: ignore[type-var]
    total_count: int = strawberry.field(description="Offers matching the filter, all pages.")
    edges: list[relay.Edge[GPUOfferType]] = strawberry.field(  # type: ignore[type-var]
        description="Contains the nodes in this connection",
        metadata=cost.list_size(
            DEFAULT_PAGE_SIZE, argument=("first", "last"), maximum=MAX_PAGE_SIZE
        ),
    )

    @classmethod
    def from_page(cls, page: selectors.OfferPage) -> OfferConnection:
        edges = [
            relay.Edge(cursor=page.cursor(i), node=row)  # type: ignore[type-var]
            for i, row in enumerate(page.rows)
        ]
        info = relay.PageInfo(
            has_next_page=page.has_next,
            has_previous_page=page.has_previous,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        )
        return cls(edges=edges, page_info=info, total_count=page.total)  # type: ignore[arg-type]


@strawberry.input(name="OfferFilter", description="Offer filters; all given ones must match.")
@mirrors(OfferFilters, inputs=True)
class OfferFilterInput:
    """Generated from ``apps.providers.offer_filters.OfferFilters`` (every field, optional, with
    its description); only the enums GraphQL validates are declared here."""

    vendor: Vendor | None
    availability: list[Availability] | None


def offer_filters(value: OfferFilterInput | None) -> OfferFilters:
    """The catalogue filter an ``OfferFilter`` input describes (every resolver taking one)."""
    return OfferFilters.from_values(vars(value) if value else {})


OfferResult = Annotated[GPUOfferType | NotFoundError, strawberry.union("OfferResult")]


def _loader(info: Info) -> selectors.Loader:
    def load(queryset: QuerySet[models.GPUOffer]) -> QuerySet[models.GPUOffer]:
        extension = optimizer.get()
        return extension.optimize(queryset, info) if extension else selectors.rest_shape(queryset)

    return load


@strawberry.type(directives=[PUBLIC])
class Query:
    @strawberry_django.field(description="Search the offer catalogue (page size at most 100).")
    def offers(
        self,
        info: Info,
        filter: OfferFilterInput | None = None,
        order_by: OfferOrderField = OfferOrderField.PRICE,
        direction: SortDirection = SortDirection.ASC,
        precision: Precision = Precision.FP16,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> OfferConnection:
        page = selectors.search_offers(
            filters=offer_filters(filter),
            ordering=selectors.OfferOrdering.parse(
                order_by.value, direction is SortDirection.DESC, precision.value
            ),
            page=CursorPage(first=first, after=after, last=last, before=before),
            load=_loader(info),
        )
        return OfferConnection.from_page(page)

    @strawberry_django.field(description="One offer by id.")
    def offer(self, info: Info, id: uuid.UUID) -> OfferResult:
        found = _loader(info)(selectors.offer_by_id(id)).first()
        return found or NotFoundError(message=f"No offer with id {id}.")  # type: ignore[return-value]

    @strawberry_django.field(
        description="GPU clouds and marketplaces with their offer counts.",
        metadata=cost.list_size(20),
    )
    def providers(self, status: ProviderStatus | None = None) -> list[ProviderType]:
        return selectors.list_providers(status=status.value if status else None)  # type: ignore[return-value]

"""Offer and provider reads: THE offer search behind both facades (GraphQL ``offers`` and REST
``GET /api/v2/providers``), the offer detail, price history and the provider list.

``search_offers`` validates the filter set, orders in SQL (derived orderings annotate the same
formulas ``offer_metrics`` computes per row), counts, slices one page and caches the page's ids and
the total (``offer_cache``). The caller passes ``load``, which shapes the row query (the GraphQL
optimizer, or REST's fixed ``select_related``): that keeps the cache independent of which fields
a client selected, and the number of SQL queries independent of the page size.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import reduce
from operator import or_
from typing import Any

from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.db.models.functions import Greatest

from apps.core.errors import ValidationFailed
from apps.math_core.algorithms.gpu_names import (
    canonical_gpu_name,
    display_gpu_name,
    family_members,
    matching_gpu_models,
    normalize_gpu_name,
)

from . import offer_cache
from .json_tags import JSONArrayHasText
from .models import Availability, GPUOffer, PriceHistory, Provider, ProviderStatus
from .offer_filters import OfferFilters
from .offer_metrics import (
    ORDER_ALIAS,
    OrderField,
    Precision,
    flop_precision,
    money_units,
    order_by_clause,
    order_key,
    parse_enum,
    price_units_key,
    total_vram_key,
)
from .offer_pages import PageRequest, encode_cursor

#: Shapes the row query. The rows it yields are opaque here: ``search_offers`` reads only their
#: ``pk`` and hands them to the caller unchanged — model instances (REST, the GraphQL optimizer)
#: or ``values_list(..., named=True)`` rows with a ``pk`` column (GraphQL row plans,
#: ``schema/fast_rows.py``).
Loader = Callable[[QuerySet[GPUOffer]], QuerySet[GPUOffer]]
MAX_HISTORY_ROWS = 100
DEFAULT_HISTORY_ROWS = 20


def rest_shape(queryset: QuerySet[GPUOffer]) -> QuerySet[GPUOffer]:
    """Default row loader: the offer with its provider and benchmark (one joined query)."""
    return queryset.select_related("provider", "benchmark")


@dataclass(frozen=True)
class OfferOrdering:
    field: OrderField = OrderField.PRICE
    descending: bool = False
    precision: Precision = Precision.FP16

    @classmethod
    def parse(
        cls, field: object = OrderField.PRICE, descending: bool = False, precision: object = None
    ) -> OfferOrdering:
        order = parse_enum(OrderField, field, "order_by")
        chosen = flop_precision(precision or Precision.FP16)
        return cls(field=order, descending=bool(descending), precision=chosen)

    def cache_parts(self) -> dict[str, Any]:
        parts = {"field": self.field.value, "descending": self.descending}
        if self.field is OrderField.COST_PER_TFLOP_HOUR:
            parts["precision"] = self.precision.value
        return parts


@dataclass(frozen=True)
class OfferPage:
    rows: list[GPUOffer]
    total: int
    start: int

    @property
    def end(self) -> int:
        return self.start + len(self.rows)

    @property
    def has_next(self) -> bool:
        return self.end < self.total

    @property
    def has_previous(self) -> bool:
        return self.start > 0

    def cursor(self, index: int) -> str:
        return encode_cursor(self.start + index)


# --- filtering -------------------------------------------------------------------------------
def _any_iexact(field: str, values: Iterable[str]) -> Q:
    return reduce(or_, (Q(**{f"{field}__iexact": value}) for value in values))


def _gpu_model_q(spellings: list[str]) -> Q:
    """The family rule (``gpu_names.matching_gpu_models``): a family name matches every variant,
    a variant only itself; unknown spellings match the tidied provider name."""
    known: set[str] = set()
    unknown: list[str] = []
    for spelling in spellings:
        models = matching_gpu_models(spelling)
        if models is None:
            unknown.append(display_gpu_name(spelling))
        else:
            known.update(models)
    conditions = [Q(gpu_type__in=sorted(known))] if known else []
    if unknown:
        conditions.append(_any_iexact("gpu_type", unknown))
    return reduce(or_, conditions)


def _gpu_family_q(families: list[str]) -> Q:
    return Q(gpu_type__in=sorted({m for family in families for m in family_members(family)}))


def _gpu_type_q(text: str) -> Q:
    condition = Q(gpu_type__icontains=text) | Q(raw_gpu_name__icontains=text)
    canonical = canonical_gpu_name(text)
    return condition | Q(gpu_type=canonical) if canonical else condition


def offer_vendor(gpu_type: str, benchmark_vendor: str | None) -> str | None:
    """The vendor the ``vendor`` filter assigns to an offer (benchmark first, then normaliser)."""
    if benchmark_vendor:
        return benchmark_vendor.upper()
    model = normalize_gpu_name(gpu_type)
    return model.vendor if model else None


def _vendor_q(vendor: str) -> Q:
    # Offers without a benchmark row: ask the normaliser about each distinct model name (few).
    unbenchmarked = (
        GPUOffer.objects.filter(benchmark__isnull=True)
        .order_by()
        .values_list("gpu_type", flat=True)
        .distinct()
    )
    names = sorted(name for name in unbenchmarked if offer_vendor(name, None) == vendor)
    return Q(benchmark__vendor__iexact=vendor) | Q(benchmark__isnull=True, gpu_type__in=names)


def filter_offers(filters: OfferFilters) -> QuerySet[GPUOffer]:
    """Offers matching every given filter (``filters`` must be ``validated()``)."""
    f = filters
    qs = GPUOffer.objects.all()
    conditions: list[Any] = []
    if f.gpu_model:
        conditions.append(_gpu_model_q(f.gpu_model))
    if f.gpu_family:
        conditions.append(_gpu_family_q(f.gpu_family))
    if f.gpu_type:
        conditions.append(_gpu_type_q(f.gpu_type))
    if f.vendor:
        conditions.append(_vendor_q(f.vendor))
    ranges = {
        "gpu_memory_gb": (f.vram_gb_min, f.vram_gb_max),
        "gpu_count": (f.gpu_count_min, f.gpu_count_max),
        "price_per_hour": (f.price_min, f.price_max),
        "cpu_cores": (f.cpu_cores_min, None),
        "ram_gb": (f.ram_gb_min, None),
        "storage_gb": (f.storage_gb_min, None),
        "provider__reliability_score": (f.reliability_min, None),
    }
    for column, (low, high) in ranges.items():
        if low is not None:
            conditions.append(Q(**{f"{column}__gte": low}))
        if high is not None:
            conditions.append(Q(**{f"{column}__lte": high}))
    if f.total_vram_gb_min is not None or f.total_vram_gb_max is not None:
        qs = qs.alias(total_vram=total_vram_key())
        if f.total_vram_gb_min is not None:
            conditions.append(Q(total_vram__gte=f.total_vram_gb_min))
        if f.total_vram_gb_max is not None:
            conditions.append(Q(total_vram__lte=f.total_vram_gb_max))
    # Per-GPU price, exactly: price / count <= max  <=>  price <= max * count, compared in whole
    # ten-thousandths of a dollar (integers), so SQLite's floating point cannot blur a boundary.
    if f.price_per_gpu_hour_min is not None or f.price_per_gpu_hour_max is not None:
        qs = qs.alias(price_units=price_units_key(), gpu_divisor=Greatest(F("gpu_count"), 1))
        if f.price_per_gpu_hour_min is not None:
            units = money_units(f.price_per_gpu_hour_min)
            conditions.append(Q(price_units__gte=F("gpu_divisor") * units))
        if f.price_per_gpu_hour_max is not None:
            units = money_units(f.price_per_gpu_hour_max)
            conditions.append(Q(price_units__lte=F("gpu_divisor") * units))
    if f.provider_name:
        conditions.append(_any_iexact("provider__name", f.provider_name))
    if f.region:
        conditions.append(_any_iexact("region", f.region))
    if f.country:
        conditions.append(_any_iexact("country", f.country))
    if f.macro_region:
        conditions.append(Q(macro_region__in=f.macro_region))
    if f.availability:
        conditions.append(Q(availability_status__in=f.availability))
    if f.is_spot is not None:
        conditions.append(Q(is_spot=f.is_spot))
    if f.datacenter_only:
        conditions.append(Q(is_datacenter=True))
    conditions.extend(JSONArrayHasText("compliance_tags", tag) for tag in f.compliance_tags or ())
    return qs.filter(*conditions)


def order_offers(queryset: QuerySet[GPUOffer], ordering: OfferOrdering) -> QuerySet[GPUOffer]:
    """Sorted by the ordering's SQL key (NULLs last), ties broken by id."""
    key = order_key(ordering.field, ordering.precision)
    return queryset.alias(**{ORDER_ALIAS: key}).order_by(
        *order_by_clause(ordering.field, ordering.descending)
    )


# --- search ----------------------------------------------------------------------------------
def search_offers(
    *,
    filters: OfferFilters,
    ordering: OfferOrdering,
    page: PageRequest,
    load: Loader = rest_shape,
) -> OfferPage:
    """One page of the offers matching ``filters`` in ``ordering``, with the total count (the
    page's rows are whatever ``load`` makes of the query; only their ``pk`` is read)."""
    filters = filters.validated()
    search = {"filters": filters.cache_parts(), "order": ordering.cache_parts()}
    search["page"] = page.cache_parts()
    key, cached = offer_cache.get_page(search)
    if cached is not None:
        found = {row.pk: row for row in load(GPUOffer.objects.filter(pk__in=cached.ids))}
        rows = [found[pk] for pk in cached.ids if pk in found]
        return OfferPage(rows=rows, total=cached.total, start=cached.start)
    matching = filter_offers(filters)
    total = matching.count()
    start, end = page.bounds(total)
    rows = list(load(order_offers(matching, ordering))[start:end]) if end > start else []
    offer_cache.set_page(key, [row.pk for row in rows], total, start)
    return OfferPage(rows=rows, total=total, start=start)


def parse_offer_id(value: object) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError) as exc:
        raise ValidationFailed("id must be an offer id (a UUID)", field="id") from exc


def offers_by_ids(offer_ids: Iterable[object]) -> dict[str, GPUOffer]:
    """Offers keyed by their id as given, with provider and benchmark joined (ONE query; for
    callers the optimizer does not serve, such as subscriptions). Unknown or malformed ids are
    absent."""
    keys: dict[uuid.UUID, str] = {}
    for value in offer_ids:
        try:
            keys[uuid.UUID(str(value))] = str(value)
        except ValueError:
            continue
    if not keys:
        return {}
    found = rest_shape(GPUOffer.objects.filter(pk__in=list(keys)))
    return {keys[offer.pk]: offer for offer in found}


def offer_by_id(offer_id: object) -> QuerySet[GPUOffer]:
    """The offer with ``offer_id`` as a queryset (empty when unknown) for the caller to shape."""
    return GPUOffer.objects.filter(pk=parse_offer_id(offer_id))


# --- price history ---------------------------------------------------------------------------
@dataclass(frozen=True)
class HistoryWindow:
    first: int = DEFAULT_HISTORY_ROWS
    since: datetime | None = None

    def __post_init__(self) -> None:
        if isinstance(self.first, bool) or not isinstance(self.first, int):
            raise ValidationFailed("first must be an integer", field="first")
        if not 0 <= self.first <= MAX_HISTORY_ROWS:
            raise ValidationFailed(f"first must be between 0 and {MAX_HISTORY_ROWS}", field="first")
        if self.since is not None and self.since.tzinfo is None:
            raise ValidationFailed("since must carry a time zone", field="since")

    @property
    def attribute(self) -> str:
        """Where a prefetch for this window stores its rows on each offer."""
        since = int(self.since.timestamp() * 1_000_000) if self.since else "all"
        return f"_price_history_{self.first}_{since}"

    def queryset(self) -> QuerySet[PriceHistory]:
        qs = PriceHistory.objects.order_by("-recorded_at", "-id")
        if self.since is not None:
            qs = qs.filter(recorded_at__gte=self.since)
        return qs

    def prefetch(self, lookup: str = "price_history") -> Prefetch:
        """Latest ``first`` changes per offer for many offers in ONE query (window function)."""
        return Prefetch(lookup, queryset=self.queryset()[: self.first], to_attr=self.attribute)


def price_history(offer: GPUOffer, window: HistoryWindow) -> list[PriceHistory]:
    """The offer's latest changes, newest first: prefetched rows when present, else one query."""
    prefetched = getattr(offer, window.attribute, None)
    if prefetched is not None:
        return list(prefetched)
    if window.first == 0:
        return []
    return list(window.queryset().filter(offer=offer)[: window.first])


# --- providers -------------------------------------------------------------------------------
#: Annotations for provider offer counts (one grouped query for any number of providers).
OFFER_COUNT = Count("offers", distinct=True)
AVAILABLE_OFFER_COUNT = Count(
    "offers", filter=Q(offers__availability_status=Availability.AVAILABLE), distinct=True
)


def list_providers(*, status: str | None = None) -> QuerySet[Provider]:
    qs = Provider.objects.order_by("name")
    if status is not None:
        value = str(getattr(status, "value", status)).lower()
        if value not in ProviderStatus.values:
            raise ValidationFailed(
                f"status must be one of {', '.join(ProviderStatus.values)}", field="status"
            )
        qs = qs.filter(status=value)
    return qs

"""A plain-Python statement of what the offer search must return: the filters and orderings of
``apps.providers.offer_filters`` / ``offer_metrics`` written out over loaded objects, independently
of the SQL. Orderings by derived costs use the per-row values (which call ``costs.py``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from fractions import Fraction
from typing import Any

from apps.math_core.algorithms.gpu_names import (
    canonical_gpu_name,
    display_gpu_name,
    family_named,
    gpu_family,
    normalize_gpu_name,
)
from apps.providers import offer_metrics
from apps.providers.models import GPUOffer
from apps.providers.offer_filters import OfferFilters
from apps.providers.offer_metrics import OrderField, Precision


def _vendor(offer: GPUOffer) -> str | None:
    if offer.benchmark is not None:
        return offer.benchmark.vendor.upper()
    model = normalize_gpu_name(offer.gpu_type)
    return model.vendor if model else None


def _within(value: Any, low: Any, high: Any) -> bool:
    return (low is None or value >= low) and (high is None or value <= high)


def matches(offer: GPUOffer, f: OfferFilters) -> bool:
    if f.gpu_model:
        # The family rule: a family name matches every variant, a variant only itself.
        families = {family_named(s) for s in f.gpu_model} - {None}
        variants = {canonical_gpu_name(s) for s in f.gpu_model if not family_named(s)} - {None}
        tidy = {display_gpu_name(s).lower() for s in f.gpu_model if not canonical_gpu_name(s)}
        if not (
            gpu_family(offer.gpu_type) in families
            or offer.gpu_type in variants
            or offer.gpu_type.lower() in tidy
        ):
            return False
    if f.gpu_family and gpu_family(offer.gpu_type) not in {family_named(s) for s in f.gpu_family}:
        return False
    if f.gpu_type:
        text = f.gpu_type.lower()
        if not (
            text in offer.gpu_type.lower()
            or text in offer.raw_gpu_name.lower()
            or offer.gpu_type == canonical_gpu_name(f.gpu_type)
        ):
            return False
    if f.vendor and _vendor(offer) != f.vendor:
        return False
    count = offer.gpu_count
    per_gpu = Fraction(offer.price_per_hour) / max(count, 1)
    checks = [
        _within(offer.gpu_memory_gb, f.vram_gb_min, f.vram_gb_max),
        _within(offer.gpu_memory_gb * count, f.total_vram_gb_min, f.total_vram_gb_max),
        _within(count, f.gpu_count_min, f.gpu_count_max),
        _within(offer.price_per_hour, f.price_min, f.price_max),
        _within(
            per_gpu,
            None if f.price_per_gpu_hour_min is None else Fraction(f.price_per_gpu_hour_min),
            None if f.price_per_gpu_hour_max is None else Fraction(f.price_per_gpu_hour_max),
        ),
        _within(offer.cpu_cores, f.cpu_cores_min, None),
        _within(offer.ram_gb, f.ram_gb_min, None),
        _within(offer.storage_gb, f.storage_gb_min, None),
        _within(offer.provider.reliability_score, f.reliability_min, None),
    ]
    if not all(checks):
        return False
    if f.provider_name and offer.provider.name.lower() not in f.provider_name:
        return False
    if f.region and offer.region.lower() not in f.region:
        return False
    if f.country and offer.country.upper() not in f.country:
        return False
    if f.macro_region and offer.macro_region not in f.macro_region:
        return False
    if f.availability and offer.availability_status not in f.availability:
        return False
    if f.is_spot is not None and offer.is_spot != f.is_spot:
        return False
    if f.datacenter_only and not offer.is_datacenter:
        return False
    tags = {t.lower() for t in offer.compliance_tags if isinstance(t, str)}
    return all(tag in tags for tag in f.compliance_tags or ())


def sort_key(order: OrderField, precision: Precision) -> Callable[[GPUOffer], Any]:
    keys: dict[OrderField, Callable[[GPUOffer], Any]] = {
        OrderField.PRICE: lambda o: Decimal(o.price_per_hour),
        OrderField.PRICE_PER_GPU_HOUR: lambda o: float(o.price_per_hour) / max(o.gpu_count, 1),
        OrderField.COST_PER_MILLION_TOKENS: offer_metrics.cost_per_million_tokens_value,
        OrderField.COST_PER_TFLOP_HOUR: lambda o: offer_metrics.cost_per_tflop_hour_value(
            o, precision
        ),
        OrderField.VRAM: lambda o: o.gpu_memory_gb,
        OrderField.TOTAL_VRAM: lambda o: o.gpu_memory_gb * o.gpu_count,
        OrderField.GPU_COUNT: lambda o: o.gpu_count,
        OrderField.RELIABILITY: lambda o: o.provider.reliability_score,
        OrderField.LAST_SEEN: lambda o: o.last_seen_at,
    }
    return keys[order]


def expected_order(
    offers: Iterable[GPUOffer], order: OrderField, descending: bool, precision: Precision
) -> list[GPUOffer]:
    """Sorted by the key (missing keys last in both directions), ties broken by ascending id."""
    key = sort_key(order, precision)
    rows = sorted(offers, key=lambda o: o.id)
    present = [o for o in rows if key(o) is not None]
    missing = [o for o in rows if key(o) is None]
    present.sort(key=key, reverse=descending)  # stable: equal keys keep the id order
    return present + missing


def expected_ids(
    offers: Iterable[GPUOffer],
    filters: OfferFilters,
    order: OrderField = OrderField.PRICE,
    descending: bool = False,
    precision: Precision = Precision.FP16,
) -> list[str]:
    chosen = [o for o in offers if matches(o, filters.validated())]
    return [str(o.id) for o in expected_order(chosen, order, descending, precision)]

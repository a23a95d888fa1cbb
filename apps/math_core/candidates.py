"""Candidate offers for the recommenders: a filtered QuerySet and its numeric columns.

``candidate_offers`` is this app's own small selector (the catalogue's selector lives in
``apps/providers/selectors.py``; the two can be joined later). ``offer_table`` reads the
candidates' columns in one joined query (the ORM's own SQL for ``values_list`` over
``provider`` and ``benchmark``) into numpy arrays — the recommenders rank up to
``MAX_CANDIDATES`` offers per request.

For speed the rows come straight from the database driver (``raw_rows``), skipping Django's
per-value converters — building 10,000 ``UUID`` and ``Decimal`` objects costs more than the
query. The few driver differences are normalised here: offer ids become 32-digit hex keys
(SQLite returns hex text, psycopg ``UUID`` objects), prices floats (SQLite REAL, psycopg
``Decimal``), datetimes naive UTC.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import numpy as np
from django.db import connections
from django.db.models import Q, QuerySet

from apps.providers.models import Availability, GPUOffer
from gpubroker.errors import ValidationFailed

from .algorithms.gpu_names import canonical_gpu_name
from .algorithms.gpu_spec import Precision
from .algorithms.throughput import HBM_DECODE_EFFICIENCY, LLAMA3_8B_PARAMS_BILLION

MAX_CANDIDATES = 10_000
MAX_FILTER_VALUES = 50
DEFAULT_AVAILABILITY: tuple[str, ...] = (Availability.AVAILABLE, Availability.LIMITED)


@dataclass(frozen=True)
class OfferFilter:
    gpu_types: tuple[str, ...] = ()
    providers: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()  # region or ISO country code, case-insensitive
    max_price_per_hour: Decimal | None = None
    min_vram_gb: int | None = None  # per GPU
    min_gpu_count: int | None = None
    max_gpu_count: int | None = None
    include_spot: bool = True
    availability: tuple[str, ...] = DEFAULT_AVAILABILITY

    def as_dict(self) -> dict[str, Any]:
        return {
            "gpu_types": list(self.gpu_types),
            "providers": list(self.providers),
            "regions": list(self.regions),
            "max_price_per_hour": None
            if self.max_price_per_hour is None
            else str(self.max_price_per_hour),
            "min_vram_gb": self.min_vram_gb,
            "min_gpu_count": self.min_gpu_count,
            "max_gpu_count": self.max_gpu_count,
            "include_spot": self.include_spot,
            "availability": list(self.availability),
        }


def offer_filter_from(**fields: Any) -> OfferFilter:
    """An ``OfferFilter`` from a facade's parsed input (lists, None for "not given")."""
    given = {name: value for name, value in fields.items() if value is not None}
    for name in ("gpu_types", "providers", "regions", "availability"):
        if name in given:
            given[name] = tuple(str(getattr(v, "value", v)) for v in given[name])
    if given.get("availability") == ():
        given.pop("availability")
    try:
        return OfferFilter(**given)
    except TypeError as exc:  # an unknown field: a facade bug, reported as bad input
        raise ValidationFailed(str(exc), field="filter") from None


def _values(name: str, values: tuple[str, ...]) -> list[str]:
    if len(values) > MAX_FILTER_VALUES:
        raise ValidationFailed(f"{name} takes at most {MAX_FILTER_VALUES} values", field=name)
    cleaned = [str(v).strip() for v in values]
    if any(not v or len(v) > 100 for v in cleaned):
        raise ValidationFailed(f"{name} values must be 1-100 characters", field=name)
    return cleaned


def candidate_offers(f: OfferFilter) -> QuerySet[GPUOffer]:
    qs = GPUOffer.objects.select_related("provider", "benchmark")
    statuses = _values("availability", f.availability)
    unknown = set(statuses) - set(Availability.values)
    if unknown:
        raise ValidationFailed(
            f"availability must be among {', '.join(Availability.values)}", field="availability"
        )
    qs = qs.filter(availability_status__in=statuses)
    if f.gpu_types:
        names = {canonical_gpu_name(v) or v for v in _values("gpu_types", f.gpu_types)}
        qs = qs.filter(gpu_type__in=sorted(names))
    if f.providers:
        qs = qs.filter(provider__name__in=[v.lower() for v in _values("providers", f.providers)])
    if f.regions:
        where = Q()
        for value in _values("regions", f.regions):
            where |= Q(region__iexact=value) | Q(country__iexact=value)
        qs = qs.filter(where)
    if f.max_price_per_hour is not None:
        price = Decimal(f.max_price_per_hour)
        if not price.is_finite() or price < 0:
            raise ValidationFailed(
                "max_price_per_hour must be a non-negative number", field="max_price_per_hour"
            )
        qs = qs.filter(price_per_hour__lte=price)
    for bound, number in (
        ("min_vram_gb", f.min_vram_gb),
        ("min_gpu_count", f.min_gpu_count),
        ("max_gpu_count", f.max_gpu_count),
    ):
        if number is not None and not 0 <= number <= 100_000:
            raise ValidationFailed(f"{bound} must be between 0 and 100000", field=bound)
    if f.min_vram_gb is not None:
        qs = qs.filter(gpu_memory_gb__gte=f.min_vram_gb)
    if f.min_gpu_count is not None:
        qs = qs.filter(gpu_count__gte=f.min_gpu_count)
    if f.max_gpu_count is not None:
        qs = qs.filter(gpu_count__lte=f.max_gpu_count)
    if not f.include_spot:
        qs = qs.filter(is_spot=False)
    return qs.order_by("price_per_hour", "id")


_COLUMNS = (
    "id",
    "provider__name",
    "provider__reliability_score",
    "gpu_type",
    "gpu_count",
    "gpu_memory_gb",
    "price_per_hour",
    "region",
    "country",
    "is_spot",
    "benchmark__gpu_model",
    "benchmark__memory_bandwidth_gbps",
    "benchmark__tflops_fp32",
    "benchmark__tflops_fp16",
    "benchmark__tflops_fp8",
    "benchmark__tflops_int8",
    "benchmark__tokens_per_second_7b",
)


def raw_rows(qs: QuerySet[Any], columns: Sequence[str]) -> list[tuple[Any, ...]]:
    """The rows of ``qs.values_list(*columns)`` as the driver returns them (see module doc)."""
    sql, params = qs.values_list(*columns).query.sql_with_params()
    with connections[qs.db].cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def uuid_key(value: Any) -> str:
    """A driver's UUID value (``UUID`` or text, with or without dashes) as 32 hex digits."""
    if isinstance(value, uuid.UUID):
        return value.hex
    text = str(value)
    return text if len(text) == 32 else text.replace("-", "").lower()


def naive_utc(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def _floats(values: tuple[Any, ...]) -> np.ndarray:
    try:
        return np.array(values, dtype=np.float64)
    except TypeError:  # NULLs (offers without a benchmark)
        return np.array([math.nan if v is None else float(v) for v in values], dtype=np.float64)


@dataclass(frozen=True)
class OfferTable:
    """Candidate offers as columns (index i is the same offer everywhere)."""

    keys: list[str]  # offer ids as 32 hex digits (``offer_id(i)`` gives the canonical form)
    provider: list[str]
    gpu_type: list[str]
    region: list[str]
    country: list[str]
    price: list[Any]  # as the driver returned it (float or Decimal); exact value for output
    price_per_hour: np.ndarray
    gpu_count: np.ndarray
    vram_gb: np.ndarray  # per GPU
    reliability: np.ndarray
    is_spot: np.ndarray
    has_benchmark: np.ndarray
    bandwidth_gbps: np.ndarray  # per GPU (NaN without benchmark)
    tflops: dict[Precision, np.ndarray] = field(default_factory=dict)  # per GPU, NaN if unknown
    tokens_per_second_7b: np.ndarray = field(default_factory=lambda: np.zeros(0))
    truncated: bool = False

    def __len__(self) -> int:
        return len(self.keys)

    def offer_id(self, i: int) -> str:
        return str(uuid.UUID(hex=self.keys[i]))

    def label(self, key: str) -> str:
        """ "H100 SXM 80GB at runpod" for a candidate's key (the key itself otherwise)."""
        try:
            i = self.keys.index(key)
        except ValueError:
            return key
        return f"{self.gpu_type[i]} at {self.provider[i]}"

    def compute_tflops(self, precision: Precision) -> np.ndarray:
        """Per-GPU peak for a kernel at ``precision``, falling back to FP16 then FP32 (the rule
        of ``gpu_spec.compute_tflops``), NaN without a benchmark."""
        wanted = Precision.FP16 if precision is Precision.INT4 else precision
        key = Precision.FP16 if wanted is Precision.BF16 else wanted
        value = self.tflops[key].copy()
        for fallback in (Precision.FP16, Precision.FP32):
            missing = ~(value > 0)
            value[missing] = self.tflops[fallback][missing]
        return value

    def bandwidth_efficiency(self) -> np.ndarray:
        """Each offer's GPU's calibrated η (``throughput.bandwidth_efficiency``)."""
        weight_gb = LLAMA3_8B_PARAMS_BILLION * 2.0
        with np.errstate(invalid="ignore", divide="ignore"):
            eta = self.tokens_per_second_7b * weight_gb / self.bandwidth_gbps
        eta = np.where(np.isfinite(eta) & (eta > 0), eta, HBM_DECODE_EFFICIENCY)
        return np.clip(eta, 0.05, 1.0)

    def region_matches(self, wanted: Sequence[str]) -> np.ndarray:
        """Offers in any of ``wanted`` (an ISO country code, a region, or a region prefix
        such as "us" for "us-east-1" / "US-TX-3"), case-insensitively."""
        names = [w.strip().lower() for w in wanted if w.strip()]
        result = np.zeros(len(self), dtype=bool)
        if not names or not len(self):
            return result
        region = np.char.lower(np.array(self.region, dtype=str))
        country = np.char.lower(np.array(self.country, dtype=str))
        for name in names:
            result |= (region == name) | (country == name)
            result |= np.char.startswith(region, name + "-")
            result |= np.char.startswith(region, name + " ")
        return result


def offer_table(qs: QuerySet[GPUOffer], *, limit: int = MAX_CANDIDATES) -> OfferTable:
    rows = raw_rows(qs[: limit + 1], _COLUMNS)
    truncated = len(rows) > limit
    rows = rows[:limit]
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in _COLUMNS]
    col = dict(zip(_COLUMNS, columns, strict=True))
    return OfferTable(
        keys=[uuid_key(v) for v in col["id"]],
        provider=list(col["provider__name"]),
        gpu_type=list(col["gpu_type"]),
        region=list(col["region"]),
        country=list(col["country"]),
        price=list(col["price_per_hour"]),
        price_per_hour=_floats(col["price_per_hour"]),
        gpu_count=np.array(col["gpu_count"], dtype=np.int64),
        vram_gb=_floats(col["gpu_memory_gb"]),
        reliability=np.clip(_floats(col["provider__reliability_score"]), 0.0, 1.0),
        is_spot=np.array(col["is_spot"], dtype=bool),
        has_benchmark=np.array([v is not None for v in col["benchmark__gpu_model"]], dtype=bool),
        bandwidth_gbps=_floats(col["benchmark__memory_bandwidth_gbps"]),
        tflops={
            Precision.FP32: _floats(col["benchmark__tflops_fp32"]),
            Precision.FP16: _floats(col["benchmark__tflops_fp16"]),
            Precision.FP8: _floats(col["benchmark__tflops_fp8"]),
            Precision.INT8: _floats(col["benchmark__tflops_int8"]),
        },
        tokens_per_second_7b=_floats(col["benchmark__tokens_per_second_7b"]),
        truncated=truncated,
    )

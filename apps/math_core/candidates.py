"""Candidate offers for the recommenders: a filtered QuerySet and its numeric columns.

``candidate_offers`` applies the catalogue's one offer selector (``apps.providers.selectors.
filter_offers`` over ``OfferFilters``), so a filter selects the same offers for the recommenders
as for the ``offers`` query and ``GET /api/v2/providers``. ``offer_table`` reads the
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
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import numpy as np
from django.db import connections
from django.db.models import QuerySet

from apps.providers import selectors
from apps.providers.models import Availability, GPUOffer
from apps.providers.offer_filters import OfferFilters

from .algorithms.gpu_spec import Precision
from .algorithms.throughput import HBM_DECODE_EFFICIENCY, LLAMA3_8B_PARAMS_BILLION

MAX_CANDIDATES = 10_000
#: Offers the recommenders consider when the filter names no availability (rentable ones).
DEFAULT_AVAILABILITY: tuple[str, ...] = (Availability.AVAILABLE.value, Availability.LIMITED.value)


def candidate_filters(filters: OfferFilters | None = None) -> OfferFilters:
    """The catalogue filter, validated, with the recommenders' default availability filled in
    when the caller gave none (the filter itself means exactly what it means in ``offers``)."""
    validated = (filters or OfferFilters()).validated()
    if validated.availability is None:
        return replace(validated, availability=sorted(DEFAULT_AVAILABILITY))
    return validated


def candidate_offers(filters: OfferFilters | None = None) -> QuerySet[GPUOffer]:
    """The offers the catalogue's selector matches for ``candidate_filters(filters)``, in the
    catalogue's default order (price, then id) so a truncated table keeps the cheapest."""
    return selectors.order_offers(
        selectors.filter_offers(candidate_filters(filters)), selectors.OfferOrdering()
    )


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

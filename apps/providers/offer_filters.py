"""The offer filter set buyers compose: one validated, normalised value object used by both facades.

``OfferFilters`` field names are the REST query parameter names (GraphQL uses the camelCase form of
the same names, and errors on both facades name the field in this snake_case form). ``validated()``
checks every value (negative numbers, ``min > max``, unknown enum values, oversized lists) and
returns a normalised copy (deduplicated, sorted lists; canonical spellings) whose ``cache_parts()``
is a stable, JSON-safe description of the filter set for the offer cache key.

Semantics, chosen so that no filter silently drops a valid offer:

* ``gpu_model`` (list), by the GPU-family rule of ``apps.math_core.algorithms.gpu_names``: a
  **family name** ("H100", "A100", "L40S", "RTX 4090", "MI300X") matches **every variant** of the
  family (H100 SXM, PCIe and NVL); any other spelling the normaliser knows is a **variant** and
  matches only the canonical model it normalises to ("H100_SXM5", "NVIDIA H100 80GB HBM3" →
  "H100 SXM 80GB"; "A100 40GB" → "A100 40GB"). Names it does not know match the tidied provider
  name case-insensitively (that is how such offers are stored).
* ``gpu_family`` (list): family names only (any spelling of the name: "h100", "RTX4090"); the
  offer's model must belong to one of them. A variant or unknown name is a 422 naming the field.
* ``gpu_type`` (the seed's filter): substring search, case-insensitive, over the canonical name and
  the provider's raw name, plus the canonical model of the given spelling ("A100" finds every A100
  variant; "H100_SXM5" finds "H100 SXM 80GB").
* ``vendor``: the benchmark's vendor, or — for offers without a benchmark row — the vendor the
  normaliser assigns to the offer's canonical model. Offers whose GPU the normaliser does not know
  have no known vendor: a vendor filter excludes them (they are listed when no vendor is given).
* ``vram_gb_*`` is per GPU, ``total_vram_gb_*`` is per GPU × ``gpu_count``.
* ``price_*`` is the whole offer's hourly price; ``price_per_gpu_hour_*`` compares the exact
  per-GPU price (``price_per_hour / gpu_count``; displayed rounded to 4 dp).
* ``compliance_tags``: the offer must carry every given tag (case-insensitive).
* ``region``, ``country`` and ``provider_name`` (lists): any of the given values, case-insensitive.
  ``region`` is the provider's own region string; ``country`` the ISO code the sync derived.
* ``macro_region`` (list): any of ``apps.providers.regions.MACRO_REGIONS`` (``europe``,
  ``north-america``, …), derived at ingestion from the country (UN M49 groups) or a cited
  provider region; offers whose location is unknown have none and never match.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from apps.core.errors import ValidationFailed
from apps.core.text import trimmed
from apps.math_core.algorithms.costs import MONEY_STEP
from apps.math_core.algorithms.gpu_names import VENDORS, family_named

from .models import Availability
from .regions import MACRO_REGIONS

AVAILABILITY_VALUES = tuple(choice.value for choice in Availability)
MAX_LIST_ITEMS = 50
MAX_TEXT_LENGTH = 200
MAX_MONEY = Decimal("1000000")
_TAG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.:+/-]{0,49}$")
_COUNTRY = re.compile(r"^[A-Za-z]{2}$")

#: Inclusive upper bounds of the integer filters (generous, but keep values sane for the database).
INT_LIMITS = {
    "vram_gb": 4096,
    "total_vram_gb": 4096 * 1024,
    "gpu_count": 1024,
    "cpu_cores_min": 100_000,
    "ram_gb_min": 10_000_000,
    "storage_gb_min": 1_000_000_000,
}
RANGE_PAIRS = (
    ("vram_gb_min", "vram_gb_max"),
    ("total_vram_gb_min", "total_vram_gb_max"),
    ("gpu_count_min", "gpu_count_max"),
    ("price_min", "price_max"),
    ("price_per_gpu_hour_min", "price_per_gpu_hour_max"),
)


@dataclass(frozen=True)
class OfferFilters:
    """Every filter the catalogue knows, once (each field's ``description`` metadata is its
    documentation on both facades): the facades' filter fields are generated from
    this field list (``schema/providers.py``, ``gpubroker/api/v2/providers.py``)."""

    gpu_model: list[str] | None = field(
        default=None,
        metadata={
            "description": "GPU models, any spelling the normaliser knows. A family name "
            "(H100, A100, RTX 4090) matches every variant of the family; a variant (H100 PCIe, "
            "A100 40GB) only itself."
        },
    )
    gpu_family: list[str] | None = field(
        default=None,
        metadata={"description": "GPU family names (see gpuFamilies); any variant matches."},
    )
    gpu_type: str | None = field(default=None, metadata={"description": "Substring search."})
    vendor: str | None = None
    vram_gb_min: int | None = field(default=None, metadata={"description": "Per GPU."})
    vram_gb_max: int | None = None
    total_vram_gb_min: int | None = field(default=None, metadata={"description": "All GPUs."})
    total_vram_gb_max: int | None = None
    gpu_count_min: int | None = None
    gpu_count_max: int | None = None
    provider_name: list[str] | None = None
    region: list[str] | None = None
    country: list[str] | None = field(default=None, metadata={"description": "ISO alpha-2."})
    macro_region: list[str] | None = field(
        default=None,
        metadata={
            "description": "north-america, south-america, europe, middle-east, africa, "
            "asia-pacific, oceania."
        },
    )
    price_min: Decimal | None = field(default=None, metadata={"description": "USD/hour, offer."})
    price_max: Decimal | None = None
    price_per_gpu_hour_min: Decimal | None = None
    price_per_gpu_hour_max: Decimal | None = None
    availability: list[str] | None = None
    is_spot: bool | None = field(default=None, metadata={"description": "Null: both kinds."})
    datacenter_only: bool = False
    compliance_tags: list[str] | None = field(
        default=None, metadata={"description": "Offer must carry all."}
    )
    reliability_min: float | None = None
    cpu_cores_min: int | None = None
    ram_gb_min: int | None = None
    storage_gb_min: int | None = None

    @classmethod
    def from_values(cls, values: dict[str, Any]) -> OfferFilters:
        """Build from a facade's parsed arguments (unknown keys are a programming error)."""
        return cls(**{name: value for name, value in values.items() if value is not None})

    def validated(self) -> OfferFilters:
        changes: dict[str, Any] = {}
        for name in ("vram_gb_min", "vram_gb_max"):
            changes[name] = _int(name, getattr(self, name), INT_LIMITS["vram_gb"])
        for name in ("total_vram_gb_min", "total_vram_gb_max"):
            changes[name] = _int(name, getattr(self, name), INT_LIMITS["total_vram_gb"])
        for name in ("gpu_count_min", "gpu_count_max"):
            changes[name] = _int(name, getattr(self, name), INT_LIMITS["gpu_count"])
        for name in ("cpu_cores_min", "ram_gb_min", "storage_gb_min"):
            changes[name] = _int(name, getattr(self, name), INT_LIMITS[name])
        for name in ("price_min", "price_max", "price_per_gpu_hour_min", "price_per_gpu_hour_max"):
            changes[name] = _money(name, getattr(self, name))
        changes["reliability_min"] = _reliability(self.reliability_min)
        changes["vendor"] = _vendor(self.vendor)
        changes["gpu_type"] = _text("gpu_type", self.gpu_type)
        changes["gpu_model"] = _texts("gpu_model", self.gpu_model)
        changes["gpu_family"] = _families(self.gpu_family)
        changes["provider_name"] = _texts("provider_name", self.provider_name, lower=True)
        changes["region"] = _texts("region", self.region, lower=True)
        changes["country"] = _countries(self.country)
        changes["macro_region"] = _macro_regions(self.macro_region)
        changes["availability"] = _availability(self.availability)
        changes["compliance_tags"] = _tags(self.compliance_tags)
        for name in ("is_spot",):
            changes[name] = _optional_bool(name, getattr(self, name))
        changes["datacenter_only"] = bool(_optional_bool("datacenter_only", self.datacenter_only))
        result = replace(self, **changes)
        for low, high in RANGE_PAIRS:
            lo, hi = getattr(result, low), getattr(result, high)
            if lo is not None and hi is not None and lo > hi:
                raise ValidationFailed(f"{low} ({lo}) must not exceed {high} ({hi})", field=low)
        return result

    def cache_parts(self) -> dict[str, Any]:
        """JSON-safe, order-independent description (only the filters that are set)."""
        parts: dict[str, Any] = {}
        for spec in fields(self):
            value = getattr(self, spec.name)
            if value is None or value is False:
                continue
            parts[spec.name] = str(value) if isinstance(value, Decimal) else value
        return parts


def _int(name: str, value: Any, upper: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationFailed(f"{name} must be an integer", field=name)
    if not 0 <= value <= upper:
        raise ValidationFailed(f"{name} must be between 0 and {upper}", field=name)
    return value


def _money(name: str, value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationFailed(f"{name} must be a decimal number", field=name) from exc
    if not number.is_finite() or number < 0 or number > MAX_MONEY:
        raise ValidationFailed(f"{name} must be between 0 and {MAX_MONEY}", field=name)
    if number != number.quantize(MONEY_STEP):
        raise ValidationFailed(f"{name} must have at most 4 decimal places", field=name)
    return number.quantize(MONEY_STEP)


def _reliability(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValidationFailed("reliability_min must be a number", field="reliability_min")
    number = float(value)
    if not math.isfinite(number) or not 0 <= number <= 1:
        raise ValidationFailed("reliability_min must be between 0 and 1", field="reliability_min")
    return number


def _vendor(value: Any) -> str | None:
    if value is None:
        return None
    normalized = str(getattr(value, "value", value)).strip().upper()
    if normalized not in VENDORS:
        raise ValidationFailed(
            f"vendor must be one of {', '.join(VENDORS)}; got {value!r}", field="vendor"
        )
    return normalized


def _text(name: str, value: Any) -> str | None:
    if value is None:
        return None
    text = trimmed(str(value))
    if not text or len(text) > MAX_TEXT_LENGTH:
        raise ValidationFailed(
            f"{name} must be 1-{MAX_TEXT_LENGTH} characters (not blank)", field=name
        )
    return text


def _list(name: str, values: Any) -> list[Any] | None:
    if values is None:
        return None
    if isinstance(values, (str, bytes)) or not isinstance(values, (list, tuple, set)):
        raise ValidationFailed(f"{name} must be a list", field=name)
    if len(values) > MAX_LIST_ITEMS:
        raise ValidationFailed(f"{name} accepts at most {MAX_LIST_ITEMS} values", field=name)
    return list(values)


def _texts(name: str, values: Any, *, lower: bool = False) -> list[str] | None:
    items = _list(name, values)
    if items is None:
        return None
    cleaned = {_text(name, item) or "" for item in items}
    return sorted({item.lower() for item in cleaned} if lower else cleaned) or None


def _families(values: Any) -> list[str] | None:
    items = _texts("gpu_family", values)
    if items is None:
        return None
    result = set()
    for item in items:
        family = family_named(item)
        if family is None:
            raise ValidationFailed(
                f"gpu_family must name a GPU family (e.g. H100, A100, RTX 4090); got {item!r}",
                field="gpu_family",
            )
        result.add(family)
    return sorted(result) or None


def _countries(values: Any) -> list[str] | None:
    items = _list("country", values)
    if items is None:
        return None
    result = set()
    for item in items:
        text = str(item).strip()
        if not _COUNTRY.match(text):
            raise ValidationFailed(
                f"country must be ISO 3166-1 alpha-2 codes; got {item!r}", field="country"
            )
        result.add(text.upper())
    return sorted(result) or None


def _macro_regions(values: Any) -> list[str] | None:
    items = _list("macro_region", values)
    if items is None:
        return None
    result = set()
    for item in items:
        text = str(getattr(item, "value", item)).strip().lower().replace("_", "-")
        if text not in MACRO_REGIONS:
            raise ValidationFailed(
                f"macro_region must be among {', '.join(MACRO_REGIONS)}; got {item!r}",
                field="macro_region",
            )
        result.add(text)
    return sorted(result) or None


def _availability(values: Any) -> list[str] | None:
    items = _list("availability", values)
    if items is None:
        return None
    result = set()
    for item in items:
        text = str(getattr(item, "value", item)).strip().lower()
        if text not in AVAILABILITY_VALUES:
            raise ValidationFailed(
                f"availability must be among {', '.join(AVAILABILITY_VALUES)}; got {item!r}",
                field="availability",
            )
        result.add(text)
    return sorted(result) or None


def _tags(values: Any) -> list[str] | None:
    items = _list("compliance_tags", values)
    if items is None:
        return None
    result = set()
    for item in items:
        text = str(item).strip()
        if not _TAG.match(text):
            raise ValidationFailed(
                "compliance_tags must be 1-50 characters of letters, digits, space and _.:+/-",
                field="compliance_tags",
            )
        result.add(text.lower())
    return sorted(result) or None


def _optional_bool(name: str, value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise ValidationFailed(f"{name} must be true or false", field=name)

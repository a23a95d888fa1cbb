"""Which price changes a subscriber wants (pure; shared by GraphQL subscriptions and ``/ws/``).

A filter is validated once, when the subscription starts; matching then runs on the JSON-safe
change messages the publisher sends (``OfferChange.as_message()``), so subscribers never touch the
database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from apps.core.errors import ValidationFailed
from apps.math_core.algorithms.gpu_names import (
    canonical_gpu_name,
    family_named,
    matching_gpu_models,
)

_MAX_TEXT = 100


def _text(value: str | None, field: str) -> str | None:
    if value is None:
        return None
    cleaned = value.strip()
    if len(cleaned) > _MAX_TEXT:
        raise ValidationFailed(f"At most {_MAX_TEXT} characters.", field=field)
    return cleaned or None


def parse_price(value: Any, field: str = "maxPricePerGpuHour") -> Decimal | None:
    """A non-negative, finite price; ``None`` for no limit."""
    if value is None or value == "":
        return None
    try:
        price = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationFailed("Must be a decimal number.", field=field) from exc
    if not price.is_finite() or price < 0:
        raise ValidationFailed("Must be a finite number ≥ 0.", field=field)
    return price


@dataclass(frozen=True, slots=True)
class PriceFilter:
    """All conditions must hold; ``None`` means "any"."""

    gpu_model: str | None = None  # canonical GPU model name, or a family name
    #: The canonical models ``gpu_model`` matches (the family rule of ``gpu_names``).
    gpu_models: frozenset[str] | None = None
    provider: str | None = None  # provider registry name, lower case
    region: str | None = None  # compared case-insensitively
    max_price_per_gpu_hour: Decimal | None = None
    spot: bool | None = None

    @classmethod
    def build(
        cls,
        *,
        gpu_model: str | None = None,
        provider: str | None = None,
        region: str | None = None,
        max_price_per_gpu_hour: Any = None,
        spot: bool | None = None,
    ) -> PriceFilter:
        """Validate and normalise client input (any spelling of a GPU: "H100 SXM", "h100_sxm5")."""
        model = _text(gpu_model, "gpuModel")
        models: frozenset[str] | None = None
        if model is not None:
            # A family name ("H100") matches every variant, a variant only itself; unknown names
            # are kept verbatim (offers of GPUs the normaliser does not know carry the
            # provider's own spelling).
            family = family_named(model)
            models = matching_gpu_models(model) or frozenset((model,))
            model = family if family and len(models) > 1 else canonical_gpu_name(model) or model
        provider_name = _text(provider, "provider")
        region_name = _text(region, "region")
        return cls(
            gpu_model=model,
            gpu_models=models,
            provider=provider_name.lower() if provider_name else None,
            region=region_name.casefold() if region_name else None,
            max_price_per_gpu_hour=parse_price(max_price_per_gpu_hour),
            spot=spot,
        )

    @property
    def group_model(self) -> str | None:
        """The one GPU model whose channel group serves this filter (None: all prices)."""
        if self.gpu_models is not None and len(self.gpu_models) == 1:
            return next(iter(self.gpu_models))
        return None

    def matches(self, change: Mapping[str, Any]) -> bool:
        if self.gpu_models is not None and change.get("gpu_model") not in self.gpu_models:
            return False
        if self.provider is not None and str(change.get("provider", "")).lower() != self.provider:
            return False
        if self.region is not None and str(change.get("region", "")).casefold() != self.region:
            return False
        if self.spot is not None and bool(change.get("is_spot")) is not self.spot:
            return False
        if self.max_price_per_gpu_hour is not None:
            price = Decimal(str(change.get("new_price_per_gpu_hour")))
            if price > self.max_price_per_gpu_hour:
                return False
        return True

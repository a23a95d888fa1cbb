"""Offers as the assistant cites them: id, provider, GPU model, price per hour and per GPU-hour and
when that price was observed, read from the catalogue (never from a tool's or an agent's text).

``cite(offer_ids)`` loads the rows in ONE query (``selectors.offers_by_ids``) and keeps the given
order; unknown ids are dropped, so nothing outside the catalogue can be cited."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from apps.providers.models import GPUOffer
from apps.providers.selectors import offers_by_ids


@dataclass(frozen=True)
class OfferCitation:
    offer_id: str
    provider: str
    gpu_model: str
    gpu_count: int
    vram_gb: int
    price_per_hour: Decimal
    price_per_gpu_hour: Decimal
    observed_at: datetime
    region: str
    country: str
    is_spot: bool
    availability: str
    is_sample_data: bool

    @classmethod
    def of(cls, offer: GPUOffer) -> OfferCitation:
        return cls(
            offer_id=str(offer.pk),
            provider=offer.provider.name,
            gpu_model=offer.gpu_type,
            gpu_count=offer.gpu_count,
            vram_gb=offer.gpu_memory_gb,
            price_per_hour=offer.price_per_hour,
            price_per_gpu_hour=offer.price_per_gpu_hour,
            observed_at=offer.last_seen_at,
            region=offer.region,
            country=offer.country,
            is_spot=offer.is_spot,
            availability=offer.availability_status,
            is_sample_data=offer.provider.is_sample_data,
        )

    def as_json(self) -> dict[str, Any]:
        """JSON-safe (money as decimal strings, time as ISO 8601)."""
        return {
            "offer_id": self.offer_id,
            "provider": self.provider,
            "gpu_model": self.gpu_model,
            "gpu_count": self.gpu_count,
            "vram_gb": self.vram_gb,
            "price_per_hour": str(self.price_per_hour),
            "price_per_gpu_hour": str(self.price_per_gpu_hour),
            "observed_at": self.observed_at.isoformat(),
            "region": self.region,
            "country": self.country,
            "is_spot": self.is_spot,
            "availability": self.availability,
            "is_sample_data": self.is_sample_data,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OfferCitation:
        return cls(
            offer_id=data["offer_id"],
            provider=data["provider"],
            gpu_model=data["gpu_model"],
            gpu_count=int(data["gpu_count"]),
            vram_gb=int(data["vram_gb"]),
            price_per_hour=Decimal(data["price_per_hour"]),
            price_per_gpu_hour=Decimal(data["price_per_gpu_hour"]),
            observed_at=datetime.fromisoformat(data["observed_at"]),
            region=data["region"],
            country=data["country"],
            is_spot=bool(data["is_spot"]),
            availability=data["availability"],
            is_sample_data=bool(data["is_sample_data"]),
        )


def cite(offer_ids: Iterable[object]) -> list[OfferCitation]:
    """Citations for the catalogue offers among ``offer_ids``, in the given order, deduplicated."""
    ordered = list(dict.fromkeys(str(i) for i in offer_ids))
    found = offers_by_ids(ordered)
    return [OfferCitation.of(found[key]) for key in ordered if key in found]


def money_text(value: Decimal) -> str:
    """How an answer writes a price: ``$1.2345`` trimmed to at least 2 decimals (``$1.50``)."""
    text = f"{value:.4f}".rstrip("0")
    whole, _, decimals = text.partition(".")
    return f"${whole}.{decimals.ljust(2, '0')}"

"""The offer as every recommender answer shows it: the few catalogue fields a ranking needs
(``offerId`` links the full catalogue offer on both facades)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .algorithms.amounts import money
from .candidates import OfferTable


@dataclass(frozen=True)
class OfferSummary:
    offer_id: str
    provider: str
    gpu_type: str
    gpu_count: int
    vram_gb: int
    price_per_hour: Decimal
    region: str
    country: str
    is_spot: bool
    reliability: float


def offer_summary(table: OfferTable, i: int) -> OfferSummary:
    """Row ``i`` of a candidate table as an answer shows it."""
    return OfferSummary(
        offer_id=table.offer_id(i),
        provider=table.provider[i],
        gpu_type=table.gpu_type[i],
        gpu_count=int(table.gpu_count[i]),
        vram_gb=int(table.vram_gb[i]),
        price_per_hour=money(table.price[i]),
        region=table.region[i],
        country=table.country[i],
        is_spot=bool(table.is_spot[i]),
        reliability=float(table.reliability[i]),
    )

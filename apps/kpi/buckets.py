"""Bucket summaries of price history: the one shape raw rows, hourly and daily rollups share.
Pure Python, no Django import.

Price history is a step function per offer: each row sets (price, availability) from its
``recorded_at`` on. A bucket (an hour or a UTC day) of one offer with at least one change is
summarised as *first, last, min, max* of the prices recorded in it, the number of changes
(``samples``), the sum of their availability weights (available 1, limited ½, unavailable 0),
how many were listed (not unavailable), the last availability and the first/last times. Every
field re-aggregates exactly (sums, min, max, first of the first, last of the last), so a day
summarised from 24 hourly rollups equals the day summarised from the raw rows: compaction loses
no fact any KPI reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

AVAILABILITY_WEIGHT = {"available": 1.0, "limited": 0.5, "unavailable": 0.0}


class Granularity(StrEnum):
    HOUR = "hour"
    DAY = "day"

    @property
    def size(self) -> timedelta:
        return timedelta(hours=1) if self is Granularity.HOUR else timedelta(days=1)

    def floor(self, moment: datetime) -> datetime:
        """Start of the bucket holding ``moment`` (aware, UTC buckets)."""
        if self is Granularity.HOUR:
            return moment.replace(minute=0, second=0, microsecond=0)
        return moment.replace(hour=0, minute=0, second=0, microsecond=0)


@dataclass(slots=True)
class BucketSummary:
    first_price: Decimal
    last_price: Decimal
    min_price: Decimal
    max_price: Decimal
    samples: int
    available_weight: float
    listed_samples: int
    last_availability: str
    first_at: datetime
    last_at: datetime

    @classmethod
    def of_row(cls, price: Decimal, availability: str, at: datetime) -> BucketSummary:
        return cls(
            first_price=price,
            last_price=price,
            min_price=price,
            max_price=price,
            samples=1,
            available_weight=AVAILABILITY_WEIGHT.get(availability, 0.0),
            listed_samples=0 if availability == "unavailable" else 1,
            last_availability=availability,
            first_at=at,
            last_at=at,
        )

    def absorb(self, later: BucketSummary) -> None:
        """Merge a summary of later changes into this one (in place)."""
        self.last_price = later.last_price
        self.min_price = min(self.min_price, later.min_price)
        self.max_price = max(self.max_price, later.max_price)
        self.samples += later.samples
        self.available_weight += later.available_weight
        self.listed_samples += later.listed_samples
        self.last_availability = later.last_availability
        self.last_at = later.last_at

    def copy(self) -> BucketSummary:
        return BucketSummary(
            self.first_price,
            self.last_price,
            self.min_price,
            self.max_price,
            self.samples,
            self.available_weight,
            self.listed_samples,
            self.last_availability,
            self.first_at,
            self.last_at,
        )


def merge_ordered(parts: Iterable[BucketSummary]) -> BucketSummary | None:
    """The summary of consecutive parts (oldest first)."""
    merged: BucketSummary | None = None
    for part in sorted(parts, key=lambda p: p.first_at):
        if merged is None:
            merged = part.copy()
        else:
            merged.absorb(part)
    return merged


Row = tuple[object, datetime, Decimal, str]  # (offer id, recorded_at, price, availability)


def fold_rows(
    rows: Iterable[Row], granularity: Granularity
) -> Iterator[tuple[object, datetime, BucketSummary]]:
    """Summaries per (offer, bucket) of rows ordered by offer, then time."""
    current_key: tuple[object, datetime] | None = None
    current: BucketSummary | None = None
    for offer_id, at, price, availability in rows:
        key = (offer_id, granularity.floor(at))
        part = BucketSummary.of_row(price, availability, at)
        if key == current_key and current is not None:
            current.absorb(part)
            continue
        if current is not None and current_key is not None:
            yield current_key[0], current_key[1], current
        current_key, current = key, part
    if current is not None and current_key is not None:
        yield current_key[0], current_key[1], current


@dataclass(frozen=True, slots=True)
class State:
    """An offer's state at a moment: its last recorded price and availability."""

    price_per_hour: Decimal
    availability: str

    @property
    def listed(self) -> bool:
        return self.availability != "unavailable"


def period_view(
    carried: State | None, summary: BucketSummary | None
) -> tuple[State, bool, float] | None:
    """(state at the period's end, listed in the period, share of the period available) from the
    state carried in and the period's summary; ``None`` when the offer did not exist yet."""
    if summary is None:
        if carried is None:
            return None
        weight = AVAILABILITY_WEIGHT.get(carried.availability, 0.0)
        return carried, carried.listed, weight
    end = State(summary.last_price, summary.last_availability)
    samples = summary.samples + (1 if carried else 0)
    weight = summary.available_weight + (
        AVAILABILITY_WEIGHT.get(carried.availability, 0.0) if carried else 0.0
    )
    listed = summary.listed_samples > 0 or (carried is not None and carried.listed)
    return end, listed, weight / samples

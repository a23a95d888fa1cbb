"""The sync engine: per provider fetch → normalise → bulk upsert, with price history and events.

For each provider, under a cross-process lock (``sync_lock``):

1. **Fetch** through the adapter (live API or replay source), outside any transaction.
   A :class:`ProviderError` (timeout, HTTP error, garbage payload) or a batch whose every record
   was rejected fails *this provider only*: its offers are left exactly as they were, its
   ``error_count`` and ``reliability_score`` record the failure, the other providers go on.
2. **Apply** in one transaction: offers are upserted by ``(provider, external_id)``; a
   ``PriceHistory`` row is written for each new offer and for each offer whose price or
   availability actually changed; offers no longer listed are marked unavailable (never deleted);
   the provider's ``last_sync_at``/``error_count``/``reliability_score`` are updated; and every
   change is handed to ``events.publish_offer_changes`` (sent after commit).

The statement count does not grow with the number of offers: one SELECT of the provider's offers,
one UPDATE that refreshes ``last_seen_at`` of every still-listed unchanged offer, and bulk
INSERT/UPDATE in fixed-size batches for what changed (``bench/sync_bench.py`` prints the counts).

``last_seen_at`` bookkeeping: ``Provider.last_sync_at`` is the *start* time of the last successful
sync, and every offer listed in that sync has ``last_seen_at >= last_sync_at``. So the offers that
were listed last time are found by that predicate — no id lists — and the next sync refreshes them
with a single UPDATE; offers that come back after being unlisted are rewritten individually.

``reliability_score`` is an exponentially weighted moving average of sync outcomes (1 success,
0 failure) with weight :data:`RELIABILITY_ALPHA` = 0.1 — roughly the success ratio of the last ten
syncs, with older ones fading. ``error_count`` counts consecutive failures (0 after a success).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from asgiref.sync import async_to_sync
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.math_core.models import GPUBenchmark

from .adapters import (
    BaseProviderAdapter,
    FetchResult,
    ProviderError,
    ProviderOffer,
    ProviderPayloadError,
    ProviderRegistry,
    ProviderUnavailable,
)
from .events import OfferChange, publish_offer_changes
from .models import Availability, GPUOffer, PriceHistory, Provider, ProviderStatus
from .sync_lock import provider_sync_lock
from .sync_sources import LIVE, SyncSource, build_adapter

logger = logging.getLogger("gpubroker.providers.sync")

RELIABILITY_ALPHA = 0.1
INSERT_BATCH = 1000
UPDATE_BATCH = 500
#: Upper bound for one provider's whole fetch (all requests and retries).
FETCH_DEADLINE_SECONDS = 180.0

#: Offer columns a sync writes (besides ids and timestamps), in comparison order.
FIELDS = (
    "gpu_type",
    "raw_gpu_name",
    "benchmark_id",
    "gpu_memory_gb",
    "gpu_count",
    "cpu_cores",
    "ram_gb",
    "storage_gb",
    "price_per_hour",
    "currency",
    "region",
    "country",
    "availability_status",
    "is_spot",
    "is_datacenter",
    "compliance_tags",
)
PRICE = FIELDS.index("price_per_hour")
AVAIL = FIELDS.index("availability_status")

Status = Literal["ok", "failed", "skipped"]


@dataclass(slots=True)
class SyncReport:
    """The outcome of one provider's sync (one row of ``sync_offers``' summary table)."""

    provider: str
    source: str
    status: Status = "ok"
    fetched: int = 0
    offers: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    vanished: int = 0
    rejected: int = 0
    history_rows: int = 0
    seconds: float = 0.0
    error: str = ""
    error_code: str = ""
    rejection_reasons: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass(slots=True)
class _Plan:
    new: list[GPUOffer] = field(default_factory=list)
    rewrite: list[GPUOffer] = field(default_factory=list)
    vanish: list[GPUOffer] = field(default_factory=list)
    history: list[PriceHistory] = field(default_factory=list)
    changes: list[OfferChange] = field(default_factory=list)
    changed: int = 0
    unchanged: int = 0


def ensure_provider(name: str) -> Provider:
    adapter_class = ProviderRegistry.adapter_class(name)
    provider, _ = Provider.objects.get_or_create(
        name=name,
        defaults={
            "display_name": adapter_class.DISPLAY_NAME or name,
            "api_base_url": adapter_class.BASE_URL,
        },
    )
    return provider


def _offer_values(offer: ProviderOffer, benchmark_id: Any) -> tuple[Any, ...]:
    return (
        offer.gpu_type[:100],
        offer.raw_gpu_name[:255],
        benchmark_id,
        offer.gpu_memory_gb,
        offer.gpu_count,
        offer.cpu_cores,
        offer.ram_gb,
        offer.storage_gb,
        offer.price_per_hour,
        offer.currency[:3],
        offer.region[:100],
        offer.country[:2],
        offer.availability,
        offer.is_spot,
        offer.is_datacenter,
        list(offer.compliance_tags),
    )


def _change(
    kind: Literal["new", "changed", "vanished"],
    offer_id: Any,
    provider: str,
    values: Sequence[Any],
    old: Sequence[Any] | None,
    now: datetime,
    external_id: str,
) -> OfferChange:
    return OfferChange(
        kind=kind,
        offer_id=str(offer_id),
        provider=provider,
        gpu_model=values[0],
        gpu_count=values[4],
        region=values[10],
        country=values[11],
        is_spot=values[13],
        old_price_per_hour=None if old is None else Decimal(old[PRICE]),
        new_price_per_hour=Decimal(values[PRICE]),
        old_availability=None if old is None else old[AVAIL],
        new_availability=values[AVAIL],
        changed_at=now,
        extra={"external_id": external_id, "raw_gpu_name": values[1]},
    )


def _plan(provider: Provider, offers: Iterable[ProviderOffer], now: datetime) -> _Plan:
    benchmarks = dict(GPUBenchmark.objects.values_list("gpu_model", "id"))
    existing: dict[str, tuple[Any, ...]] = {
        row[1]: row
        for row in GPUOffer.objects.filter(provider=provider).values_list(
            "id", "external_id", *FIELDS, "last_seen_at", "updated_at"
        )
    }
    listed_since = provider.last_sync_at
    plan = _Plan()
    seen: set[str] = set()
    for offer in offers:
        seen.add(offer.external_id)
        values = _offer_values(offer, benchmarks.get(offer.gpu_type))
        row = existing.get(offer.external_id)
        if row is None:
            created = GPUOffer(
                provider=provider, external_id=offer.external_id, **dict(zip(FIELDS, values, strict=True))
            )
            plan.new.append(created)
            plan.history.append(
                PriceHistory(
                    offer=created,
                    price_per_hour=offer.price_per_hour,
                    availability_status=offer.availability,
                )
            )
            plan.changes.append(
                _change("new", created.id, provider.name, values, None, now, offer.external_id)
            )
            continue
        old = row[2 : 2 + len(FIELDS)]
        last_seen, updated = row[-2], row[-1]
        moved = old[PRICE] != values[PRICE] or old[AVAIL] != values[AVAIL]
        if moved:
            plan.changed += 1
            plan.history.append(
                PriceHistory(
                    offer_id=row[0],
                    price_per_hour=offer.price_per_hour,
                    availability_status=offer.availability,
                )
            )
            plan.changes.append(
                _change("changed", row[0], provider.name, values, old, now, offer.external_id)
            )
        else:
            plan.unchanged += 1
        data_changed = moved or tuple(old) != values
        returning = listed_since is None or last_seen < listed_since
        if data_changed or returning:
            plan.rewrite.append(
                GPUOffer(
                    id=row[0],
                    **dict(zip(FIELDS, values, strict=True)),
                    last_seen_at=now,
                    updated_at=now if data_changed else updated,
                )
            )
    for external_id, row in existing.items():
        if external_id in seen or row[2 + AVAIL] == Availability.UNAVAILABLE:
            continue
        old = row[2 : 2 + len(FIELDS)]
        values = (*old[:AVAIL], Availability.UNAVAILABLE.value, *old[AVAIL + 1 :])
        plan.vanish.append(
            GPUOffer(
                id=row[0],
                availability_status=Availability.UNAVAILABLE,
                last_seen_at=row[-2],
                updated_at=now,
            )
        )
        plan.history.append(
            PriceHistory(
                offer_id=row[0],
                price_per_hour=old[PRICE],
                availability_status=Availability.UNAVAILABLE,
            )
        )
        plan.changes.append(
            _change("vanished", row[0], provider.name, values, old, now, external_id)
        )
    return plan


def apply_offers(
    provider: Provider, offers: Sequence[ProviderOffer], *, sample: bool, now: datetime
) -> _Plan:
    """Write one provider's fetched offers (call inside a transaction)."""
    if provider.is_sample_data != sample and provider.last_sync_at is not None:
        # Sample offers never mix with live ones (or their history): the switch starts afresh.
        dropped, _ = GPUOffer.objects.filter(provider=provider).delete()
        logger.warning(
            "provider switched between sample and live data; previous offers removed",
            extra={"provider": provider.name, "now_sample": sample, "removed_rows": dropped},
        )
        provider.last_sync_at = None
    plan = _plan(provider, offers, now)
    if provider.last_sync_at is not None:
        GPUOffer.objects.filter(provider=provider, last_seen_at__gte=provider.last_sync_at).update(
            last_seen_at=now
        )
    GPUOffer.objects.bulk_update(
        plan.rewrite, [*FIELDS, "last_seen_at", "updated_at"], batch_size=UPDATE_BATCH
    )
    GPUOffer.objects.bulk_update(
        plan.vanish, ["availability_status", "last_seen_at", "updated_at"], batch_size=UPDATE_BATCH
    )
    GPUOffer.objects.bulk_create(plan.new, batch_size=INSERT_BATCH)
    PriceHistory.objects.bulk_create(plan.history, batch_size=INSERT_BATCH)
    Provider.objects.filter(pk=provider.pk).update(
        last_sync_at=now,
        error_count=0,
        reliability_score=F("reliability_score") * (1 - RELIABILITY_ALPHA) + RELIABILITY_ALPHA,
        is_sample_data=sample,
    )
    publish_offer_changes(provider.name, plan.changes)
    return plan


def record_failure(provider: Provider) -> None:
    Provider.objects.filter(pk=provider.pk).update(
        error_count=F("error_count") + 1,
        reliability_score=F("reliability_score") * (1 - RELIABILITY_ALPHA),
    )


async def _fetch_with_deadline(adapter: BaseProviderAdapter) -> FetchResult:
    try:
        return await asyncio.wait_for(adapter.fetch_offers(), FETCH_DEADLINE_SECONDS)
    except TimeoutError as exc:
        raise ProviderUnavailable(
            f"fetch exceeded {FETCH_DEADLINE_SECONDS:.0f} s", provider=adapter.PROVIDER_NAME
        ) from exc


def fetch(adapter: BaseProviderAdapter) -> FetchResult:
    """Run the adapter's async fetch from sync code (a worker thread when a loop is running)."""
    return async_to_sync(_fetch_with_deadline)(adapter)


def sync_provider(
    name: str, *, source: SyncSource = LIVE, adapter: BaseProviderAdapter | None = None
) -> SyncReport:
    """Sync one provider; never raises for provider trouble (the report says what happened)."""
    started = time.perf_counter()
    report = SyncReport(provider=name, source=source.describe())
    provider = ensure_provider(name)
    with provider_sync_lock(name) as acquired:
        if not acquired:
            report.status = "skipped"
            report.error = "another process is syncing this provider"
            report.error_code = "locked"
            logger.info("provider sync skipped: locked", extra={"provider": name})
            return _finish(report, started)
        now = timezone.now()
        try:
            result = fetch(adapter or build_adapter(name, source))
            report.fetched = result.records_seen
            report.rejected = result.rejected
            report.rejection_reasons = dict(result.rejection_reasons)
            if result.rejected and not result.offers:
                raise ProviderPayloadError(
                    f"every one of {result.records_seen} records was rejected "
                    f"({', '.join(sorted(result.rejection_reasons))})",
                    provider=name,
                )
        except (ProviderError, LookupError) as exc:
            return _fail(report, provider, exc, started)
        except Exception as exc:  # an adapter bug must not stop the other providers
            logger.exception("provider fetch crashed", extra={"provider": name})
            return _fail(report, provider, exc, started)

        with transaction.atomic():
            locked = Provider.objects.select_for_update().get(pk=provider.pk)
            plan = apply_offers(locked, result.offers, sample=source.is_sample, now=now)
        report.offers = len(result.offers)
        report.new = len(plan.new)
        report.changed = plan.changed
        report.unchanged = plan.unchanged
        report.vanished = len(plan.vanish)
        report.history_rows = len(plan.history)
    logger.info(
        "provider synced",
        extra={
            "provider": name,
            "source": report.source,
            "offers": report.offers,
            "new": report.new,
            "changed": report.changed,
            "vanished": report.vanished,
            "rejected": report.rejected,
        },
    )
    return _finish(report, started)


def _fail(report: SyncReport, provider: Provider, exc: Exception, started: float) -> SyncReport:
    report.status = "failed"
    report.error = str(exc)[:500]
    report.error_code = getattr(exc, "code", exc.__class__.__name__)
    record_failure(provider)
    logger.warning(
        "provider sync failed; previous offers kept",
        extra={"provider": report.provider, "error": report.error, "code": report.error_code},
    )
    return _finish(report, started)


def _finish(report: SyncReport, started: float) -> SyncReport:
    report.seconds = time.perf_counter() - started
    return report


def providers_to_sync(names: Sequence[str] | None = None) -> list[str]:
    """``names`` checked against the registry, or every registered provider not switched off
    (``Provider.status`` inactive/maintenance) when ``names`` is None."""
    if names is not None:
        for name in names:
            ProviderRegistry.adapter_class(name)  # UnknownProvider for a typo
        return list(dict.fromkeys(names))
    off = set(Provider.objects.exclude(status=ProviderStatus.ACTIVE).values_list("name", flat=True))
    return [name for name in ProviderRegistry.list_adapters() if name not in off]


def sync_providers(
    names: Sequence[str] | None = None, *, source: SyncSource = LIVE
) -> list[SyncReport]:
    """Sync each provider in turn; one provider's failure never stops the others."""
    return [sync_provider(name, source=source) for name in providers_to_sync(names)]

"""The sync engine: per provider fetch → normalise → bulk upsert, with price history and events.

For each provider, under a cross-process lock (``sync_lock``):

1. **Fetch** through the adapter (live API or replay source), outside any transaction.
   A :class:`ProviderError` (timeout, HTTP error, garbage payload), a batch whose every record
   was rejected, or an empty listing while the provider has offers on sale (indistinguishable
   from an outage) fails *this provider only*: its offers are left exactly as they were, its
   ``error_count`` and ``reliability_score`` record the failure, the other providers go on.
2. **Apply** in one transaction: offers are upserted by ``(provider, external_id)``; a
   ``PriceHistory`` row is written for each new offer and for each offer whose price or
   availability actually changed; offers no longer listed are marked unavailable (never deleted);
   the provider's ``last_sync_at``/``error_count``/``reliability_score`` are updated; and every
   change is handed to ``events.publish_offer_changes`` (sent after commit).

The statement count does not grow with the number of offers: one SELECT of the provider's offers
(diffed in memory by ``sync_plan``), bulk INSERT/UPDATE in fixed-size batches for what changed,
and one UPDATE that refreshes ``last_seen_at`` of unchanged offers (``bench/sync_bench.py``
prints the counts for 2,000 and 20,000 offers).

``last_seen_at`` has a resolution of :data:`LAST_SEEN_RESOLUTION`: an unchanged offer's timestamp
is refreshed once it is older than that, by the single UPDATE above (after vanished offers were
marked unavailable, every offer still rentable is a listed one, so no id list is needed). Rewriting
every row on every sync would multiply write traffic (WAL, table bloat) for no information; a
changed, new or returning offer always gets the exact time.

``reliability_score`` is an exponentially weighted moving average of sync outcomes (1 success,
0 failure) with weight :data:`RELIABILITY_ALPHA` = 0.1 — roughly the success ratio of the last ten
syncs, with older ones fading. ``error_count`` counts consecutive failures (0 after a success).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from asgiref.sync import async_to_sync
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from gpubroker import metrics

from .adapters import (
    BaseProviderAdapter,
    FetchResult,
    ProviderAuthError,
    ProviderError,
    ProviderOffer,
    ProviderPayloadError,
    ProviderRegistry,
    ProviderUnavailable,
)
from .events import publish_offer_changes, sync_finished
from .key_store import mark_refused_by_provider
from .models import Availability, GPUOffer, PriceHistory, Provider, ProviderStatus
from .sync_lock import provider_sync_lock
from .sync_plan import (
    ID_BATCH,
    INSERT_BATCH,
    UPDATE_BATCH,
    SyncPlan,
    chunked,
    plan_sync,
    rewrite_groups,
)
from .sync_sources import LIVE, Credentials, SyncSource, build_adapter

logger = logging.getLogger("gpubroker.providers.sync")

RELIABILITY_ALPHA = 0.1
#: ``last_seen_at`` of an unchanged offer is refreshed once it is older than this: accurate to
#: within the resolution without rewriting every row on every sync.
LAST_SEEN_RESOLUTION = timedelta(minutes=10)
#: Upper bound for one provider's whole fetch (all requests and retries).
FETCH_DEADLINE_SECONDS = 180.0

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
    #: Provider GPU names the normaliser does not know (offers kept under the tidied name).
    unknown_gpu_names: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


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


def apply_offers(
    provider: Provider, offers: Sequence[ProviderOffer], *, sample: bool, now: datetime
) -> SyncPlan:
    """Write one provider's fetched offers (call inside a transaction)."""
    if provider.is_sample_data != sample and provider.last_sync_at is not None:
        # Sample offers never mix with live ones (or their history): the switch starts afresh.
        dropped, _ = GPUOffer.objects.filter(provider=provider).delete()
        logger.warning(
            "provider switched between sample and live data; previous offers removed",
            extra={"provider": provider.name, "now_sample": sample, "removed_rows": dropped},
        )
        provider.last_sync_at = None
    stale_before = now - LAST_SEEN_RESOLUTION
    plan = plan_sync(provider, offers, now, stale_before)
    for ids in chunked(plan.vanish, ID_BATCH):
        GPUOffer.objects.filter(pk__in=ids).update(
            availability_status=Availability.UNAVAILABLE, updated_at=now
        )
    for columns, rows in rewrite_groups(plan.rewrite):
        GPUOffer.objects.bulk_update(rows, columns, batch_size=UPDATE_BATCH)
    # Every offer still rentable is listed now (the rest were just marked unavailable): one
    # statement refreshes those whose last_seen_at is older than the resolution.
    GPUOffer.objects.filter(provider=provider, last_seen_at__lt=stale_before).exclude(
        availability_status=Availability.UNAVAILABLE
    ).update(last_seen_at=now)
    for ids in chunked(plan.touch, ID_BATCH):
        GPUOffer.objects.filter(pk__in=ids).update(last_seen_at=now)
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
        credentials = Credentials()
        try:
            if adapter is None:
                adapter, credentials = build_adapter(name, source)
            result = fetch(adapter)
            report.fetched = result.records_seen
            report.rejected = result.rejected
            report.rejection_reasons = dict(result.rejection_reasons)
            report.unknown_gpu_names = dict(result.unknown_gpu_names)
            _check_plausible(provider, result)
        except (ProviderError, LookupError) as exc:
            if isinstance(exc, ProviderAuthError) and credentials.integration_id is not None:
                mark_refused_by_provider(credentials.integration_id, exc.message)
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


def _check_plausible(provider: Provider, result: FetchResult) -> None:
    """Answers that cannot be told apart from an outage fail the sync instead of emptying the
    catalogue: every record rejected, or an empty listing while offers are on sale."""
    if result.rejected and not result.offers:
        raise ProviderPayloadError(
            f"every one of {result.records_seen} records was rejected "
            f"({', '.join(sorted(result.rejection_reasons))})",
            provider=provider.name,
        )
    if result.records_seen == 0:
        on_sale = (
            GPUOffer.objects.filter(provider=provider)
            .exclude(availability_status=Availability.UNAVAILABLE)
            .count()
        )
        if on_sale:
            raise ProviderPayloadError(
                f"empty listing while {on_sale} offers were available: not trusted",
                provider=provider.name,
            )


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
    metrics.record_sync(report)
    if report.status != "skipped":
        sync_finished.send_robust(
            sender=SyncReport,
            provider=report.provider,
            ok=report.ok,
            error_code=report.error_code,
            finished_at=timezone.now(),
        )
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

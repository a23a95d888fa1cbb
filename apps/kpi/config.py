"""Every limit and threshold of the KPI engine, read from settings in this one place (defaults
documented in ``gpubroker/settings/base.py`` and the README)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings

from .anomalies import AnomalyRules


def _get(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


def raw_history_days() -> float:
    """Raw ``PriceHistory`` rows younger than this are kept; older ones become hourly rollups."""
    return _get("PRICE_HISTORY_RAW_DAYS", 35)


def hourly_rollup_days() -> float:
    """Hourly rollups younger than this are kept; older ones become daily rollups."""
    return _get("PRICE_HISTORY_HOURLY_DAYS", 180)


def daily_rollup_days() -> float | None:
    """Daily rollups older than this are deleted (``None``, the default: kept for ever)."""
    value = getattr(settings, "PRICE_HISTORY_DAILY_DAYS", None)
    return float(value) if value else None


def compaction_batch_offers() -> int:
    return int(_get("PRICE_HISTORY_COMPACTION_BATCH", 2000))


def stale_provider_after() -> timedelta:
    return timedelta(hours=_get("KPI_STALE_PROVIDER_HOURS", 2))


def anomaly_rules() -> AnomalyRules:
    return AnomalyRules(
        threshold=_get("KPI_ANOMALY_THRESHOLD", 3.5),
        min_factor=_get("KPI_ANOMALY_MIN_FACTOR", 2.0),
        min_peers=int(_get("KPI_ANOMALY_MIN_PEERS", 5)),
        stale_after=timedelta(hours=_get("KPI_STALE_OFFER_HOURS", 6)),
    )


def cache_seconds() -> int:
    """KPI results are cached under the catalogue version for this long (0 disables)."""
    return int(_get("KPI_CACHE_SECONDS", 60))


def insight_limit() -> int:
    """Rows per list in market insights (drops, rises, best value, anomalies)."""
    return int(_get("KPI_INSIGHT_LIMIT", 10))


def index_backfill_days() -> int:
    """How far back the first index update of a series starts."""
    return int(_get("KPI_INDEX_BACKFILL_DAYS", 30))


def sync_window() -> timedelta:
    return timedelta(days=_get("KPI_SYNC_WINDOW_DAYS", 7))


def parallel_reads() -> bool:
    """Whether an uncached answer's independent reads may run at once (``apps.kpi.parallel``)."""
    return bool(getattr(settings, "KPI_PARALLEL_READS", True))

"""Development demo: the ticker's tick plus, every ``DEMO_MAINTENANCE_SECONDS`` (default 300),
price-history compaction and the index update, so a demo left running for days keeps a bounded
history (development settings: 6 h raw, 2 days hourly, 90 days daily) and a live chart."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.conf import settings

from .compaction import compact_price_history
from .index_engine import update_price_index

logger = logging.getLogger("gpubroker.kpi")
_lock = threading.Lock()
_last_maintenance = 0.0


def maintain() -> None:
    """Compact the history and store the index periods that completed."""
    compact_price_history()
    for bucket in ("hour", "day"):
        update_price_index(bucket=bucket)


def demo_tick() -> Any:
    """``replay_demo_tick`` (the ingestion replay), then maintenance when it is due."""
    global _last_maintenance
    from apps.providers.services import replay_demo_tick

    result = replay_demo_tick()
    interval = float(getattr(settings, "DEMO_MAINTENANCE_SECONDS", 300.0))
    with _lock:
        due = time.monotonic() - _last_maintenance >= interval
        if due:
            _last_maintenance = time.monotonic()
    if due:
        try:
            maintain()
        except Exception:
            logger.exception("demo maintenance failed")
    return result

"""Signal receivers of the KPI app."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import transaction

from .cache import bump
from .models import SyncOutcome

logger = logging.getLogger("gpubroker.kpi")


def record_sync_outcome(
    sender: Any, *, provider: str, ok: bool, error_code: str, finished_at: datetime, **_: Any
) -> None:
    """One ``SyncOutcome`` row per finished sync (``sync_finished`` is sent robustly: a failure
    here is logged and never fails the sync). A failed sync changes provider KPIs (errors, success
    rate) without a catalogue change, so it bumps the catalogue version itself once committed; a
    successful one is covered by the sync's own ``catalogue_changed`` bump."""
    try:
        with transaction.atomic():  # a savepoint: a failure leaves no aborted transaction behind
            SyncOutcome.objects.create(
                provider_name=provider,
                ok=ok,
                error_code=(error_code or "")[:64],
                finished_at=finished_at,
            )
        if not ok:
            transaction.on_commit(bump, robust=True)
    except Exception:
        logger.exception("could not record a sync outcome", extra={"provider": provider})
        raise

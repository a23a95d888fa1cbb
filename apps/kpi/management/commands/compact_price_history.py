"""``manage.py compact_price_history``: raw price history older than PRICE_HISTORY_RAW_DAYS into
hourly rollups, hourly rollups older than PRICE_HISTORY_HOURLY_DAYS into daily ones (idempotent,
batch-wise, safe while a sync runs; see ``apps.kpi.compaction``)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.kpi.compaction import compact_price_history


class Command(BaseCommand):
    help = "Compact old price history into hourly and daily rollups."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--raw-days", type=float, default=None)
        parser.add_argument("--hourly-days", type=float, default=None)
        parser.add_argument("--batch", type=int, default=None, help="Offers per transaction.")

    def handle(self, *args: Any, **options: Any) -> None:
        report = compact_price_history(
            raw_days=options["raw_days"],
            hourly_days=options["hourly_days"],
            batch_offers=options["batch"],
        )
        self.stdout.write(
            f"raw rows compacted {report.raw_rows_compacted} "
            f"(before {report.raw_cutoff:%Y-%m-%d %H:%M}), "
            f"hourly rollups written {report.hourly_rollups_written}, "
            f"hourly rollups compacted {report.hourly_rollups_compacted} "
            f"(before {report.hourly_cutoff:%Y-%m-%d}), "
            f"daily rollups written {report.daily_rollups_written}, "
            f"daily rollups deleted {report.daily_rollups_deleted}, "
            f"{report.batches} batches in {report.seconds:.2f} s"
        )

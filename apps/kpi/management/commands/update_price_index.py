"""``manage.py update_price_index [--bucket day|hour] [--backfill-days N]``: store every missing
complete period of every series (GPU model × tier); idempotent, run it from cron after syncs."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.kpi.index_engine import update_price_index


class Command(BaseCommand):
    help = "Compute and store the missing periods of the chained GPU-hour price index."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bucket", choices=["day", "hour"], default="day")
        parser.add_argument("--backfill-days", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        report = update_price_index(
            bucket=options["bucket"], backfill_days=options["backfill_days"]
        )
        self.stdout.write(
            f"{report.periods_written} {report.bucket} periods written for {report.series} "
            f"series in {report.seconds:.2f} s"
        )

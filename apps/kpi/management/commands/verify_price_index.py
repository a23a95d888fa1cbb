"""``manage.py verify_price_index [--bucket day|hour] [--gpu MODEL]``: recompute every stored
index period from stored history and print each difference; exit status 1 when any differs."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.kpi.index_engine import verify_price_index


class Command(BaseCommand):
    help = "Recompute stored price-index periods from stored history and report differences."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bucket", choices=["day", "hour"], default="day")
        parser.add_argument("--gpu", default=None, help="Canonical GPU model (default: all).")

    def handle(self, *args: Any, **options: Any) -> None:
        report = verify_price_index(bucket=options["bucket"], gpu_model=options["gpu"])
        for line in report.differences:
            self.stdout.write(line)
        self.stdout.write(
            f"{report.checked} periods checked, {len(report.differences)} differences"
        )
        if not report.ok:
            sys.exit(1)

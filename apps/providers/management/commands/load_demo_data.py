"""``manage.py load_demo_data`` — the offline demo catalogue (``make run`` / ``make demo``)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.providers.services import load_demo_data


class Command(BaseCommand):
    help = (
        "Replay the shipped provider recordings through the real adapters: snapshot 1, then the "
        "latest (so price history exists). Idempotent; providers holding live data are left alone. "
        "The offers are marked as sample data."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Replay every snapshot again even where sample data is already loaded.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        for load in load_demo_data(reset=options["reset"]):
            if not load.reports:
                self.stdout.write(f"{load.provider}: {load.action}")
                continue
            last = load.reports[-1]
            failed = [r for r in load.reports if not r.ok]
            history = sum(r.history_rows for r in load.reports)
            line = (
                f"{load.provider}: {load.action} (sample data) — {last.offers} offers, "
                f"{history} price-history rows written"
            )
            if failed:
                self.stdout.write(self.style.ERROR(f"{line}; FAILED: {failed[0].error}"))
            else:
                self.stdout.write(line)

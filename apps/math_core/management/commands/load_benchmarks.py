from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.math_core.benchmark_loader import load_benchmarks
from apps.math_core.benchmarks import DATASET


class Command(BaseCommand):
    help = "Load the shipped GPU benchmark dataset (idempotent: re-running changes nothing)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--path", type=Path, default=DATASET, help="CSV dataset to load.")

    def handle(self, *args: Any, **options: Any) -> None:
        result = load_benchmarks(options["path"])
        self.stdout.write(
            f"benchmarks: {result.created} created, {result.updated} updated, "
            f"{result.unchanged} unchanged; {result.offers_linked} offers linked"
        )

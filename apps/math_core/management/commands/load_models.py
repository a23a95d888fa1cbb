from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.math_core.model_catalogue import DATASET, load_models


class Command(BaseCommand):
    help = "Load the shipped model catalogue (idempotent: re-running changes nothing)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--path", type=Path, default=DATASET, help="JSON catalogue to load.")

    def handle(self, *args: Any, **options: Any) -> None:
        result = load_models(options["path"])
        self.stdout.write(
            f"models: {result.created} created, {result.updated} updated, "
            f"{result.unchanged} unchanged"
        )

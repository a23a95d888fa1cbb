"""Commit price changes and publish them through the real path (``catalogue_changed`` → channel
layer), from any process: with ``REDIS_URL`` set, subscribers on every server receive them.

    manage.py publish_price_change --offer <uuid> --price 2.4900 [--availability limited]
    manage.py publish_price_change --random 20 [--bursts 10 --interval 1.0]   # sample-data offers

Prints one JSON line per committed burst: ``{"changes": [{"offer_id", "gpu_model", ...}]}``.
"""

from __future__ import annotations

import json
import time
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.errors import DomainError
from apps.websocket_gateway.demo_market import PriceMove, change_offer_prices, simulate_price_moves


class Command(BaseCommand):
    help = "Commit offer price changes and publish them to live-price subscribers."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--offer", help="Offer id to change.")
        parser.add_argument("--price", help="New price per hour (USD, whole offer).")
        parser.add_argument("--availability", help="New availability status.")
        parser.add_argument("--random", type=int, help="Change this many random sample offers.")
        parser.add_argument("--bursts", type=int, default=1)
        parser.add_argument("--interval", type=float, default=1.0)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["random"]:
            if not 1 <= options["bursts"] <= 10_000:
                raise CommandError("--bursts must be between 1 and 10000")
            for burst in range(options["bursts"]):
                if burst:
                    time.sleep(options["interval"])
                self._report(simulate_price_moves(count=options["random"]))
            return
        if not options["offer"] or not options["price"]:
            raise CommandError("give --offer and --price, or --random N")
        try:
            price = Decimal(options["price"])
        except InvalidOperation as exc:
            raise CommandError("--price must be a decimal number") from exc
        try:
            changes = change_offer_prices(
                moves=[PriceMove(options["offer"], price, options["availability"])],
                source="publish_price_change",
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self._report(changes)

    def _report(self, changes: list[Any]) -> None:
        self.stdout.write(json.dumps({"changes": [change.as_message() for change in changes]}))
        self.stdout.flush()

"""Commit price changes and publish them through the real path (``catalogue_changed`` → channel
layer).

    manage.py publish_price_change --offer <uuid> --price 2.4900 [--availability limited]
    manage.py publish_price_change --random 20 [--bursts 10 --interval 1.0]   # sample-data offers

Prints one JSON line per committed burst: ``{"changes": [{"offer_id", "gpu_model", ...}],
"delivery": "all-processes" | "this-process-only"}``.

**Who receives the events.** With ``REDIS_URL`` set (the Redis channel layer) subscribers on every
server process receive them. On the embedded default (no ``REDIS_URL``) the channel layer is
in-memory and per process: the change is committed, but no subscriber of a *running server*
receives it — the command says so on stderr, with the fix (set the same ``REDIS_URL`` for the
server and this command).

**A locked SQLite database** (``make run`` writing demo ticks at the same moment) is retried up to
:data:`LOCK_ATTEMPTS` times with a growing pause instead of crashing; the write is one transaction,
so a retried attempt never applies a change twice.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any, TypeVar

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import OperationalError

from apps.core.errors import DomainError
from apps.websocket_gateway.demo_market import PriceMove, change_offer_prices, simulate_price_moves

T = TypeVar("T")

#: Attempts at a write that meets ``database is locked`` (SQLite), and the first pause (doubling).
LOCK_ATTEMPTS = 8
LOCK_FIRST_PAUSE_SECONDS = 0.1
IN_MEMORY_LAYER = "channels.layers.InMemoryChannelLayer"
IN_PROCESS_WARNING = (
    "note: the channel layer is in-memory (the embedded default: REDIS_URL is not set), so these "
    "events reach only subscribers inside this command's own process, never a running server. "
    "To reach the server's subscribers, run the server and this command with the same REDIS_URL "
    "(e.g. REDIS_URL=redis://127.0.0.1:6379/0)."
)


def delivery() -> str:
    """``all-processes`` with a shared channel layer (Redis), else ``this-process-only``."""
    backend = settings.CHANNEL_LAYERS.get("default", {}).get("BACKEND", IN_MEMORY_LAYER)
    return "this-process-only" if backend == IN_MEMORY_LAYER else "all-processes"


def is_locked(exc: OperationalError) -> bool:
    return "database is locked" in str(exc).lower() or "database table is locked" in str(exc)


def retry_when_locked(write: Callable[[], T], sleep: Callable[[float], None] | None = None) -> T:
    """``write()``, retried while SQLite reports the database locked (see the module docstring)."""
    pause = LOCK_FIRST_PAUSE_SECONDS
    for attempt in range(1, LOCK_ATTEMPTS + 1):
        try:
            return write()
        except OperationalError as exc:
            if not is_locked(exc) or attempt == LOCK_ATTEMPTS:
                raise
            (sleep or time.sleep)(pause)
            pause *= 2
    raise AssertionError("unreachable")


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
        self.delivery = delivery()
        if self.delivery == "this-process-only":
            self.stderr.write(IN_PROCESS_WARNING)
        try:
            self._run(options)
        except OperationalError as exc:
            if is_locked(exc):
                raise CommandError(
                    f"the database stayed locked through {LOCK_ATTEMPTS} attempts; nothing was "
                    "changed. Stop the other writer (e.g. the demo ticker of `make run`) or use "
                    "PostgreSQL (DATABASE_URL)."
                ) from exc
            raise

    def _run(self, options: dict[str, Any]) -> None:
        if options["random"]:
            if not 1 <= options["bursts"] <= 10_000:
                raise CommandError("--bursts must be between 1 and 10000")
            for burst in range(options["bursts"]):
                if burst:
                    time.sleep(options["interval"])
                self._report(
                    retry_when_locked(partial(simulate_price_moves, count=options["random"]))
                )
            return
        if not options["offer"] or not options["price"]:
            raise CommandError("give --offer and --price, or --random N")
        try:
            price = Decimal(options["price"])
        except InvalidOperation as exc:
            raise CommandError("--price must be a decimal number") from exc
        move = PriceMove(options["offer"], price, options["availability"])
        try:
            changes = retry_when_locked(
                lambda: change_offer_prices(moves=[move], source="publish_price_change")
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self._report(changes)

    def _report(self, changes: list[Any]) -> None:
        messages = [change.as_message() for change in changes]
        self.stdout.write(json.dumps({"changes": messages, "delivery": self.delivery}))
        self.stdout.flush()

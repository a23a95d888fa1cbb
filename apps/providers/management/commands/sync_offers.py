"""``manage.py sync_offers`` — pull provider offers into the catalogue (cron/CronJob friendly).

Exit status: 0 when at least one provider synced (or all were skipped because another process
holds their lock), 1 when every provider failed. ``--watch`` repeats forever (or ``--max-runs``
times) and exits with the last round's status; SIGTERM or Ctrl-C ends it after the current round
(exit 0, "stopped").
"""

from __future__ import annotations

import signal
import threading
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.providers.adapters import ProviderRegistry, UnknownProvider
from apps.providers.replay import available_snapshots
from apps.providers.sync import SyncReport, providers_to_sync, sync_provider
from apps.providers.sync_sources import SyncSource

COLUMNS = (
    ("provider", 12),
    ("status", 8),
    ("fetched", 8),
    ("new", 6),
    ("changed", 8),
    ("unchanged", 10),
    ("vanished", 9),
    ("rejected", 9),
    ("seconds", 8),
)


def summary_table(reports: list[SyncReport]) -> str:
    header = "".join(name.ljust(width) for name, width in COLUMNS).rstrip()
    lines = [header, "-" * len(header)]
    for r in reports:
        cells = (
            r.provider,
            r.status,
            r.fetched,
            r.new,
            r.changed,
            r.unchanged,
            r.vanished,
            r.rejected,
            f"{r.seconds:.2f}",
        )
        lines.append(
            "".join(
                str(v).ljust(width) for v, (_, width) in zip(cells, COLUMNS, strict=True)
            ).rstrip()
        )
    total = [r for r in reports if r.ok]
    lines.append(
        f"{len(total)}/{len(reports)} providers synced, "
        f"{sum(r.new for r in reports)} new, {sum(r.changed for r in reports)} changed, "
        f"{sum(r.vanished for r in reports)} vanished, {sum(r.rejected for r in reports)} rejected"
    )
    return "\n".join(lines)


class Command(BaseCommand):
    help = "Sync GPU offers from the providers' APIs (or the offline replay source)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--provider",
            action="append",
            dest="providers",
            metavar="NAME",
            help="Provider to sync (repeatable; default: all active): "
            + ", ".join(ProviderRegistry.list_adapters()),
        )
        parser.add_argument(
            "--watch",
            type=float,
            metavar="SECONDS",
            help="Repeat every SECONDS (measured from the start of a round) until stopped.",
        )
        parser.add_argument(
            "--max-runs", type=int, metavar="N", help="With --watch: stop after N rounds."
        )
        parser.add_argument(
            "--source",
            choices=("live", "replay"),
            default="live",
            help="live: the providers' APIs; replay: shipped recordings (offline, sample data).",
        )
        parser.add_argument(
            "--snapshot",
            type=int,
            help="With --source replay: which recorded snapshot (default: the latest).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        source = self._source(options)
        try:
            names = providers_to_sync(options["providers"])
        except UnknownProvider as exc:
            raise CommandError(
                f"{exc}; known providers: {', '.join(ProviderRegistry.list_adapters())}"
            ) from None
        watch = options["watch"]
        if watch is not None and watch <= 0:
            raise CommandError("--watch needs a positive number of seconds")
        max_runs = options["max_runs"] if watch is not None else 1
        if max_runs is not None and max_runs < 1:
            raise CommandError("--max-runs must be at least 1")
        stop = threading.Event()
        previous = self._on_sigterm(stop)
        rounds = 0
        try:
            while True:
                started = time.monotonic()
                reports = self._round(names, source)
                rounds += 1
                if (max_runs is not None and rounds >= max_runs) or stop.is_set():
                    break
                if stop.wait(max(0.0, watch - (time.monotonic() - started))):  # type: ignore[operator]
                    break
        except KeyboardInterrupt:
            stop.set()
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
        if stop.is_set():
            self.stdout.write("stopped")
            return
        if reports and not any(r.status != "failed" for r in reports):
            raise CommandError("every provider failed to sync")

    @staticmethod
    def _on_sigterm(stop: threading.Event) -> Any:
        """SIGTERM (a CronJob/pod shutdown) finishes the current round, then exits cleanly."""
        if threading.current_thread() is not threading.main_thread():
            return None
        return signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())

    def _source(self, options: dict[str, Any]) -> SyncSource:
        if options["source"] == "live":
            if options["snapshot"] is not None:
                raise CommandError("--snapshot only applies to --source replay")
            return SyncSource("live")
        snapshot = options["snapshot"]
        if snapshot is not None and snapshot not in available_snapshots():
            raise CommandError(f"no snapshot {snapshot}; available: {available_snapshots()}")
        return SyncSource("replay", snapshot=snapshot)

    def _round(self, names: list[str], source: SyncSource) -> list[SyncReport]:
        self.stdout.write(f"syncing {len(names)} provider(s) from {source.describe()}")
        reports = []
        for name in names:
            self.stdout.write(f"  {name}: fetching ...")
            report = sync_provider(name, source=source)
            reports.append(report)
            self.stdout.write(f"  {name}: {self._describe(report)}")
        self.stdout.write(summary_table(reports))
        return reports

    def _describe(self, r: SyncReport) -> str:
        if r.status == "ok":
            text = (
                f"ok, {r.offers} offers from {r.fetched} records ({r.new} new, {r.changed} "
                f"changed, {r.vanished} vanished, {r.rejected} rejected) in {r.seconds:.2f}s"
            )
            if r.rejection_reasons:
                reasons = ", ".join(f"{k}×{v}" for k, v in sorted(r.rejection_reasons.items()))
                text += f"; rejections: {reasons}"
            return self.style.SUCCESS(text)
        if r.status == "skipped":
            return self.style.WARNING(f"skipped: {r.error}")
        return self.style.ERROR(f"FAILED [{r.error_code}] {r.error} — previous offers kept")

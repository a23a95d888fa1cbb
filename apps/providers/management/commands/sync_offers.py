"""``manage.py sync_offers`` — pull provider offers into the catalogue (cron/CronJob friendly).

Exit status: 0 when at least one provider synced; 1 when **no** provider synced — every one
failed, or was skipped because another process held its lock (nothing was refreshed, which a cron
job must see), or a mix of both. ``--watch`` repeats forever (or ``--max-runs`` times) and exits
with the last round's status; SIGTERM or Ctrl-C ends it after the current round (exit 0,
"stopped").

The summary's last line counts exactly what the table shows: providers synced / failed / skipped,
and the new, changed, vanished and rejected offers of the providers that synced. Rejections
include the plausibility gate's (``PRICE_OUTLIER_HIGH`` …); GPU names the normaliser does not
know are counted per provider (``unknown`` column) and listed under the provider's line.
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
    ("unknown", 8),
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
            sum(r.unknown_gpu_names.values()),
            f"{r.seconds:.2f}",
        )
        lines.append(
            "".join(
                str(v).ljust(width) for v, (_, width) in zip(cells, COLUMNS, strict=True)
            ).rstrip()
        )
    lines.append(outcome_line(reports))
    return "\n".join(lines)


def outcome_counts(reports: list[SyncReport]) -> tuple[int, int, int]:
    """``(synced, failed, skipped)`` providers."""
    synced = sum(1 for r in reports if r.status == "ok")
    failed = sum(1 for r in reports if r.status == "failed")
    return synced, failed, len(reports) - synced - failed


def outcome_line(reports: list[SyncReport]) -> str:
    synced, failed, skipped = outcome_counts(reports)
    ok = [r for r in reports if r.ok]
    return (
        f"{synced}/{len(reports)} providers synced ({failed} failed, {skipped} skipped); "
        f"{sum(r.new for r in ok)} new, {sum(r.changed for r in ok)} changed, "
        f"{sum(r.vanished for r in ok)} vanished, {sum(r.rejected for r in ok)} rejected, "
        f"{sum(sum(r.unknown_gpu_names.values()) for r in ok)} with unknown GPU names"
    )


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
        synced, failed, skipped = outcome_counts(reports)
        if reports and not synced:
            if not skipped:
                raise CommandError(f"no provider synced: every provider failed ({failed})")
            raise CommandError(
                f"no provider synced: {failed} failed, {skipped} skipped because another "
                "process held their lock"
            )

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
            if r.unknown_gpu_names:
                names = ", ".join(f"{k}×{v}" for k, v in sorted(r.unknown_gpu_names.items()))
                text += f"; GPU names not in the normaliser (kept): {names}"
            return self.style.SUCCESS(text)
        if r.status == "skipped":
            return self.style.WARNING(f"skipped: {r.error}")
        return self.style.ERROR(f"FAILED [{r.error_code}] {r.error} — previous offers kept")

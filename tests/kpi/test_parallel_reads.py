"""``apps.kpi.parallel``: on PostgreSQL outside a transaction the past-state reads of the overview,
a GPU's KPIs and market insights run in a worker thread on a connection of their own, beside the
market scan, and the answers equal the one-after-the-other ones; inside a transaction (or on
SQLite) they run in the caller's thread; a failing read raises in the caller."""

from __future__ import annotations

import threading
from dataclasses import asdict
from datetime import timedelta
from decimal import Decimal

import numpy as np
import pytest
from django.db import connection, transaction
from django.test import override_settings

from apps.kpi import history, parallel, services
from tests.conftest import services_required
from tests.kpi import market


def _seed() -> None:
    rng = np.random.default_rng(17)
    people = market.providers("alpha", "beta", "gamma")
    start = market.NOW - timedelta(days=40)
    changes: list[tuple] = []
    for name, gpu, memory, base in (
        ("alpha", "H100 SXM", 80, 2.4),
        ("beta", "RTX 4090", 24, 0.4),
        ("gamma", "A100 SXM", 80, 1.4),
    ):
        for offer in market.offers(
            people[name], 12, gpu=gpu, gpu_memory_gb=memory, price=base, created_at=start
        ):
            for hours in sorted(rng.uniform(0, 40 * 24, size=12)):
                price = Decimal(f"{base * rng.uniform(0.7, 1.3):.4f}")
                status = str(rng.choice([market.AVAILABLE, market.LIMITED, market.UNAVAILABLE]))
                changes.append((offer, start + timedelta(hours=float(hours)), price, status))
    market.record(changes)


def _answers() -> dict[str, object]:
    now = market.NOW
    return {
        "overview": asdict(services._overview(now)),
        "gpu": asdict(
            services._gpu_metrics(
                services.resolve_gpu("H100"), None, services.parse_bucket("day"), now
            )
        ),
        **{
            f"insights {label}": asdict(services._insights(label, span, now))
            for label, span in services.WINDOWS.items()
        },
    }


@pytest.mark.django_db(transaction=True)
def test_parallel_reads_run_beside_and_answer_the_same(benchmarks, monkeypatch):
    if services_required():
        assert connection.vendor == "postgresql", "REQUIRE_SERVICES=1 runs on PostgreSQL"
    if connection.vendor != "postgresql":
        pytest.skip("a second connection sees the same data on PostgreSQL only")
    _seed()
    threads: list[str] = []
    read = history.past_states

    def recorded(*args, **kwargs):  # type: ignore[no-untyped-def]
        threads.append(threading.current_thread().name)
        return read(*args, **kwargs)

    monkeypatch.setattr(history, "past_states", recorded)
    with override_settings(KPI_PARALLEL_READS=False):
        assert not parallel.enabled()
        one_by_one = _answers()
    assert threads and all(t == threading.current_thread().name for t in threads)
    threads.clear()
    assert parallel.enabled()
    together = _answers()
    # overview 1, GPU 3 (a window each), insights 3: every past read in a worker thread.
    assert len(threads) == 7
    assert all(t.startswith("kpi-read") for t in threads)
    assert together == one_by_one
    assert together["insights 30d"]["price_drops"]  # type: ignore[index]
    assert together["gpu"]["trends"][2]["median_then"] is not None  # type: ignore[index]


@pytest.mark.django_db
def test_inside_a_transaction_the_read_runs_in_the_callers_thread():
    seen: list[str] = []

    def read() -> int:
        seen.append(threading.current_thread().name)
        return 42

    with transaction.atomic():
        answer = parallel.beside(read)
        assert not seen  # not started yet: it runs when asked for
        assert answer() == 42
    assert seen == [threading.current_thread().name]


@pytest.mark.django_db(transaction=True)
def test_a_failing_read_raises_in_the_caller():
    def broken() -> int:
        raise ValueError("garbage from the database")

    answer = parallel.beside(broken)
    with pytest.raises(ValueError, match="garbage"):
        answer()
    assert parallel.enabled() == (connection.vendor == "postgresql")

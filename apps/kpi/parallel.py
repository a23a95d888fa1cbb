"""Reads that run beside the caller's on PostgreSQL: an uncached KPI answer reads the market (one
scan, then Python work on its columns) and each offer's state at a past moment (one statement,
nearly all of it database time); started together they overlap instead of adding up.

A read started with :func:`beside` runs in a worker thread on a pooled connection of its own and
gives that connection back when it ends. It runs in the caller's thread instead (when the answer
is asked for) where a second connection would not see the same data or cannot exist: on SQLite,
inside a transaction (its uncommitted rows are visible on its own connection only — the test
suite's ``TestCase`` among them) or with ``KPI_PARALLEL_READS=0``. Either way the answer is the
same; the two reads are separate statements in both cases (autocommit), as they were in turn.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from django.db import connection, connections

from . import config

T = TypeVar("T")

#: Workers shared by the process's requests: each holds a pooled connection only while it reads.
_WORKERS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="kpi-read")


def enabled() -> bool:
    return (
        connection.vendor == "postgresql"
        and not connection.in_atomic_block
        and config.parallel_reads()
    )


def _on_own_connection(read: Callable[[], T]) -> T:
    try:
        return read()
    finally:
        # Back to the pool (this thread's connection is its own, never the caller's).
        connections.close_all()


def beside(read: Callable[[], T]) -> Callable[[], T]:
    """Start ``read`` now beside the caller's work where it can (see the module's text); the
    function returned waits for its answer (or runs ``read`` itself where it cannot) and
    raises what ``read`` raised."""
    if not enabled():
        return read
    return _WORKERS.submit(_on_own_connection, read).result

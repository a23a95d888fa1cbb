"""A lock so two processes never sync the same provider at once.

* **PostgreSQL**: a session-level ``pg_try_advisory_lock`` keyed by the provider name. It is held by
  the database connection, so it works across processes and hosts, and the server releases it if
  the holder dies (the connection closes) — no expiry to tune.
* **Other databases (SQLite)**: a lease row in ``provider_sync_leases``. Taking it is one INSERT
  (the primary key makes a second claim fail) or, when the existing lease has expired, one
  conditional UPDATE — both atomic in the database, so it works across processes that share the
  file. A crashed holder's lease expires after ``ttl``.

Redis is not used for this: the database is the one store every deployment shape has, and the
advisory lock cannot outlive its holder the way a cache key with a TTL can.

Both are non-blocking: a busy provider is reported as skipped, never waited for.
"""

from __future__ import annotations

import secrets
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from .models import SyncLease

#: First key of the two-int advisory lock: "GPUB", so other users of advisory locks don't clash.
ADVISORY_NAMESPACE = 0x47505542
DEFAULT_LEASE_TTL = timedelta(minutes=15)

_held: set[str] = set()
_held_guard = threading.Lock()


def advisory_key(provider_name: str) -> int:
    """A stable signed 32-bit key for the provider (crc32, not Python's salted ``hash``)."""
    value = zlib.crc32(provider_name.encode())
    return value - 2**32 if value >= 2**31 else value


@contextmanager
def advisory_lock(provider_name: str) -> Iterator[bool]:
    key = advisory_key(provider_name)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [ADVISORY_NAMESPACE, key])
        acquired = bool(cursor.fetchone()[0])
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [ADVISORY_NAMESPACE, key])


def acquire_lease(provider_name: str, owner: str, ttl: timedelta = DEFAULT_LEASE_TTL) -> bool:
    now = timezone.now()
    try:
        with transaction.atomic():
            SyncLease.objects.create(
                provider_name=provider_name, owner=owner, acquired_at=now, expires_at=now + ttl
            )
        return True
    except IntegrityError:
        taken = SyncLease.objects.filter(provider_name=provider_name, expires_at__lt=now).update(
            owner=owner, acquired_at=now, expires_at=now + ttl
        )
        return taken == 1


def release_lease(provider_name: str, owner: str) -> None:
    SyncLease.objects.filter(provider_name=provider_name, owner=owner).delete()


@contextmanager
def lease_lock(provider_name: str, ttl: timedelta = DEFAULT_LEASE_TTL) -> Iterator[bool]:
    owner = secrets.token_hex(16)
    acquired = acquire_lease(provider_name, owner, ttl)
    try:
        yield acquired
    finally:
        if acquired:
            release_lease(provider_name, owner)


@contextmanager
def _in_process(provider_name: str) -> Iterator[bool]:
    """Advisory locks are re-entrant within one database session, so the same thread could take
    one twice; this set makes "already syncing here" a refusal on every backend."""
    with _held_guard:
        acquired = provider_name not in _held
        _held.add(provider_name)
    try:
        yield acquired
    finally:
        if acquired:
            with _held_guard:
                _held.discard(provider_name)


@contextmanager
def provider_sync_lock(provider_name: str) -> Iterator[bool]:
    """``with provider_sync_lock("vastai") as acquired:`` — False means another sync (in this or
    another process, on this or another host) holds it."""
    with _in_process(provider_name) as local:
        if not local:
            yield False
            return
        database_lock = advisory_lock if connection.vendor == "postgresql" else lease_lock
        with database_lock(provider_name) as acquired:
            yield acquired

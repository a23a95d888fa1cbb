"""Failures of a backing service (database, Redis) rather than of the request: read by both
facades' error edges, which answer them as ``SERVICE_UNAVAILABLE`` (REST 503 with ``Retry-After``).
It needs Django's and redis' exception classes, so it lives in the project, not in the pure
``apps.core``."""

from __future__ import annotations

#: Seconds a client is told to wait (``Retry-After``) when a dependency is down.
DEPENDENCY_RETRY_AFTER = 5


def dependency_unavailable(exc: BaseException | None) -> bool:
    """True for failures of a backing service rather than of the request: the database
    unreachable (or its pool exhausted), the cache or channel layer's Redis down. Every edge
    answers these as ``SERVICE_UNAVAILABLE`` (REST 503 with ``Retry-After``), not 500."""
    from django.db import InterfaceError, OperationalError
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    while exc is not None:
        if isinstance(
            exc, OperationalError | InterfaceError | RedisConnectionError | RedisTimeoutError
        ):
            return True
        exc = exc.__cause__ or exc.__context__
    return False

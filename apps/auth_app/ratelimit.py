"""Rate limits that hold across processes, with the `limits` library.

Storage is ``RATE_LIMIT_STORAGE_URI``: Redis (``REDIS_URL``) in production, so every ASGI worker
counts against the same buckets; process memory in the embedded default. The strategy is
``limits``' sliding-window counter (two counters per key, no boundary bursts of 2x like a fixed
window, O(1) per hit, atomic Lua on Redis).

* requests to ``/api/v2/`` and ``/graphql/``: per tenant at its ``rate_limit_rps`` (plan), per user
  (free-plan rate) for users without a tenant, per client IP at ``RATE_LIMIT_ANONYMOUS_RPS`` for
  anonymous callers;
* sign-in (README "Sign-in throttling"): failed password attempts per account *and* source
  together (``RATE_LIMIT_LOGIN_PER_ACCOUNT_SOURCE``: that source is refused for that account) and
  per source (``RATE_LIMIT_LOGIN_PER_IP``); per account from every source
  (``RATE_LIMIT_LOGIN_PER_ACCOUNT``) only *slows* the sources that fail on it (after each failure
  such a source must wait ``login_delay`` seconds: 429 with ``Retry-After`` until then, no
  worker held), so failures from elsewhere never lock the owner out; MFA code attempts per account
  (``RATE_LIMIT_MFA_PER_ACCOUNT``);
* GraphQL cost budget per client (``cost_budget_for``, ``charge_cost``; ``schema/cost.py``).

If the storage is unreachable the limiter fails open (logs an error, lets the request through):
an outage of Redis must not take the API down; ``/health`` reports the cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import threading
import time
from functools import cache

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from limits import RateLimitItem, RateLimitItemPerSecond, parse
from limits.errors import StorageError
from limits.storage import Storage, storage_from_string
from limits.strategies import SlidingWindowCounterRateLimiter

from apps.core.errors import RateLimited

from .models import PLAN_LIMITS, Plan, Tenant, User

logger = logging.getLogger("gpubroker.ratelimit")


#: The first requests of a process arrive together on several threads: ``limits`` imports its
#: Redis client lazily and, raced, reports "redis 0.0.0" (a 500 per request: found by the
#: concurrent-writer test). One thread builds the storage; the others wait for it.
_storage_lock = threading.Lock()


@cache
def _storage() -> Storage:
    with _storage_lock:
        return _build_storage()


def _build_storage() -> Storage:
    uri = settings.RATE_LIMIT_STORAGE_URI
    options: dict[str, float | str | bool] = {}
    if uri.startswith(("redis://", "rediss://")):
        options = {"wrap_exceptions": True, "socket_timeout": 2, "socket_connect_timeout": 2}
    return storage_from_string(uri, **options)  # type: ignore[return-value]


@cache
def _limiter() -> SlidingWindowCounterRateLimiter:
    return SlidingWindowCounterRateLimiter(_storage())  # type: ignore[arg-type]


@receiver(setting_changed)
def _reset_storage(setting: str, **kwargs: object) -> None:
    if setting == "RATE_LIMIT_STORAGE_URI":
        _limiter.cache_clear()
        _storage.cache_clear()


def reset() -> None:
    """Forget every counter (tests)."""
    _storage().reset()


def _retry_after(item: RateLimitItem, identifiers: tuple[str, ...]) -> int:
    try:
        reset_time = _limiter().get_window_stats(item, *identifiers).reset_time
    except StorageError:
        return 1
    return max(1, math.ceil(reset_time - time.time()))


def hit(item: RateLimitItem, *identifiers: str) -> None:
    """Count one event; ``RateLimited`` (with seconds to wait) when over the limit."""
    if not settings.RATE_LIMIT_ENABLED:
        return
    try:
        allowed = _limiter().hit(item, *identifiers)
    except StorageError:
        logger.error("rate-limit storage unavailable; failing open", exc_info=True)
        return
    if not allowed:
        raise RateLimited(retry_after=_retry_after(item, identifiers))


def check(item: RateLimitItem, *identifiers: str) -> None:
    """``RateLimited`` if the limit is already used up; counts nothing."""
    if not settings.RATE_LIMIT_ENABLED:
        return
    try:
        allowed = _limiter().test(item, *identifiers)
    except StorageError:
        logger.error("rate-limit storage unavailable; failing open", exc_info=True)
        return
    if not allowed:
        raise RateLimited(retry_after=_retry_after(item, identifiers))


def clear(item: RateLimitItem, *identifiers: str) -> None:
    try:
        _limiter().clear(item, *identifiers)
    except StorageError:
        logger.error("rate-limit storage unavailable", exc_info=True)


def _account_key(email: str) -> str:
    """Counters are keyed by a digest, so the storage never holds email addresses."""
    return hashlib.sha256(email.encode("utf-8")).hexdigest()[:32]


# --- requests -------------------------------------------------------------------------------


def request_limit_for(user: User | None, ip: str) -> tuple[RateLimitItem, tuple[str, ...]]:
    """The bucket a request counts against: its tenant, its user, or its IP."""
    if user is not None and user.tenant_id is not None:
        tenant: Tenant = user.tenant  # type: ignore[assignment]
        return RateLimitItemPerSecond(max(1, tenant.rate_limit_rps)), ("tenant", str(tenant.pk))
    if user is not None:
        rps = PLAN_LIMITS[Plan.FREE][0]
        return RateLimitItemPerSecond(rps), ("user", str(user.pk))
    return RateLimitItemPerSecond(max(1, settings.RATE_LIMIT_ANONYMOUS_RPS)), ("ip", ip)


def hit_request(user: User | None, ip: str) -> None:
    if not settings.RATE_LIMIT_REQUESTS_ENABLED:
        return
    item, identifiers = request_limit_for(user, ip)
    hit(item, "request", *identifiers)


# --- GraphQL cost budget (schema/cost.py) ----------------------------------------------------


def cost_budget_for(user: User | None, ip: str) -> tuple[RateLimitItem, tuple[str, ...]]:
    """The client's cost bucket: its request bucket's rate × ``GRAPHQL_COST_POINTS_PER_REQUEST``
    points per second, holding ``GRAPHQL_COST_BUDGET_WINDOW`` seconds of them. ``limits``'
    sliding-window counter weighted by cost drains continuously, as a leaky bucket does."""
    request_item, identifiers = request_limit_for(user, ip)
    window = max(1, settings.GRAPHQL_COST_BUDGET_WINDOW)
    points = request_item.amount * settings.GRAPHQL_COST_POINTS_PER_REQUEST * window
    return RateLimitItemPerSecond(points, window), ("cost", *identifiers)


def cost_budget_state(user: User | None, ip: str) -> dict[str, int] | None:
    """``{"limit", "remaining", "resetAfter"}`` of the client's bucket; None when budgets are off
    or the storage is unreachable."""
    if not (settings.RATE_LIMIT_ENABLED and settings.RATE_LIMIT_REQUESTS_ENABLED):
        return None
    item, identifiers = cost_budget_for(user, ip)
    try:
        stats = _limiter().get_window_stats(item, *identifiers)
    except StorageError:
        return None
    return {
        "limit": item.amount,
        "remaining": max(0, int(stats.remaining)),
        "resetAfter": max(0, math.ceil(stats.reset_time - time.time())),
    }


def charge_cost(user: User | None, ip: str, points: int) -> dict[str, int] | None:
    """Take ``points`` from the client's bucket (nothing when it cannot pay: ``RateLimited``
    with the seconds to wait). Returns the bucket's state after the charge."""
    if not (settings.RATE_LIMIT_ENABLED and settings.RATE_LIMIT_REQUESTS_ENABLED):
        return None
    item, identifiers = cost_budget_for(user, ip)
    if points > 0:
        try:
            allowed = _limiter().hit(item, *identifiers, cost=points)
        except StorageError:
            logger.error("rate-limit storage unavailable; failing open", exc_info=True)
            return None
        if not allowed:
            raise RateLimited(retry_after=_retry_after(item, identifiers))
    return cost_budget_state(user, ip)


# --- sign-in --------------------------------------------------------------------------------


def _login_items() -> tuple[RateLimitItem, RateLimitItem, RateLimitItem]:
    return (
        parse(settings.RATE_LIMIT_LOGIN_PER_ACCOUNT_SOURCE),
        parse(settings.RATE_LIMIT_LOGIN_PER_IP),
        parse(settings.RATE_LIMIT_LOGIN_PER_ACCOUNT),
    )


def _account_tally(per_account: RateLimitItem) -> RateLimitItem:
    """A counter over the per-account window that never fills, so failures past the slowdown
    threshold are still counted (the delay grows with them)."""
    return type(per_account)(per_account.amount * 1000, per_account.multiples)


def check_login(email: str, ip: str | None) -> None:
    """Refuse (``RateLimited``, with the seconds to wait) when this source has failed too often
    for this account, too often overall, or must still wait after its last failure on a slowed
    account. Failures of *other* sources never refuse this one (no lockout weapon)."""
    per_pair, per_ip, _ = _login_items()
    account = _account_key(email)
    if ip:
        check(per_pair, "login-pair", account, ip)
        check(per_ip, "login-ip", ip)
        _check_wait(account, ip)


def login_delay(failures: int) -> int:
    """Seconds a source must wait after its failure on an account that has ``failures`` failures
    (from every source) in its window: 0 up to ``RATE_LIMIT_LOGIN_PER_ACCOUNT``, then
    ``RATE_LIMIT_LOGIN_DELAY_BASE`` doubling per further failure, at most
    ``RATE_LIMIT_LOGIN_DELAY_MAX``."""
    _, _, per_account = _login_items()
    excess = failures - per_account.amount
    if excess <= 0:
        return 0
    base = max(1, settings.RATE_LIMIT_LOGIN_DELAY_BASE)
    return int(min(base * 2 ** min(excess - 1, 30), settings.RATE_LIMIT_LOGIN_DELAY_MAX))


def _check_wait(account: str, ip: str) -> None:
    """A failing source's next attempt on a slowed account waits until its time has come: a key
    beside the counters that expires when it has."""
    if not settings.RATE_LIMIT_ENABLED:
        return
    key = _wait_key(account, ip)
    try:
        storage = _storage()
        waiting = storage.get(key) > 0
        remaining = storage.get_expiry(key) - time.time() if waiting else 0
    except StorageError:
        logger.error("rate-limit storage unavailable; failing open", exc_info=True)
        return
    if remaining > 0:
        raise RateLimited(retry_after=max(1, math.ceil(remaining)))


def _wait_key(account: str, ip: str) -> str:
    return f"gpubroker/login-wait/{account}/{ip}"


def _account_failures(account: str) -> int:
    _, _, per_account = _login_items()
    tally = _account_tally(per_account)
    try:
        stats = _limiter().get_window_stats(tally, "login-account", account)
    except StorageError:
        return 0
    return int(tally.amount - stats.remaining)


def record_login_failure(email: str, ip: str | None) -> int:
    """Count a failed password; returns the seconds this source must now wait before its next
    attempt on this account (0 while the account has not passed its threshold)."""
    per_pair, per_ip, per_account = _login_items()
    account = _account_key(email)
    counters: list[tuple[RateLimitItem, tuple[str, ...]]] = [
        (_account_tally(per_account), ("login-account", account))
    ]
    if ip:
        counters += [(per_pair, ("login-pair", account, ip)), (per_ip, ("login-ip", ip))]
    for item, identifiers in counters:
        # This attempt has failed anyway; the next check_login refuses.
        with contextlib.suppress(RateLimited):
            hit(item, *identifiers)
    if not (ip and settings.RATE_LIMIT_ENABLED):
        return 0
    delay = login_delay(_account_failures(account))
    if delay:
        try:
            storage = _storage()
            key = _wait_key(account, ip)
            storage.clear(key)  # the wait starts now (a key that expires after it)
            storage.incr(key, delay)
        except StorageError:
            logger.error("rate-limit storage unavailable", exc_info=True)
            return 0
    return delay


def forget_login_failures(email: str, ip: str | None = None) -> None:
    """After a successful sign-in: the account's slowdown and this source's failures go."""
    per_pair, _, per_account = _login_items()
    account = _account_key(email)
    clear(_account_tally(per_account), "login-account", account)
    if ip:
        clear(per_pair, "login-pair", account, ip)
        try:
            _storage().clear(_wait_key(account, ip))
        except StorageError:
            logger.error("rate-limit storage unavailable", exc_info=True)


def hit_mfa_attempt(user_id: str) -> None:
    hit(parse(settings.RATE_LIMIT_MFA_PER_ACCOUNT), "mfa-account", user_id)

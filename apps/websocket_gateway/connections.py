"""Admitting a WebSocket connection: who it is (JWT, same as HTTP) and whether its tenant may
open one more (plan ``ws_limit``, counted across processes by :mod:`.presence`).

Close codes (graphql-transport-ws conventions, used on ``/ws/`` too):
4400 bad request · 4401 unauthenticated / bad token · 4403 forbidden · 4429 connection limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings

from apps.core.errors import PermissionDenied, Unauthenticated
from gpubroker import metrics

from .admission import USER_SCOPE_KEY
from .presence import registry

logger = logging.getLogger("gpubroker.live")

CLOSE_BAD_REQUEST = 4400
CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_TOO_MANY_CONNECTIONS = 4429


class ConnectionRefused(Exception):
    """Close the WebSocket with ``code`` (a 4xxx application code) and ``reason``."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ConnectionIdentity:
    user: Any | None  # the authenticated User; None for an anonymous development connection
    bucket: str  # whose connections count together: tenant, tenant-less user, or anonymous IP
    limit: int


def bearer_token(params: Mapping[str, Any] | None) -> str | None:
    """The token of an ``{"Authorization": "Bearer <token>"}`` connection_init payload
    (key matched case-insensitively). ``None`` when absent; malformed → 4401."""
    if not params:
        return None
    value = next((v for k, v in params.items() if str(k).lower() == "authorization"), None)
    if value is None:
        return None
    scheme, _, token = str(value).strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ConnectionRefused(CLOSE_UNAUTHORIZED, "Unauthorized")
    return token.strip()


def identify(token: str | None, client_ip: str | None) -> ConnectionIdentity:
    """Sync (ORM): the connection's identity and its limit, or ConnectionRefused."""
    if token is None:
        if not settings.WS_ALLOW_ANONYMOUS:
            raise ConnectionRefused(CLOSE_UNAUTHORIZED, "Unauthorized")
        return ConnectionIdentity(
            None, f"anon:{client_ip or 'unknown'}", settings.WS_ANONYMOUS_LIMIT
        )

    from apps.auth_app.models import PLAN_LIMITS, Plan
    from apps.auth_app.services import user_from_access_token

    try:
        user = user_from_access_token(token)
    except Unauthenticated as exc:
        raise ConnectionRefused(CLOSE_UNAUTHORIZED, "Unauthorized") from exc
    except PermissionDenied as exc:
        raise ConnectionRefused(CLOSE_FORBIDDEN, "Forbidden") from exc
    if not user.is_active:
        raise ConnectionRefused(CLOSE_UNAUTHORIZED, "Unauthorized")
    tenant = user.tenant
    if tenant is not None:
        return ConnectionIdentity(user, f"tenant:{tenant.pk}", tenant.ws_limit)
    return ConnectionIdentity(user, f"user:{user.pk}", PLAN_LIMITS[Plan.FREE][1])


#: A channel-layer alias that is not configured: Channels then gives the consumer no channel of
#: its own (``channel_layer`` is None). Price events reach consumers through the process's hub
#: (``hub.py``), never through a per-connection channel; with one, every consumer also awaited
#: ``channel_layer.receive`` and an unreachable Redis crashed every open connection (closed
#: without a close frame) instead of letting the hub tell subscribers and recover.
NO_CONSUMER_CHANNEL = "gpubroker.no-consumer-channel"


class LiveConnection:
    """Mixin for both WebSocket consumers: admission, the slot's keep-alive, release.

    Consumers call :meth:`admit` once authenticated and :meth:`release` when they go away; in
    between a task refreshes the connection's slot (every ``WS_PRESENCE_TTL_SECONDS / 3``)."""

    scope: dict[str, Any]
    channel_layer_alias = NO_CONSUMER_CHANNEL

    connection_id: str = ""
    identity: ConnectionIdentity | None = None
    _keepalive_task: asyncio.Task[None] | None = None

    def client_ip(self) -> str | None:
        client = self.scope.get("client")
        return str(client[0]) if client else None

    async def admit(self, token: str | None) -> ConnectionIdentity:
        identity = await sync_to_async(identify)(token, self.client_ip())
        self.connection_id = uuid.uuid4().hex
        slot = await registry().acquire(identity.bucket, self.connection_id, identity.limit)
        if not slot.granted:
            raise ConnectionRefused(
                CLOSE_TOO_MANY_CONNECTIONS,
                f"Connection limit reached: {identity.limit} open WebSocket connections allowed",
            )
        self.identity = identity
        metrics.WEBSOCKET_CONNECTIONS.labels(metrics.endpoint_label(self.scope.get("path"))).inc()
        self.scope[USER_SCOPE_KEY] = identity.user
        self._keepalive_task = asyncio.create_task(self._keep_alive())
        return identity

    async def _keep_alive(self) -> None:
        interval = max(0.05, float(settings.WS_PRESENCE_TTL_SECONDS) / 3)
        while True:
            await asyncio.sleep(interval)
            identity = self.identity
            if identity is None:
                return
            try:
                await registry().refresh(identity.bucket, self.connection_id)
            except Exception:
                logger.warning("live connection keep-alive failed", exc_info=True)

    async def release(self) -> None:
        task, self._keepalive_task = self._keepalive_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        identity, self.identity = self.identity, None
        if identity is not None:
            metrics.WEBSOCKET_CONNECTIONS.labels(
                metrics.endpoint_label(self.scope.get("path"))
            ).dec()
            try:
                await registry().release(identity.bucket, self.connection_id)
            except Exception:
                # The slot then expires after WS_PRESENCE_TTL_SECONDS.
                logger.warning("live connection release failed", exc_info=True)

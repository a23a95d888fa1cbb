"""The legacy price feed at ``/ws/`` (seed D5), fed by the same publisher as GraphQL.

``ws://host/ws/?token=<access token>[&gpu_model=…&provider=…&region=…&max_price_per_gpu_hour=…
&spot=true|false]``. Browsers cannot set headers on a WebSocket, hence the token in the query
string; it is never logged (our logs never print the query string, and the server entry point
``apps.websocket_gateway.serve`` redacts it from daphne's access log).

Server → client messages (JSON text frames):
``{"type": "subscribed", "filter": {...}}`` once the feed is live;
``{"type": "price_update", "data": {offer change, "published_at": ISO time}}`` per change;
``{"type": "heartbeat", "timestamp": ISO time}`` every ``WS_HEARTBEAT_SECONDS``;
``{"type": "pong"}`` in answer to ``{"type": "ping"}``;
``{"type": "status", "status": "degraded", "code": "LIVE_UPDATES_DEGRADED", "message": …,
"since": ISO time, "timestamp": ISO time}`` when this server cannot reach the channel layer
(Redis), and ``{"type": "status", "status": "recovered", "code": "LIVE_UPDATES_RESUMED", …}``
when updates flow again (changes made in between are not replayed).
Refusals close with 4400 (bad filter), 4401, 4403 or 4429, as on ``/graphql/``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from strawberry.http.websocket_origin import (
    is_same_origin,
    normalize_allowed_origins,
    normalize_origin,
)

from apps.core.errors import ValidationFailed
from gpubroker import metrics

from ..connections import CLOSE_BAD_REQUEST, ConnectionRefused, LiveConnection
from ..filters import PriceFilter
from ..groups import LIVE_STATUS_TYPE, group_for
from ..hub import price_hub
from ..streams import LiveStatus

logger = logging.getLogger("gpubroker.live")

_TRUE = {"1", "true", "yes"}
_FALSE = {"0", "false", "no"}


def origin_allowed(scope: dict[str, Any]) -> bool:
    """The same rule as Strawberry's for ``/graphql/``: no ``Origin`` (non-browser client) or a
    same-origin page is allowed; another origin only when listed in ``WS_ALLOWED_ORIGINS``."""
    headers = {k.decode("latin1").lower(): v.decode("latin1") for k, v in scope["headers"]}
    origin = headers.get("origin")
    if origin is None:
        return True
    if headers.get("sec-fetch-site") == "same-origin" or is_same_origin(
        origin, headers.get("host")
    ):
        return True
    allowed = normalize_allowed_origins(list(settings.WS_ALLOWED_ORIGINS))
    return "*" in allowed or normalize_origin(origin) in allowed


def _first(params: dict[str, list[str]], name: str) -> str | None:
    values = params.get(name)
    return values[0] if values else None


def _spot(value: str | None) -> bool | None:
    if value is None or value == "":
        return None
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValidationFailed("Must be true or false.", field="spot")


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _describe(price_filter: PriceFilter) -> dict[str, Any]:
    limit = price_filter.max_price_per_gpu_hour
    return {
        "gpu_model": price_filter.gpu_model,
        "provider": price_filter.provider,
        "region": price_filter.region,
        "max_price_per_gpu_hour": str(limit) if limit is not None else None,
        "spot": price_filter.spot,
    }


class PriceFeedConsumer(LiveConnection, AsyncJsonWebsocketConsumer):
    _heartbeat_task: asyncio.Task[None] | None = None
    _feed_task: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        if not origin_allowed(self.scope):
            await self.close()  # before accept: the handshake is answered with HTTP 403
            return
        params = parse_qs(self.scope.get("query_string", b"").decode("latin1"))
        await self.accept()
        try:
            price_filter = PriceFilter.build(
                gpu_model=_first(params, "gpu_model"),
                provider=_first(params, "provider"),
                region=_first(params, "region"),
                max_price_per_gpu_hour=_first(params, "max_price_per_gpu_hour"),
                spot=_spot(_first(params, "spot")),
            )
        except ValidationFailed as exc:
            await self.close(code=CLOSE_BAD_REQUEST, reason=f"{exc.field}: {exc.message}")
            return
        try:
            await self.admit(_first(params, "token") or None)
        except ConnectionRefused as refused:
            logger.info(
                "websocket refused",
                extra={"endpoint": "ws", "code": refused.code, "reason": refused.reason},
            )
            await self.close(code=refused.code, reason=refused.reason)
            return
        self._heartbeat_task = asyncio.create_task(self._heartbeats())
        self._feed_task = asyncio.create_task(self._feed(price_filter))

    async def _feed(self, price_filter: PriceFilter) -> None:
        async with price_hub().subscribe(group_for(price_filter.group_model)) as batches:
            # Sent once the subscription is registered: from here on no change is missed.
            await self.send_json({"type": "subscribed", "filter": _describe(price_filter)})
            while True:
                batch = await batches.get()
                if batch.get("type") == LIVE_STATUS_TYPE:
                    await self.send_json(LiveStatus.from_message(batch).as_feed_message())
                    continue
                published_at = datetime.fromtimestamp(float(batch["published_at"]), UTC)
                stamp = published_at.isoformat()
                for change in batch["changes"]:
                    if price_filter.matches(change):
                        await self.send_json(
                            {"type": "price_update", "data": {**change, "published_at": stamp}}
                        )
                        metrics.PRICE_EVENTS_DELIVERED.labels("ws").inc()

    async def _heartbeats(self) -> None:
        interval = max(0.05, float(settings.WS_HEARTBEAT_SECONDS))
        while True:
            await asyncio.sleep(interval)
            await self.send_json({"type": "heartbeat", "timestamp": _now()})

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        """The feed is one-way; a client may ``{"type": "ping"}``. Anything else is ignored."""
        try:
            content = json.loads(text_data or "")
        except ValueError:
            return
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def disconnect(self, code: int) -> None:
        for task in (self._heartbeat_task, self._feed_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._heartbeat_task = self._feed_task = None
        await self.release()

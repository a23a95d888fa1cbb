"""Helpers for the live-price tests: sample offers, channel-layer group membership, payloads."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from channels.layers import get_channel_layer

from apps.providers.events import OfferChange

SUBSCRIBE_PRICES = """
subscription Prices($filter: PriceUpdateFilter) {
  priceUpdates(filter: $filter) {
    offerId kind provider gpuModel gpuCount region spot
    oldPricePerHour newPricePerHour oldPricePerGpuHour newPricePerGpuHour
    oldAvailability newAvailability changedAt publishedAt
  }
}
"""


def offer_change(
    offer_id: str = "00000000-0000-0000-0000-000000000001",
    *,
    provider: str = "runpod",
    gpu_model: str = "H100 SXM 80GB",
    gpu_count: int = 1,
    region: str = "US-TX-3",
    is_spot: bool = False,
    old: str | None = "2.9900",
    new: str = "2.4900",
    old_availability: str | None = "available",
    new_availability: str = "available",
) -> OfferChange:
    return OfferChange(
        kind="changed" if old is not None else "new",
        offer_id=offer_id,
        provider=provider,
        gpu_model=gpu_model,
        gpu_count=gpu_count,
        region=region,
        country="US",
        is_spot=is_spot,
        old_price_per_hour=Decimal(old) if old is not None else None,
        new_price_per_hour=Decimal(new),
        old_availability=old_availability,
        new_availability=new_availability,
        changed_at=datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
    )


async def group_size(group: str) -> int:
    layer: Any = get_channel_layer()
    if hasattr(layer, "groups") and isinstance(layer.groups, dict):  # InMemoryChannelLayer
        return len(layer.groups.get(group, {}))
    connection = layer.connection(layer.consistent_hash(group))
    return int(await connection.zcard(layer._group_key(group)))


async def wait_for_group(group: str, size: int, timeout: float = 5.0) -> None:
    """Subscriptions join their group asynchronously: wait until ``size`` members are in."""
    deadline = time.monotonic() + timeout
    while await group_size(group) < size:
        if time.monotonic() > deadline:
            raise AssertionError(f"group {group} never reached {size} members")
        await asyncio.sleep(0.01)


class GraphQLTransportClient:
    """A raw ``graphql-transport-ws`` client over Channels' communicator, for protocol paths
    (close codes, error messages) that Strawberry's happy-path communicator asserts away."""

    def __init__(
        self,
        path: str = "/graphql/",
        *,
        headers: list[tuple[bytes, bytes]] | None = None,
        subprotocols: tuple[str, ...] = ("graphql-transport-ws",),
    ) -> None:
        from channels.testing import WebsocketCommunicator

        from gpubroker.asgi import application

        self.communicator = WebsocketCommunicator(
            application, path, headers=headers, subprotocols=list(subprotocols)
        )

    async def open(self) -> tuple[bool, Any]:
        return await self.communicator.connect()

    async def send(self, message: dict[str, Any]) -> None:
        await self.communicator.send_json_to(message)

    async def receive(self, timeout: float = 3) -> dict[str, Any]:
        return await self.communicator.receive_json_from(timeout=timeout)

    async def init(self, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        """Open and send connection_init; returns the server's answer: the decoded message
        (``{"type": "connection_ack"}``) or the ``websocket.close`` event."""
        connected, _ = await self.open()
        assert connected
        await self.send({"type": "connection_init", "payload": payload or {}})
        output = await self.communicator.receive_output(timeout=3)
        return json.loads(output["text"]) if output["type"] == "websocket.send" else output

    async def subscribe(
        self, op_id: str, query: str = SUBSCRIBE_PRICES, variables: dict[str, Any] | None = None
    ) -> None:
        await self.send(
            {
                "id": op_id,
                "type": "subscribe",
                "payload": {"query": query, "variables": variables or {}},
            }
        )

    async def expect_close(self, code: int, timeout: float = 3) -> dict[str, Any]:
        while True:
            output = await self.communicator.receive_output(timeout=timeout)
            if output["type"] == "websocket.close":
                assert output.get("code") == code, output
                return output

    async def nothing_more(self, timeout: float = 0.3) -> bool:
        return await self.communicator.receive_nothing(timeout=timeout)

    async def close(self) -> None:
        await self.communicator.disconnect()


async def publish(*changes: OfferChange, provider: str = "runpod", batch_size: int = 200) -> None:
    from apps.websocket_gateway.services import price_batch_messages, send_group_messages

    await send_group_messages(
        price_batch_messages(
            provider=provider, changes=changes, published_at=time.time(), batch_size=batch_size
        )
    )


def make_offers(
    count: int = 6, *, provider_name: str = "demo-cloud", sample: bool = True
) -> list[Any]:
    """Offers of one provider over three GPU models (sync; ORM)."""
    from apps.providers.models import GPUOffer, Provider

    provider, _ = Provider.objects.get_or_create(
        name=provider_name,
        defaults={
            "display_name": provider_name.title(),
            "api_base_url": "https://api.example.invalid/",
            "is_sample_data": sample,
        },
    )
    models = [("H100 SXM 80GB", 80), ("A100 SXM 80GB", 80), ("RTX 4090", 24)]
    offers = []
    for i in range(count):
        model, memory = models[i % len(models)]
        offers.append(
            GPUOffer.objects.create(
                provider=provider,
                external_id=f"{provider_name}-{i}",
                gpu_type=model,
                raw_gpu_name=model,
                gpu_memory_gb=memory,
                gpu_count=1 + (i % 2),
                price_per_hour=Decimal("1.5000") + Decimal(i) / 10,
                region=["US-TX-3", "EU-RO-1"][i % 2],
                country=["US", "RO"][i % 2],
                is_spot=i % 3 == 0,
            )
        )
    return offers

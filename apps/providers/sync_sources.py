"""Where a sync reads offers from: the provider's live API or the replay source (recorded answers
served to the same adapter). Also the one place the network edge can be swapped (tests, bench).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from .adapters import BaseProviderAdapter, ProviderRegistry
from .replay import ReplayTransport, available_snapshots, perturbed_cassette, snapshot_cassettes

SourceKind = Literal["live", "replay"]
#: What replayed adapters that insist on a key get: recordings do not check it.
REPLAY_API_KEY = "replay-sample-key"

_transport_overrides: dict[str, httpx.AsyncBaseTransport] = {}


@dataclass(frozen=True, slots=True)
class SyncSource:
    """``live``: the provider's API. ``replay``: shipped snapshot ``snapshot`` (default the last),
    deterministically perturbed when ``step`` is given (see ``replay.perturbed_cassette``)."""

    kind: SourceKind = "live"
    snapshot: int | None = None
    step: int | None = None

    @property
    def is_sample(self) -> bool:
        return self.kind == "replay"

    def describe(self) -> str:
        if self.kind == "live":
            return "live"
        snap = self.snapshot if self.snapshot is not None else available_snapshots()[-1]
        return f"replay snapshot {snap}" + (f" step {self.step}" if self.step is not None else "")


LIVE = SyncSource("live")


@contextmanager
def use_transport(provider: str, transport: httpx.AsyncBaseTransport) -> Iterator[None]:
    """Route every live call to ``provider`` through ``transport`` (tests, benchmarks)."""
    previous = _transport_overrides.get(provider)
    _transport_overrides[provider] = transport
    try:
        yield
    finally:
        if previous is None:
            _transport_overrides.pop(provider, None)
        else:
            _transport_overrides[provider] = previous


@dataclass(frozen=True, slots=True)
class Credentials:
    api_key: str | None = None
    #: Set when the key is a stored integration's (so a refusal can be recorded on it).
    integration_id: Any = None


def environment_api_key(provider: str) -> str | None:
    """``GPUBROKER_<PROVIDER>_API_KEY`` (e.g. ``GPUBROKER_LAMBDA_API_KEY``): the platform's key."""
    return os.environ.get(f"GPUBROKER_{provider.upper()}_API_KEY") or None


def catalogue_credentials(provider: str) -> Credentials:
    """The key a catalogue sync uses: the platform's (environment), else a stored integration's
    that its owner allowed for the catalogue (``integrations.catalogue_key``), else none."""
    key = environment_api_key(provider)
    if key:
        return Credentials(key)
    from .integrations import catalogue_key  # the integrations module imports this one

    found = catalogue_key(provider)
    return Credentials(found.api_key, found.integration_id) if found else Credentials()


def live_adapter(
    provider: str, *, api_key: str | None = None, **kwargs: Any
) -> BaseProviderAdapter:
    transport = _transport_overrides.get(provider)
    return ProviderRegistry.get_adapter(provider, api_key=api_key, transport=transport, **kwargs)


def replay_cassette(provider: str, source: SyncSource) -> dict[str, Any]:
    snapshot = source.snapshot if source.snapshot is not None else available_snapshots()[-1]
    cassettes = snapshot_cassettes(snapshot)
    if provider not in cassettes:
        raise LookupError(f"replay snapshot {snapshot} has no recording for {provider!r}")
    cassette = cassettes[provider]
    return perturbed_cassette(cassette, source.step) if source.step is not None else cassette


def build_adapter(provider: str, source: SyncSource) -> tuple[BaseProviderAdapter, Credentials]:
    if source.kind == "live":
        credentials = catalogue_credentials(provider)
        return live_adapter(provider, api_key=credentials.api_key), credentials
    adapter_class = ProviderRegistry.adapter_class(provider)
    key = adapter_class.REPLAY_API_KEY if adapter_class.REQUIRES_CREDENTIALS else None
    transport = ReplayTransport(replay_cassette(provider, source))
    return adapter_class(api_key=key, transport=transport), Credentials(key)


def replay_providers(snapshot: int | None = None) -> list[str]:
    snap = snapshot if snapshot is not None else available_snapshots()[-1]
    return sorted(snapshot_cassettes(snap))

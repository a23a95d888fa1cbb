"""The replay source: recorded provider HTTP answers served to the **real adapters** through an
httpx transport, so offline demo data goes through exactly the parsing path live data does.

A *cassette* is a JSON file of recorded interactions::

    {"provider": "vastai",
     "interactions": [
        {"request": {"method": "POST", "path": "/api/v0/bundles/", "json": {...subset...}},
         "response": {"status": 200, "headers": {...}, "json": {...}}},
        {"request": {...}, "response": {"status": 503, "text": "<html>…"}, "times": 1}
     ]}

A request matches the first interaction whose method and path are equal and whose ``json`` /
``params`` are contained in the request's (recursive subset). ``times`` limits how often an
interaction answers (for "429 then 200" sequences). An unmatched request gets a 404 so a gap in a
recording fails loudly as :class:`ProviderRequestError`, never as silent empty data.

Demo snapshots ship in ``snapshots/<n>/<provider>.json`` (recorded-style, hand-authored from the
reference payloads; they are sample data and the sync marks their providers so).
:func:`perturbed_cassette` derives further deterministic snapshots for live-update demos.

Pure Python (no Django import).
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx

SNAPSHOT_DIR = Path(__file__).resolve().parent / "snapshots"

#: Keys whose numbers are the prices the adapters read (perturbed by :func:`perturbed_cassette`).
PRICE_KEYS = frozenset(
    {
        "dph_total",  # Vast.ai, USD/h whole offer
        "uninterruptablePrice",  # RunPod, USD/h per GPU
        "minimumBidPrice",  # RunPod spot
        "price_cents_per_hour",  # Lambda, cents
        "price_per_hr",  # TensorDock, USD/h per GPU
        "hourly_price",  # Shadeform, cents
        "retailPrice",  # Azure, USD/h whole VM
        "value",  # Oracle (USD per GPU-hour), Cudo (per component, decimal strings)
        "hourly_cost",  # Vultr, USD/h whole plan
        "monthly_cost",  # Vultr bare metal, USD/month
        "price_per_hour",  # DataCrunch (whole instance), JarvisLabs (per GPU)
        "spot_price",  # DataCrunch, JarvisLabs
        "price_hourly",  # DigitalOcean, USD/h whole Droplet
        "OnDemandPrice",  # Hot Aisle, cents
    }
)
#: Booleans that are availability (Shadeform ``availability[].available``).
AVAILABILITY_KEYS = frozenset({"available"})
PRICE_CHANGE_SHARE = 0.15
AVAILABILITY_FLIP_SHARE = 0.05


def _contains(actual: Any, expected: Any) -> bool:
    if isinstance(expected, Mapping):
        return isinstance(actual, Mapping) and all(
            key in actual and _contains(actual[key], value) for key, value in expected.items()
        )
    return bool(actual == expected)


class ReplayTransport(httpx.MockTransport):
    """Serves cassettes' recorded responses; keeps the requests it saw in ``requests``."""

    def __init__(self, *cassettes: Mapping[str, Any]) -> None:
        self.interactions: list[dict[str, Any]] = []
        for cassette in cassettes:
            for interaction in cassette.get("interactions", []):
                self.interactions.append({**interaction, "_used": 0})
        self.requests: list[httpx.Request] = []
        super().__init__(self._handle)

    def _match(self, request: httpx.Request) -> dict[str, Any] | None:
        body: Any = None
        if request.content:
            try:
                body = json.loads(request.content)
            except ValueError:
                body = None
        params = dict(request.url.params)
        for interaction in self.interactions:
            wanted = interaction["request"]
            if wanted.get("method", "GET").upper() != request.method:
                continue
            if wanted.get("path") != request.url.path:
                continue
            if "json" in wanted and not _contains(body, wanted["json"]):
                continue
            if "params" in wanted and not _contains(params, wanted["params"]):
                continue
            times = interaction.get("times")
            if times is not None and interaction["_used"] >= times:
                continue
            interaction["_used"] += 1
            return interaction
        return None

    def _handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        interaction = self._match(request)
        if interaction is None:
            return httpx.Response(
                404,
                json={"error": f"no recorded response for {request.method} {request.url.path}"},
            )
        response = interaction["response"]
        headers = dict(response.get("headers") or {})
        status = int(response.get("status", 200))
        if "json" in response:
            return httpx.Response(status, json=response["json"], headers=headers)
        return httpx.Response(status, text=str(response.get("text", "")), headers=headers)


def load_cassette(path: str | Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(Path(path).read_text())
    return data


def available_snapshots() -> list[int]:
    return sorted(int(p.name) for p in SNAPSHOT_DIR.iterdir() if p.is_dir() and p.name.isdigit())


def snapshot_cassettes(snapshot: int) -> dict[str, dict[str, Any]]:
    """``{provider name: cassette}`` of one shipped snapshot."""
    folder = SNAPSHOT_DIR / str(snapshot)
    if not folder.is_dir():
        raise FileNotFoundError(f"no replay snapshot {snapshot} (have {available_snapshots()})")
    cassettes = {}
    for path in sorted(folder.glob("*.json")):
        cassette = load_cassette(path)
        cassettes[str(cassette.get("provider") or path.stem)] = cassette
    return cassettes


def _unit(*parts: object) -> float:
    """A deterministic number in [0, 1) from ``parts`` (same on every machine and process)."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _walk(node: Any, path: str) -> Iterator[tuple[Any, Any, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield node, key, f"{path}/{key}"
            yield from _walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{path}/{index}")


def _decimal_text(value: Any) -> bool:
    if not isinstance(value, str) or not value.strip():
        return False
    try:
        return float(value) > 0
    except ValueError:
        return False


def perturbed_cassette(cassette: Mapping[str, Any], step: int) -> dict[str, Any]:
    """A copy of ``cassette`` in which about 15 % of the prices move by 1–6 % (up or down)
    and about 5 % of availability flags flip, chosen deterministically from ``step``.

    Changes are relative to the recording (not cumulative), so prices wander around their recorded
    values however long a demo runs; consecutive steps differ, so every step yields changes."""
    result: dict[str, Any] = copy.deepcopy(dict(cassette))
    for parent, key, path in _walk(result.get("interactions", []), ""):
        value = parent[key]
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        if key in PRICE_KEYS and (numeric or _decimal_text(value)):
            if _unit("price", step, path) >= PRICE_CHANGE_SHARE:
                continue
            magnitude = 0.01 + 0.05 * _unit("size", step, path)
            factor = 1 + magnitude if _unit("sign", step, path) < 0.5 else 1 - magnitude
            if isinstance(value, str):  # decimal strings stay strings (Cudo, DataCrunch)
                parent[key] = f"{float(value) * factor:.6f}".rstrip("0").rstrip(".")
            else:
                parent[key] = (
                    round(value * factor) if isinstance(value, int) else round(value * factor, 4)
                )
        elif (
            key in AVAILABILITY_KEYS
            and isinstance(value, bool)
            and _unit("flip", step, path) < AVAILABILITY_FLIP_SHARE
        ):
            parent[key] = not value
    return result

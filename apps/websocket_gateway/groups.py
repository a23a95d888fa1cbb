"""Channel-layer group names for price updates (pure; no Django import).

Channels accepts only ASCII letters, digits, ``-``, ``_`` and ``.`` in group names, shorter than
100 characters. GPU model names ("H100 SXM 80GB", "RTX 6000 Ada") are mapped onto that alphabet;
a name that would be too long keeps a readable prefix plus a hash, so distinct models never share a
group.
"""

from __future__ import annotations

import hashlib
import re

#: Every price change of every provider.
ALL_PRICES_GROUP = "prices.all"
_GPU_PREFIX = "prices.gpu."
_MAX_GROUP_LENGTH = 99
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")

#: The channel-layer message type of a batch of price changes.
PRICE_BATCH_TYPE = "price.batch"
#: A process-local message from the hub to its subscribers: price events cannot be delivered
#: (``status: "degraded"``) or flow again (``status: "recovered"``).
LIVE_STATUS_TYPE = "live.status"


def gpu_model_group(gpu_model: str) -> str:
    """The group of one canonical GPU model's price changes."""
    safe = _UNSAFE.sub("_", gpu_model.strip()) or "_"
    name = _GPU_PREFIX + safe
    if len(name) <= _MAX_GROUP_LENGTH and safe == gpu_model.strip():
        return name
    # Sanitising may map two names onto one (e.g. "A/B" and "A B"): disambiguate with a hash.
    digest = hashlib.sha256(gpu_model.encode("utf-8")).hexdigest()[:12]
    head = safe[: _MAX_GROUP_LENGTH - len(_GPU_PREFIX) - len(digest) - 1]
    return f"{_GPU_PREFIX}{head}.{digest}"


def group_for(gpu_model: str | None) -> str:
    """The one group a subscriber joins: its GPU model's when it filters by one, else all."""
    return gpu_model_group(gpu_model) if gpu_model else ALL_PRICES_GROUP


def is_valid_group_name(name: str) -> bool:
    return 0 < len(name) < 100 and _UNSAFE.search(name) is None

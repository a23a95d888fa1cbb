"""GraphQL: the anomaly-flag type shared by ``GPUOffer.flags`` (``schema/providers.py``) and the
market insights (``schema/kpi.py``). Public catalogue data."""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info

from apps.kpi import services
from apps.kpi.results import FlagOut

from .derived import mirrors
from .privacy import PUBLIC

_CONTEXT_KEY = "_gpubroker_kpi_flags"


@strawberry.enum(description="Why an offer's price is not trusted (apps/kpi/anomalies.py).")
class AnomalyCode(Enum):
    PRICE_OUTLIER_HIGH = "PRICE_OUTLIER_HIGH"
    PRICE_OUTLIER_LOW = "PRICE_OUTLIER_LOW"
    LIKELY_PER_NODE_AS_PER_GPU = "LIKELY_PER_NODE_AS_PER_GPU"
    LIKELY_CENTS_AS_DOLLARS = "LIKELY_CENTS_AS_DOLLARS"
    STALE = "STALE"


@strawberry.type(description="An anomaly flag with its reason code.", directives=[PUBLIC])
@mirrors(FlagOut)
class OfferFlag:
    score = strawberry.field(description="Robust z-score (null for STALE).")
    peer_median = strawberry.field(
        description="Median USD/GPU-hour of the offer's peers (model × tier)."
    )
    ratio = strawberry.field(description="Price / peer median.")

    @strawberry.field
    def code(self) -> AnomalyCode:
        return AnomalyCode(self.code)  # type: ignore[arg-type]


def flags_of(info: Info, offer_id: object) -> list[FlagOut]:
    """The offer's flags; the market's flags are read once per request."""
    context: Any = info.context
    store = context if isinstance(context, dict) else context.__dict__
    if _CONTEXT_KEY not in store:
        store[_CONTEXT_KEY] = services.market_flag_outs()
    return store[_CONTEXT_KEY].get(str(offer_id), [])  # type: ignore[no-any-return]

"""Provider adapters: one module per GPU cloud, registered in :class:`ProviderRegistry` on import.

Pure Python (httpx, no Django import): each adapter turns the provider's raw JSON into
:class:`ProviderOffer` values; only ``apps.providers.sync`` writes to the database.
"""

from . import (
    azure,
    cudo,
    datacrunch,
    digitalocean,
    hotaisle,
    jarvislabs,
    lambda_cloud,
    oci,
    runpod,
    shadeform,
    tensordock,
    vastai,
    vultr,
)
from .base import (
    BaseProviderAdapter,
    BookingOptions,
    BookingResult,
    FetchResult,
    PriceBreakdown,
    ProviderOffer,
    Rejection,
)
from .errors import (
    ProviderAuthError,
    ProviderError,
    ProviderPayloadError,
    ProviderRateLimited,
    ProviderRequestError,
    ProviderUnavailable,
)
from .http import RetryPolicy
from .registry import ProviderRegistry, UnknownProvider

__all__ = [
    "BaseProviderAdapter",
    "BookingOptions",
    "BookingResult",
    "FetchResult",
    "PriceBreakdown",
    "ProviderAuthError",
    "ProviderError",
    "ProviderOffer",
    "ProviderPayloadError",
    "ProviderRateLimited",
    "ProviderRegistry",
    "ProviderRequestError",
    "ProviderUnavailable",
    "Rejection",
    "RetryPolicy",
    "UnknownProvider",
    "azure",
    "cudo",
    "datacrunch",
    "digitalocean",
    "hotaisle",
    "jarvislabs",
    "lambda_cloud",
    "oci",
    "runpod",
    "shadeform",
    "tensordock",
    "vastai",
    "vultr",
]

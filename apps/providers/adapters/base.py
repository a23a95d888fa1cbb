"""The adapter contract: raw provider JSON in, :class:`ProviderOffer` values out.

Pure Python (no Django import): adapters are importable and testable without settings. Only the
sync engine (``apps.providers.sync``) writes to the database.

Conventions every adapter follows:

* ``price_per_hour`` is USD per hour for the **whole offer** (all ``gpu_count`` GPUs, with the
  CPU/RAM/disk the offer comes with); the per-GPU price is derived, never stored.
* ``gpu_memory_gb`` is VRAM **per GPU** in GB. For a GPU the normaliser knows it is set to the
  model's nominal datasheet size after the fetch, and the provider's own figure is kept in
  ``raw_gpu_memory_gb`` (a Vast.ai L40S reports 44.99 GiB; it is a 48 GB part).
* ``price_breakdown`` says what ``price_per_hour`` includes where the provider prices GPU, CPU,
  RAM or disk separately (:class:`PriceBreakdown`), so offers compare like for like.
* After the fetch, :meth:`BaseProviderAdapter.fetch_offers` normalises every offer once
  (:meth:`~BaseProviderAdapter.normalise`): non-GPU accelerators (TPU, Trainium, Inferentia)
  are skipped on purpose, the **plausibility gate** (``apps.providers.plausibility``) rejects
  offers whose price, VRAM or GPU count is implausible for the model (counted and logged under
  the KPI anomaly codes), VRAM is set to the nominal size, and the region gets its country and
  macro-region (``apps.providers.regions``).
* ``gpu_type`` is the canonical model from ``apps.math_core.algorithms.gpu_names`` (or the
  provider's tidied name when the normaliser does not know the GPU — kept, never dropped, and
  reported as ``unknown_gpu_names``); ``raw_gpu_name`` keeps the provider's spelling.
* ``external_id`` is stable across syncs for the same offer (provider id + location + count +
  spot), so price history joins on it.
* A record that cannot become an offer is **rejected with a reason** and counted; it never
  aborts the batch. A response that is not the documented envelope raises
  :class:`ProviderPayloadError` (the whole fetch failed; nothing is trusted).
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import lru_cache
from typing import Any, ClassVar, Literal

import httpx

from apps.math_core.algorithms import costs
from apps.math_core.algorithms.gpu_names import (
    canonical_gpu_name,
    display_gpu_name,
    nominal_vram_gb,
    non_gpu_accelerator,
)

from .. import plausibility
from ..regions import locate
from .errors import ProviderAuthError, ProviderError, ProviderPayloadError
from .http import ProviderHTTPClient, RetryPolicy, Sleep
from .units import RecordRejected

AvailabilityValue = Literal["available", "limited", "unavailable"]
AVAILABLE: AvailabilityValue = "available"
LIMITED: AvailabilityValue = "limited"
UNAVAILABLE: AvailabilityValue = "unavailable"

#: Rejection details kept per fetch for logs (the counts are always complete).
MAX_KEPT_REJECTIONS = 200


#: Components a price may include (``PriceBreakdown``).
PRICE_COMPONENTS = ("gpu", "cpu", "ram", "disk", "ipv4", "network")


@dataclass(frozen=True, slots=True)
class PriceBreakdown:
    """What an offer's ``price_per_hour`` pays for.

    ``includes``: components in the price. ``excludes``: components the provider bills
    separately that a running machine needs (they are *not* in the price; e.g. RunPod's volume
    disk). ``components``: USD/h of each included component where the provider prices them
    separately (they add up to the price, to within rounding to 4 decimal places)."""

    includes: tuple[str, ...]
    excludes: tuple[str, ...] = ()
    components: tuple[tuple[str, Decimal], ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "includes": list(self.includes),
            "excludes": list(self.excludes),
            "components": {name: str(amount) for name, amount in self.components},
        }


@dataclass(frozen=True, slots=True)
class ProviderOffer:
    """One rentable configuration, normalised. See the module docstring for the units."""

    provider: str
    external_id: str
    gpu_type: str
    raw_gpu_name: str
    gpu_memory_gb: int
    gpu_count: int
    price_per_hour: Decimal
    region: str
    country: str = ""
    availability: AvailabilityValue = AVAILABLE
    is_spot: bool = False
    is_datacenter: bool = True
    cpu_cores: int = 0
    ram_gb: int = 0
    storage_gb: int = 0
    currency: str = "USD"
    compliance_tags: tuple[str, ...] = ()
    #: False when the normaliser does not know the GPU (``gpu_type`` is then the tidied raw name).
    gpu_model_known: bool = True
    #: VRAM per GPU as the provider reported it (GB or GiB, unrounded); None: as gpu_memory_gb.
    raw_gpu_memory_gb: float | None = None
    macro_region: str = ""
    price_breakdown: PriceBreakdown | None = None

    @property
    def price_per_gpu_hour(self) -> Decimal:
        return costs.price_per_gpu_hour(self.price_per_hour, self.gpu_count)


@dataclass(frozen=True, slots=True)
class Rejection:
    """A record that did not become an offer, and why."""

    reason: str
    record_id: str = ""
    detail: str = ""


@dataclass(slots=True)
class FetchResult:
    """What one fetch produced: the offers, the rejected records and their reasons."""

    provider: str
    offers: list[ProviderOffer] = field(default_factory=list)
    records_seen: int = 0
    rejected: int = 0
    rejection_reasons: Counter[str] = field(default_factory=Counter)
    rejections: list[Rejection] = field(default_factory=list)
    unknown_gpu_names: Counter[str] = field(default_factory=Counter)
    #: Valid records that describe nothing rentable (no stock anywhere, CPU-only types).
    skipped: Counter[str] = field(default_factory=Counter)

    def skip(self, reason: str) -> None:
        self.skipped[reason] += 1

    def drop_duplicates(self) -> None:
        """Keep the first offer per ``external_id``; later ones are rejected as duplicates."""
        seen: set[str] = set()
        unique: list[ProviderOffer] = []
        for offer in self.offers:
            if offer.external_id in seen:
                self.reject("duplicate:external_id", offer.external_id)
                continue
            seen.add(offer.external_id)
            unique.append(offer)
        self.offers = unique

    def reject(self, reason: str, record_id: str = "", detail: str = "") -> None:
        self.rejected += 1
        self.rejection_reasons[reason] += 1
        if len(self.rejections) < MAX_KEPT_REJECTIONS:
            self.rejections.append(Rejection(reason, record_id, detail))

    def add(self, offer: ProviderOffer) -> None:
        kind = accelerator_kind(offer.raw_gpu_name)
        if kind is not None:
            self.skip(f"non_gpu_accelerator:{kind}")
            return
        self.offers.append(offer)
        if not offer.gpu_model_known:
            self.unknown_gpu_names[offer.raw_gpu_name] += 1

    def merge(self, other: FetchResult) -> None:
        self.records_seen += other.records_seen
        for offer in other.offers:
            self.add(offer)
        self.rejected += other.rejected
        self.rejection_reasons.update(other.rejection_reasons)
        self.skipped.update(other.skipped)
        room = MAX_KEPT_REJECTIONS - len(self.rejections)
        self.rejections.extend(other.rejections[: max(room, 0)])


@dataclass(frozen=True, slots=True)
class BookingOptions:
    """What a buyer chooses beyond the offer. None of the five APIs takes a rental duration:
    on-demand instances bill by the hour until they are terminated."""

    name: str = "gpubroker"
    image: str = "ubuntu-22.04"
    disk_gb: int = 50
    ssh_key: str = ""
    ssh_public_key: str = ""
    spot_bid_per_gpu: Decimal | None = None
    #: vCPUs and RAM to request where the API sizes the machine (TensorDock): the offer's.
    cpu_cores: int = 0
    ram_gb: int = 0


@dataclass(frozen=True, slots=True)
class BookingResult:
    provider: str
    offer_id: str
    instance_id: str
    status: str
    raw: Mapping[str, Any]


@lru_cache(maxsize=4096)
def accelerator_kind(raw_name: str) -> str | None:
    """``"TPU"``/``"Trainium"``/``"Inferentia"`` for accelerators refused on purpose (cached)."""
    return non_gpu_accelerator(raw_name)


@lru_cache(maxsize=4096)
def resolve_gpu(raw_name: str, memory_gb: float | None) -> tuple[str, bool]:
    """``(gpu_type, known)``: the canonical model, or the provider's tidied name when unknown.
    Cached: a listing repeats a handful of (name, memory) pairs thousands of times."""
    canonical = canonical_gpu_name(raw_name, memory_gb)
    if canonical:
        return canonical, True
    return display_gpu_name(raw_name, memory_gb), False


def parse_records(
    result: FetchResult,
    records: Iterable[tuple[str, Any]],
    parse_one: Callable[[Any], Iterable[ProviderOffer]],
    *,
    logger: logging.Logger,
) -> None:
    """Run ``parse_one`` over ``(record_id, record)`` pairs: offers are added, rejections
    counted and logged; an unexpected exception in one record rejects only that record."""
    for record_id, record in records:
        result.records_seen += 1
        try:
            offers = list(parse_one(record))
        except RecordRejected as exc:
            result.reject(exc.reason, record_id, exc.detail)
            logger.info(
                "provider record rejected",
                extra={
                    "provider": result.provider,
                    "record": record_id,
                    "reason": exc.reason,
                    "detail": exc.detail,
                },
            )
            continue
        except Exception as exc:  # a parser bug must not sink the batch
            result.reject(f"unexpected:{exc.__class__.__name__}", record_id, str(exc)[:200])
            logger.exception(
                "provider record crashed the parser",
                extra={"provider": result.provider, "record": record_id},
            )
            continue
        for offer in offers:
            result.add(offer)


def envelope(payload: Any, *path: str, provider: str, expect: type = list) -> Any:
    """``payload[path...]`` when it has the documented type, else :class:`ProviderPayloadError`."""
    node = payload
    walked: list[str] = []
    for key in path:
        walked.append(key)
        if not isinstance(node, Mapping) or key not in node:
            raise ProviderPayloadError(
                f"response has no {'.'.join(walked)!r} (got {type(node).__name__})",
                provider=provider,
            )
        node = node[key]
    if not isinstance(node, expect):
        raise ProviderPayloadError(
            f"{'.'.join(path) or 'response'} is {type(node).__name__}, expected {expect.__name__}",
            provider=provider,
        )
    return node


def enumerate_records(items: Iterable[Any], id_key: str | None = None) -> Iterator[tuple[str, Any]]:
    for index, item in enumerate(items):
        record_id = str(index)
        if id_key and isinstance(item, Mapping) and item.get(id_key) is not None:
            record_id = str(item[id_key])[:100]
        yield record_id, item


class BaseProviderAdapter(ABC):
    """One provider's API. Instances are cheap; build one per sync or per request."""

    PROVIDER_NAME: ClassVar[str] = ""
    DISPLAY_NAME: ClassVar[str] = ""
    BASE_URL: ClassVar[str] = ""
    #: True when the provider refuses to list prices without an API key.
    REQUIRES_CREDENTIALS: ClassVar[bool] = False
    #: The key replayed recordings are read with (in the adapter's key format; never checked).
    REPLAY_API_KEY: ClassVar[str] = "replay-sample-key"

    def __init__(
        self,
        *,
        api_key: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        base_url: str | None = None,
        retry: RetryPolicy | None = None,
        sleep: Sleep | None = None,
        timeout: httpx.Timeout | None = None,
    ) -> None:
        self.api_key = api_key or None
        self.transport = transport
        self.base_url = base_url or self.BASE_URL
        self.retry = retry
        self.sleep = sleep
        self.timeout = timeout
        self.logger = logging.getLogger(f"gpubroker.providers.{self.PROVIDER_NAME}")

    # --- HTTP ------------------------------------------------------------------------------
    def auth_headers(self, api_key: str | None) -> dict[str, str]:
        """Headers that carry ``api_key`` (Bearer by default)."""
        return {"Authorization": f"Bearer {api_key}"} if api_key else {}

    def http(self, api_key: str | None = None) -> ProviderHTTPClient:
        key = api_key if api_key is not None else self.api_key
        kwargs: dict[str, Any] = {}
        if self.timeout is not None:
            kwargs["timeout"] = self.timeout
        return ProviderHTTPClient(
            provider=self.PROVIDER_NAME,
            base_url=self.base_url,
            transport=self.transport,
            retry=self.retry,
            sleep=self.sleep,
            headers=self.auth_headers(key),
            **kwargs,
        )

    def require_key(self, api_key: str | None = None) -> str:
        key = api_key if api_key is not None else self.api_key
        if not key:
            raise ProviderAuthError("an API key is required", provider=self.PROVIDER_NAME)
        return key

    def new_result(self) -> FetchResult:
        return FetchResult(provider=self.PROVIDER_NAME)

    def parse_each(
        self,
        records: Iterable[tuple[str, Any]],
        parse_one: Callable[[Any, FetchResult], Iterable[ProviderOffer]],
    ) -> FetchResult:
        """A new result holding what ``parse_one(record, result)`` makes of each
        ``(record_id, record)`` pair (``parse_records``: a bad record is rejected and counted,
        the others kept). The scaffold of every adapter's ``parse``."""
        result = self.new_result()
        parse_records(result, records, lambda record: parse_one(record, result), logger=self.logger)
        return result

    # --- the contract ------------------------------------------------------------------------
    async def fetch_offers(self) -> FetchResult:
        """Fetch and normalise every current offer. Raises :class:`ProviderError` when the
        provider could not be read at all; bad records are rejected and counted instead."""
        result = await self._fetch()
        result.drop_duplicates()
        self.normalise(result)
        if result.rejected:
            self.logger.warning(
                "provider records rejected",
                extra={
                    "provider": self.PROVIDER_NAME,
                    "rejected": result.rejected,
                    "reasons": dict(result.rejection_reasons),
                },
            )
        if result.unknown_gpu_names:
            self.logger.info(
                "provider GPU names not in the normaliser (kept under the provider's name)",
                extra={"provider": self.PROVIDER_NAME, "names": dict(result.unknown_gpu_names)},
            )
        return result

    def normalise(self, result: FetchResult) -> None:
        """The plausibility gate, nominal VRAM and regions, once per offer (module docstring).
        Implausible offers are rejected (counted under their reason code, logged)."""
        kept: list[ProviderOffer] = []
        for offer in result.offers:
            reported = (
                offer.raw_gpu_memory_gb
                if offer.raw_gpu_memory_gb is not None
                else float(offer.gpu_memory_gb)
            )
            verdict = plausibility.check(
                gpu_type=offer.gpu_type,
                gpu_count=offer.gpu_count,
                price_per_hour=offer.price_per_hour,
                vram_per_gpu_gb=reported if offer.gpu_model_known else None,
            )
            if verdict.reason is not None:
                result.reject(verdict.reason, offer.external_id, verdict.detail)
                self.logger.info(
                    "provider offer implausible; rejected",
                    extra={
                        "provider": self.PROVIDER_NAME,
                        "record": offer.external_id,
                        "reason": verdict.reason,
                        "detail": verdict.detail,
                    },
                )
                continue
            nominal = nominal_vram_gb(offer.gpu_type) if offer.gpu_model_known else None
            place = locate(self.PROVIDER_NAME, offer.region, offer.country)
            kept.append(
                replace(
                    offer,
                    gpu_memory_gb=nominal or offer.gpu_memory_gb,
                    raw_gpu_memory_gb=reported,
                    country=place.country,
                    macro_region=place.macro_region,
                )
            )
        result.offers = kept

    @abstractmethod
    async def _fetch(self) -> FetchResult:
        """Request the listing(s) and parse them (``parse_records`` for the per-record loop)."""

    async def get_offers(self, auth_token: str | None = None) -> list[ProviderOffer]:
        """The seed's signature: just the offers (rejections are logged by ``fetch_offers``)."""
        if auth_token:
            self.api_key = auth_token
        return (await self.fetch_offers()).offers

    @abstractmethod
    async def _probe_credentials(self, api_key: str) -> None:
        """Make the cheapest authenticated call; raise :class:`ProviderAuthError` if refused."""

    async def validate_credentials(self, credentials: Mapping[str, str]) -> bool:
        """True when the provider accepts ``credentials["api_key"]``, False when it refuses it.
        Network trouble raises :class:`ProviderUnavailable` (we could not tell)."""
        api_key = (credentials.get("api_key") or "").strip()
        if not api_key:
            return False
        try:
            await self._probe_credentials(api_key)
        except ProviderAuthError:
            return False
        return True

    @abstractmethod
    async def book_instance(self, offer_id: str, options: BookingOptions) -> BookingResult:
        """Rent the offer whose ``external_id`` is ``offer_id``. Raises :class:`ProviderError`."""


__all__ = [
    "AVAILABLE",
    "LIMITED",
    "UNAVAILABLE",
    "BaseProviderAdapter",
    "BookingOptions",
    "BookingResult",
    "FetchResult",
    "PriceBreakdown",
    "ProviderError",
    "ProviderOffer",
    "Rejection",
]

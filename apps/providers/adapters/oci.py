"""Oracle Cloud Infrastructure: the public **price list API**
(``GET https://apexapps.oracle.com/pls/apex/cetools/api/v1/products/?currencyCode=USD``), key-free.

``{"lastUpdated": …, "items": [{partNumber, displayName, metricName, serviceCategory,
currencyCodeLocalizations: [{currencyCode, prices: [{model: "PAY_AS_YOU_GO", value}]}]}]}``.
Units and rules:

* GPU compute is priced **per GPU-hour** (``metricName`` ``"GPU Per Hour"``); the OCPUs and RAM
  of a GPU shape are included in that price, the boot and block volumes are billed separately. The
  offer price is ``value × GPU count`` of the shape (gpuhunt computes OCI shape prices the same
  way).
* The price list names GPUs, not shapes: ``adapters/data/oci_gpu_shapes.csv`` maps each GPU price
  (matched by the GPU token of its ``displayName``, e.g. ``A100 … v2``) to the shapes that use it,
  with GPU count, VRAM per GPU, vCPUs (2 per OCPU) and RAM from Oracle's shape reference. GPU
  price items no shape uses are skipped and counted (``unmapped_gpu_price``).
* Oracle prices are the same in every region ("consistent global pricing") and the price list
  has no region: offers carry the region ``oci-global`` (no country or macro-region), and are
  ``limited`` — per-region capacity needs an OCI tenancy's limits API. No spot market is listed.
* Only ``PAY_AS_YOU_GO`` prices in USD are read; other models (commitments) are ignored.

Booking needs an OCI tenancy with API signing keys (not an API key), which GPUBROKER does not
hold: ``book_instance`` refuses with an explanation.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Mapping
from decimal import Decimal
from functools import lru_cache
from typing import Any

from .base import (
    LIMITED,
    BaseProviderAdapter,
    BookingOptions,
    BookingResult,
    FetchResult,
    PriceBreakdown,
    ProviderOffer,
    enumerate_records,
    envelope,
    resolve_gpu,
)
from .errors import ProviderAuthError, ProviderRequestError
from .instance_tables import DATA, InstanceGPUs, instance_table
from .registry import ProviderRegistry
from .units import RecordRejected, decimal_amount, money, require, text

PRODUCTS_PATH = "/pls/apex/cetools/api/v1/products/"
GLOBAL_REGION = "oci-global"
SHAPES_FILE = "oci_gpu_shapes.csv"
GPU_METRIC = re.compile(r"GPU\s+PER\s+HOUR", re.IGNORECASE)
SHAPE_PRICE = PriceBreakdown(includes=("gpu", "cpu", "ram"), excludes=("disk",))


@lru_cache(maxsize=1)
def price_matchers() -> tuple[tuple[re.Pattern[str], InstanceGPUs], ...]:
    """``(displayName pattern, shape)`` for every shape of the table."""
    shapes = instance_table(SHAPES_FILE, "shape")
    with (DATA / SHAPES_FILE).open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return tuple(
        (re.compile(r"(?<![A-Z0-9])" + row["price_match"], re.IGNORECASE), shapes[row["shape"]])
        for row in rows
    )


def pay_as_you_go_usd(item: Mapping[str, Any]) -> Decimal:
    localizations = require(item, "currencyCodeLocalizations")
    if not isinstance(localizations, list):
        raise RecordRejected("invalid:currencyCodeLocalizations", type(localizations).__name__)
    for localization in localizations:
        if not isinstance(localization, Mapping) or localization.get("currencyCode") != "USD":
            continue
        prices = localization.get("prices")
        if not isinstance(prices, list):
            raise RecordRejected("invalid:prices", type(prices).__name__)
        for price in prices:
            if isinstance(price, Mapping) and price.get("model") == "PAY_AS_YOU_GO":
                return decimal_amount(require(price, "value"), "value")
    raise RecordRejected("missing:PAY_AS_YOU_GO")


class OCIAdapter(BaseProviderAdapter):
    PROVIDER_NAME = "oci"
    DISPLAY_NAME = "Oracle Cloud Infrastructure"
    BASE_URL = "https://apexapps.oracle.com"
    REQUIRES_CREDENTIALS = False

    async def _fetch(self) -> FetchResult:
        payload = await self.http().request_json(
            "GET", PRODUCTS_PATH, params={"currencyCode": "USD"}
        )
        return self.parse(payload)

    def parse(self, payload: Any) -> FetchResult:
        items = envelope(payload, "items", provider=self.PROVIDER_NAME)
        return self.parse_each(enumerate_records(items, "partNumber"), self._parse_item)

    def _parse_item(self, item: Any, result: FetchResult) -> Iterator[ProviderOffer]:
        part = text(require(item, "partNumber"), "partNumber")
        metric = item.get("metricName")
        if not isinstance(metric, str) or not GPU_METRIC.search(metric):
            result.skip("not_gpu_compute")
            return
        name = text(require(item, "displayName"), "displayName")
        per_gpu = pay_as_you_go_usd(item)
        shapes = [shape for pattern, shape in price_matchers() if pattern.search(name)]
        if not shapes:
            result.skip("unmapped_gpu_price")
            self.logger.info(
                "OCI GPU price without a shape in the table",
                extra={"provider": "oci", "part": part, "display_name": name},
            )
            return
        for shape in shapes:
            count = int(shape.gpu_count)
            gpu_type, known = resolve_gpu(shape.gpu_name, float(shape.vram_gb))
            yield ProviderOffer(
                provider=self.PROVIDER_NAME,
                external_id=f"{shape.instance_type}:{part}",
                gpu_type=gpu_type,
                raw_gpu_name=shape.gpu_name,
                gpu_model_known=known,
                gpu_memory_gb=shape.vram_gb,
                gpu_count=count,
                price_per_hour=money(per_gpu * count, "value"),
                region=GLOBAL_REGION,
                availability=LIMITED,
                is_spot=False,
                is_datacenter=True,
                cpu_cores=shape.vcpus,
                ram_gb=shape.ram_gb,
                price_breakdown=SHAPE_PRICE,
            )

    async def _probe_credentials(self, api_key: str) -> None:
        raise ProviderAuthError(
            "Oracle's price list needs no key; OCI itself signs requests with tenancy API keys, "
            "which GPUBROKER does not store",
            provider=self.PROVIDER_NAME,
        )

    async def book_instance(self, offer_id: str, options: BookingOptions) -> BookingResult:
        raise ProviderRequestError(
            "booking OCI shapes needs an OCI tenancy with signed API requests; launch the shape "
            "named in the offer id from the OCI console",
            provider=self.PROVIDER_NAME,
        )


ProviderRegistry.register(OCIAdapter.PROVIDER_NAME, OCIAdapter)

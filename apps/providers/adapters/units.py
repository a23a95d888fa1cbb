"""Unit conversions and field readers shared by the adapters. Pure Python (no Django import).

Every reader raises :class:`RecordRejected` (with a short reason code) instead of guessing, so a
bad record is counted and logged by the adapter while the rest of the batch goes on.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from apps.math_core.algorithms.costs import MONEY_STEP

CENT = Decimal("0.01")
#: Above this an hourly price for one offer is not credible (largest 8-GPU nodes are ~$100/h).
MAX_OFFER_PRICE_PER_HOUR = Decimal("2000")

#: Nominal per-GPU memory sizes (GB) sold today; drivers report a little less (nvidia-smi MiB).
NOMINAL_VRAM_GB = (
    4, 6, 8, 10, 11, 12, 16, 20, 24, 32, 40, 45, 48, 64, 80, 94, 96, 128, 141, 180, 192, 256, 288,
)  # fmt: skip
VRAM_SNAP_TOLERANCE = 0.07


class RecordRejected(ValueError):
    """One record cannot become an offer. ``reason`` is a short code (``missing:price``)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}" if detail else reason)


def require(record: Mapping[str, Any], key: str) -> Any:
    if not isinstance(record, Mapping):
        raise RecordRejected("not_an_object", type(record).__name__)
    value = record.get(key)
    if value is None:
        raise RecordRejected(f"missing:{key}")
    return value


def _number(value: Any, field: str) -> float:
    if isinstance(value, bool) or value is None:
        raise RecordRejected(f"invalid:{field}", repr(value)[:40])
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError as exc:
            raise RecordRejected(f"invalid:{field}", repr(value)[:40]) from exc
    else:
        raise RecordRejected(f"invalid:{field}", type(value).__name__)
    if not math.isfinite(number):
        raise RecordRejected(f"invalid:{field}", repr(value)[:40])
    return number


def number(value: Any, field: str, *, minimum: float = 0.0) -> float:
    result = _number(value, field)
    if result < minimum:
        raise RecordRejected(f"out_of_range:{field}", repr(value)[:40])
    return result


def whole(value: Any, field: str, *, minimum: int = 0) -> int:
    """An integer count; integral floats (``24.0``) and numeric strings are accepted."""
    result = _number(value, field)
    if result != int(result):
        raise RecordRejected(f"invalid:{field}", f"not a whole number: {value!r}"[:60])
    if result < minimum:
        raise RecordRejected(f"out_of_range:{field}", repr(value)[:40])
    return int(result)


def text(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise RecordRejected(f"invalid:{field}", repr(value)[:40])
    return value.strip()


def decimal_amount(value: Any, field: str) -> Decimal:
    """A non-negative amount as an exact Decimal (floats go through ``str`` so 0.29 stays 0.29)."""
    if isinstance(value, bool) or value is None:
        raise RecordRejected(f"invalid:{field}", repr(value)[:40])
    try:
        if isinstance(value, Decimal):
            amount = value
        elif isinstance(value, int | float | str):
            amount = Decimal(str(value).strip())
        else:
            raise RecordRejected(f"invalid:{field}", type(value).__name__)
    except InvalidOperation as exc:
        raise RecordRejected(f"invalid:{field}", repr(value)[:40]) from exc
    if not amount.is_finite():
        raise RecordRejected(f"invalid:{field}", repr(value)[:40])
    if amount < 0:
        raise RecordRejected(f"out_of_range:{field}", repr(value)[:40])
    return amount


def money(amount: Decimal, field: str = "price") -> Decimal:
    """USD per hour for a whole offer, 4 decimal places; zero or absurd prices are rejected."""
    quantized = amount.quantize(MONEY_STEP, rounding=ROUND_HALF_UP)
    if quantized <= 0:
        raise RecordRejected(f"out_of_range:{field}", f"{amount} is not a positive price")
    if quantized > MAX_OFFER_PRICE_PER_HOUR:
        raise RecordRejected(f"out_of_range:{field}", f"{amount} USD/h is not credible")
    return quantized


def cents_to_dollars(value: Any, field: str) -> Decimal:
    return decimal_amount(value, field) * CENT


def snap_vram_gb(gib: float) -> int:
    """Snap a driver-reported size (GiB) to the nominal size within 7 % (e.g. 79.6 → 80,
    23.99 → 24); otherwise round to the nearest whole GB."""
    if gib <= 0:
        return 0
    best = min(NOMINAL_VRAM_GB, key=lambda nominal: abs(gib - nominal))
    if abs(gib - best) / best <= VRAM_SNAP_TOLERANCE:
        return best
    return round(gib)


def gib_to_gb(gib: float) -> int:
    """Providers write GiB where buyers read GB; sizes stay whole (1 GiB is reported as 1)."""
    return round(gib)


# --- countries ---------------------------------------------------------------------------------

_COUNTRY_NAMES = {
    "UNITED STATES": "US", "UNITED STATES OF AMERICA": "US", "USA": "US", "U.S.": "US",
    "CANADA": "CA", "MEXICO": "MX", "BRAZIL": "BR", "CHILE": "CL", "ARGENTINA": "AR",
    "COLOMBIA": "CO", "SWEDEN": "SE", "NORWAY": "NO", "FINLAND": "FI", "DENMARK": "DK",
    "ICELAND": "IS", "ROMANIA": "RO", "GERMANY": "DE", "FRANCE": "FR", "NETHERLANDS": "NL",
    "THE NETHERLANDS": "NL", "BELGIUM": "BE", "LUXEMBOURG": "LU", "SWITZERLAND": "CH",
    "AUSTRIA": "AT", "ITALY": "IT", "SPAIN": "ES", "PORTUGAL": "PT", "IRELAND": "IE",
    "UNITED KINGDOM": "GB", "UK": "GB", "GREAT BRITAIN": "GB", "ENGLAND": "GB", "POLAND": "PL",
    "CZECHIA": "CZ", "CZECH REPUBLIC": "CZ", "SLOVAKIA": "SK", "SLOVENIA": "SI", "CROATIA": "HR",
    "SERBIA": "RS", "HUNGARY": "HU", "BULGARIA": "BG", "GREECE": "GR", "ESTONIA": "EE",
    "LATVIA": "LV", "LITHUANIA": "LT", "UKRAINE": "UA", "TURKEY": "TR", "ISRAEL": "IL",
    "UNITED ARAB EMIRATES": "AE", "UAE": "AE", "SAUDI ARABIA": "SA", "INDIA": "IN",
    "SINGAPORE": "SG", "JAPAN": "JP", "SOUTH KOREA": "KR", "KOREA": "KR", "TAIWAN": "TW",
    "HONG KONG": "HK", "CHINA": "CN", "VIETNAM": "VN", "THAILAND": "TH", "MALAYSIA": "MY",
    "INDONESIA": "ID", "PHILIPPINES": "PH", "AUSTRALIA": "AU", "NEW ZEALAND": "NZ",
    "SOUTH AFRICA": "ZA", "KAZAKHSTAN": "KZ", "RUSSIA": "RU",
}  # fmt: skip


def country_code(location: Any) -> str:
    """ISO 3166-1 alpha-2 from the ways providers write places: ``"Texas, US"``,
    ``"CA, Montreal"``, ``"United States"``, ``"Virginia, USA"``. ``""`` when unknown."""
    if not isinstance(location, str):
        return ""
    cleaned = location.strip()
    if not cleaned:
        return ""
    whole_name = _COUNTRY_NAMES.get(cleaned.upper())
    if whole_name:
        return whole_name
    parts = [part.strip() for part in cleaned.split(",") if part.strip()]
    for part in (parts[-1], parts[0]) if parts else ():
        upper = part.upper()
        if upper in _COUNTRY_NAMES:
            return _COUNTRY_NAMES[upper]
        if len(upper) == 2 and upper.isalpha() and upper.isascii():
            return "GB" if upper == "UK" else upper
    return ""

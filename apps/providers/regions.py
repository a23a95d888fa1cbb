"""Regions: a provider's raw region → ISO 3166-1 alpha-2 country → macro-region.

Every offer keeps the provider's own region string (``"CA-MTL-1"``, ``"Sweden, SE"``,
``"Helsinki, Uusimaa"``, ``"ewr"``, ``"westeurope"``) and gains a country where one can be known
and a macro-region, so a buyer can ask for "Europe" whatever the provider's format.

Where the country comes from, first match wins (:func:`locate`):

1. the provider's own country field, when it is a valid ISO alpha-2 code (the adapter passes it);
2. ``data/provider_regions.csv``: cited region ids per provider (Vultr ``ewr``, Azure
   ``westeurope``, DigitalOcean ``ams3``, Lambda ``europe-central-1``, …). A row may give a
   macro-region without a country (JarvisLabs ``europe-01``);
3. ISO-prefixed region ids of providers that use them (RunPod ``CA-MTL-1``, ``EU-RO-1``,
   ``EUR-IS-1``; Cudo ``se-smedjebacken-1``): the first ISO code among the id's parts;
4. place names: ``"Texas, US"`` / ``"United States"`` (country names and codes) and
   subdivisions or cities from ``data/place_countries.csv`` (``"Helsinki, Uusimaa"`` → FI).

Macro-regions (:data:`MACRO_REGIONS`) follow the UN M49 geoscheme
(``data/country_macro_regions.csv``), grouped the way GPU buyers ask: ``north-america``
(Northern America, Central America and the Caribbean), ``south-america``, ``europe`` (M49
Europe plus Cyprus and the South Caucasus), ``middle-east`` (M49 Western Asia otherwise, plus
Iran), ``africa``, ``asia-pacific`` (Central, Eastern, South-eastern and Southern Asia) and
``oceania``. A country the table does not list has no macro-region.

Pure Python (no Django import): the adapters' normalisation step calls it.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
MACRO_REGIONS = (
    "north-america",
    "south-america",
    "europe",
    "middle-east",
    "africa",
    "asia-pacific",
    "oceania",
)
#: Providers whose region ids start with (or contain) ISO country codes.
ISO_PREFIXED = frozenset({"runpod", "cudo"})
_PART = re.compile(r"[A-Za-z]+")


@dataclass(frozen=True, slots=True)
class RegionInfo:
    region: str
    country: str
    macro_region: str


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@lru_cache(maxsize=1)
def _country_macros() -> dict[str, str]:
    return {row["country"]: row["macro_region"] for row in _rows("country_macro_regions.csv")}


@lru_cache(maxsize=1)
def _provider_regions() -> dict[tuple[str, str], tuple[str, str]]:
    return {
        (row["provider"], row["region"].lower()): (row["country"], row["macro_region"])
        for row in _rows("provider_regions.csv")
    }


@lru_cache(maxsize=1)
def _places() -> dict[str, str]:
    return {row["place"].upper(): row["country"] for row in _rows("place_countries.csv")}


def is_country(code: str | None) -> bool:
    """True for an ISO 3166-1 alpha-2 code the table knows (upper case)."""
    return bool(code) and code in _country_macros()


def macro_region_of(country: str | None) -> str:
    """The macro-region of an ISO alpha-2 code (``""`` when unknown)."""
    return _country_macros().get((country or "").upper(), "")


@lru_cache(maxsize=16)
def countries_in(macro_region: str) -> frozenset[str]:
    """Every ISO alpha-2 code of a macro-region."""
    return frozenset(c for c, m in _country_macros().items() if m == macro_region)


def _iso_prefixed(region: str) -> str:
    for part in _PART.findall(region):
        upper = "GB" if part.upper() == "UK" else part.upper()
        if len(upper) == 2 and is_country(upper):
            return upper
    return ""


def _from_place(region: str) -> str:
    # Imported here: the adapters package imports this module while it initialises.
    from .adapters.units import country_code

    found = country_code(region)
    if is_country(found):
        return found
    places = _places()
    parts = [p.strip().upper() for p in region.split(",") if p.strip()]
    for part in reversed(parts):
        if part in places:
            return places[part]
    return ""


@lru_cache(maxsize=4096)
def locate(provider: str, region: str, country: str = "") -> RegionInfo:
    """Country and macro-region of one provider region (see the module docstring)."""
    hint = (country or "").strip().upper()
    code, macro = "", ""
    if is_country(hint):
        code = hint
    else:
        row = _provider_regions().get((provider, region.strip().lower()))
        if row is not None:
            code, macro = row
        elif provider in ISO_PREFIXED:
            code = _iso_prefixed(region)
        if not code and not macro:
            code = _from_place(region)
    return RegionInfo(region=region, country=code, macro_region=macro or macro_region_of(code))

"""Regions: the provider's raw region → ISO country → macro-region (``apps.providers.regions``)."""

from __future__ import annotations

import csv

import pytest

from apps.providers.regions import (
    DATA,
    MACRO_REGIONS,
    countries_in,
    is_country,
    locate,
    macro_region_of,
)


@pytest.mark.parametrize(
    ("provider", "region", "hint", "country", "macro"),
    [
        # the formats from the issue
        ("runpod", "CA-MTL-1", "", "CA", "north-america"),
        ("vastai", "Sweden, SE", "", "SE", "europe"),
        ("vastai", "Helsinki, Uusimaa", "", "FI", "europe"),
        ("vultr", "ewr", "", "US", "north-america"),
        # ISO-prefixed ids, continent prefixes skipped
        ("runpod", "EU-RO-1", "", "RO", "europe"),
        ("runpod", "EUR-IS-1", "", "IS", "europe"),
        ("runpod", "OC-AU-1", "", "AU", "oceania"),
        ("cudo", "gb-bournemouth-1", "", "GB", "europe"),
        ("cudo", "uk-london-1", "", "GB", "europe"),
        # cited provider tables
        ("azure", "westeurope", "", "NL", "europe"),
        ("azure", "uaenorth", "", "AE", "middle-east"),
        ("azure", "southafricanorth", "", "ZA", "africa"),
        ("azure", "brazilsouth", "", "BR", "south-america"),
        ("digitalocean", "ams3", "", "NL", "europe"),
        ("lambda", "asia-northeast-1", "", "JP", "asia-pacific"),
        ("jarvislabs", "europe-01", "", "", "europe"),  # macro-region known, country not
        # place names
        ("tensordock", "Austin, Texas", "", "US", "north-america"),
        ("shadeform", "CA, Montreal", "", "CA", "north-america"),
        ("vastai", "Quebec, CA", "", "CA", "north-america"),
        # the provider's own country code wins
        ("vultr", "ewr", "de", "DE", "europe"),
        # unknown stays unknown
        ("vastai", "unknown", "", "", ""),
        ("azure", "marsnorth", "", "", ""),
        ("vastai", "", "XX", "", ""),
    ],
)
def test_locate(provider, region, hint, country, macro):
    found = locate(provider, region, hint)
    assert (found.region, found.country, found.macro_region) == (region, country, macro)


def test_macro_regions_of_countries_follow_m49_groups():
    assert macro_region_of("US") == macro_region_of("MX") == "north-america"
    assert macro_region_of("BR") == "south-america"
    assert macro_region_of("cy") == "europe"  # EU member, M49 Western Asia
    assert macro_region_of("IL") == macro_region_of("IR") == "middle-east"
    assert macro_region_of("EG") == "africa"
    assert macro_region_of("IN") == macro_region_of("JP") == "asia-pacific"
    assert macro_region_of("NZ") == "oceania"
    assert macro_region_of("") == macro_region_of("ZZ") == ""
    assert {"FI", "DE", "GB", "NO"} <= countries_in("europe")
    assert "US" not in countries_in("europe")


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_country_table_covers_iso_codes_once_with_a_source():
    rows = _rows("country_macro_regions.csv")
    codes = [row["country"] for row in rows]
    assert len(codes) == len(set(codes)) == 248  # every ISO 3166-1 code but Antarctica
    assert all(len(c) == 2 and c.isupper() for c in codes)
    assert {row["macro_region"] for row in rows} == set(MACRO_REGIONS)
    assert all(row["source"].strip() for row in rows)


def test_provider_region_table_is_consistent():
    rows = _rows("provider_regions.csv")
    keys = [(row["provider"], row["region"]) for row in rows]
    assert len(keys) == len(set(keys))
    for row in rows:
        assert row["source"].strip(), row
        assert row["country"] == "" or is_country(row["country"]), row
        assert row["macro_region"] in ("", *MACRO_REGIONS), row
    for row in _rows("place_countries.csv"):
        assert is_country(row["country"]) and row["source"].strip(), row

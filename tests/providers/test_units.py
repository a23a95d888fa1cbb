"""Unit conversions and field readers shared by the adapters."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.providers.adapters.units import (
    NOMINAL_VRAM_GB,
    RecordRejected,
    cents_to_dollars,
    country_code,
    decimal_amount,
    money,
    snap_vram_gb,
    whole,
)


@pytest.mark.parametrize(
    ("mib", "gb"),
    [
        (24564, 24),  # RTX 4090 as nvidia-smi reports it
        (24576, 24),
        (81559, 80),  # H100 80GB HBM3
        (81920, 80),
        (40960, 40),
        (40536, 40),  # A100 40GB driver value
        (95830, 94),  # H100 NVL: nearest nominal wins over 96
        (143771, 141),  # H200
        (196592, 192),  # MI300X
        (16376, 16),
        (11264, 11),  # RTX 2080 Ti
        (23034, 24),  # L4 (22.5 GiB usable)
        (1000, 1),  # nothing nominal within 7 %: rounded
        (0, 0),
    ],
)
def test_vram_snaps_to_the_nominal_size(mib, gb):
    assert snap_vram_gb(mib / 1024) == gb


@settings(max_examples=50, deadline=None)
@given(st.sampled_from(NOMINAL_VRAM_GB), st.floats(min_value=-0.01, max_value=0.0))
def test_driver_sizes_slightly_below_nominal_snap_back(nominal, shortfall):
    # drivers report up to ~1 % less than the nominal size (nearest nominal wins beyond that)
    assert snap_vram_gb(nominal * (1 + shortfall)) == nominal


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Texas, US", "US"),
        ("Quebec, CA", "CA"),
        ("CA, Montreal", "CA"),
        ("NO, Oslo", "NO"),
        ("United States", "US"),
        ("Virginia, USA", "US"),
        ("Finland", "FI"),
        ("Tokyo, Japan", "JP"),
        ("Washington DC, USA", "US"),
        ("Sweden, SE", "SE"),
        ("London, UK", "GB"),
        ("Atlantis", ""),
        ("", ""),
        (None, ""),
        (42, ""),
    ],
)
def test_country_codes(text, code):
    assert country_code(text) == code


def test_money_is_exact_decimal_with_four_places():
    assert money(decimal_amount(0.29, "p") * 3) == Decimal("0.8700")  # no float drift
    assert cents_to_dollars(329, "c") == Decimal("3.29")
    assert money(cents_to_dollars("1432", "c")) == Decimal("14.3200")
    assert money(Decimal("0.00005")) == Decimal("0.0001")  # half up
    with pytest.raises(RecordRejected, match="out_of_range:price"):
        money(Decimal("0"))
    with pytest.raises(RecordRejected, match="out_of_range"):
        money(Decimal("5000"))


@pytest.mark.parametrize("bad", [None, True, "NaN", "inf", "12,5", [], {}, float("nan")])
def test_decimal_amount_rejects_what_is_not_a_number(bad):
    with pytest.raises(RecordRejected) as caught:
        decimal_amount(bad, "price")
    assert caught.value.reason == "invalid:price"


def test_whole_numbers():
    assert whole(24.0, "n") == 24
    assert whole("8", "n") == 8
    for bad, reason in [(1.5, "invalid:n"), (-1, "out_of_range:n"), ("two", "invalid:n")]:
        with pytest.raises(RecordRejected) as caught:
            whole(bad, "n")
        assert caught.value.reason == reason

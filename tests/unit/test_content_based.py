"""Content-based matching against hand calculations."""

import math

import numpy as np
import pytest

from apps.math_core.algorithms.content_based import (
    OVERPROVISION_PENALTY,
    OfferFeatures,
    RequirementProfile,
    match,
)
from apps.math_core.algorithms.errors import InvalidInput


def features(vram, price, *, region=None, spot=None, compute=None):
    m = len(vram)
    return OfferFeatures(
        vram_gb=np.array(vram, dtype=float),
        compute_tflops=np.array(compute or [100.0] * m),
        bandwidth_gbps=np.full(m, 2000.0),
        price_per_hour=np.array(price, dtype=float),
        reliability=np.full(m, 0.99),
        region_match=np.array(region or [True] * m),
        is_spot=np.array(spot or [False] * m),
    )


def test_similarity_by_hand():
    # Profile: at least 80 GB (importance 3), at most $2/h (importance 2) -> weights 0.6 / 0.4.
    # A: exactly on target                -> d = (0, 0)              -> similarity 1
    # B: 40 GB, $4/h                      -> d = (ln 2, ln 2)        -> exp(-(0.6+0.4) ln²2)
    # C: 160 GB (over-provisioned), $1/h  -> d = (0.25 ln 2, 0)      -> exp(-0.6 (0.25 ln 2)²)
    profile = RequirementProfile(vram_gb=80, max_price_per_hour=2.0)
    result = match(features([80, 40, 160], [2.0, 4.0, 1.0]), profile)
    ln2 = math.log(2)
    assert result.features == ("vram", "price")
    assert result.similarity == pytest.approx(
        [1.0, math.exp(-(ln2**2)), math.exp(-0.6 * (OVERPROVISION_PENALTY * ln2) ** 2)]
    )
    assert result.distances[1] == pytest.approx([ln2, ln2])
    assert result.penalties[1] == pytest.approx([0.6 * ln2**2, 0.4 * ln2**2])


def test_region_and_spot_are_categorical():
    profile = RequirementProfile(regions_preferred=True, allow_spot=False)
    result = match(
        features([80] * 3, [1.0] * 3, region=[True, False, True], spot=[False, False, True]),
        profile,
    )
    # Equal default importance (1, 1) -> weights 0.5 each; a miss costs 0.5 x 1².
    assert result.similarity == pytest.approx([1.0, math.exp(-0.5), math.exp(-0.5)])


def test_shortfall_is_capped_and_zero_is_safe():
    profile = RequirementProfile(compute_tflops=100)
    result = match(features([1], [1], compute=[0.0]), profile)
    assert result.distances[0, 0] == 3.0  # capped, not infinite
    assert np.isfinite(result.similarity).all()


def test_an_unconstrained_profile_matches_everything():
    result = match(features([8, 80], [0.1, 9.0]), RequirementProfile())
    assert result.similarity.tolist() == [1.0, 1.0]
    assert result.features == ()


def test_bad_targets_and_importances_are_rejected():
    with pytest.raises(InvalidInput):
        match(features([8], [1]), RequirementProfile(vram_gb=-1))
    with pytest.raises(InvalidInput) as excinfo:
        match(features([8], [1]), RequirementProfile(vram_gb=8, importance={"vram": 0.0}))
    assert excinfo.value.field == "importance"

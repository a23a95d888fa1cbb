"""The ensemble blend and its explanations, by hand."""

import numpy as np
import pytest

from apps.math_core.algorithms.content_based import OfferFeatures, RequirementProfile, match
from apps.math_core.algorithms.ensemble import (
    blend,
    content_drivers,
    min_max,
    topsis_drivers,
    validate_weights,
)
from apps.math_core.algorithms.errors import InvalidInput
from apps.math_core.algorithms.topsis import topsis


def test_blend_by_hand_redistributes_a_component_without_signal():
    # TOPSIS [0.2, 0.6, 1.0] -> [0, 0.5, 1]; content [1.0, 0.5, 0.75] -> [1, 0, 0.5];
    # collaborative is constant (no interactions yet): its 0.2 goes to the others pro rata,
    # TOPSIS 0.5/0.8 = 0.625, content 0.3/0.8 = 0.375.
    # Scores: [0.375, 0.3125, 0.625 + 0.1875 = 0.8125].
    result = blend(
        {
            "topsis": np.array([0.2, 0.6, 1.0]),
            "collaborative": np.zeros(3),
            "content": np.array([1.0, 0.5, 0.75]),
        },
        {"topsis": 0.5, "collaborative": 0.2, "content": 0.3},
    )
    assert result.no_signal == ("collaborative",)
    assert result.effective_weights == pytest.approx(
        {"topsis": 0.625, "collaborative": 0.0, "content": 0.375}
    )
    assert result.scores == pytest.approx([0.375, 0.3125, 0.8125])
    assert result.ranking.tolist() == [2, 0, 1]
    assert result.ranks.tolist() == [2, 3, 1]


def test_weights_are_per_request_and_normalised():
    components = {
        "topsis": np.array([0.0, 1.0]),
        "collaborative": np.array([1.0, 0.0]),
        "content": np.array([0.5, 0.5]),
    }
    topsis_only = blend(components, {"topsis": 1, "collaborative": 0, "content": 0})
    cf_heavy = blend(components, {"topsis": 1, "collaborative": 3, "content": 0})
    assert topsis_only.ranking.tolist() == [1, 0]
    assert cf_heavy.ranking.tolist() == [0, 1]
    assert cf_heavy.scores == pytest.approx([0.75, 0.25])
    assert validate_weights({"topsis": 2}) == pytest.approx(
        {"topsis": 2 / 2.5, "collaborative": 0.2 / 2.5, "content": 0.3 / 2.5}
    )


def test_weights_near_the_float_limit_are_relative_not_overflowed():
    # found probing the REST facade: 1e308 twice summed to infinity and every weight came out 0
    assert validate_weights({"topsis": 1e308, "collaborative": 1e308, "content": 0}) == {
        "topsis": 0.5,
        "collaborative": 0.5,
        "content": 0.0,
    }
    assert validate_weights({"topsis": 5e-324, "collaborative": 0, "content": 0})["topsis"] == 1


def test_nothing_discriminates_gives_equal_scores_in_input_order():
    result = blend({"topsis": np.ones(3), "content": np.ones(3)}, {})
    assert result.scores.tolist() == [0.0, 0.0, 0.0]
    assert result.ranking.tolist() == [0, 1, 2]
    assert set(result.no_signal) == {"topsis", "collaborative", "content"}


@pytest.mark.parametrize(
    "weights",
    [
        {"topsis": -1},
        {"topsis": float("nan")},
        {"popularity": 1},
        dict.fromkeys(["topsis", "collaborative", "content"], 0),
    ],
)
def test_bad_weights_are_rejected(weights):
    with pytest.raises(InvalidInput) as excinfo:
        validate_weights(weights)
    assert excinfo.value.field == "weights"


def test_min_max():
    scaled = min_max(np.array([2.0, 4.0, 3.0]))
    assert scaled is not None and scaled.tolist() == [0.0, 1.0, 0.5]
    assert min_max(np.array([7.0, 7.0])) is None


def test_deciding_criteria_name_strengths_and_weaknesses():
    # Offer 0 is cheapest (cost) but slowest; offer 1 is fastest but dearest.
    result = topsis([[1.0, 10.0], [3.0, 40.0]], [0.7, 0.3], ["cost", "benefit"])
    drivers = topsis_drivers(result, ("price", "speed"), np.array([0, 1]))
    strengths, weaknesses = drivers[0]
    assert [d.criterion for d in strengths] == ["price"]
    assert strengths[0].position == 1.0
    assert [d.criterion for d in weaknesses] == ["speed"]
    strengths, weaknesses = drivers[1]
    assert [d.criterion for d in strengths] == ["speed"]
    assert [d.criterion for d in weaknesses] == ["price"]


def test_content_drivers_list_met_and_missed_features():
    offers = OfferFeatures(
        vram_gb=np.array([80.0, 24.0]),
        compute_tflops=np.array([900.0, 160.0]),
        bandwidth_gbps=np.array([3000.0, 1000.0]),
        price_per_hour=np.array([3.0, 0.5]),
        reliability=np.array([0.99, 0.9]),
        region_match=np.array([True, True]),
        is_spot=np.array([False, False]),
    )
    scores = match(offers, RequirementProfile(vram_gb=80, max_price_per_hour=1.0))
    (met0, missed0, over0), (met1, missed1, over1) = content_drivers(scores, np.array([0, 1]))
    assert met0 == ["vram"] and [d.criterion for d in missed0] == ["price"] and over0 == []
    assert met1 == ["price"] and [d.criterion for d in missed1] == ["vram"] and over1 == []
    roomy = match(offers, RequirementProfile(vram_gb=40))
    (met, missed, over), _ = content_drivers(roomy, np.array([0, 1]))
    assert met == [] and missed == [] and [d.criterion for d in over] == ["vram"]

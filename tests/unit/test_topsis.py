"""TOPSIS against a published worked example and hand calculations, plus its defined behaviour
for degenerate and bad input."""

import numpy as np
import pytest

from apps.math_core.algorithms.errors import InvalidInput
from apps.math_core.algorithms.topsis import rank_scores, relative_position, topsis

# Hwang, C.-L. & Yoon, K. (1981). Multiple Attribute Decision Making: Methods and Applications.
# Lecture Notes in Economics and Mathematical Systems 186, Springer, pp. 133-134 (the fighter
# aircraft example; doi:10.1007/978-3-642-48318-9). Four aircraft on six criteria: maximum speed
# (Mach), ferry range (NM), maximum payload (lb), acquisition cost ($10^6, the one cost
# criterion), reliability and manoeuvrability (qualitative ratings on a 1-9 scale).
AIRCRAFT = [
    [2.0, 1500, 20000, 5.5, 5, 9],
    [2.5, 2700, 18000, 6.5, 3, 5],
    [1.8, 2000, 21000, 4.5, 7, 7],
    [2.2, 1800, 20000, 5.0, 5, 5],
]
AIRCRAFT_WEIGHTS = [0.2, 0.1, 0.1, 0.1, 0.2, 0.3]
AIRCRAFT_TYPES = ["benefit", "benefit", "benefit", "cost", "benefit", "benefit"]
# Printed results (the book rounds its intermediate tables to four decimals, hence the
# tolerances below): S* (distance to ideal), S- (to anti-ideal), C* (relative closeness).
PRINTED_S_IDEAL = [0.0545, 0.1197, 0.0580, 0.1009]
PRINTED_S_ANTI = [0.0983, 0.0439, 0.0920, 0.0458]
PRINTED_CLOSENESS = [0.643, 0.268, 0.613, 0.312]
PRINTED_IDEAL = [0.1168, 0.0659, 0.0531, 0.0414, 0.1347, 0.2012]
PRINTED_ANTI_IDEAL = [0.0841, 0.0366, 0.0455, 0.0598, 0.0577, 0.1118]


def test_hwang_yoon_fighter_aircraft_example():
    result = topsis(AIRCRAFT, AIRCRAFT_WEIGHTS, AIRCRAFT_TYPES)
    # The book computes C* from its rounded S values (A3: 0.0920 / (0.0580 + 0.0920) = 0.6133,
    # printed 0.613; unrounded 0.61354), so C* agrees to within one unit of the third decimal.
    printed_from_rounded = np.divide(PRINTED_S_ANTI, np.add(PRINTED_S_IDEAL, PRINTED_S_ANTI))
    assert printed_from_rounded == pytest.approx(PRINTED_CLOSENESS, abs=5e-4)
    assert result.closeness == pytest.approx(PRINTED_CLOSENESS, abs=1e-3)
    assert result.closeness == pytest.approx([0.64327, 0.26839, 0.61354, 0.31229], abs=1e-5)
    assert result.distance_to_ideal == pytest.approx(PRINTED_S_IDEAL, abs=2e-4)
    assert result.distance_to_anti_ideal == pytest.approx(PRINTED_S_ANTI, abs=2e-4)
    assert result.ideal == pytest.approx(PRINTED_IDEAL, abs=2e-4)
    assert result.anti_ideal == pytest.approx(PRINTED_ANTI_IDEAL, abs=2e-4)
    # A1 > A3 > A4 > A2, as printed.
    assert result.ranking.tolist() == [0, 2, 3, 1]
    assert result.ranks.tolist() == [1, 4, 2, 3]


def test_vector_normalisation_by_hand():
    # Column 1 (benefit): [3, 4] / 5 = [0.6, 0.8]; column 2 (cost): [1, 1] / sqrt(2).
    # Weights [3, 1] normalise to [0.75, 0.25]; v = [[0.45, 0.1768], [0.60, 0.1768]].
    # The constant cost column does not discriminate: ideal (0.60, 0.1768), anti (0.45, 0.1768);
    # S+ = [0.15, 0], S- = [0, 0.15]; C = [0, 1].
    result = topsis([[3, 1], [4, 1]], [3, 1], ["benefit", "cost"])
    assert result.weights.tolist() == [0.75, 0.25]
    assert result.weighted[:, 0] == pytest.approx([0.45, 0.60])
    assert result.weighted[:, 1] == pytest.approx([0.25 / np.sqrt(2)] * 2)
    assert result.distance_to_ideal == pytest.approx([0.15, 0.0])
    assert result.closeness.tolist() == [0.0, 1.0]


def test_minmax_normalisation_by_hand():
    # Price (cost) [10, 20, 30] -> [0, 0.5, 1]; speed (benefit) [1, 3, 2] -> [0, 1, 0.5].
    # Equal weights 0.5: v = [[0, 0], [0.25, 0.5], [0.5, 0.25]].
    # Ideal = (min price 0, max speed 0.5); anti = (0.5, 0).
    # Row 0: S+ = sqrt(0 + 0.25) = 0.5, S- = sqrt(0.25 + 0) = 0.5 -> C = 0.5
    # Row 1: S+ = 0.25, S- = sqrt(0.0625 + 0.25) = 0.5590 -> C = 0.5590 / 0.8090 = 0.6910
    # Row 2: S+ = sqrt(0.25 + 0.0625) = 0.5590, S- = 0.25 -> C = 0.3090
    result = topsis(
        [[10, 1], [20, 3], [30, 2]], [1, 1], ["cost", "benefit"], normalization="minmax"
    )
    assert result.closeness == pytest.approx([0.5, 0.690983, 0.309017], abs=1e-6)
    assert result.ranking.tolist() == [1, 0, 2]


def test_weights_are_normalised():
    once = topsis(AIRCRAFT, AIRCRAFT_WEIGHTS, AIRCRAFT_TYPES)
    scaled = topsis(AIRCRAFT, [w * 17 for w in AIRCRAFT_WEIGHTS], AIRCRAFT_TYPES)
    assert scaled.closeness == pytest.approx(once.closeness)
    assert scaled.weights.sum() == pytest.approx(1.0)


def test_weights_near_the_float_limit_are_relative_not_overflowed():
    # 1e308 + 1e308 overflows a float: the weights are still a finite 1:1 (was a 422)
    huge = topsis(AIRCRAFT, [1e308] * len(AIRCRAFT_WEIGHTS), AIRCRAFT_TYPES)
    equal = topsis(AIRCRAFT, [1] * len(AIRCRAFT_WEIGHTS), AIRCRAFT_TYPES)
    assert huge.weights.tolist() == pytest.approx(equal.weights.tolist())
    assert huge.closeness == pytest.approx(equal.closeness)
    tiny = topsis(AIRCRAFT, [5e-324, 1e-323, 5e-324, 5e-324, 5e-324, 5e-324], AIRCRAFT_TYPES)
    assert tiny.weights.tolist() == pytest.approx([1 / 7, 2 / 7, 1 / 7, 1 / 7, 1 / 7, 1 / 7])


def test_all_alternatives_identical_are_neutral_and_tied_in_input_order():
    result = topsis([[1, 2, 3]] * 4, [1, 1, 1], ["benefit", "cost", "benefit"])
    assert result.closeness.tolist() == [0.5] * 4
    assert result.ranks.tolist() == [1, 1, 1, 1]
    assert result.ranking.tolist() == [0, 1, 2, 3]


@pytest.mark.parametrize("normalization", ["vector", "minmax"])
def test_single_alternative_is_neutral(normalization):
    result = topsis([[5, 7]], [1, 2], ["benefit", "cost"], normalization=normalization)
    assert result.closeness.tolist() == [0.5]
    assert result.ranks.tolist() == [1]


@pytest.mark.parametrize("normalization", ["vector", "minmax"])
def test_constant_and_zero_columns_do_not_change_the_result(normalization):
    base = topsis(
        [[1, 9], [2, 5], [3, 7]], [1, 1], ["benefit", "cost"], normalization=normalization
    )
    padded = topsis(
        [[1, 9, 4, 0], [2, 5, 4, 0], [3, 7, 4, 0]],
        [1, 1, 5, 5],
        ["benefit", "cost", "benefit", "cost"],
        normalization=normalization,
    )
    assert padded.ranking.tolist() == base.ranking.tolist()
    assert padded.closeness == pytest.approx(base.closeness)
    assert np.isfinite(padded.closeness).all()


def test_ties_share_the_best_rank_and_keep_input_order():
    ranking, ranks = rank_scores(np.array([0.2, 0.9, 0.5, 0.9, 0.5 + 1e-12, 0.1]))
    assert ranking.tolist() == [1, 3, 2, 4, 0, 5]
    assert ranks.tolist() == [5, 1, 3, 1, 3, 6]


def test_relative_position_is_one_at_the_ideal_and_zero_at_the_anti_ideal():
    result = topsis([[1, 10], [3, 30]], [1, 1], ["benefit", "cost"])
    position = relative_position(result)
    assert position.tolist() == [[0.0, 1.0], [1.0, 0.0]]


@pytest.mark.parametrize(
    ("matrix", "weights", "types", "field"),
    [
        ([[1, 2]], [1], ["benefit", "cost"], "weights"),
        ([[1, 2]], [1, 0], ["benefit", "cost"], "weights"),
        ([[1, 2]], [1, -1], ["benefit", "cost"], "weights"),
        ([[1, 2]], [1, float("nan")], ["benefit", "cost"], "weights"),
        ([[1, 2]], [1, 1], ["benefit"], "criteria_types"),
        ([[1, 2]], [1, 1], ["benefit", "price"], "criteria_types"),
        ([[1, float("nan")]], [1, 1], ["benefit", "cost"], "matrix"),
        ([[1, float("inf")]], [1, 1], ["benefit", "cost"], "matrix"),
        ([[1, -2]], [1, 1], ["benefit", "cost"], "matrix"),
        ([], [], [], "matrix"),
        ([[]], [], [], "matrix"),
        ([[1, 2], [3]], [1, 1], ["benefit", "cost"], "matrix"),
        ([[1, "x"]], [1, 1], ["benefit", "cost"], "matrix"),
        ([1, 2], [1, 1], ["benefit", "cost"], "matrix"),
    ],
)
def test_bad_input_names_the_field(matrix, weights, types, field):
    with pytest.raises(InvalidInput) as excinfo:
        topsis(matrix, weights, types)
    assert excinfo.value.field == field


def test_normalization_and_size_limits_are_checked():
    with pytest.raises(InvalidInput) as excinfo:
        topsis([[1]], [1], ["benefit"], normalization="zscore")
    assert excinfo.value.field == "normalization"
    with pytest.raises(InvalidInput, match="at most 2 alternatives"):
        topsis([[1], [2], [3]], [1], ["benefit"], max_alternatives=2)


@pytest.mark.parametrize("distinct", [3, 1000])  # few tie groups, and more than the segment limit
def test_ties_are_listed_in_input_order_at_any_scale(distinct):
    rng = np.random.default_rng(distinct)
    scores = rng.integers(0, distinct, 5000) / distinct
    ranking, ranks = rank_scores(scores)
    expected = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    assert ranking.tolist() == expected
    # Competition ranks: 1 + the number of strictly better scores.
    better = np.array([(scores > s).sum() for s in scores[:50]])
    assert ranks[:50].tolist() == (better + 1).tolist()


@pytest.mark.parametrize("normalization", ["vector", "minmax"])
def test_extreme_magnitudes_stay_finite_and_exact(normalization):
    tiny = topsis(
        [[3e-300, 1], [4e-300, 2]], [1, 1], ["benefit", "cost"], normalization=normalization
    )
    huge = topsis(
        [[3e300, 1], [4e300, 2]], [1, 1], ["benefit", "cost"], normalization=normalization
    )
    plain = topsis([[3, 1], [4, 2]], [1, 1], ["benefit", "cost"], normalization=normalization)
    for result in (tiny, huge):
        assert np.isfinite(result.closeness).all()
        assert result.closeness == pytest.approx(plain.closeness)

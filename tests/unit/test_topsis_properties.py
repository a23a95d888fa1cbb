"""Properties TOPSIS must have whatever the data (hypothesis)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from apps.math_core.algorithms.topsis import topsis

PROPERTY_SETTINGS = settings(max_examples=50, deadline=None)

values = st.floats(min_value=0.01, max_value=1e4, allow_nan=False, allow_infinity=False)


@st.composite
def problems(draw, min_rows=2, max_rows=12, max_cols=6):
    rows = draw(st.integers(min_rows, max_rows))
    cols = draw(st.integers(1, max_cols))
    matrix = draw(arrays(np.float64, (rows, cols), elements=values))
    weights = draw(arrays(np.float64, (cols,), elements=st.floats(0.05, 10)))
    types = draw(st.lists(st.sampled_from(["benefit", "cost"]), min_size=cols, max_size=cols))
    return matrix, weights, types


@PROPERTY_SETTINGS
@given(problems(), st.floats(min_value=1e-3, max_value=1e3), st.data())
def test_scaling_a_benefit_column_keeps_the_ranking_under_vector_normalisation(
    problem, factor, data
):
    matrix, weights, types = problem
    column = data.draw(st.integers(0, matrix.shape[1] - 1))
    types = list(types)
    types[column] = "benefit"
    scaled = matrix.copy()
    scaled[:, column] *= factor
    before = topsis(matrix, weights, types)
    after = topsis(scaled, weights, types)
    assert after.ranks.tolist() == before.ranks.tolist()
    assert after.ranking.tolist() == before.ranking.tolist()
    np.testing.assert_allclose(after.closeness, before.closeness, rtol=1e-9, atol=1e-12)


@PROPERTY_SETTINGS
@given(problems(), st.sampled_from(["vector", "minmax"]), st.data())
def test_a_dominating_alternative_ranks_first(problem, normalization, data):
    matrix, weights, types = problem
    benefit = np.array([t == "benefit" for t in types])
    # Strictly better than every row on one criterion, at least as good on all the others.
    best = np.where(benefit, matrix.max(axis=0), matrix.min(axis=0))
    strict = data.draw(st.integers(0, matrix.shape[1] - 1))
    if benefit[strict]:
        best[strict] += 1.0
    else:
        matrix[:, strict] += 1.0  # make room below every row on a cost criterion
        best[strict] = matrix[:, strict].min() - 1.0
    position = data.draw(st.integers(0, matrix.shape[0]))
    stacked = np.insert(matrix, position, best, axis=0)
    result = topsis(stacked, weights, types, normalization=normalization)
    assert result.ranking[0] == position
    assert result.ranks[position] == 1
    assert result.closeness[position] == 1.0
    assert (result.closeness[np.arange(len(stacked)) != position] < 1.0).all()


@PROPERTY_SETTINGS
@given(
    # Distinct values a whole unit apart, so no two closeness values fall within the tie
    # tolerance (near-ties are ties by definition, listed in input order either way).
    st.lists(st.integers(0, 1_000_000), min_size=2, max_size=15, unique=True),
    st.sampled_from(["vector", "minmax"]),
)
def test_swapping_benefit_and_cost_reverses_the_order_on_one_criterion(column, normalization):
    matrix = np.array(column, dtype=np.float64)[:, None]
    as_benefit = topsis(matrix, [1.0], ["benefit"], normalization=normalization)
    as_cost = topsis(matrix, [1.0], ["cost"], normalization=normalization)
    assert as_benefit.ranking.tolist() == np.argsort(-matrix[:, 0]).tolist()
    assert as_cost.ranking.tolist() == as_benefit.ranking[::-1].tolist()
    np.testing.assert_allclose(as_cost.closeness, 1.0 - as_benefit.closeness, atol=1e-12)


@PROPERTY_SETTINGS
@given(problems(min_rows=1), st.sampled_from(["vector", "minmax"]), st.randoms())
def test_closeness_is_bounded_finite_and_follows_the_rows(problem, normalization, rng):
    matrix, weights, types = problem
    result = topsis(matrix, weights, types, normalization=normalization)
    assert np.isfinite(result.closeness).all()
    assert ((result.closeness >= 0) & (result.closeness <= 1)).all()
    assert sorted(result.ranking.tolist()) == list(range(matrix.shape[0]))
    # Ranks agree with the closeness order: a better rank never has a lower closeness.
    ordered = result.closeness[result.ranking]
    assert (np.diff(ordered) <= 1e-9).all()
    permutation = list(range(matrix.shape[0]))
    rng.shuffle(permutation)
    shuffled = topsis(matrix[permutation], weights, types, normalization=normalization)
    np.testing.assert_allclose(shuffled.closeness, result.closeness[permutation], atol=1e-12)

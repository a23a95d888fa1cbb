"""Item-item collaborative filtering on a small interaction matrix with known neighbours."""

import math

import numpy as np
import pytest

from apps.math_core.algorithms import collaborative as cf
from apps.math_core.algorithms.errors import InvalidInput

# Users U0..U3 x offers O0..O4 (O4 never touched). Weights: view 1, select 3, book 5.
#   U0: book O0, select O1          -> O0 = [5, 1, 0, 0]   (column over U0..U3)
#   U1: view O0, view O1, book O2   -> O1 = [3, 1, 0, 0]
#   U2: select O2, book O3          -> O2 = [0, 5, 3, 0]
#   U3: view O3                     -> O3 = [0, 0, 5, 1]
EVENTS = [
    (0, 0, "book"),
    (0, 1, "select"),
    (1, 0, "view"),
    (1, 1, "view"),
    (1, 2, "book"),
    (2, 2, "select"),
    (2, 3, "book"),
    (3, 3, "view"),
]
# Hand-computed cosines: sim(O0,O1) = (15+1)/sqrt(26*10) = 0.992278
# sim(O0,O2) = 5/sqrt(26*34) = 0.168168; sim(O1,O2) = 5/sqrt(10*34) = 0.271163
# sim(O2,O3) = 15/sqrt(34*26) = 0.504505; O0-O3 and O1-O3 share no user: 0.
S01 = 16 / math.sqrt(260)
S02 = 5 / math.sqrt(884)
S12 = 5 / math.sqrt(340)
S23 = 15 / math.sqrt(884)


@pytest.fixture
def matrix():
    users = [u for u, _, _ in EVENTS]
    items = [i for _, i, _ in EVENTS]
    weights = cf.interaction_weights([k for _, _, k in EVENTS], np.zeros(len(EVENTS)))
    return cf.interaction_matrix(users, items, weights, n_users=5, n_items=5)


def test_item_similarity_matches_hand_cosines(matrix):
    sim = cf.item_similarity(matrix).toarray()
    assert sim[0, 1] == pytest.approx(S01)
    assert sim[0, 2] == pytest.approx(S02)
    assert sim[1, 2] == pytest.approx(S12)
    assert sim[2, 3] == pytest.approx(S23)
    assert sim[0, 3] == 0 and sim[1, 3] == 0
    assert np.allclose(sim, sim.T)
    assert sim[4].sum() == 0  # an untouched offer is similar to nothing


def test_known_neighbours(matrix):
    assert cf.nearest_neighbours(matrix, 0, np.arange(5)) == [
        (1, pytest.approx(S01)),
        (2, pytest.approx(S02)),
    ]
    assert [item for item, _ in cf.nearest_neighbours(matrix, 3, np.arange(5))] == [2]
    assert cf.nearest_neighbours(matrix, 4, np.arange(5)) == []


def test_user_scores_are_similarity_weighted_sums_without_the_self_term(matrix):
    result = cf.recommend(matrix, 0)  # U0: r = [5, 3, 0, 0, 0]
    assert result.source == "item_item"
    expected = [3 * S01, 5 * S01, 5 * S02 + 3 * S12, 0.0, 0.0]
    assert result.scores == pytest.approx(expected)
    only_view = cf.recommend(matrix, 3)  # U3 viewed O3 only: its one neighbour is O2
    assert only_view.scores == pytest.approx([0, 0, S23, 0, 0])
    assert int(np.argmax(only_view.scores)) == 2


def test_cold_start_falls_back_to_popularity(matrix):
    # Totals per offer: O0 6, O1 4, O2 8, O3 6, O4 0 -> scaled by the top (8).
    for user in (None, 4):  # anonymous, and a user with no interactions
        result = cf.recommend(matrix, user)
        assert result.source == "popularity"
        assert result.scores == pytest.approx([0.75, 0.5, 1.0, 0.75, 0.0])


def test_no_interactions_at_all_gives_no_signal():
    empty = cf.interaction_matrix([], [], [], n_users=2, n_items=3)
    result = cf.recommend(empty, 0)
    assert result.source == "none"
    assert result.scores.tolist() == [0.0, 0.0, 0.0]


def test_repeated_interactions_add_up_and_decay_with_age():
    weights = cf.interaction_weights(["view", "book", "select"], np.array([30.0, 0.0, 60.0]))
    # view 1 x 2^-1 = 0.5; book 5 x 1; select 3 x 2^-2 = 0.75
    assert weights == pytest.approx([0.5, 5.0, 0.75])
    matrix = cf.interaction_matrix([0, 0, 0], [1, 1, 1], weights, n_users=1, n_items=2)
    assert matrix[0, 1] == pytest.approx(6.25)


def test_bad_interactions_are_rejected():
    with pytest.raises(InvalidInput) as excinfo:
        cf.interaction_weights(["like"], np.zeros(1))
    assert excinfo.value.field == "kind"
    with pytest.raises(InvalidInput):
        cf.interaction_weights(["view"], np.zeros(1), half_life_days=0)
    with pytest.raises(InvalidInput):
        cf.interaction_matrix([0], [0], [float("nan")], n_users=1, n_items=1)


def test_one_users_confidence_in_one_offer_is_capped():
    weights = cf.interaction_weights(["book"] * 50, np.zeros(50))
    matrix = cf.interaction_matrix([0] * 50, [0] * 50, weights, n_users=1, n_items=1)
    assert matrix[0, 0] == cf.MAX_CONFIDENCE

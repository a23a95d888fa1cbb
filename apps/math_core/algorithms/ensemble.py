"""Ensemble: a weighted blend of TOPSIS, collaborative and content-based scores, explained.

Each component's scores over the candidates are min-max normalised to [0, 1] (so TOPSIS
closeness, collaborative sums and kernel similarities become comparable) and blended with the
request's weights, normalised to sum 1: ``score_i = Σ_c w_c · ŝ_c,i``. A component that cannot
tell candidates apart (constant over them, e.g. collaborative filtering before anyone has
interacted) carries no signal: its weight is redistributed over the others, and the
explanation says so. Ranking uses TOPSIS's tie rule (``topsis.rank_scores``).

The explanation of a recommendation names, per component, the raw score, the normalised score,
the weight and the contribution, and the deciding criteria: the TOPSIS criteria where the
offer stands closest to the ideal (weighted by importance) and its weakest one, and the
requirement-profile features it meets or misses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .content_based import ContentScores
from .errors import InvalidInput
from .topsis import TopsisResult, normalised_weights, rank_scores, relative_position

COMPONENTS: tuple[str, ...] = ("topsis", "collaborative", "content")
DEFAULT_WEIGHTS: dict[str, float] = {"topsis": 0.5, "collaborative": 0.2, "content": 0.3}
SIGNAL_TOLERANCE = 1e-12


def validate_weights(weights: Mapping[str, float]) -> dict[str, float]:
    unknown = set(weights) - set(COMPONENTS)
    if unknown:
        raise InvalidInput(
            f"unknown ensemble components: {', '.join(sorted(unknown))}", field="weights"
        )
    merged = {name: float(weights.get(name, DEFAULT_WEIGHTS[name])) for name in COMPONENTS}
    values = np.array(list(merged.values()))
    if not np.isfinite(values).all() or (values < 0).any():
        raise InvalidInput("ensemble weights must be non-negative finite numbers", field="weights")
    if values.sum() <= 0:
        raise InvalidInput("at least one ensemble weight must be positive", field="weights")
    # (a plain sum of 1e308 twice overflowed, and every weight came out 0)
    return dict(zip(merged, normalised_weights(values).tolist(), strict=True))


def min_max(values: np.ndarray) -> np.ndarray | None:
    """Scaled to [0, 1]; None when the values do not discriminate (constant)."""
    x = np.asarray(values, dtype=np.float64)
    if x.size == 0:
        return None
    low, high = float(x.min()), float(x.max())
    if high - low <= SIGNAL_TOLERANCE:
        return None
    return (x - low) / (high - low)


@dataclass(frozen=True, slots=True)
class BlendResult:
    scores: np.ndarray
    ranking: np.ndarray
    ranks: np.ndarray
    normalised: dict[str, np.ndarray]
    requested_weights: dict[str, float]
    effective_weights: dict[str, float]
    no_signal: tuple[str, ...]


def blend(components: Mapping[str, np.ndarray], weights: Mapping[str, float]) -> BlendResult:
    requested = validate_weights(weights)
    lengths = {np.asarray(v).shape[0] for v in components.values()}
    if len(lengths) != 1:
        raise InvalidInput("every component must score the same candidates")
    (m,) = lengths
    normalised: dict[str, np.ndarray] = {}
    no_signal: list[str] = []
    for name in COMPONENTS:
        scaled = min_max(components[name]) if name in components else None
        if scaled is None:
            no_signal.append(name)
            normalised[name] = np.zeros(m)
        else:
            normalised[name] = scaled
    live = {n: w for n, w in requested.items() if n not in no_signal and w > 0}
    total = sum(live.values())
    effective = {n: (live.get(n, 0.0) / total if total > 0 else 0.0) for n in COMPONENTS}
    scores = np.zeros(m)
    for name, weight in effective.items():
        if weight:
            scores += weight * normalised[name]
    ranking, ranks = rank_scores(scores)
    return BlendResult(scores, ranking, ranks, normalised, requested, effective, tuple(no_signal))


@dataclass(frozen=True, slots=True)
class Driver:
    criterion: str
    #: TOPSIS: where the offer stands between anti-ideal (0) and ideal (1); content: the
    #: log-ratio distance from the requirement (0 = met).
    position: float
    weight: float


def topsis_drivers(
    result: TopsisResult, names: tuple[str, ...], indices: np.ndarray, *, strengths: int = 2
) -> list[tuple[list[Driver], list[Driver]]]:
    """Per offer in ``indices``: its strongest criteria (largest weight × position, position
    ≥ 0.5) and its weakest (largest weight × (1 − position), position < 0.5)."""
    positions = relative_position(result)[indices]
    out = []
    for row in positions:
        merit = result.weights * row
        order = np.argsort(-merit, kind="stable")
        best = [
            Driver(names[j], float(row[j]), float(result.weights[j]))
            for j in order[:strengths]
            if row[j] >= 0.5
        ]
        gap = result.weights * (1.0 - row)
        worst_j = int(np.argmax(gap))
        worst = (
            [Driver(names[worst_j], float(row[worst_j]), float(result.weights[worst_j]))]
            if row[worst_j] < 0.5
            else []
        )
        out.append((best, worst))
    return out


def content_drivers(
    scores: ContentScores, indices: np.ndarray
) -> list[tuple[list[str], list[Driver], list[Driver]]]:
    """Per offer: the requirement features it meets exactly, those it falls short of, and those
    it over-provisions (each list of drivers largest penalty first; ``position`` holds the
    log-ratio distance and ``weight`` the penalty it costs)."""
    out = []
    for index in indices:
        distances = scores.distances[index]
        penalties = scores.penalties[index]
        short = scores.short[index]
        met = [name for name, d in zip(scores.features, distances, strict=True) if d <= 1e-9]
        order = np.argsort(-penalties, kind="stable")
        missed = [
            Driver(scores.features[j], float(distances[j]), float(penalties[j]))
            for j in order
            if distances[j] > 1e-9 and short[j]
        ]
        over = [
            Driver(scores.features[j], float(distances[j]), float(penalties[j]))
            for j in order
            if distances[j] > 1e-9 and not short[j]
        ]
        out.append((met, missed, over))
    return out

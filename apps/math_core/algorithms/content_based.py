"""Content-based matching: how well each offer's features fit a workload's requirement profile.

Offer feature vector: total VRAM (GB), compute (TFLOPS at the workload's precision), memory
bandwidth (GB/s), price per hour, provider reliability (0..1), region, spot/interruptible.
The requirement profile gives a target per feature (any may be absent) and an importance weight.

Per feature a distance in log-ratio space (scale-free, so GB and TFLOPS compare):

* "at least" features (VRAM, compute, bandwidth, reliability):
  ``d = max(0, ln(target / x)) + λ · max(0, ln(x / target))`` — a shortfall counts fully, an
  over-provisioned offer mildly (λ = ``OVERPROVISION_PENALTY``: renting 8 × H100 for a job that
  needs one GPU is a poor match even when it is fast);
* "at most" features (price): ``d = max(0, ln(x / target))``;
* categorical features (region, spot): ``d = 0`` on a match, ``1`` otherwise.

Distances are capped at ``MAX_DISTANCE`` and combined by a Gaussian (RBF) kernel over the
weighted squared distances: ``similarity = exp(-Σ_j w_j d_j²)`` with weights normalised over
the features the profile constrains, so similarity ∈ (0, 1] and is 1 exactly when every
constraint is met without over-provisioning. A profile that constrains nothing gives 1 for all.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .errors import InvalidInput

OVERPROVISION_PENALTY = 0.25
MAX_DISTANCE = 3.0

AT_LEAST = ("vram", "compute", "bandwidth", "reliability")
AT_MOST = ("price",)
CATEGORICAL = ("region", "spot")
FEATURES: tuple[str, ...] = AT_LEAST + AT_MOST + CATEGORICAL

DEFAULT_IMPORTANCE: dict[str, float] = {
    "vram": 3.0,
    "compute": 2.0,
    "bandwidth": 1.0,
    "reliability": 1.0,
    "price": 2.0,
    "region": 1.0,
    "spot": 1.0,
}


@dataclass(frozen=True, slots=True)
class OfferFeatures:
    """One array per feature, all of length m (the candidate offers)."""

    vram_gb: np.ndarray
    compute_tflops: np.ndarray
    bandwidth_gbps: np.ndarray
    price_per_hour: np.ndarray
    reliability: np.ndarray
    region_match: np.ndarray  # bool: the offer is in a preferred region
    is_spot: np.ndarray  # bool

    def __len__(self) -> int:
        return int(self.price_per_hour.shape[0])


@dataclass(frozen=True, slots=True)
class RequirementProfile:
    vram_gb: float | None = None
    compute_tflops: float | None = None
    bandwidth_gbps: float | None = None
    max_price_per_hour: float | None = None
    min_reliability: float | None = None
    #: True when the caller named preferred regions (``OfferFeatures.region_match`` then counts).
    regions_preferred: bool = False
    #: False: spot/interruptible offers are a mismatch. None/True: indifferent.
    allow_spot: bool | None = None
    importance: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_IMPORTANCE))

    def targets(self) -> dict[str, float | bool]:
        active: dict[str, float | bool] = {}
        for name, value in (
            ("vram", self.vram_gb),
            ("compute", self.compute_tflops),
            ("bandwidth", self.bandwidth_gbps),
            ("reliability", self.min_reliability),
            ("price", self.max_price_per_hour),
        ):
            if value is not None:
                if not np.isfinite(value) or value <= 0:
                    raise InvalidInput(f"the {name} target must be a positive number", field=name)
                active[name] = float(value)
        if self.regions_preferred:
            active["region"] = True
        if self.allow_spot is False:
            active["spot"] = True
        return active


@dataclass(frozen=True, slots=True)
class ContentScores:
    similarity: np.ndarray  # (m,) in (0, 1]
    features: tuple[str, ...]  # the constrained features, in column order of ``penalties``
    penalties: np.ndarray  # (m, k) w_j · d_j², what each feature costs each offer
    distances: np.ndarray  # (m, k) d_j
    #: (m, k) True where the offer falls short of the requirement (below an "at least" target,
    #: above a price cap, a categorical mismatch); False where it meets or over-provisions it.
    short: np.ndarray


def _at_least(values: np.ndarray, target: float) -> np.ndarray:
    x = np.maximum(values.astype(np.float64), 1e-12)
    ratio = np.log(x / target)
    return np.maximum(-ratio, 0.0) + OVERPROVISION_PENALTY * np.maximum(ratio, 0.0)


def _at_most(values: np.ndarray, target: float) -> np.ndarray:
    x = np.maximum(values.astype(np.float64), 1e-12)
    return np.maximum(np.log(x / target), 0.0)


def match(features: OfferFeatures, profile: RequirementProfile) -> ContentScores:
    m = len(features)
    targets = profile.targets()
    names = tuple(name for name in FEATURES if name in targets)
    if not names:
        empty = np.zeros((m, 0))
        return ContentScores(np.ones(m), (), empty, empty, np.zeros((m, 0), dtype=bool))
    columns = {
        "vram": features.vram_gb,
        "compute": features.compute_tflops,
        "bandwidth": features.bandwidth_gbps,
        "reliability": features.reliability,
        "price": features.price_per_hour,
    }
    distances = np.empty((m, len(names)))
    short = np.zeros((m, len(names)), dtype=bool)
    for index, name in enumerate(names):
        if name in AT_LEAST:
            distances[:, index] = _at_least(columns[name], float(targets[name]))
            short[:, index] = columns[name] < float(targets[name])
        elif name in AT_MOST:
            distances[:, index] = _at_most(columns[name], float(targets[name]))
            short[:, index] = columns[name] > float(targets[name])
        elif name == "region":
            short[:, index] = ~features.region_match.astype(bool)
            distances[:, index] = short[:, index].astype(np.float64)
        else:  # spot not allowed
            short[:, index] = features.is_spot.astype(bool)
            distances[:, index] = short[:, index].astype(np.float64)
    np.minimum(distances, MAX_DISTANCE, out=distances)
    raw = np.array([profile.importance.get(name, DEFAULT_IMPORTANCE[name]) for name in names])
    if not np.isfinite(raw).all() or (raw < 0).any() or raw.sum() <= 0:
        raise InvalidInput(
            "feature importances must be non-negative and not all zero", field="importance"
        )
    weights = raw / raw.sum()
    penalties = distances * distances * weights
    similarity = np.exp(-penalties.sum(axis=1))
    return ContentScores(similarity, names, penalties, distances, short)

"""Features, modes and their default weights. Weights are normalized to sum 1 per mode, so every
score lies in [0, 1] and is exactly the sum of the features' contributions."""

from __future__ import annotations

from typing import Literal

Mode = Literal["complementary", "similar", "local_partner", "alliance"]
MODES: tuple[Mode, ...] = ("complementary", "similar", "local_partner", "alliance")

FEATURES = (
    "complementarity",
    "objective_fit",
    "territory",
    "populations_methods",
    "language",
    "sector_diversity",
    "legitimacy_fit",
    "trust",
)

DEFAULT_WEIGHTS: dict[str, dict[str, float]] = {
    # Who covers what we lack, and we what they lack.
    "complementary": {
        "complementarity": 0.35,
        "objective_fit": 0.17,
        "territory": 0.18,
        "populations_methods": 0.06,
        "language": 0.04,
        "sector_diversity": 0.05,
        "legitimacy_fit": 0.05,
        "trust": 0.10,
    },
    # Peers to pool with: same objectives, places, people and methods.
    "similar": {
        "complementarity": 0.05,
        "objective_fit": 0.40,
        "territory": 0.17,
        "populations_methods": 0.18,
        "language": 0.05,
        "sector_diversity": 0.0,
        "legitimacy_fit": 0.0,
        "trust": 0.15,
    },
    # Someone present where the requester wants to work and is absent.
    "local_partner": {
        "complementarity": 0.22,
        "objective_fit": 0.13,
        "territory": 0.35,
        "populations_methods": 0.07,
        "language": 0.08,
        "sector_diversity": 0.02,
        "legitimacy_fit": 0.03,
        "trust": 0.10,
    },
    # Who supplies what an alliance's parties lack, preferably from another sector.
    "alliance": {
        "complementarity": 0.38,
        "objective_fit": 0.14,
        "territory": 0.12,
        "populations_methods": 0.04,
        "language": 0.03,
        "sector_diversity": 0.12,
        "legitimacy_fit": 0.07,
        "trust": 0.10,
    },
}


def resolve_weights(overrides: dict[str, dict[str, float]] | None = None) -> dict[str, dict[str, float]]:
    """Defaults merged with configured overrides, each mode normalized to sum 1."""
    out: dict[str, dict[str, float]] = {}
    for mode, defaults in DEFAULT_WEIGHTS.items():
        merged = {**defaults, **((overrides or {}).get(mode, {}))}
        unknown = set(merged) - set(FEATURES)
        if unknown:
            raise ValueError(f"unknown features in weights for {mode}: {sorted(unknown)}")
        if any(w < 0 for w in merged.values()):
            raise ValueError(f"negative weight in mode {mode}")
        total = sum(merged.values())
        if total <= 0:
            raise ValueError(f"weights of mode {mode} sum to zero")
        out[mode] = {f: merged.get(f, 0.0) / total for f in FEATURES}
    return out

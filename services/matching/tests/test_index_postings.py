"""Fast tier: the small matrices' postings (``CandidateIndex.product``, ``any_of``) give exactly what a
product over every row gives, bit for bit, also after profiles and alliances change."""

from __future__ import annotations

from typing import Any

import numpy as np

from tejido_matching.ranking.engine import MatchingEngine
from tejido_matching.ranking.index import POSTED
from tejido_matching.ranking.weights import resolve_weights
from tejido_matching.testing import event, org, organization_event

KINDS = [
    "funding",
    "knowledge_and_methodology",
    "training",
    "facilities_and_infrastructure",
    "market_access",
    "contacts_and_networks",
]


def profile(rng: np.random.Generator, i: int, version: int = 1) -> dict[str, Any]:
    place = str(rng.choice(["MX-SON", "MX-CHH", "PE-LIM"], p=[0.1, 0.6, 0.3]))
    return org(
        f"Org {i}",
        id=f"org-{i}",
        version=version,
        country=place[:2],
        subdivisions=[place],
        program_areas=[str(a) for a in rng.choice(["HE1", "HE2", "ED1", "ED2"], size=rng.integers(0, 4))],
        indicators=[str(a) for a in rng.choice(["health", "education"], size=rng.integers(0, 2))],
        offers=[(str(k), "o") for k in rng.choice(KINDS, size=rng.integers(0, 6), replace=False)],
        needs=[(str(k), "n") for k in rng.choice(KINDS, size=rng.integers(0, 6), replace=False)],
    )


def check(engine: MatchingEngine, rng: np.random.Generator) -> None:
    index = engine.index
    for name in POSTED:
        matrix = getattr(index, name)[: index.size]
        for _ in range(20):
            # Sums of three or more such weights round differently in another order.
            vector = np.zeros(matrix.shape[1], dtype=np.float32)
            cols = rng.choice(matrix.shape[1], size=min(matrix.shape[1], rng.integers(1, 7)), replace=False)
            if name == "need_kinds":  # weighted rows (1, 1/2 … normalized) times the requester's 0/1
                vector[cols] = 1.0
            else:  # 0/1 rows times weights like the ranker's
                vector[cols] = 1.0 / np.arange(1, len(cols) + 1)
                vector /= vector.sum()
            assert np.array_equal(index.product(name, vector), matrix @ vector), name
            assert np.array_equal(index.any_of(name, cols.tolist()), (matrix[:, cols] > 0).any(axis=1)), name
    for code in ("MX", "PE", "MX-SON"):  # held by most rows (a kept mask) or by few
        expected = [code in index.places[r] for r in range(index.size)]
        assert index.rows_with("places", [code]).tolist() == expected, code
    categories = index.categories[: index.size]
    for weights in ([0.5, 0, 1.0, 0, 0], [1.5, 0.5, 0, 2.0, 0.5], [0, 0, 0, 0, 0.5]):
        vector = np.array(weights, dtype=np.float32)
        by_bits = index.category_table(vector)[index.category_bits[: index.size]]
        assert np.array_equal(by_bits, categories @ vector)


def test_postings_match_a_full_product_after_changes() -> None:
    rng = np.random.default_rng(3)
    engine = MatchingEngine(resolve_weights(), embedder=None)
    for i in range(600):
        engine.apply(organization_event(profile(rng, i)))
    check(engine, rng)
    for i in range(600, 620):  # new rows elsewhere: masks kept for the former size are built again
        engine.apply(
            organization_event(org(f"Org {i}", id=f"org-{i}", country="CO", subdivisions=["CO-ANT"]))
        )
    check(engine, rng)
    # One organization leaves every column it had (no other row joins one meanwhile).
    engine.apply(organization_event(org("Org 1", id="org-1", version=2), action="updated"))
    check(engine, rng)
    for i in range(0, 600, 3):  # new profiles: offers, needs and areas move between columns
        engine.apply(organization_event(profile(rng, i, version=2), action="updated"))
    for a in range(30):  # alliances change what a party can lend
        parties = [f"org-{j}" for j in rng.choice(600, size=3, replace=False)]
        engine.apply(
            event(
                "registry.alliance.created.v1",
                {
                    "alliance": {
                        "id": f"al-{a}",
                        "version": 1,
                        "stage": "established",
                        "name": "A",
                        "parties": [{"organization_id": p, "role": "executor"} for p in parties],
                    }
                },
            )
        )
    check(engine, rng)

"""Fast tier: a page comes from bounds that skip most text similarities (``ranking/scoring.py``); it
must be exactly the head of the full ranking, which computes every candidate's features."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tejido_matching.ranking.engine import MatchingEngine
from tejido_matching.ranking.weights import resolve_weights
from tejido_matching.testing import org, organization_event

KINDS = ["funding", "knowledge_and_methodology", "training", "facilities_and_infrastructure", "market_access"]
PLACES = ["MX-SON", "MX-CHH", "MX-CHP", "PE-LIM"]
AREAS = ["HE1", "HE2", "ED1", "ED2"]


def pool(size: int, seed: int) -> tuple[MatchingEngine, list[dict[str, Any]]]:
    rng = np.random.default_rng(seed)
    engine = MatchingEngine(resolve_weights(), embedder=None)
    profiles = []
    for i in range(size):
        place = str(rng.choice(PLACES))
        p = org(
            f"Org {i}",
            country=place.split("-")[0],
            subdivisions=[place],
            program_areas=[str(a) for a in rng.choice(AREAS, size=rng.integers(0, 3), replace=False)],
            offers=[(str(k), "oferta") for k in rng.choice(KINDS, size=rng.integers(0, 3), replace=False)],
            needs=[(str(k), "necesidad") for k in rng.choice(KINDS, size=rng.integers(0, 3), replace=False)],
        )
        profiles.append(p)
        engine.apply(organization_event(p))
    # Vectors in a few topics, as sentence embeddings fall: many similarities well above zero.
    topics = rng.standard_normal((6, 512)).astype(np.float32)
    for i, p in enumerate(profiles):
        if i % 11 == 0:
            continue  # not embedded yet
        v = topics[rng.integers(0, 6, size=3)] + 0.05 * rng.standard_normal((3, 512)).astype(np.float32)
        engine.index.set_embeddings(p["id"], v / np.linalg.norm(v, axis=1, keepdims=True))
    return engine, profiles


@pytest.mark.parametrize("mode", ["complementary", "similar", "local_partner"])
@pytest.mark.parametrize("diversity", [False, True])
def test_a_page_is_the_head_of_the_full_ranking(mode: str, diversity: bool) -> None:
    engine, profiles = pool(400, seed=7)
    for requester in profiles[:12]:
        query = {"organization_id": requester["id"], "mode": mode, "diversity": diversity}
        full = engine.handle({**query, "limit": 1000})
        page = engine.handle({**query, "limit": 10})
        assert page["total"] == full["total"] > 100
        assert page["items"] == full["items"][:10]
        second = engine.handle({**query, "limit": 10, "offset": 10})
        assert second["items"] == full["items"][10:20]

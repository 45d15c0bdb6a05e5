"""Impact reporting at scale: bulk ingest rate and aggregate latency over incremental rollups, compared
in the same run with a scan of the same rows (the database itself, and DuckDB).

Generated data (one seeded ``random.Random``): ``--observations`` rows over ``--orgs`` organizations
(announced to reporting as registry events through NATS, as in production), ``--indicators``
indicators (the default catalog plus generated counts, sums, money, averages, percentages and stocks),
``--years`` years of months and ``--municipalities`` municipalities in 20 Mexican states.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import random
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import nats
from sqlalchemy import text

from bench.harness import LONG_TIMEOUT, _database, latency_summary, log, settle_memory, table
from tejido_common.events import Envelope
from tejido_common.ids import new_id
from tejido_common.natsserver import NatsServer
from tejido_common.testing import service_client
from tejido_reporting.testing import RunningReporting, reporting_settings, running_reporting

STATES = (
    "MX-AGU",
    "MX-BCN",
    "MX-CHH",
    "MX-CHP",
    "MX-COA",
    "MX-DUR",
    "MX-GUA",
    "MX-GRO",
    "MX-HID",
    "MX-JAL",
    "MX-MIC",
    "MX-MOR",
    "MX-NAY",
    "MX-OAX",
    "MX-PUE",
    "MX-SIN",
    "MX-SON",
    "MX-TAB",
    "MX-VER",
    "MX-ZAC",
)
KINDS = ("count", "count", "count", "sum", "money", "average", "percentage", "latest")
HEADER = (
    "organization_id,observation_key,indicator,period_start,period_end,territory,"
    "value,numerator,denominator,weight,currency\n"
)
QUARTER_SQL = (
    "SELECT country, subdivision, municipality, (month / 100) * 10 + ((month % 100) + 2) / 3 AS q, "
    "sum(value) FROM observations WHERE indicator_code = :code AND in_force GROUP BY 1, 2, 3, 4"
)


@dataclass
class Indicator:
    code: str
    kind: str


def registration(org_id: str, n: int, state: str) -> Envelope:
    org = {
        "id": org_id,
        "status": "active",
        "version": 1,
        "created_at": "2026-01-01T00:00:00Z",
        "identity": {"legal_name": f"Organización {n:04d}", "actor_type": "cso", "identifiers": []},
        "where": {"country": "MX", "subdivisions": [state]},
        "purpose": {"program_areas": ["ED1"], "social_indicators": ["quality_of_life"]},
    }
    return Envelope.new(
        "registry.organization.registered.v1",
        source="tejido/registry",
        subject=f"organization/{org_id}",
        data={"organization": org},
    )


def announce(nats_url: str, events: list[Envelope]) -> None:
    async def send() -> None:
        nc = await nats.connect(nats_url)
        try:
            js = nc.jetstream()
            for event in events:
                await js.publish(event.type, event.to_bytes(), headers={"Nats-Msg-Id": event.id})
        finally:
            await nc.close()

    asyncio.run(send())


def define_indicators(client: httpx.Client, count: int) -> list[Indicator]:
    catalog = client.get("/v1/indicators").json()["items"]
    kinds = {
        "count": "count",
        "sum": "sum",
        "average": "average",
        "percentage": "percentage",
        "latest": "latest",
    }
    indicators = [
        Indicator(i["code"], "money" if i["unit"] == "currency" else kinds[i["value_type"]]) for i in catalog
    ]
    n = 0
    while len(indicators) < count:
        kind = KINDS[n % len(KINDS)]
        code = f"bench_{kind}_{n:02d}"
        body = {
            "code": code,
            "name": {"es": code, "en": code},
            "unit": {"money": "currency", "percentage": "percent"}.get(kind, "people"),
            "value_type": "sum" if kind == "money" else kind,
        }
        response = client.post("/v1/indicators", json=body)
        assert response.status_code in (200, 201), response.text
        indicators.append(Indicator(code, kind))
        n += 1
    return indicators[:count]


def generate(
    rng: random.Random,
    rows: int,
    orgs: list[str],
    indicators: list[Indicator],
    years: int,
    municipalities: int,
) -> Iterator[str]:
    """CSV lines; each organization works in 1–4 municipalities."""
    places = [f"{STATES[i % len(STATES)]}:Municipio {i:03d}" for i in range(municipalities)]
    where = {org: rng.sample(places, rng.randint(1, 4)) for org in orgs}
    months = [(2024 + y, m) for y in range(years) for m in range(1, 13)]
    for i in range(rows):
        org = rng.choice(orgs)
        ind = rng.choice(indicators)
        year, month = rng.choice(months)
        start, end = f"{year}-{month:02d}-01", f"{year}-{month:02d}-28"
        value = numerator = denominator = weight = currency = ""
        if ind.kind == "percentage":
            denominator = str(rng.randint(10, 500))
            numerator = str(rng.randint(0, int(denominator)))
        elif ind.kind == "average":
            value, weight = f"{rng.uniform(5, 40):.2f}", str(rng.randint(1, 30))
        elif ind.kind == "money":
            value, currency = f"{rng.uniform(1000, 90000):.2f}", "MXN"
        else:
            value = str(rng.randint(0, 400))
        yield (
            f"{org},b{i},{ind.code},{start},{end},{rng.choice(where[org])},{value},{numerator},"
            f"{denominator},{weight},{currency}\n"
        )


@contextlib.contextmanager
def reporting_environment(
    backend: str, postgres_url: str | None
) -> Iterator[tuple[RunningReporting, str, Path]]:
    with tempfile.TemporaryDirectory(prefix="tejido-bench-reporting-") as tmp:
        workdir = Path(tmp)
        server = NatsServer(workdir / "nats").start()
        try:
            with (
                _database(backend, postgres_url) as target,
                running_reporting(reporting_settings(workdir / "data", server.url, target)) as reporting,
            ):
                yield reporting, server.url, workdir
        finally:
            server.stop()


def run_reporting(
    backend: str,
    postgres_url: str | None,
    *,
    observations: int,
    orgs: int,
    indicators: int,
    years: int,
    municipalities: int,
    chunk: int,
    requests: int,
    seed: int,
) -> dict[str, Any]:
    rng = random.Random(seed)
    result: dict[str, Any] = {
        "backend": backend,
        "observations": observations,
        "orgs": orgs,
        "indicators": indicators,
        "years": years,
        "municipalities": municipalities,
    }
    with reporting_environment(backend, postgres_url) as (reporting, nats_url, workdir):
        # Signed as the gateway would (services refuse unsigned calls).
        client = service_client(reporting.url, reporting.settings, timeout=LONG_TIMEOUT)
        org_ids = [new_id() for _ in range(orgs)]
        announce(nats_url, [registration(o, n, STATES[n % len(STATES)]) for n, o in enumerate(org_ids)])
        deadline = time.monotonic() + 120
        while client.get("/v1/reports/network").json()["organizations"]["total"] < orgs:
            if time.monotonic() > deadline:
                raise RuntimeError("reporting did not learn the organizations in time")
            time.sleep(0.2)
        defined = define_indicators(client, indicators)
        log(f"[{backend}] generating {observations:,} observations")
        lines = generate(rng, observations, org_ids, defined, years, municipalities)
        chunks: list[bytes] = []
        csv_path = workdir / "observations.csv"
        with csv_path.open("w", encoding="utf-8") as everything:
            everything.write(HEADER)
            buffer = io.StringIO()
            for n, line in enumerate(lines, start=1):
                buffer.write(line)
                everything.write(line)
                if n % chunk == 0:
                    chunks.append((HEADER + buffer.getvalue()).encode())
                    buffer = io.StringIO()
            if buffer.tell():
                chunks.append((HEADER + buffer.getvalue()).encode())
        settle_memory()
        log(
            f"[{backend}] ingesting {len(chunks)} files of up to {chunk:,} rows "
            "through POST /v1/observations:import"
        )
        committed = 0
        started = time.perf_counter()
        for body in chunks:
            response = client.post(
                "/v1/observations:import", content=body, headers={"content-type": "text/csv"}
            )
            response.raise_for_status()
            report = response.json()
            assert report["failed"] == 0, report["errors"][:3]
            committed += report["committed"]
        elapsed = time.perf_counter() - started
        result["ingest"] = {
            "rows": committed,
            "seconds": round(elapsed, 1),
            "rows_per_s": round(committed / elapsed),
        }
        log(f"[{backend}] ingested {committed:,} rows in {elapsed:.1f}s = {committed / elapsed:,.0f}/s")
        reporting.db.analyze()
        flows = [i.code for i in defined if i.kind in ("count", "sum")][:5]
        stock = next(i.code for i in defined if i.kind == "latest")
        result["aggregate_api"] = {}
        for label, codes in (
            ("territory x quarter (counts)", flows),
            ("territory x quarter (stock)", [stock]),
        ):
            times = []
            for n in range(requests):
                params = {
                    "indicator": codes[n % len(codes)],
                    "group_by": "territory,period",
                    "period": "quarter",
                    "territory_level": "municipality",
                }
                t0 = time.perf_counter()
                response = client.get("/v1/reports/aggregate", params=params)
                times.append(time.perf_counter() - t0)
                response.raise_for_status()
            result["aggregate_api"][label] = latency_summary(times)
        # The same question by scanning the observations at query time, in the same database.
        scan_times = []
        with reporting.db.read_session() as session:
            for n in range(max(5, requests // 10)):
                t0 = time.perf_counter()
                session.execute(text(QUARTER_SQL), {"code": flows[n % len(flows)]}).all()
                scan_times.append(time.perf_counter() - t0)
        result["scan_same_db"] = latency_summary(scan_times)
        result["duckdb_scan"] = duckdb_scan(csv_path, flows, max(5, requests // 10))
        client.close()
    return result


def duckdb_scan(csv_path: Path, codes: list[str], runs: int) -> dict[str, Any]:
    import duckdb

    con = duckdb.connect()
    t0 = time.perf_counter()
    con.execute(f"CREATE TABLE observations AS SELECT * FROM read_csv_auto('{csv_path}', header=true)")
    load = time.perf_counter() - t0
    sql = (
        "SELECT split_part(territory, ':', 1) AS subdivision, territory, "
        "year(period_end) * 10 + quarter(period_end) AS q, sum(value) FROM observations "
        "WHERE indicator = ? GROUP BY 1, 2, 3"
    )
    times = []
    for n in range(runs):
        t0 = time.perf_counter()
        con.execute(sql, [codes[n % len(codes)]]).fetchall()
        times.append(time.perf_counter() - t0)
    con.close()
    return {**latency_summary(times), "load_seconds": round(load, 1)}


def print_reporting(result: dict[str, Any]) -> None:
    ingest = result["ingest"]
    r = result
    print(
        f"\nreporting on {r['backend']}: {r['observations']:,} observations, {r['orgs']} orgs, "
        f"{r['indicators']} indicators, {r['years']} years, {r['municipalities']} municipalities"
    )
    print(
        f"ingest (bulk CSV over HTTP): {ingest['rows']:,} rows in {ingest['seconds']}s = "
        f"{ingest['rows_per_s']:,}/s (target ≥ 20,000/s)"
    )
    rows = [[label, s["p50_ms"], s["p95_ms"], s["n"]] for label, s in result["aggregate_api"].items()]
    rows.append(
        [
            "scan observations, same DB (SQL only)",
            result["scan_same_db"]["p50_ms"],
            result["scan_same_db"]["p95_ms"],
            result["scan_same_db"]["n"],
        ]
    )
    rows.append(
        [
            "DuckDB scan of the same rows (SQL only)",
            result["duckdb_scan"]["p50_ms"],
            result["duckdb_scan"]["p95_ms"],
            result["duckdb_scan"]["n"],
        ]
    )
    print(table(["aggregate", "p50 ms", "p95 ms", "n"], rows))

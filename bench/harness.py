"""What every benchmark needs: a real NATS, the real registry over HTTP on SQLite or a throwaway
PostgreSQL schema, the outbox drained between phases, percentiles, tables and the JSON results file.

Everything started here is stopped and removed when the ``with`` block ends (also on Ctrl-C): the
registry, nats-server, the temporary directory (SQLite file, JetStream store, CSV files) and the
PostgreSQL schema.
"""

from __future__ import annotations

import contextlib
import gc
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

import httpx
from sqlalchemy import func, select, text
from sqlmodel import col

from tejido_common.natsserver import NatsServer
from tejido_common.outbox import OutboxRow
from tejido_common.testing import DatabaseTarget, database_target, service_client
from tejido_registry.settings import RegistrySettings
from tejido_registry.testing import RunningRegistry, registry_settings, running_registry

RESULTS_DIR = Path(__file__).parent / "results"
LONG_TIMEOUT = httpx.Timeout(3600.0, connect=10.0)


@dataclass
class Environment:
    backend: str  # "sqlite" or "postgresql"
    registry: RunningRegistry
    client: httpx.Client  # keep-alive client with long timeouts
    workdir: Path  # temporary, removed afterwards

    def pending_events(self) -> int:
        """Outbox rows not yet published to NATS."""
        with self.registry.db.read_session() as session:
            stmt = select(func.count()).select_from(OutboxRow).where(col(OutboxRow.published_at).is_(None))
            return int(session.scalar(stmt) or 0)

    def wait_for_outbox(self, timeout: float) -> dict[str, Any]:
        """Wait (at most ``timeout`` seconds) until every event is relayed to NATS, so the next phase
        does not compete with the relay. Returns how long it took and what is left."""
        start = time.perf_counter()
        pending = self.pending_events()
        while pending and time.perf_counter() - start < timeout:
            time.sleep(0.5)
            pending = self.pending_events()
        return {"seconds": round(time.perf_counter() - start, 2), "pending_after": pending}

    def analyze(self) -> None:
        """``--analyze``: settle the database as a long-running production one would be. SQLite: a full
        ``ANALYZE``. PostgreSQL: ``VACUUM (ANALYZE)`` of the registry's tables, which also sets the
        visibility map that index-only scans need (autovacuum does both eventually, if it is on)."""
        db = self.registry.db
        if self.backend == "sqlite":
            with db.engine.begin() as conn:
                conn.execute(text("ANALYZE"))
            return
        with db.engine.connect() as conn:
            tables = list(
                conn.execute(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
                ).scalars()
            )
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in tables:
                conn.execute(text(f'VACUUM (ANALYZE) "{table}"'))

    def database_files(self) -> dict[str, int]:
        """SQLite: sizes in bytes of the database file and its write-ahead log."""
        if self.backend != "sqlite":
            return {}
        path = Path(self.registry.db.engine.url.database or "")
        return {f.name: f.stat().st_size for f in (path, path.with_name(path.name + "-wal")) if f.exists()}

    def table_rows(self) -> dict[str, int]:
        out = {}
        with self.registry.db.read_session() as session:
            for table in ("organizations", "organization_facets", "organization_names", "outbox"):
                out[table] = int(session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
        return out


@contextlib.contextmanager
def _database(backend: str, postgres_url: str | None) -> Iterator[DatabaseTarget]:
    if backend == "sqlite":
        yield DatabaseTarget(None, None)
        return
    if not postgres_url:
        raise SystemExit("PostgreSQL needs --postgres URL")
    with contextlib.ExitStack() as stack:
        # database_target() makes (and afterwards drops) a throwaway schema on TEST_DATABASE_URL.
        with mock.patch.dict(os.environ, {"TEST_DATABASE_URL": postgres_url}):
            target = stack.enter_context(database_target("bench"))
        if not target.url:
            raise RuntimeError("database_target() did not give a PostgreSQL schema")
        yield target


@contextlib.contextmanager
def environment(backend: str, postgres_url: str | None = None) -> Iterator[Environment]:
    """NATS + registry (+ PostgreSQL schema), all removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="tejido-bench-") as tmp:
        workdir = Path(tmp)
        nats = NatsServer(workdir / "nats").start()
        try:
            with _database(backend, postgres_url) as target:
                # the production outbox poll interval, not the test suite's faster one
                settings = registry_settings(workdir / "data", nats.url, target).model_copy(
                    update={"outbox_poll_seconds": RegistrySettings().outbox_poll_seconds}
                )
                with (
                    running_registry(settings) as registry,
                    # Signed as the gateway would (services refuse unsigned calls).
                    service_client(registry.url, settings, timeout=LONG_TIMEOUT) as client,
                ):
                    yield Environment(backend, registry, client, workdir)
                # the server has stopped: let go of pooled connections before the schema is dropped
                registry.db.dispose()
        finally:
            nats.stop()


# -- figures ---------------------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def latency_summary(seconds: Sequence[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 50), 2),
        "p95_ms": round(percentile(ms, 95), 2),
        "p99_ms": round(percentile(ms, 99), 2),
        "max_ms": round(max(ms), 2),
        "mean_ms": round(sum(ms) / len(ms), 2),
    }


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], left: Sequence[int] = (0,)) -> str:
    """A compact fixed-width table (the ``left`` columns left-aligned, the others right-aligned)."""
    cells = [[str(h) for h in headers], *[[_cell(v) for v in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(row: list[str]) -> str:
        return "  ".join(
            c.ljust(widths[i]) if i in left else c.rjust(widths[i]) for i, c in enumerate(row)
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule, *(line(r) for r in cells[1:])])


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


# -- results file ----------------------------------------------------------------------------------


def _git(*args: str) -> str:
    with contextlib.suppress(Exception):
        root = Path(__file__).resolve().parent.parent
        return subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, timeout=5
        ).stdout.strip()
    return ""


def machine() -> dict[str, Any]:
    """What the figures were measured on (the code: commit, and whether libs/ or services/ had
    uncommitted changes)."""
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "git_commit": _git("rev-parse", "--short", "HEAD"),
        "git_dirty": bool(_git("status", "--porcelain", "--", "libs", "services")),
    }


def write_results(command: str, args: dict[str, Any], results: dict[str, Any]) -> Path:
    RESULTS_DIR.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS_DIR / f"{stamp}.json"
    n = 1
    while path.exists():
        n += 1
        path = RESULTS_DIR / f"{stamp}-{n}.json"
    document = {"command": command, "args": args, "finished_at": stamp, "machine": machine(), **results}
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    return path


def settle_memory() -> None:
    """Move everything the benchmark itself holds (generated data, hints) out of the garbage
    collector's reach, as the registry does with its start-up objects: in production the server does
    not share its heap with a client, so the client's objects must not lengthen the server's
    collections while latencies are measured."""
    gc.collect()
    gc.freeze()


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)

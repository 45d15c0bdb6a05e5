"""Outbox relay throughput: events staged in one transaction, then published and marked by a real
relay to a real JetStream; marking acknowledged rows in chunks against the baseline of one transaction
per event (``mark_every=1``), measured in the same run on the same database."""

from __future__ import annotations

import asyncio
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import text

from tejido_common.broker import Broker, StreamSpec
from tejido_common.consumer import ProcessedEvent
from tejido_common.db import Database
from tejido_common.events import Envelope
from tejido_common.natsserver import NatsServer
from tejido_common.outbox import OutboxRelay, OutboxRow, add_event

SUBJECT = "benchrelay.thing.happened.v1"


def _database(root: Path, backend: str, postgres: str | None, name: str) -> Database:
    if backend == "postgresql":
        assert postgres
        return Database(postgres, f"bench_relay_{uuid.uuid4().hex[:8]}")
    return Database(f"sqlite:///{root / f'{name}.db'}")


async def _one(db: Database, nats_url: str, events: int, mark_every: int) -> dict[str, Any]:
    db.ensure_schema()
    OutboxRow.metadata.create_all(
        db.engine,
        tables=[OutboxRow.__table__, ProcessedEvent.__table__],  # type: ignore[attr-defined]
    )
    with db.session() as session:
        for i in range(events):
            envelope = Envelope.new(SUBJECT, source="bench", subject=f"thing/{i % 50}", data={"n": i})
            add_event(session, envelope, aggregate_id=f"thing/{i % 50}")
    stream = "BENCHRELAY"
    broker = Broker(nats_url, "bench-relay", [StreamSpec(name=stream, subjects=["benchrelay.>"])])
    await broker.start()
    await broker.wait_ready(30)
    relay = OutboxRelay(db, broker, poll_seconds=0.02, mark_every=mark_every, service="bench")
    started = time.perf_counter()
    await relay.start()
    while relay.published_total < events:  # noqa: ASYNC110  (polling the relay's own counter)
        await asyncio.sleep(0.01)
    seconds = time.perf_counter() - started
    await relay.stop()
    stored = (await broker.js.stream_info(stream)).state.messages
    await broker.close()
    return {
        "mark_every": mark_every,
        "events": events,
        "seconds": seconds,
        "per_second": events / seconds,
        "stored": stored,
    }


def run_relay(backend: str, postgres: str | None, events: int, mark_every: int) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix="tejido-relay-bench-"))
    runs = []
    for every in (1, mark_every):
        # A fresh NATS and database per run: nothing de-duplicated across runs, nothing cached.
        nats = NatsServer(root / f"nats{every}").start()
        db = _database(root, backend, postgres, f"relay{every}")
        try:
            runs.append(asyncio.run(_one(db, nats.url, events, every)))
        finally:
            if db.schema:
                with db.engine.begin() as conn:
                    conn.execute(text(f'DROP SCHEMA IF EXISTS "{db.schema}" CASCADE'))
            db.dispose()
            nats.stop()
    return {"backend": backend, "runs": runs}


def print_relay(result: dict[str, Any]) -> None:
    baseline = result["runs"][0]["per_second"]
    print(f"\noutbox relay, {result['backend']}: events/s (× one transaction per event)")
    for run in result["runs"]:
        print(
            f"  mark_every={run['mark_every']:<4} {run['per_second']:8.0f} events/s "
            f"({run['per_second'] / baseline:.1f}×), {run['stored']} stored of {run['events']}"
        )

"""A real 3-node JetStream cluster on loopback (no Docker): R3 streams survive losing the stream leader."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

from tejido_common.broker import Broker, service_stream
from tejido_common.events import Envelope
from tejido_common.natsserver import NatsCluster
from tejido_common.outbox import OutboxRelay, add_event
from tejido_common.testing import DatabaseTarget

from .test_outbox import make_db, wait_for

EVENTS = 200


async def test_killing_the_stream_leader_during_200_writes_loses_and_duplicates_nothing(
    tmp_path: Path, data_dir: Path, db_target: DatabaseTarget
) -> None:
    cluster = NatsCluster(tmp_path / "cluster").start()
    db = make_db(data_dir, db_target)
    stream = service_stream("testprod", replicas=3)
    broker = Broker(cluster.url, "test-cluster", [stream])
    relay = OutboxRelay(db, broker, poll_seconds=0.05, batch_size=20, publish_timeout=2.0, service="t")
    try:
        await broker.start()
        # Forming the cluster and electing a JetStream meta leader takes a few seconds.
        assert await broker.wait_ready(60), "cluster never became ready"
        info = await broker.js.stream_info(stream.name)
        assert info.config.num_replicas == 3
        leader = info.cluster.leader if info.cluster else None
        assert leader, "no stream leader"
        await relay.start()

        staged: list[str] = []
        for i in range(EVENTS):
            envelope = Envelope.new(
                "testprod.thing.happened.v1", source="t", subject=f"thing/{i}", data={"n": i}
            )
            with db.session() as session:
                add_event(session, envelope, aggregate_id=f"thing{i % 10}")
            staged.append(envelope.id)
            if i == 60:
                await asyncio.to_thread(cluster.by_name(leader).kill)  # SIGKILL, mid-stream
                killed = leader
            if i == 140:
                await asyncio.to_thread(cluster.by_name(killed).start)  # back, same store
            await asyncio.sleep(0.005)

        await wait_for(lambda: relay.pending_count() == 0, timeout=90)
        # Read everything back (from whichever node now leads): every event exactly once, in order
        # per aggregate.
        deadline = time.monotonic() + 30
        while True:
            info = await broker.js.stream_info(stream.name)
            if info.state.messages >= EVENTS or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        ids: list[str] = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            msg = await broker.js.get_msg(stream.name, seq)
            ids.append(Envelope.from_bytes(msg.data or b"").id)
        assert Counter(ids) == Counter(staged)
        assert max(Counter(ids).values()) == 1
        for aggregate in range(10):
            mine = [e for j, e in enumerate(staged) if j % 10 == aggregate]
            assert [e for e in ids if e in set(mine)] == mine
    finally:
        await relay.stop()
        await broker.close()
        cluster.stop()
        db.dispose()

"""Container tier (testcontainers): PostgreSQL and a 3-node NATS cluster in containers, as deployed.

Runs where a Docker engine answers; skipped with the reason where none does (as on the CI machine,
where libs/common/tests/test_cluster.py covers the same cluster with local nats-server processes).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest

from tejido_common.broker import Broker, service_stream
from tejido_common.db import Database
from tejido_common.events import Envelope
from tejido_common.outbox import OutboxRelay, OutboxRow, add_event


def docker_engine() -> str | None:
    """None when a Docker engine answers, else why not."""
    try:
        import docker

        docker.from_env(timeout=3).ping()
    except Exception as exc:
        return f"no Docker engine answers ({type(exc).__name__}: {str(exc)[:120]})"
    return None


REASON = docker_engine()
pytestmark = pytest.mark.skipif(REASON is not None, reason=f"container tier skipped: {REASON}")

NATS_IMAGE = "nats:2.15.1-alpine"  # the image docker-compose.yml runs


async def test_200_events_through_an_r3_cluster_in_containers_arrive_once(tmp_path: Path) -> None:
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.network import Network
    from testcontainers.core.waiting_utils import wait_for_logs
    from testcontainers.postgres import PostgresContainer

    with Network() as network, PostgresContainer("postgres:16") as pg:
        routes = ",".join(f"nats://nats-{i}:6222" for i in (1, 2, 3))
        nodes = []
        for i in (1, 2, 3):
            node = (
                DockerContainer(NATS_IMAGE)
                .with_network(network)
                .with_network_aliases(f"nats-{i}")
                .with_exposed_ports(4222)
                .with_command(
                    f"-js -sd /data --server_name nats-{i} --cluster_name tejido "
                    f"--cluster nats://0.0.0.0:6222 --routes {routes}"
                )
            )
            node.start()
            nodes.append(node)
        try:
            for node in nodes:
                wait_for_logs(node, "Server is ready", timeout=60)
            url = ",".join(f"nats://{n.get_container_host_ip()}:{n.get_exposed_port(4222)}" for n in nodes)
            db = Database(pg.get_connection_url().replace("+psycopg2", ""), "containers")
            db.ensure_schema()
            OutboxRow.metadata.create_all(db.engine, tables=[OutboxRow.__table__])  # type: ignore[attr-defined]
            stream = service_stream("testprod", replicas=3)
            broker = Broker(url, "containers", [stream])
            relay = OutboxRelay(db, broker, poll_seconds=0.05, service="containers")
            await broker.start()
            assert await broker.wait_ready(90)
            await relay.start()
            staged = []
            for i in range(200):
                e = Envelope.new("testprod.thing.happened.v1", source="t", subject=f"t/{i}", data={"n": i})
                with db.session() as session:
                    add_event(session, e)
                staged.append(e.id)
            while relay.pending_count():
                await asyncio.sleep(0.2)
            info = await broker.js.stream_info(stream.name)
            ids = [
                Envelope.from_bytes((await broker.js.get_msg(stream.name, s)).data or b"").id
                for s in range(info.state.first_seq, info.state.last_seq + 1)
            ]
            assert Counter(ids) == Counter(staged) and info.config.num_replicas == 3
            await relay.stop()
            await broker.close()
            db.dispose()
        finally:
            for node in nodes:
                node.stop()

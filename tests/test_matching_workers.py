"""Matching scaled by worker processes: two real workers behind a NATS queue group, the real registry
and the matching API (without its in-process worker), all on a real nats-server."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nats
import pytest

from tejido_common.natsserver import NatsServer
from tejido_common.testing import DatabaseTarget, database_target, wait_until
from tejido_matching.testing import RunningMatching, matching_settings, org, registry_body, running_matching
from tejido_registry.testing import RunningRegistry, registry_settings, running_registry


@pytest.fixture
def registry(data_dir: Path, nats_server: NatsServer) -> Iterator[RunningRegistry]:
    with database_target("reg") as target:
        settings = registry_settings(data_dir / "registry", nats_server.url, target)
        settings.data_dir.mkdir(exist_ok=True)
        with running_registry(settings) as running:
            yield running


@pytest.fixture
def api(data_dir: Path, nats_server: NatsServer, db_target: DatabaseTarget) -> Iterator[RunningMatching]:
    settings = matching_settings(
        data_dir,
        nats_server.url,
        db_target,
        embeddings_enabled=False,
        embedded_worker=False,
        rank_timeout_seconds=6,
    )
    with running_matching(settings) as running:
        yield running


def start_worker(api: RunningMatching, name: str) -> subprocess.Popen[bytes]:
    s = api.settings
    env = {
        **os.environ,
        "TEJIDO_MATCHING_NATS_URL": s.nats_url,
        "TEJIDO_MATCHING_DATA_DIR": str(s.data_dir),
        "TEJIDO_MATCHING_EMBEDDINGS_ENABLED": "false",
        "TEJIDO_MATCHING_LOG_LEVEL": "WARNING",
        "TEJIDO_MATCHING_WORKER_NAME": name,
        # Restored state must come from the snapshot, not from a replay of everything before it.
        "TEJIDO_MATCHING_RESUME_MARGIN_SECONDS": "0",
    }
    if s.database_url:
        env["TEJIDO_MATCHING_DATABASE_URL"] = s.database_url
        env["TEJIDO_MATCHING_DATABASE_SCHEMA"] = str(s.database_schema)
    return subprocess.Popen([sys.executable, "-m", "tejido_matching.workers"], env=env)


def ask_worker(nats_url: str, name: str, request: dict[str, Any]) -> dict[str, Any] | None:
    async def go() -> dict[str, Any] | None:
        nc = await nats.connect(nats_url)
        try:
            msg = await nc.request(f"rpc.matching.rank.{name}", json.dumps(request).encode(), timeout=2)
            answer: dict[str, Any] = json.loads(msg.data)
            return answer
        except Exception:
            return None
        finally:
            await nc.close()

    return asyncio.run(go())


def names(answer: dict[str, Any] | None) -> list[str]:
    return [i["candidate"]["name"] for i in (answer or {}).get("items", [])]


def test_two_workers_share_requests_survive_a_kill_and_follow_registry_changes(
    registry: RunningRegistry, api: RunningMatching
) -> None:
    requester = org(
        "Mujeres de Cajeme", subdivisions=["MX-SON"], needs=[("training", "Capacitación contable")]
    )
    candidates = [
        org(f"Capacitadora {i}", subdivisions=["MX-SON"], offers=[("training", "Cursos de contabilidad")])
        for i in range(5)
    ]
    ids = {}
    for p in [requester, *candidates]:
        resp = registry.client.post("/v1/organizations", json=registry_body(p))
        assert resp.status_code == 201, resp.text
        ids[p["identity"]["legal_name"]] = resp.json()["id"]
    requester_id = ids["Mujeres de Cajeme"]
    workers = {name: start_worker(api, name) for name in ("w1", "w2")}
    try:
        request = {"organization_id": requester_id, "limit": 10}
        for name in workers:
            wait_until(
                lambda n=name: len(names(ask_worker(api.settings.nats_url, n, request))) == 5,
                # A worker process imports numpy and friends first: slow on a busy machine without .pyc files.
                timeout=120,
                message=f"{name} caught up",
            )

        # A registry change reaches both workers within a second.
        archived = ids["Capacitadora 0"]
        started = time.monotonic()
        assert registry.client.post(f"/v1/organizations/{archived}:archive").status_code == 200
        for name in workers:
            wait_until(
                lambda n=name: "Capacitadora 0" not in names(ask_worker(api.settings.nats_url, n, request)),
                timeout=5,
                message=f"{name} saw the archival",
            )
        assert time.monotonic() - started <= 1.0

        # 200 requests through the API; one worker is killed (SIGKILL) half-way; none fails.
        served: Counter[str] = Counter()
        for i in range(200):
            if i == 100:
                workers["w1"].send_signal(signal.SIGKILL)
                workers["w1"].wait(10)
            resp = api.client.get("/v1/matches", params={"organization_id": requester_id})
            assert resp.status_code == 200, (i, resp.text)
            assert len(resp.json()["items"]) == 4
            served[f"{resp.json()['served_by']}:{'before' if i < 100 else 'after'}"] += 1
        assert served["w1:before"] > 0 and served["w2:before"] > 0
        assert served["w1:after"] == 0 and served["w2:after"] == 100

        # A restarted worker restores from the snapshot (resume margin 0: no replay of older events).
        workers["w1"] = start_worker(api, "w1")
        wait_until(
            lambda: (
                names(ask_worker(api.settings.nats_url, "w1", request))
                and "Capacitadora 0" not in names(ask_worker(api.settings.nats_url, "w1", request))
            ),
            timeout=120,
            message="w1 restored",
        )
        assert len(names(ask_worker(api.settings.nats_url, "w1", request))) == 4
    finally:
        for proc in workers.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()


def test_a_worker_follows_on_after_its_consumers_are_lost(
    registry: RunningRegistry, api: RunningMatching
) -> None:
    """Workers read through named, non-durable consumers (one filter each, checked by the NATS
    permissions). Lost ones (server restart, deleted) are recreated after the last message applied."""
    requester = org("Colectivo Yaqui", subdivisions=["MX-SON"], needs=[("training", "Talleres de oficios")])
    helper = org("Escuela de Oficios", subdivisions=["MX-SON"], offers=[("training", "Talleres de oficios")])
    ids = [
        registry.client.post("/v1/organizations", json=registry_body(p)).json()["id"]
        for p in (requester, helper)
    ]
    request = {"organization_id": ids[0], "limit": 10}
    worker = start_worker(api, "w3")
    try:
        wait_until(
            lambda: names(ask_worker(api.settings.nats_url, "w3", request)) == ["Escuela de Oficios"],
            timeout=120,
            message="w3 caught up",
        )

        async def drop_followers() -> list[str]:
            nc = await nats.connect(api.settings.nats_url)
            js = nc.jetstream()
            dropped = []
            for info in await js.consumers_info("REGISTRY"):
                if info.name.startswith("matching-follower-"):
                    await js.delete_consumer("REGISTRY", info.name)
                    dropped.append(info.name)
            await nc.close()
            return dropped

        assert len(asyncio.run(drop_followers())) >= 4  # one per subscribed registry type
        assert registry.client.post(f"/v1/organizations/{ids[1]}:archive").status_code == 200
        wait_until(
            lambda: names(ask_worker(api.settings.nats_url, "w3", request)) == [],
            timeout=30,
            message="w3 saw the archival through new consumers",
        )
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(10)
        except subprocess.TimeoutExpired:
            worker.kill()

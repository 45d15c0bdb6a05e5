"""`tejido up` keeps the platform up: a service killed with SIGKILL is restarted, and nothing is lost."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import signal
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from rich.console import Console

from tejido_cli.config import SERVICES, LauncherConfig
from tejido_cli.launcher import Launcher, start_component
from tejido_common.natsserver import free_port
from tejido_common.testing import EventCollector
from tejido_registry.testing import org_body

from .test_launcher_e2e import (
    START_TIMEOUT,
    STOP_TIMEOUT,
    alive,
    demo_lines,
    descendants,
    free_port_block,
    organization_count,
    poll,
    start_launcher,
)

# Whole-platform starts: each launch imports every service (slow on 2 busy cores).
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]


def registry_pid(launcher_pid: int) -> int:
    for pid in descendants(launcher_pid):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"tejido_registry.app" in cmdline:
            return pid
    raise AssertionError("no registry process under the launcher")


def test_a_killed_registry_is_restarted_and_no_event_is_lost(tmp_path: Path) -> None:
    data_dir, output = tmp_path / "data", tmp_path / "launcher.out"
    port = free_port_block()
    gateway = f"http://127.0.0.1:{port}"
    launcher = start_launcher(data_dir, port, output)
    children: set[int] = set()
    collector: EventCollector | None = None
    try:
        expected = demo_lines()
        poll(lambda: organization_count(gateway) == expected, START_TIMEOUT, "demo organizations", launcher)
        children = descendants(launcher.pid)
        nats_url = json.loads((data_dir / "tejido-up.json").read_text())["nats_url"]
        # The embedded NATS requires users: observe as the launcher's operations user.
        users = json.loads((data_dir / "nats-users.json").read_text())
        collector = EventCollector(
            nats_url, "registry.>", credentials={"user": "operator", "password": users["operator"]}
        ).start()

        victim = registry_pid(launcher.pid)
        os.kill(victim, signal.SIGKILL)
        killed_at = time.monotonic()
        # Meanwhile the gateway answers with 503 problem documents (never a hang, never a 500).
        statuses: Counter[int] = Counter()

        def serving() -> bool:
            try:
                response = httpx.get(f"{gateway}/v1/organizations", timeout=5)
            except httpx.HTTPError:
                return False
            statuses[response.status_code] += 1
            if response.status_code == 503:
                assert response.headers["content-type"] == "application/problem+json"
            return response.status_code == 200

        poll(serving, 90, "the registry back behind the gateway", launcher)
        # Restart after 1 s plus the registry's own start-up (imports dominate: ~6 s of CPU, far more
        # on a loaded CI machine); the bound only catches "never restarted" or a runaway backoff.
        back_after = time.monotonic() - killed_at
        print(f"registry serving again {back_after:.1f}s after SIGKILL")
        assert back_after < 60
        assert set(statuses) <= {200, 503}, statuses
        assert "registry exited with code -9; restarting" in " ".join(output.read_text().split())

        key = (data_dir / "demo-admin-key").read_text().strip()  # writes need credentials
        created = httpx.post(
            f"{gateway}/v1/organizations",
            json=org_body("Colectivo Tras el Reinicio"),
            headers={"Authorization": f"Bearer {key}"},
            timeout=10,
        )
        assert created.status_code == 201, created.text
        new_id = created.json()["id"]
        collector.wait_for(expected + 1, timeout=30)
        time.sleep(0.5)
        ids = Counter(e.id for e in collector.events)
        assert max(ids.values()) == 1  # nothing twice
        registered = [e for e in collector.events if e.type == "registry.organization.registered.v1"]
        assert len(registered) == expected + 1  # nothing lost: every organization's event, once
        assert registered[-1].data["organization"]["id"] == new_id
    finally:
        if collector is not None:
            collector.stop()
        if launcher.poll() is None:
            os.killpg(launcher.pid, signal.SIGINT)
            try:
                launcher.wait(STOP_TIMEOUT)
            except Exception:
                os.killpg(launcher.pid, signal.SIGKILL)
                launcher.wait()
        for pid in children | descendants(launcher.pid):
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_a_component_that_keeps_crashing_at_start_is_given_up_with_a_clear_message(tmp_path: Path) -> None:
    # A registry whose app cannot even be imported: it exits at once, every time it is started.
    broken = dataclasses.replace(SERVICES[0], app_factory="tejido_registry.no_such_module:app")
    cfg = LauncherConfig(data_dir=tmp_path, gateway_port=free_port())
    out, err = io.StringIO(), io.StringIO()
    launcher = Launcher(cfg, Console(file=out, width=300), Console(file=err, width=300))
    launcher.restart_backoff_cap = 0.2
    launcher.fast_crash_limit = 3
    launcher.children = [start_component(cfg, broken, "nats://127.0.0.1:9")]
    started = time.monotonic()
    try:
        assert launcher._wait() == 1
    finally:
        for child in launcher.children:
            child.terminate()
            child.wait_or_kill(5)
    message = " ".join(err.getvalue().split())
    assert "registry exited with code 3; restarting in" in message  # uvicorn: cannot load the app
    assert "registry crashed 3 times in a row" in message and "giving up" in message
    assert "no_such_module" in message  # the log tail says why
    assert time.monotonic() - started < 60

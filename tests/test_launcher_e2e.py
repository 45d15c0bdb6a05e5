"""`tejido up` end to end: the real command, real nats-server, every service and the gateway as processes."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import httpx
import pytest

from tejido_cli.demo_observations import demo_observation_rows
from tejido_common.natsserver import free_port, port_is_free

# Whole-platform starts: each launch imports every service (slow on 2 busy cores).
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

COMPONENT_COUNT = 5  # gateway + registry, matching, duediligence, reporting on the next four ports
START_TIMEOUT = 120.0
STOP_TIMEOUT = 45.0


def tejido_executable() -> str:
    found = shutil.which("tejido", path=str(Path(sys.executable).parent))
    assert found, f"no tejido script next to {sys.executable}; run make install"
    return found


def free_port_block(count: int = COMPONENT_COUNT) -> int:
    """A gateway port such that it and the next count-1 ports are free right now."""
    for _ in range(200):
        base = free_port()
        if base + count - 1 <= 65535 and all(port_is_free(base + i) for i in range(count)):
            return base
    raise RuntimeError("no block of free ports found")


def launcher_env(data_dir: Path, gateway_port: int) -> dict[str, str]:
    # Drop any TEJIDO_* from the caller (an external NATS or PostgreSQL would change what runs).
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEJIDO_")}
    env.update(
        TEJIDO_DATA_DIR=str(data_dir),
        TEJIDO_GATEWAY_PORT=str(gateway_port),
        TEJIDO_LOG_LEVEL="WARNING",
        COLUMNS="200",
    )
    return env


def start_launcher(data_dir: Path, gateway_port: int, output: Path) -> subprocess.Popen[bytes]:
    with open(output, "ab") as out:
        # Own session, so the test can send SIGINT to the whole group as a terminal's Ctrl-C does.
        return subprocess.Popen(
            [tejido_executable(), "up"],
            env=launcher_env(data_dir, gateway_port),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def demo_lines() -> int:
    text = resources.files("tejido_cli").joinpath("demo/organizations.jsonl").read_text(encoding="utf-8")
    return sum(1 for line in text.splitlines() if line.strip())


def poll(
    predicate: Callable[[], object], timeout: float, what: str, launcher: subprocess.Popen[bytes]
) -> None:
    """Poll until predicate() is truthy; fail at once if the launcher exits meanwhile."""
    deadline = time.monotonic() + timeout
    while not predicate():
        code = launcher.poll()
        assert code is None, f"tejido up exited with {code} while waiting for {what}"
        assert time.monotonic() < deadline, f"timed out after {timeout}s waiting for {what}"
        time.sleep(0.2)


def organization_count(gateway: str) -> int:
    try:
        response = httpx.get(f"{gateway}/v1/organizations", params={"limit": 200}, timeout=5)
    except httpx.HTTPError:
        return -1
    if response.status_code != 200:
        return -1
    return len(response.json()["items"])


def descendants(pid: int) -> set[int]:
    """Every process below pid, from /proc (children are in their own sessions, not the same group)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # Field 4 (ppid) follows the parenthesised command name, which may itself contain spaces.
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture
def launcher_output(tmp_path: Path) -> Path:
    return tmp_path / "launcher.out"


def ready(gateway: str) -> bool:
    try:
        return httpx.get(f"{gateway}/readyz", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def run_and_stop(
    data_dir: Path, gateway_port: int, output: Path, stop: Callable[[subprocess.Popen[bytes]], None]
) -> tuple[subprocess.Popen[bytes], set[int]]:
    """Start `tejido up`, wait for the demo organizations, stop it with `stop`; return it and its children."""
    launcher = start_launcher(data_dir, gateway_port, output)
    gateway = f"http://127.0.0.1:{gateway_port}"
    children: set[int] = set()
    try:
        expected = demo_lines()
        poll(lambda: organization_count(gateway) == expected, START_TIMEOUT, "demo organizations", launcher)
        # Right after the demo load a service may still be busy (matching embeds every new profile):
        # readiness is polled with a deadline, like everything else here.
        poll(lambda: ready(gateway), 60, "gateway ready", launcher)
        poll(lambda: (data_dir / "demo-loaded").exists(), 10, "demo marker", launcher)
        if Path("/proc").is_dir():
            children = descendants(launcher.pid)
            # nats-server plus five uvicorn processes.
            assert len(children) >= COMPONENT_COUNT + 1, children
        stop(launcher)
        launcher.wait(STOP_TIMEOUT)
    finally:
        if launcher.poll() is None:
            os.killpg(launcher.pid, signal.SIGKILL)
            launcher.wait()
        for pid in children:  # never leave processes behind, even when an assertion failed
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
    return launcher, children


def assert_nothing_left(children: set[int], gateway_port: int) -> None:
    survivors = [pid for pid in children if alive(pid)]
    assert not survivors, f"processes outlived the launcher: {survivors}"
    busy = [gateway_port + i for i in range(COMPONENT_COUNT) if not port_is_free(gateway_port + i)]
    assert not busy, f"ports still taken after shutdown: {busy}"


def test_up_serves_demo_data_and_ctrl_c_stops_everything(tmp_path: Path, launcher_output: Path) -> None:
    data_dir = tmp_path / "data"
    gateway_port = free_port_block()

    # Ctrl-C in a terminal: SIGINT to the launcher's whole foreground process group.
    launcher, children = run_and_stop(
        data_dir, gateway_port, launcher_output, lambda p: os.killpg(p.pid, signal.SIGINT)
    )
    output = launcher_output.read_text()
    assert launcher.returncode == 0, output
    assert_nothing_left(children, gateway_port)
    assert f"http://127.0.0.1:{gateway_port}/docs" in output
    assert str(data_dir / "logs") in output
    assert f"{demo_lines()} created, 0 already present" in output
    assert "0 demo alliances created" not in output
    assert f"{len(demo_observation_rows())} demo observations recorded" in output
    # The operator provisions every stream before the services start (they may not create one).
    streams = next(line for line in output.splitlines() if line.startswith("streams: "))
    for stream in ("REGISTRY", "MATCHING", "DUEDILIGENCE", "REPORTING", "DEADLETTER"):
        assert f"{stream}: created" in streams
    for name in ("gateway", "registry", "matching", "duediligence", "reporting", "nats"):
        assert (data_dir / "logs" / f"{name}.log").exists()

    # A run whose demo load was interrupted (no marker) loads again: all unchanged, no duplicates.
    (data_dir / "demo-loaded").unlink()
    launcher_output.write_text("")
    launcher, children = run_and_stop(data_dir, gateway_port, launcher_output, lambda p: p.terminate())
    output = launcher_output.read_text()
    assert launcher.returncode == 0, output
    assert_nothing_left(children, gateway_port)
    assert f"0 created, {demo_lines()} already present" in output
    assert "0 demo alliances created" in output
    assert f"{len(demo_observation_rows())} demo observations recorded" in output  # replayed, not twice
    assert "REGISTRY: unchanged" in output  # provisioned again on every start: nothing to change


def test_busy_gateway_port_is_reported_before_anything_starts(tmp_path: Path, launcher_output: Path) -> None:
    data_dir = tmp_path / "data"
    gateway_port = free_port_block()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as blocker:
        blocker.bind(("127.0.0.1", gateway_port))
        blocker.listen()
        launcher = start_launcher(data_dir, gateway_port, launcher_output)
        try:
            code = launcher.wait(30)
        finally:
            if launcher.poll() is None:
                os.killpg(launcher.pid, signal.SIGKILL)
                launcher.wait()
    output = " ".join(launcher_output.read_text().split())
    assert code != 0, output
    assert f"port {gateway_port}" in output
    assert "gateway" in output
    assert "TEJIDO_GATEWAY_PORT" in output
    assert not data_dir.exists(), "nothing may be started or created when a port is busy"

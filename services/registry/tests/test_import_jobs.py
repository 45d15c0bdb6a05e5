"""Imports attacked from outside: odd cells, line endings and nesting become per-row errors; every import
is a job with a durable report, so a client always learns exactly what was committed."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tejido_common.natsserver import NatsServer
from tejido_common.testing import DatabaseTarget
from tejido_registry.testing import RunningRegistry, registry_settings, running_registry

HEADER = ["legal_name", "identifiers", "actor_type", "country", "mission"]


def row(i: int, **change: str) -> dict[str, str]:
    return {
        "legal_name": f"Colectivo Número {i} de Prueba",
        "identifiers": f"XX-TEST:{i}",
        "actor_type": "cso",
        "country": "MX",
        "mission": "Acompañar a las familias",
        **change,
    }


def csv_bytes(rows: list[dict[str, str]], lineterminator: str = "\r\n") -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=HEADER, lineterminator=lineterminator)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def post(registry: RunningRegistry, body: bytes, content_type: str = "text/csv"):
    return registry.client.post(
        "/v1/organizations:import", content=body, headers={"content-type": content_type}, timeout=60
    )


def job(registry: RunningRegistry, import_id: str) -> dict:
    r = registry.client.get(f"/v1/organizations/imports/{import_id}")
    assert r.status_code == 200, r.text
    return r.json()


def test_huge_cell_is_a_row_error_and_the_other_rows_are_imported(registry: RunningRegistry) -> None:
    body = csv_bytes([row(1), row(2, mission="x" * 200_000), row(3)])
    r = post(registry, body)
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["created"] == 2 and report["failed"] == 1
    assert [(e["row"], e["field"]) for e in report["errors"]] == [(2, "row")]


def test_cr_only_line_endings_of_old_excel_are_read(registry: RunningRegistry) -> None:
    r = post(registry, csv_bytes([row(1), row(2), row(3, mission="dos\rlíneas")], lineterminator="\r"))
    assert r.status_code == 200, r.text
    assert r.json()["created"] == 3 and r.json()["failed"] == 0, r.json()


def test_too_deep_json_line_is_a_row_error(registry: RunningRegistry) -> None:
    good = {
        "identity": {"legal_name": "Colectivo Profundo", "actor_type": "cso"},
        "where": {"country": "MX"},
    }
    deep = '{"identity": ' + "[" * 100_000 + "]" * 100_000 + "}"
    body = "\n".join([deep, json.dumps(good)]) + "\n"
    r = post(registry, body.encode(), "application/x-ndjson")
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["created"] == 1 and report["failed"] == 1
    assert report["errors"][0]["row"] == 1 and "nested" in report["errors"][0]["reason"]


def test_every_import_is_a_job_with_a_durable_report(registry: RunningRegistry) -> None:
    r = post(registry, csv_bytes([row(1), row(2, country="XX")]))
    report = r.json()
    assert report["state"] == "completed" and report["rows_committed"] == 2
    assert r.headers["location"] == f"/v1/organizations/imports/{report['id']}"
    stored = job(registry, report["id"])
    assert stored == report
    assert stored["created"] == 1 and stored["errors"][0]["field"] == "country"
    assert registry.client.get("/v1/organizations/imports/nope").status_code == 404


def test_encoding_error_part_way_names_the_row_and_what_was_committed(registry: RunningRegistry) -> None:
    good = csv_bytes([row(i) for i in range(1, 601)])
    bad = "Café Latino,XX-TEST:999,cso,MX,misión\r\n".encode("latin-1")
    r = post(registry, good + bad + csv_bytes([row(1000)])[len(",".join(HEADER)) + 2 :])
    assert r.status_code == 400, r.text
    problem = r.json()
    assert problem["errors"][0]["field"] == "file" and "row 601" in problem["errors"][0]["reason"]
    stored = job(registry, problem["import_id"])
    assert stored["state"] == "failed" and "row 601" in stored["stopped_reason"]
    assert stored["rows_committed"] == 600 and stored["created"] == 600
    total = registry.client.get("/v1/organizations", params={"limit": 1, "identifier": "XX-TEST:600"})
    assert len(total.json()["items"]) == 1


@pytest.fixture
def small_import_registry(
    data_dir: Path, nats_server: NatsServer, db_target: DatabaseTarget
) -> Iterator[RunningRegistry]:
    settings = registry_settings(
        data_dir, nats_server.url, db_target, import_max_body_bytes=40_000, import_batch_size=50
    )
    with running_registry(settings) as running:
        yield running


def test_body_over_the_limit_part_way_reports_what_was_committed(
    small_import_registry: RunningRegistry,
) -> None:
    registry = small_import_registry

    def chunks() -> Iterator[bytes]:  # streamed: no Content-Length to reject up front
        yield csv_bytes([row(i) for i in range(1, 1001)])

    r = registry.client.post(
        "/v1/organizations:import", content=chunks(), headers={"content-type": "text/csv"}, timeout=60
    )
    assert r.status_code == 413, r.text
    problem = r.json()
    stored = job(registry, problem["import_id"])
    assert stored["state"] == "failed" and "40000 bytes" in stored["stopped_reason"]
    committed = stored["rows_committed"]
    assert 0 < committed < 1000 and stored["created"] == committed, stored["errors"][:3]
    exported = registry.client.get("/v1/organizations:export", params={"format": "jsonl"}).text
    assert len(exported.splitlines()) == committed


def test_client_gone_mid_import_leaves_a_report_of_what_was_committed(
    small_import_registry: RunningRegistry,
) -> None:
    import socket
    from urllib.parse import urlsplit

    from sqlalchemy import select

    from tejido_common.identity import PRINCIPAL_HEADER, TEST_ADMIN, load_internal_secret, sign_principal
    from tejido_common.testing import wait_until
    from tejido_registry.organizations.models import OrganizationImportRow

    registry = small_import_registry
    url = urlsplit(registry.url)
    body = csv_bytes([row(i) for i in range(1, 121)])
    sock = socket.create_connection((url.hostname, url.port))
    head = (
        f"POST /v1/organizations:import HTTP/1.1\r\nHost: {url.netloc}\r\nContent-Type: text/csv\r\n"
        "Transfer-Encoding: chunked\r\n"
    )
    # Vouched for as the gateway would (the test client signs through httpx auth, not headers).
    secret = load_internal_secret(registry.settings)
    identity = sign_principal(TEST_ADMIN, secret, "POST", "/v1/organizations:import")
    head += f"{PRINCIPAL_HEADER}: {identity}\r\n"
    sock.sendall((head + "\r\n").encode())
    sock.sendall(f"{len(body):x}\r\n".encode() + body + b"\r\n")  # no final chunk: the client vanishes

    def job() -> OrganizationImportRow | None:
        with registry.db.read_session() as s:
            return s.scalars(select(OrganizationImportRow)).first()

    wait_until(lambda: (j := job()) is not None and j.rows_committed == 100, message="first batches")
    sock.close()
    wait_until(lambda: (j := job()) is not None and j.state == "failed", message="the import stops")
    stopped = job()
    assert stopped is not None and "disconnected" in (stopped.stopped_reason or "")
    # every complete row received was committed, and the report says so
    assert stopped.rows_committed == 120 and stopped.report["created"] == 120

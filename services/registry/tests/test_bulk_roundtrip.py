"""Export → import is the identity: formula cells are neutralized without losing a character, list
separators inside values survive, every demo and generated profile comes back ``unchanged``; people
given on import reach due diligence on their own event."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bench.data import OrgGenerator
from tejido_common.outbox import OutboxRow
from tejido_registry.organizations.bulk.tabular import HEADER, record_from_row
from tejido_registry.testing import RunningRegistry, org_body

EMPTY_ITEM = {"program_areas": [], "places": [], "quantity": None, "amount": None, "period": None}
DEMO = Path(__file__).resolve().parents[3] / "libs/cli/src/tejido_cli/demo/organizations.jsonl"


def post_import(registry: RunningRegistry, body: bytes, content_type: str = "text/csv") -> dict[str, Any]:
    r = registry.client.post(
        "/v1/organizations:import", content=body, headers={"content-type": content_type}, timeout=120
    )
    assert r.status_code == 200, r.text
    report: dict[str, Any] = r.json()
    return report


def export(registry: RunningRegistry, fmt: str) -> str:
    r = registry.client.get("/v1/organizations:export", params={"format": fmt}, timeout=120)
    assert r.status_code == 200, r.text
    return r.text


def exported_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_formula_cells_are_neutralized_and_read_back_exactly(registry: RunningRegistry) -> None:
    identity = {
        "legal_name": '=HYPERLINK("http://evil.example","Fundación")',
        "aliases": ["+SUM(A1:A9)", "@cmd", "-2+3", "'=already quoted"],
        "acronym": "=A1",
    }
    body = org_body(
        "x",
        identity=identity,
        where={"coordinates": {"lat": -29.5, "lon": -110.25}},
        purpose={"mission": "-1+1 es la meta"},
    )
    created = registry.client.post("/v1/organizations", json=body)
    assert created.status_code == 201, created.text
    text = export(registry, "csv")
    (row,) = exported_rows(text)
    for column in ("legal_name", "aliases", "acronym", "mission"):
        assert row[column][0] == "'", (column, row[column])  # a spreadsheet shows it as text
    assert row["latitude"] == "-29.5" and row["longitude"] == "-110.25"  # plain numbers stay numbers
    record = record_from_row(row)
    assert record["identity"]["legal_name"] == identity["legal_name"]
    assert record["identity"]["aliases"] == identity["aliases"]
    assert record["identity"]["acronym"] == "=A1" and record["purpose"]["mission"] == "-1+1 es la meta"
    assert post_import(registry, text.encode())["unchanged"] == 1


def test_list_separators_inside_values_survive_the_round_trip(registry: RunningRegistry) -> None:
    body = org_body(
        "Colectivo Barra",
        identity={
            "aliases": ["Alpha | Beta", "Back\\slash", "Trailing \\"],
            "identifiers": [{"scheme": "XX-TEST", "id": "A|B"}, {"scheme": "XX-TEST", "id": "C\\|D"}],
        },
        where={
            "country": "EC",
            "subdivisions": [],
            "areas_of_operation": [{"country": "EC", "subdivision": "EC-P", "municipality": "Quito|Norte"}],
            "municipalities": ["Quito|Norte", "Otra"],
        },
        # more than the flat form carries: an equal cell must leave it as it is
        cooperation={"offers": [{"kind": "training", "description": "Talleres | sábados"}]},
    )
    created = registry.client.post("/v1/organizations", json=body)
    assert created.status_code == 201, created.text
    text = export(registry, "csv")
    record = record_from_row(exported_rows(text)[0])
    assert record["identity"]["aliases"] == ["Alpha | Beta", "Back\\slash", "Trailing \\"]
    assert record["identity"]["identifiers"] == [
        {"scheme": "XX-TEST", "id": "A|B"},
        {"scheme": "XX-TEST", "id": "C\\|D"},
    ]
    assert record["where"]["areas_of_operation"] == [
        {"country": "EC", "subdivision": "EC-P", "municipality": "Quito|Norte"}
    ]
    assert record["where"]["municipalities"] == ["Quito|Norte", "Otra"]
    assert post_import(registry, text.encode())["unchanged"] == 1
    edited = text.replace("Otra", "Otra Más")
    assert post_import(registry, edited.encode())["updated"] == 1
    org = registry.client.get(f"/v1/organizations/{created.json()['id']}").json()
    assert org["where"]["municipalities"] == ["Quito|Norte", "Otra Más"]
    assert org["cooperation"]["offers"] == [
        {"kind": "training", "description": "Talleres | sábados", **EMPTY_ITEM}
    ]


def test_every_demo_and_generated_profile_round_trips_unchanged(registry: RunningRegistry) -> None:
    demo = DEMO.read_bytes()
    demo_report = post_import(registry, demo, "application/x-ndjson")
    assert demo_report["failed"] == 0 and demo_report["created"] == len(demo.splitlines()), demo_report
    generated = io.StringIO()
    writer = csv.DictWriter(generated, fieldnames=HEADER)
    writer.writeheader()
    for org in OrgGenerator(seed=7).orgs(150):
        writer.writerow(org.row)
    report = post_import(registry, generated.getvalue().encode())
    assert report["failed"] == 0, report["errors"][:3]
    total = demo_report["created"] + report["created"]
    for fmt, media in (("csv", "text/csv"), ("jsonl", "application/x-ndjson")):
        again = post_import(registry, export(registry, fmt).encode(), media)
        assert again["unchanged"] == total and again["failed"] == 0, (fmt, again["errors"][:3])
    # The tabular form itself is lossless for every profile: what a row parses to exports as the same row.
    from tejido_registry.organizations.bulk.tabular import row_from_organization
    from tejido_registry.organizations.schemas import OrganizationCreate

    for row in exported_rows(export(registry, "csv")):
        reparsed = OrganizationCreate.model_validate(record_from_row(row)).model_dump(mode="json")
        assert {k: v for k, v in row_from_organization(reparsed).items() if k != "status"} == {
            k: v for k, v in row.items() if k != "status"
        }


def test_people_given_on_import_reach_due_diligence_on_their_own_event(registry: RunningRegistry) -> None:
    line = {
        **org_body("Colectivo Con Personas"),
        "people": [{"name": "Persona Reservada", "role": "legal_representative"}],
    }
    report = post_import(registry, (json.dumps(line) + "\n").encode(), "application/x-ndjson")
    assert report["created"] == 1
    with registry.db.read_session() as s:
        rows = s.scalars(select(OutboxRow).order_by(OutboxRow.seq)).all()  # type: ignore[arg-type]
        events = [(r.subject, r.payload) for r in rows]
    assert [t for t, _ in events] == [
        "registry.organization.registered.v1",
        "registry.organization.people_updated.v1",
    ]
    assert "Persona Reservada" not in events[0][1]
    assert json.loads(events[1][1])["data"]["people"][0]["name"] == "Persona Reservada"

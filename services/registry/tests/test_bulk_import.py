"""Bulk import (CSV, JSON Lines) and export, against a real database and NATS."""

from __future__ import annotations

import csv
import io
import json

from sqlalchemy import func, select

from tejido_common.outbox import OutboxRow
from tejido_registry.organizations.models import OrganizationRow, OrganizationVersionRow
from tejido_registry.testing import RunningRegistry

HEADER = [
    "legal_name", "aliases", "identifiers", "actor_type", "cso_subtype", "country", "subdivisions",
    "program_areas", "founding_year", "annual_budget_amount", "annual_budget_currency",
    "willing_to_cooperate",
    "offers", "mission",
]  # fmt: skip
WORDS = [
    "Amanecer",
    "Ceiba",
    "Colibrí",
    "Tejedoras",
    "Maíz",
    "Horizonte",
    "Semilla",
    "Río",
    "Montaña",
    "Luna",
]


def good_row(i: int) -> dict[str, str]:
    return {
        "legal_name": f"Fundación {WORDS[i % 10]} {WORDS[(i // 10) % 10]} {i}",
        "aliases": f"FAC {i}|Alias número {i}",
        "identifiers": f"XX-TEST:{i}",
        "actor_type": "cso",
        "cso_subtype": "ngo",
        "country": "MX",
        "subdivisions": "MX-SON|MX-SIN",
        "program_areas": "HE1|ED",
        "founding_year": str(1990 + i % 30),
        "annual_budget_amount": "150000",
        "annual_budget_currency": "MXN",
        "willing_to_cooperate": "sí",
        "offers": "training|funding",
        "mission": "Mejorar la calidad de vida de las familias",
    }


BAD = {  # row index → (change, expected column)
    3: ({"founding_year": "long ago"}, "founding_year"),
    13: ({"program_areas": "HE1|ZZ9"}, "program_areas"),
    23: ({"country": "XX"}, "country"),
    33: ({"annual_budget_currency": ""}, "annual_budget_currency"),
    43: ({"actor_type": "pirates"}, "actor_type"),
    53: ({"legal_name": ""}, "legal_name"),
    63: ({"subdivisions": "PE-LIM"}, "subdivisions"),
    73: ({"willing_to_cooperate": "maybe"}, "willing_to_cooperate"),
    83: ({"identifiers": "no-colon-here"}, "identifiers"),
    93: ({"offers": "magic"}, "offers"),
}


def csv_text(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=HEADER)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def sample(n: int = 100) -> list[dict[str, str]]:
    rows = []
    for i in range(n):
        row = good_row(i)
        if i in BAD:
            row.update(BAD[i][0])
        rows.append(row)
    return rows


def counts(registry: RunningRegistry) -> tuple[int, int, int]:
    with registry.db.read_session() as s:
        return (
            s.scalar(select(func.count()).select_from(OrganizationRow)) or 0,
            s.scalar(select(func.count()).select_from(OutboxRow)) or 0,
            s.scalar(select(func.count()).select_from(OrganizationVersionRow)) or 0,
        )


def post_import(registry: RunningRegistry, body: bytes, content_type: str = "text/csv", **params: str):
    return registry.client.post(
        "/v1/organizations:import",
        content=body,
        headers={"content-type": content_type},
        params=params,
        timeout=60,
    )


def test_csv_with_ten_percent_bad_rows_imports_exactly_the_good_ones(registry: RunningRegistry) -> None:
    body = csv_text(sample())
    r = post_import(registry, body)
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["total"] == 100 and report["created"] == 90 and report["failed"] == 10
    reported = {(e["row"], e["field"]) for e in report["errors"]}
    for i, (_, column) in BAD.items():
        assert (i + 1, column) in reported, (
            i,
            column,
            report["errors"],
        )  # rows count from 1 after the header
    assert {e["row"] for e in report["errors"]} == {i + 1 for i in BAD}
    assert all(e["reason"] for e in report["errors"])
    assert counts(registry) == (90, 90, 90)
    imported = {o["identity"]["identifiers"][0]["id"] for o in _all(registry)}
    assert imported == {str(i) for i in range(100) if i not in BAD}
    one = next(o for o in _all(registry) if o["identity"]["identifiers"][0]["id"] == "7")
    assert one["capacity"]["annual_budget"] == {"amount": "150000.00", "currency": "MXN"}
    assert one["cooperation"]["willing_to_cooperate"] is True
    assert [x["kind"] for x in one["cooperation"]["offers"]] == ["training", "funding"]
    assert one["identity"]["aliases"] == ["FAC 7", "Alias número 7"]


def _all(registry: RunningRegistry) -> list[dict]:
    return registry.client.get("/v1/organizations", params={"limit": 1000}).json()["items"]


def test_same_file_twice_changes_nothing_and_upserts_by_identifier(registry: RunningRegistry) -> None:
    body = csv_text(sample(40))
    first = post_import(registry, body).json()
    before = counts(registry)
    second = post_import(registry, body).json()
    assert second["created"] == 0 and second["updated"] == 0
    assert second["unchanged"] == first["created"] and second["failed"] == first["failed"]
    assert counts(registry) == before  # no new rows, versions or events
    rows = sample(40)
    rows[5]["mission"] = "Nueva misión"
    rows[6]["legal_name"] = "Fundación Renombrada por Completo"
    third = post_import(registry, csv_text(rows)).json()
    assert third["updated"] == 2 and third["created"] == 0
    org = registry.client.get("/v1/organizations", params={"identifier": "XX-TEST:5"}).json()["items"][0]
    assert org["purpose"]["mission"] == "Nueva misión" and org["version"] == 2
    history = registry.client.get(f"/v1/organizations/{org['id']}/history").json()["items"]
    assert history[0]["changes"] == [
        {
            "field": "purpose.mission",
            "old": "Mejorar la calidad de vida de las familias",
            "new": "Nueva misión",
        }
    ]


def test_rows_without_identifier_match_by_name_and_flag_likely_duplicates(registry: RunningRegistry) -> None:
    rows = [{**good_row(i), "identifiers": ""} for i in range(3)]
    assert post_import(registry, csv_text(rows)).json()["created"] == 3
    again = post_import(registry, csv_text(rows)).json()
    assert again["unchanged"] == 3 and again["created"] == 0  # the same names are the same organizations
    near = [{**good_row(0), "identifiers": "", "legal_name": good_row(0)["legal_name"].upper() + " A.C."}]
    report = post_import(registry, csv_text(near)).json()
    assert report["failed"] == 1 and report["errors"][0]["field"] == "legal_name"
    assert "likely duplicate" in report["errors"][0]["reason"]
    forced = post_import(registry, csv_text(near), allow_duplicates="true").json()
    assert forced["created"] == 1


def test_jsonl_import_with_bad_lines_and_restricted_people(registry: RunningRegistry) -> None:
    good = {
        "identity": {"legal_name": "J'Pas Joloviletik", "actor_type": "cooperative",
                     "identifiers": [{"scheme": "XX-TEST", "id": "jpas"}]},
        "where": {"country": "MX", "subdivisions": ["MX-CHP"], "languages": ["tzo"]},
        "people": [{"name": "Persona Reservada", "role": "director"}],
    }  # fmt: skip
    lines = [
        json.dumps(good),
        "{not json",
        json.dumps([1, 2]),
        "",
        json.dumps(
            {**good, "identity": {**good["identity"], "legal_name": "Otra", "identifiers": []}, "where": {}}
        ),
    ]
    r = post_import(registry, ("\n".join(lines) + "\n").encode(), "application/x-ndjson")
    report = r.json()
    assert report["format"] == "jsonl" and report["created"] == 1 and report["failed"] == 3
    fields = {(e["row"], e["field"]) for e in report["errors"]}
    assert (2, "row") in fields and (3, "row") in fields and (4, "where.country") in fields
    org = _all(registry)[0]
    assert "Persona Reservada" not in json.dumps(org)
    people = registry.client.get(f"/v1/organizations/{org['id']}/people").json()["people"]
    assert people[0]["name"] == "Persona Reservada"


def test_whole_file_problems_are_problem_documents(registry: RunningRegistry) -> None:
    r = post_import(registry, b"name,country\nX,MX\n")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "file.header"
    r = post_import(registry, b"legal_name\n", "application/pdf")
    assert r.status_code == 415 and r.headers["content-type"].startswith("application/problem+json")
    r = post_import(registry, "legal_name,country\nCafé,MX\n".encode("latin-1"))
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "file"
    r = post_import(registry, b"legal_name,country,shoe_size\n", format="csv")
    assert r.status_code == 200 and r.json()["warnings"] == ["ignored unknown columns: shoe_size"]
    assert counts(registry) == (0, 0, 0)


def test_export_both_formats_without_people_and_reimport_is_a_no_op(registry: RunningRegistry) -> None:
    post_import(registry, csv_text(sample(30)))
    org = _all(registry)[0]
    registry.client.put(
        f"/v1/organizations/{org['id']}/people",
        json={"people": [{"name": "Nadie Público", "role": "director"}]},
    )
    exported_csv = registry.client.get("/v1/organizations:export", params={"format": "csv"})
    assert exported_csv.status_code == 200 and exported_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported_csv.text)))
    assert len(rows) == 27 and "Nadie" not in exported_csv.text
    exported_jsonl = registry.client.get(
        "/v1/organizations:export", params={"format": "jsonl", "country": "MX"}
    )
    lines = [json.loads(line) for line in exported_jsonl.text.splitlines()]
    assert len(lines) == 27 and "Nadie" not in exported_jsonl.text
    before = counts(registry)
    again = post_import(registry, exported_csv.content).json()
    assert again["unchanged"] == 27 and again["failed"] == 0, again
    again = post_import(registry, exported_jsonl.content, "application/x-ndjson").json()
    assert again["unchanged"] == 27 and again["failed"] == 0, again
    assert counts(registry) == before
    bad = registry.client.get("/v1/organizations:export", params={"format": "csv", "program_area": "nope"})
    assert bad.status_code == 422

"""The buffered write path of bulk imports (one COPY per table on PostgreSQL, one executemany on
SQLite): what it stores is what a single write stores, and its failures are SQLAlchemy's."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from tejido_common.outbox import OutboxRow
from tejido_registry.organizations.duplicates import DuplicateIndex
from tejido_registry.organizations.models import (
    OrganizationFacetRow,
    OrganizationNameRow,
    OrganizationRow,
    OrganizationVersionRow,
)
from tejido_registry.organizations.queries import OrganizationQueries
from tejido_registry.organizations.repository import OrganizationRepository
from tejido_registry.organizations.schemas import OrganizationCreate
from tejido_registry.organizations.service import BatchItem, OrganizationService
from tejido_registry.testing import org_body

# Characters that a COPY in text format must escape (tab, newlines, backslash, the NULL marker \N),
# quotes, and text beyond the Basic Multilingual Plane.
AWKWARD = "Línea 1\tcon tab\r\nlínea 2 \\N y \\ barra, \"comillas\" y 'apóstrofo' 🌱"


def _item(number: int, body: dict[str, Any]) -> BatchItem:
    payload = OrganizationCreate.model_validate(body)
    sections = payload.model_dump(mode="json", include={"identity", "where", "purpose"})
    return BatchItem(number, payload, lambda stored: sections)


def test_a_batch_stores_what_a_single_write_stores(
    service: OrganizationService, queries: OrganizationQueries
) -> None:
    people = [{"name": "Persona \\N Reservada", "role": "director"}]
    bodies = [
        {
            **org_body(
                f"Colectivo Ñandú {label}",
                identity={"aliases": [f"Alias\t{label}"], "acronym": f"CÑ{label}"},
                purpose={"mission": AWKWARD},
            ),
            "people": people,
        }
        for label in ("Y", "Z")
    ]
    single = service.create(OrganizationCreate.model_validate(bodies[0]))
    (outcome,) = service.upsert_batch([_item(1, bodies[1])], DuplicateIndex(88))
    assert outcome.outcome == "created"
    with service.db.read_session() as session:
        (row_id,) = session.scalars(select(OrganizationRow.id).where(OrganizationRow.id != single.id))
    batched = queries.get(row_id)
    assert batched.purpose.mission == AWKWARD and batched.identity.aliases == ["Alias\tZ"]
    assert batched.created_at.utcoffset() is not None and batched.created_at == batched.updated_at

    def stored(org_id: str) -> dict[str, Any]:
        with service.db.read_session() as session:
            row = session.get(OrganizationRow, org_id)
            assert row is not None
            version = session.scalars(
                select(OrganizationVersionRow).where(OrganizationVersionRow.organization_id == org_id)
            ).one()
            facets = sorted(
                (f.facet, f.value)
                for f in session.scalars(
                    select(OrganizationFacetRow).where(OrganizationFacetRow.organization_id == org_id)
                )
            )
            names = sorted(
                (n.norm, n.name)
                for n in session.scalars(
                    select(OrganizationNameRow).where(OrganizationNameRow.organization_id == org_id)
                )
            )
            events = [
                json.loads(e.payload)
                for e in session.scalars(
                    select(OutboxRow).where(OutboxRow.aggregate_id == org_id).order_by(OutboxRow.seq)  # type: ignore[arg-type]
                )
            ]
        return {
            "profile": row.profile,
            "people": row.people,
            "columns": (row.status, row.sort_name, row.completeness, row.version, row.willing_to_cooperate),
            "times": (row.created_at.utcoffset(), row.updated_at == row.created_at, row.archived_at),
            "version": (version.version, version.action, version.changes, version.snapshot),
            "facets": facets,
            "names": names,
            "events": [(e["type"], e["data"].get("organization", {}).get("purpose")) for e in events],
        }

    def relabel(value: Any) -> Any:  # the single write's organization is "Y", the batch's "Z"
        return json.loads(json.dumps(value, default=str).replace("Y", "Z").replace("y", "z"))

    expected, got = stored(single.id), stored(row_id)
    assert relabel(expected) == relabel(got)
    assert [p["name"] for p in got["people"]] == ["Persona \\N Reservada"]
    assert [t for t, _ in got["events"]] == [
        "registry.organization.registered.v1",
        "registry.organization.people_updated.v1",
    ]
    assert got["events"][0][1]["mission"] == AWKWARD


def test_an_identifier_taken_meanwhile_redoes_the_batch_row_by_row(
    service: OrganizationService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer registers an identifier between the batch's look-up and its insert: the insert's
    unique violation is SQLAlchemy's IntegrityError (also from a PostgreSQL COPY), so the batch is
    redone item by item and the row updates the organization that took the identifier."""
    ident = {"identifiers": [{"scheme": "XX-TEST", "id": "7"}]}
    taken = service.create(OrganizationCreate.model_validate(org_body("Colectivo Primero", identity=ident)))
    real = OrganizationRepository.owners_of_identifiers
    calls: list[int] = []

    def blind_once(self: OrganizationRepository, pairs: Any) -> dict[tuple[str, str], str]:
        calls.append(1)
        return {} if len(calls) == 1 else real(self, pairs)  # the batch's look-up misses the owner

    monkeypatch.setattr(OrganizationRepository, "owners_of_identifiers", blind_once)
    body = org_body("Colectivo Segundo", identity=ident, purpose={"mission": "Otra misión"})
    (outcome,) = service.upsert_batch([_item(1, body)], DuplicateIndex(88))
    assert outcome.outcome == "updated" and len(calls) > 1
    with service.db.read_session() as session:
        rows = list(session.scalars(select(OrganizationRow)))
    assert [(r.id, r.legal_name, r.version) for r in rows] == [(taken.id, "Colectivo Segundo", 2)]


def test_a_batch_compresses_large_documents_with_lz4_on_postgresql(service: OrganizationService) -> None:
    """PostgreSQL (with lz4 built in): a bulk transaction's large documents are stored lz4-compressed
    (cheaper for the server than pglz), and read back the same."""
    from sqlalchemy import text

    if service.db.dialect != "postgresql":
        pytest.skip("PostgreSQL only")
    with service.db.read_session() as session:
        methods = session.scalar(
            text("SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression'")
        )
    if "lz4" not in methods:
        pytest.skip("this PostgreSQL has no lz4")
    mission = " ".join(f"Misión número {i} de salud comunitaria." for i in range(80))
    body = org_body("Colectivo Largo", purpose={"mission": mission})
    (outcome,) = service.upsert_batch([_item(1, body)], DuplicateIndex(88))
    assert outcome.outcome == "created"
    with service.db.read_session() as session:
        stored = session.execute(
            text(
                "SELECT pg_column_compression(o.profile), pg_column_compression(v.snapshot),"
                " pg_column_compression(e.payload), o.profile -> 'purpose' ->> 'mission'"
                " FROM organizations o JOIN organization_versions v ON v.organization_id = o.id"
                " JOIN outbox e ON e.aggregate_id = o.id"
            )
        ).one()
    assert tuple(stored) == ("lz4", "lz4", "lz4", mission)

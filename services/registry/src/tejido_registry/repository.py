"""All SQL of the registry lives here."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import delete, select
from sqlmodel import Session

from tejido_registry.models import OrganizationFacetRow, OrganizationIdentifierRow, OrganizationRow


@dataclass
class OrganizationFilter:
    statuses: Sequence[str] = ()
    actor_types: Sequence[str] = ()
    countries: Sequence[str] = ()
    # facet name → accepted values (an organization matches if it has any of them)
    facets: dict[str, Sequence[str]] = field(default_factory=dict)


class OrganizationRepository:
    def __init__(self, session: Session):
        self.session = session

    def get(self, org_id: str) -> OrganizationRow | None:
        return self.session.get(OrganizationRow, org_id)

    def get_for_update(self, org_id: str) -> OrganizationRow | None:
        stmt = select(OrganizationRow).where(OrganizationRow.id == org_id).with_for_update()
        return self.session.scalars(stmt).first()

    def add(self, row: OrganizationRow) -> None:
        self.session.add(row)
        self.session.flush()

    def exists(self, org_id: str) -> bool:
        stmt = select(OrganizationRow.id).where(OrganizationRow.id == org_id)
        return self.session.scalars(stmt).first() is not None

    def owners_of_identifiers(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
        found: dict[tuple[str, str], str] = {}
        for scheme, value in pairs:
            stmt = select(OrganizationIdentifierRow.organization_id).where(
                OrganizationIdentifierRow.scheme == scheme, OrganizationIdentifierRow.value == value
            )
            owner = self.session.scalars(stmt).first()
            if owner is not None:
                found[(scheme, value)] = owner
        return found

    def replace_identifiers(self, org_id: str, pairs: Iterable[tuple[str, str]]) -> None:
        self.session.execute(
            delete(OrganizationIdentifierRow).where(OrganizationIdentifierRow.organization_id == org_id)  # type: ignore[arg-type]
        )
        for scheme, value in pairs:
            self.session.add(OrganizationIdentifierRow(scheme=scheme, value=value, organization_id=org_id))
        self.session.flush()

    def replace_facets(self, org_id: str, facets: Iterable[tuple[str, str]]) -> None:
        self.session.execute(
            delete(OrganizationFacetRow).where(OrganizationFacetRow.organization_id == org_id)  # type: ignore[arg-type]
        )
        for facet, value in sorted(set(facets)):
            self.session.add(OrganizationFacetRow(facet=facet, value=value, organization_id=org_id))
        self.session.flush()

    def list(self, flt: OrganizationFilter, *, after_id: str | None, limit: int) -> list[OrganizationRow]:
        stmt = select(OrganizationRow)
        if flt.statuses:
            stmt = stmt.where(OrganizationRow.status.in_(flt.statuses))  # type: ignore[attr-defined]
        if flt.actor_types:
            stmt = stmt.where(OrganizationRow.actor_type.in_(flt.actor_types))  # type: ignore[attr-defined]
        if flt.countries:
            stmt = stmt.where(OrganizationRow.country.in_(flt.countries))  # type: ignore[attr-defined]
        for facet, values in flt.facets.items():
            sub = select(OrganizationFacetRow.organization_id).where(
                OrganizationFacetRow.facet == facet,
                OrganizationFacetRow.value.in_(values),  # type: ignore[attr-defined]
            )
            stmt = stmt.where(OrganizationRow.id.in_(sub))  # type: ignore[attr-defined]
        if after_id is not None:
            stmt = stmt.where(OrganizationRow.id > after_id)
        stmt = stmt.order_by(OrganizationRow.id).limit(limit)  # type: ignore[arg-type]
        return list(self.session.scalars(stmt))

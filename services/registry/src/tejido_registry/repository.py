"""All SQL of the registry lives here."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import delete, select
from sqlmodel import Session, col

from tejido_registry.models import OrganizationFacetRow, OrganizationIdentifierRow, OrganizationRow


@dataclass
class OrganizationFilter:
    statuses: Sequence[str] = ()
    actor_types: Sequence[str] = ()
    countries: Sequence[str] = ()
    # facet name → accepted values (an organization matches if it has any of them)
    facets: Mapping[str, Sequence[str]] = field(default_factory=dict)


class OrganizationRepository:
    def __init__(self, session: Session):
        self.session = session

    def get(self, org_id: str) -> OrganizationRow | None:
        return self.session.get(OrganizationRow, org_id)

    def get_for_update(self, org_id: str) -> OrganizationRow | None:
        stmt = select(OrganizationRow).where(col(OrganizationRow.id) == org_id).with_for_update()
        return self.session.scalars(stmt).first()

    def add(self, row: OrganizationRow) -> None:
        self.session.add(row)
        self.session.flush()

    def exists(self, org_id: str) -> bool:
        stmt = select(col(OrganizationRow.id)).where(col(OrganizationRow.id) == org_id)
        return self.session.scalars(stmt).first() is not None

    def owners_of_identifiers(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
        found: dict[tuple[str, str], str] = {}
        for scheme, value in pairs:
            stmt = select(col(OrganizationIdentifierRow.organization_id)).where(
                col(OrganizationIdentifierRow.scheme) == scheme, col(OrganizationIdentifierRow.value) == value
            )
            owner = self.session.scalars(stmt).first()
            if owner is not None:
                found[(scheme, value)] = owner
        return found

    def replace_identifiers(self, org_id: str, pairs: Iterable[tuple[str, str]]) -> None:
        self.session.execute(
            delete(OrganizationIdentifierRow).where(col(OrganizationIdentifierRow.organization_id) == org_id)
        )
        for scheme, value in pairs:
            self.session.add(OrganizationIdentifierRow(scheme=scheme, value=value, organization_id=org_id))
        self.session.flush()

    def replace_facets(self, org_id: str, facets: Iterable[tuple[str, str]]) -> None:
        self.session.execute(
            delete(OrganizationFacetRow).where(col(OrganizationFacetRow.organization_id) == org_id)
        )
        for facet, value in sorted(set(facets)):
            self.session.add(OrganizationFacetRow(facet=facet, value=value, organization_id=org_id))
        self.session.flush()

    def list(self, flt: OrganizationFilter, *, after_id: str | None, limit: int) -> list[OrganizationRow]:
        stmt = select(OrganizationRow)
        if flt.statuses:
            stmt = stmt.where(col(OrganizationRow.status).in_(flt.statuses))
        if flt.actor_types:
            stmt = stmt.where(col(OrganizationRow.actor_type).in_(flt.actor_types))
        if flt.countries:
            stmt = stmt.where(col(OrganizationRow.country).in_(flt.countries))
        for facet, values in flt.facets.items():
            sub = select(col(OrganizationFacetRow.organization_id)).where(
                col(OrganizationFacetRow.facet) == facet,
                col(OrganizationFacetRow.value).in_(values),
            )
            stmt = stmt.where(col(OrganizationRow.id).in_(sub))
        if after_id is not None:
            stmt = stmt.where(col(OrganizationRow.id) > after_id)
        stmt = stmt.order_by(col(OrganizationRow.id)).limit(limit)
        return list(self.session.scalars(stmt))

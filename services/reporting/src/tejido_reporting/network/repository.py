"""All SQL of the network read model."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, func, select
from sqlmodel import Session, col

from tejido_reporting.network.models import (
    AllianceParty,
    AllianceView,
    OrganizationFacet,
    OrganizationView,
    RatingView,
)


class NetworkRepository:
    def __init__(self, session: Session):
        self.session = session

    # -- organizations --------------------------------------------------------------------------
    def organization(self, org_id: str) -> OrganizationView | None:
        return self.session.get(OrganizationView, org_id)

    def save_organization(self, row: OrganizationView, facets: Iterable[tuple[str, str]]) -> None:
        self.session.merge(row)
        self.session.execute(
            delete(OrganizationFacet).where(col(OrganizationFacet.organization_id) == row.id)
        )
        self.session.add_all(
            OrganizationFacet(organization_id=row.id, kind=kind, code=code) for kind, code in set(facets)
        )

    def organization_statuses(self, ids: Iterable[str]) -> dict[str, str]:
        wanted = list(set(ids))
        out: dict[str, str] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            stmt = select(col(OrganizationView.id), col(OrganizationView.status)).where(
                col(OrganizationView.id).in_(chunk)
            )
            out.update({r[0]: r[1] for r in self.session.execute(stmt)})
        return out

    def organizations_with_facet(self, kind: str, codes: list[str]) -> Any:
        """A subquery of organization ids having any of the codes (for ``IN`` filters)."""
        return select(col(OrganizationFacet.organization_id)).where(
            col(OrganizationFacet.kind) == kind, col(OrganizationFacet.code).in_(codes)
        )

    def organizations(self, ids: Iterable[str]) -> list[OrganizationView]:
        wanted = list(set(ids))
        if not wanted:
            return []
        stmt = select(OrganizationView).where(col(OrganizationView.id).in_(wanted))
        return list(self.session.scalars(stmt))

    def count_organizations_by(self, column: str) -> dict[str, int]:
        field = getattr(OrganizationView, column)
        stmt = (
            select(col(field), func.count())
            .where(col(OrganizationView.status) != "archived")
            .group_by(col(field))
        )
        return {str(r[0] or "unspecified"): int(r[1]) for r in self.session.execute(stmt)}

    def count_organizations_by_status(self) -> dict[str, int]:
        stmt = select(col(OrganizationView.status), func.count()).group_by(col(OrganizationView.status))
        return {str(r[0]): int(r[1]) for r in self.session.execute(stmt)}

    def count_organizations_by_subdivision(self) -> dict[str, int]:
        rows = self.session.execute(
            select(col(OrganizationView.subdivisions)).where(col(OrganizationView.status) != "archived")
        )
        counts: dict[str, int] = {}
        for (subs,) in rows:
            for sub in set(subs or []):
                counts[str(sub)] = counts.get(str(sub), 0) + 1
        return counts

    # -- ratings --------------------------------------------------------------------------------
    def rating(self, org_id: str) -> RatingView | None:
        return self.session.get(RatingView, org_id)

    def save_rating(self, row: RatingView) -> None:
        self.session.merge(row)

    def count_bands(self) -> dict[str, int]:
        """Bands of organizations the network knows and has not archived."""
        stmt = (
            select(col(RatingView.band), func.count())
            .join(OrganizationView, col(OrganizationView.id) == col(RatingView.organization_id))
            .where(col(OrganizationView.status) != "archived")
            .group_by(col(RatingView.band))
        )
        return {str(r[0]): int(r[1]) for r in self.session.execute(stmt)}

    # -- alliances ------------------------------------------------------------------------------
    def alliance(self, alliance_id: str) -> AllianceView | None:
        return self.session.get(AllianceView, alliance_id)

    def save_alliance(self, row: AllianceView) -> None:
        self.session.merge(row)
        self.session.execute(delete(AllianceParty).where(col(AllianceParty.alliance_id) == row.id))
        seen: set[str] = set()
        for party in row.parties:
            org = str(party.get("organization_id"))
            if org not in seen:
                seen.add(org)
                self.session.add(
                    AllianceParty(alliance_id=row.id, organization_id=org, role=str(party.get("role") or ""))
                )

    def alliance_parties(self, alliance_ids: Iterable[str]) -> dict[str, set[str]]:
        """Current parties of each known alliance (unknown alliances are absent)."""
        wanted = list(set(alliance_ids))
        if not wanted:
            return {}
        known = select(col(AllianceView.id)).where(col(AllianceView.id).in_(wanted))
        out: dict[str, set[str]] = {a: set() for a in self.session.scalars(known)}
        stmt = select(col(AllianceParty.alliance_id), col(AllianceParty.organization_id)).where(
            col(AllianceParty.alliance_id).in_(wanted)
        )
        for alliance_id, org_id in self.session.execute(stmt):
            out.setdefault(alliance_id, set()).add(org_id)
        return out

    def alliances(self) -> list[AllianceView]:
        return list(self.session.scalars(select(AllianceView).order_by(col(AllianceView.id))))

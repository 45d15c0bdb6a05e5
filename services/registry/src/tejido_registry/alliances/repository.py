"""All SQL of alliances lives here (including the one read of the organizations table that party
checks need)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from tejido_registry.alliances.models import AlliancePartyRow, AllianceRow, AllianceStageChangeRow
from tejido_registry.organizations.models import OrganizationRow


@dataclass
class AllianceFilter:
    organization_ids: Sequence[str] = ()
    stages: Sequence[str] = ()
    types: Sequence[str] = ()
    modalities: Sequence[str] = ()
    scopes: Sequence[str] = ()
    development_strategies: Sequence[str] = ()


class AllianceRepository:
    def __init__(self, session: Session):
        self.session = session

    # -- alliances ------------------------------------------------------------------------------
    def get(self, alliance_id: str) -> AllianceRow | None:
        return self.session.get(AllianceRow, alliance_id)

    def get_for_update(self, alliance_id: str) -> AllianceRow | None:
        stmt = select(AllianceRow).where(col(AllianceRow.id) == alliance_id).with_for_update()
        return self.session.scalars(stmt).first()

    def add(self, row: AllianceRow) -> None:
        self.session.add(row)
        self.session.flush()

    def search(self, flt: AllianceFilter, *, after_id: str | None, limit: int) -> list[AllianceRow]:
        """Matching alliances in creation order (ids are time-ordered), after ``after_id``."""
        stmt = select(AllianceRow).where(*self._conditions(flt))
        if after_id is not None:
            stmt = stmt.where(col(AllianceRow.id) > after_id)
        return list(self.session.scalars(stmt.order_by(col(AllianceRow.id)).limit(limit)))

    @staticmethod
    def _conditions(flt: AllianceFilter) -> list[ColumnElement[bool]]:
        row = AllianceRow
        conds: list[ColumnElement[bool]] = []
        if flt.stages:
            conds.append(col(row.stage).in_(flt.stages))
        if flt.types:
            conds.append(col(row.type).in_(flt.types))
        if flt.modalities:
            conds.append(col(row.modality).in_(flt.modalities))
        if flt.scopes:
            conds.append(col(row.scope).in_(flt.scopes))
        if flt.development_strategies:
            conds.append(col(row.development_strategy).in_(flt.development_strategies))
        if flt.organization_ids:
            party = AlliancePartyRow
            sub = select(col(party.alliance_id)).where(col(party.organization_id).in_(flt.organization_ids))
            conds.append(col(row.id).in_(sub))
        return conds

    # -- parties --------------------------------------------------------------------------------
    def replace_parties(self, alliance_id: str, parties: Iterable[tuple[str, str]]) -> None:
        """``parties`` are (organization_id, role) pairs: the alliance's current parties."""
        self.session.execute(delete(AlliancePartyRow).where(col(AlliancePartyRow.alliance_id) == alliance_id))
        self.session.add_all(
            AlliancePartyRow(alliance_id=alliance_id, organization_id=org, role=role) for org, role in parties
        )

    def alliances_of(
        self, organization_id: str, *, after_id: str | None, limit: int
    ) -> list[tuple[AllianceRow, str]]:
        """The alliances an organization is a party of, with its role, in creation order."""
        party = AlliancePartyRow
        stmt = (
            select(AllianceRow, col(party.role))
            .join(party, col(party.alliance_id) == col(AllianceRow.id))
            .where(col(party.organization_id) == organization_id)
        )
        if after_id is not None:
            stmt = stmt.where(col(AllianceRow.id) > after_id)
        stmt = stmt.order_by(col(AllianceRow.id)).limit(limit)
        return [(r[0], r[1]) for r in self.session.execute(stmt)]

    # -- stage history --------------------------------------------------------------------------
    def add_stage_change(self, row: AllianceStageChangeRow) -> None:
        self.session.add(row)

    def stage_changes(self, alliance_id: str) -> list[AllianceStageChangeRow]:
        stmt = (
            select(AllianceStageChangeRow)
            .where(col(AllianceStageChangeRow.alliance_id) == alliance_id)
            .order_by(col(AllianceStageChangeRow.version))
        )
        return list(self.session.scalars(stmt))

    # -- organizations (read only: parties must be existing, non-archived organizations) ------------
    def organization_statuses(self, ids: Iterable[str], *, lock: bool = False) -> dict[str, str]:
        """Status by organization id (unknown ids are absent). With ``lock`` the rows stay share-locked
        until the transaction ends (PostgreSQL), so an organization cannot be archived meanwhile."""
        wanted = list(set(ids))
        if not wanted:
            return {}
        stmt = select(col(OrganizationRow.id), col(OrganizationRow.status)).where(
            col(OrganizationRow.id).in_(wanted)
        )
        if lock:
            stmt = stmt.with_for_update(read=True)
        return {r[0]: r[1] for r in self.session.execute(stmt)}

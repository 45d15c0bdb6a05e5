"""All SQL of observations."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import insert, select, update
from sqlmodel import Session, col

from tejido_reporting.observations.models import ObservationRow

OBSERVATIONS = ObservationRow.__table__  # type: ignore[attr-defined]


class ObservationRepository:
    def __init__(self, session: Session):
        self.session = session

    def revisions_of(self, idents: Iterable[str]) -> dict[str, list[ObservationRow]]:
        """Every stored revision of these observations, by ident."""
        wanted = list(set(idents))
        out: dict[str, list[ObservationRow]] = {}
        for start in range(0, len(wanted), 500):
            stmt = select(ObservationRow).where(col(ObservationRow.ident).in_(wanted[start : start + 500]))
            for row in self.session.scalars(stmt):
                out.setdefault(row.ident, []).append(row)
        return out

    def insert(self, rows: list[dict[str, Any]]) -> None:
        for start in range(0, len(rows), 2000):
            self.session.execute(insert(OBSERVATIONS), rows[start : start + 2000])

    def retire(self, ids: list[str]) -> None:
        """Mark revisions as no longer in force (they stay in the history)."""
        for start in range(0, len(ids), 500):
            self.session.execute(
                update(ObservationRow)
                .where(col(ObservationRow.id).in_(ids[start : start + 500]))
                .values(in_force=False)
            )

    def history(self, ident: str) -> list[ObservationRow]:
        stmt = (
            select(ObservationRow)
            .where(col(ObservationRow.ident) == ident)
            .order_by(col(ObservationRow.revision))
        )
        return list(self.session.scalars(stmt))

    def by_id(self, obs_id: str) -> ObservationRow | None:
        stmt = select(ObservationRow).where(col(ObservationRow.id) == obs_id)
        return self.session.scalars(stmt).first()

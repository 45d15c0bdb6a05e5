"""Reads of the rollups that are not aggregates (which indicators have data where)."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session, col

from tejido_reporting.aggregates.models import RollupRow


class RollupRepository:
    def __init__(self, session: Session):
        self.session = session

    def indicators_with_data(
        self, alliance_id: str | None = None, months: tuple[int, int] | None = None
    ) -> list[str]:
        stmt = select(col(RollupRow.indicator_code)).where(
            col(RollupRow.n) > 0, col(RollupRow.dimension) == ""
        )
        if alliance_id is not None:
            stmt = stmt.where(col(RollupRow.alliance_id) == alliance_id)
        if months is not None:
            stmt = stmt.where(col(RollupRow.month) >= months[0], col(RollupRow.month) <= months[1])
        return sorted(set(self.session.scalars(stmt.distinct())))

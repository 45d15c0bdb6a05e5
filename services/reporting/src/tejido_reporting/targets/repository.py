"""All SQL of targets."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session, col

from tejido_reporting.targets.models import TargetRow


class TargetRepository:
    def __init__(self, session: Session):
        self.session = session

    def add(self, row: TargetRow) -> None:
        self.session.add(row)
        self.session.flush()

    def flush(self) -> None:
        self.session.flush()

    def delete(self, row: TargetRow) -> None:
        self.session.delete(row)
        self.session.flush()

    def get(self, target_id: str) -> TargetRow | None:
        return self.session.get(TargetRow, target_id)

    def search(self, indicator: str | None, scope_kind: str | None, scope_ids: list[str]) -> list[TargetRow]:
        stmt = select(TargetRow)
        if indicator:
            stmt = stmt.where(col(TargetRow.indicator_code) == indicator)
        if scope_kind:
            stmt = stmt.where(col(TargetRow.scope_kind) == scope_kind)
        if scope_ids:
            stmt = stmt.where(col(TargetRow.scope_id).in_(scope_ids))
        return list(
            self.session.scalars(stmt.order_by(col(TargetRow.first_month), col(TargetRow.id)).limit(1000))
        )

"""All SQL of flags."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlmodel import Session, col

from tejido_duediligence.flags.models import FlagChangeRow, FlagRow


class FlagRepository:
    def __init__(self, session: Session):
        self.session = session

    def get_for_update(self, flag_id: str) -> FlagRow | None:
        stmt = select(FlagRow).where(col(FlagRow.id) == flag_id).with_for_update()
        return self.session.scalars(stmt).first()

    def get(self, flag_id: str) -> FlagRow | None:
        return self.session.get(FlagRow, flag_id)

    def add(self, row: FlagRow, change: FlagChangeRow) -> None:
        self.session.add(row)
        self.session.add(change)
        self.session.flush()

    def history(self, flag_id: str) -> list[FlagChangeRow]:
        stmt = select(FlagChangeRow).where(col(FlagChangeRow.flag_id) == flag_id)
        return list(self.session.scalars(stmt.order_by(col(FlagChangeRow.seq))))

    def of_organization(self, org_id: str) -> list[FlagRow]:
        stmt = select(FlagRow).where(col(FlagRow.organization_id) == org_id)
        return list(self.session.scalars(stmt.order_by(col(FlagRow.id))))

    def red_count(self, org_id: str) -> int:
        stmt = (
            select(func.count())
            .select_from(FlagRow)
            .where(col(FlagRow.organization_id) == org_id, col(FlagRow.level) == "red")
        )
        return int(self.session.scalar(stmt) or 0)

    def search(self, org_id: str | None, levels: list[str], limit: int) -> list[FlagRow]:
        stmt = select(FlagRow)
        if org_id:
            stmt = stmt.where(col(FlagRow.organization_id) == org_id)
        if levels:
            stmt = stmt.where(col(FlagRow.level).in_(levels))
        return list(self.session.scalars(stmt.order_by(col(FlagRow.id).desc()).limit(limit)))

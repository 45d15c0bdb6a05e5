"""All SQL of watch lists and hits."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlmodel import Session, col

from tejido_duediligence.screening.models import HitRow, ListEntryRow, ListVersionRow


class ScreeningRepository:
    def __init__(self, session: Session):
        self.session = session

    # -- lists ----------------------------------------------------------------------------------
    def current_versions(self) -> list[ListVersionRow]:
        latest = (
            select(col(ListVersionRow.list_id), func.max(col(ListVersionRow.seq)).label("seq"))
            .group_by(col(ListVersionRow.list_id))
            .subquery()
        )
        stmt = select(ListVersionRow).join(
            latest,
            (col(ListVersionRow.list_id) == latest.c.list_id) & (col(ListVersionRow.seq) == latest.c.seq),
        )
        return list(self.session.scalars(stmt.order_by(col(ListVersionRow.list_id))))

    def versions(self, list_id: str) -> list[ListVersionRow]:
        stmt = select(ListVersionRow).where(col(ListVersionRow.list_id) == list_id)
        return list(self.session.scalars(stmt.order_by(col(ListVersionRow.seq).desc())))

    def version_count(self, list_id: str) -> int:
        stmt = select(func.count()).select_from(ListVersionRow).where(col(ListVersionRow.list_id) == list_id)
        return int(self.session.scalar(stmt) or 0)

    def entries(self, version_ids: list[str]) -> list[ListEntryRow]:
        if not version_ids:
            return []
        stmt = select(ListEntryRow).where(col(ListEntryRow.version_id).in_(version_ids))
        return list(self.session.scalars(stmt.order_by(col(ListEntryRow.version_id), col(ListEntryRow.ref))))

    def add(self, *rows: object) -> None:
        for row in rows:
            self.session.add(row)
        self.session.flush()

    # -- hits -----------------------------------------------------------------------------------
    def hit(self, hit_id: str) -> HitRow | None:
        return self.session.get(HitRow, hit_id)

    def hit_for_update(self, hit_id: str) -> HitRow | None:
        return self.session.scalars(select(HitRow).where(col(HitRow.id) == hit_id).with_for_update()).first()

    def existing_keys(self, org_id: str, version_ids: list[str]) -> set[tuple[str, str, str]]:
        stmt = select(col(HitRow.subject_key), col(HitRow.version_id), col(HitRow.entry_ref)).where(
            col(HitRow.organization_id) == org_id, col(HitRow.version_id).in_(version_ids)
        )
        return {(r[0], r[1], r[2]) for r in self.session.execute(stmt)}

    def open_hits_for_update(self, org_id: str) -> list[HitRow]:
        """The organization's undecided hits (pending, or withdrawn and able to come back), locked."""
        stmt = (
            select(HitRow)
            .where(col(HitRow.organization_id) == org_id, col(HitRow.status).in_(("pending", "withdrawn")))
            .with_for_update()
        )
        return list(self.session.scalars(stmt))

    def hits(self, org_id: str | None, statuses: list[str], limit: int) -> list[HitRow]:
        stmt = select(HitRow)
        if org_id:
            stmt = stmt.where(col(HitRow.organization_id) == org_id)
        if statuses:
            stmt = stmt.where(col(HitRow.status).in_(statuses))
        return list(self.session.scalars(stmt.order_by(col(HitRow.created_at), col(HitRow.id)).limit(limit)))

"""All SQL of the audit log."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select
from sqlmodel import Session, col

from tejido_duediligence.audit.models import AuditEntryRow, AuditHeadRow

HEAD_ID = 1


class AuditRepository:
    def __init__(self, session: Session):
        self.session = session

    def head_for_update(self) -> AuditHeadRow | None:
        # FOR UPDATE: two replicas appending at once queue here instead of forking the chain.
        stmt = select(AuditHeadRow).where(col(AuditHeadRow.id) == HEAD_ID).with_for_update()
        return self.session.scalars(stmt).first()

    def head(self) -> AuditHeadRow | None:
        return self.session.get(AuditHeadRow, HEAD_ID)

    def add(self, entry: AuditEntryRow, head: AuditHeadRow) -> None:
        self.session.add(entry)
        self.session.add(head)
        self.session.flush()

    def entries(self, batch: int = 1000) -> Iterator[AuditEntryRow]:
        after = 0
        while True:
            stmt = (
                select(AuditEntryRow)
                .where(col(AuditEntryRow.seq) > after)
                .order_by(col(AuditEntryRow.seq))
                .limit(batch)
            )
            rows = list(self.session.scalars(stmt))
            if not rows:
                return
            yield from rows
            after = rows[-1].seq

    def page(self, subject: str | None, after: int, limit: int) -> list[AuditEntryRow]:
        stmt = select(AuditEntryRow).where(col(AuditEntryRow.seq) > after)
        if subject:
            stmt = stmt.where(col(AuditEntryRow.subject) == subject)
        return list(self.session.scalars(stmt.order_by(col(AuditEntryRow.seq)).limit(limit)))

"""All SQL of ratings."""

from __future__ import annotations

from datetime import date

from sqlalchemy import not_, or_, select
from sqlmodel import Session, col

from tejido_duediligence.ratings.models import RatingRow


class RatingRepository:
    def __init__(self, session: Session):
        self.session = session

    def get(self, rating_id: str) -> RatingRow | None:
        return self.session.get(RatingRow, rating_id)

    def get_for_update(self, rating_id: str) -> RatingRow | None:
        stmt = select(RatingRow).where(col(RatingRow.id) == rating_id).with_for_update()
        return self.session.scalars(stmt).first()

    def of_assessment(self, assessment_id: str) -> RatingRow | None:
        stmt = select(RatingRow).where(col(RatingRow.assessment_id) == assessment_id)
        return self.session.scalars(stmt).first()

    def add(self, row: RatingRow) -> None:
        self.session.add(row)
        self.session.flush()

    def newer_exists(self, row: RatingRow) -> bool:
        stmt = select(col(RatingRow.id)).where(
            col(RatingRow.organization_id) == row.organization_id, col(RatingRow.rated_at) > row.rated_at
        )
        return self.session.scalars(stmt.limit(1)).first() is not None

    def due(self, today: date, limit: int) -> list[RatingRow]:
        stmt = (
            select(RatingRow)
            .where(col(RatingRow.expired).is_(False), col(RatingRow.valid_until) < today)
            .order_by(col(RatingRow.valid_until), col(RatingRow.id))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list(self.session.scalars(stmt))

    def search(self, org_id: str | None, due: bool | None, today: date, limit: int) -> list[RatingRow]:
        stmt = select(RatingRow)
        if org_id:
            stmt = stmt.where(col(RatingRow.organization_id) == org_id)
        past = or_(col(RatingRow.expired).is_(True), col(RatingRow.valid_until) < today)
        if due is not None:
            stmt = stmt.where(past if due else not_(past))
        return list(self.session.scalars(stmt.order_by(col(RatingRow.rated_at).desc()).limit(limit)))

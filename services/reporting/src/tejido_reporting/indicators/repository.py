"""All SQL of the indicator catalog."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlmodel import Session, col

from tejido_reporting.indicators.models import IndicatorRow
from tejido_reporting.observations.models import ObservationRow
from tejido_reporting.targets.models import TargetRow


class IndicatorRepository:
    def __init__(self, session: Session):
        self.session = session

    def latest(self, code: str) -> IndicatorRow | None:
        stmt = (
            select(IndicatorRow)
            .where(col(IndicatorRow.code) == code)
            .order_by(col(IndicatorRow.version).desc())
            .limit(1)
        )
        return self.session.scalars(stmt).first()

    def version(self, code: str, version: int) -> IndicatorRow | None:
        return self.session.get(IndicatorRow, (code, version))

    def versions(self, code: str) -> list[IndicatorRow]:
        stmt = select(IndicatorRow).where(col(IndicatorRow.code) == code).order_by(col(IndicatorRow.version))
        return list(self.session.scalars(stmt))

    def latest_of(self, codes: Iterable[str] | None = None) -> dict[str, IndicatorRow]:
        """The latest version of each code (of every code when ``codes`` is None)."""
        newest = select(col(IndicatorRow.code), func.max(col(IndicatorRow.version)).label("v")).group_by(
            col(IndicatorRow.code)
        )
        wanted = None if codes is None else list(set(codes))
        if wanted is not None:
            newest = newest.where(col(IndicatorRow.code).in_(wanted))
        sub = newest.subquery()
        stmt = (
            select(IndicatorRow)
            .join(sub, (col(IndicatorRow.code) == sub.c.code) & (col(IndicatorRow.version) == sub.c.v))
            .order_by(col(IndicatorRow.code))
        )
        return {row.code: row for row in self.session.scalars(stmt)}

    def add(self, row: IndicatorRow) -> None:
        self.session.add(row)
        self.session.flush()

    def in_use(self, code: str) -> bool:
        observed = select(col(ObservationRow.seq)).where(col(ObservationRow.indicator_code) == code).limit(1)
        targeted = select(col(TargetRow.id)).where(col(TargetRow.indicator_code) == code).limit(1)
        return (
            self.session.scalars(observed).first() is not None
            or self.session.scalars(targeted).first() is not None
        )

    def codes_in_use(self) -> set[str]:
        observed = select(col(ObservationRow.indicator_code)).distinct()
        targeted = select(col(TargetRow.indicator_code)).distinct()
        return set(self.session.scalars(observed)) | set(self.session.scalars(targeted))

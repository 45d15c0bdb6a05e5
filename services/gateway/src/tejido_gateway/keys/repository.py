"""All SQL of API keys."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, select, update

from tejido_gateway.keys.models import ApiKeyRow


def add(session: Session, row: ApiKeyRow) -> None:
    session.add(row)


def get(session: Session, key_id: str) -> ApiKeyRow | None:
    return session.get(ApiKeyRow, key_id)


def list_all(session: Session) -> Sequence[ApiKeyRow]:
    return session.exec(select(ApiKeyRow).order_by(col(ApiKeyRow.created_at), col(ApiKeyRow.id))).all()


def touch(session: Session, key_id: str, when: datetime) -> None:
    session.execute(update(ApiKeyRow).where(col(ApiKeyRow.id) == key_id).values(last_used_at=when))


def revoke(session: Session, key_id: str, when: datetime) -> None:
    session.execute(
        update(ApiKeyRow)
        .where(col(ApiKeyRow.id) == key_id, col(ApiKeyRow.revoked_at).is_(None))
        .values(revoked_at=when)
    )

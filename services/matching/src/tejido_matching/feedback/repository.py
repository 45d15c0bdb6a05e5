"""All SQL of feedback."""

from __future__ import annotations

from sqlmodel import Session, col, select

from tejido_common.db import Database
from tejido_matching.feedback.models import Feedback


def add(session: Session, row: Feedback) -> None:
    session.add(row)


def latest_by_candidate(session: Session, requester_id: str | None) -> dict[tuple[str, str], Feedback]:
    """The latest verdict per (requester, candidate): a later verdict replaces an earlier one."""
    stmt = select(Feedback).order_by(col(Feedback.created_at), col(Feedback.id))
    if requester_id:
        stmt = stmt.where(Feedback.requester_id == requester_id)
    latest: dict[tuple[str, str], Feedback] = {}
    for row in session.exec(stmt):
        latest[(row.requester_id, row.candidate_id)] = row
    return latest


def dismissed_by(db: Database, requester_id: str) -> set[str]:
    with db.read_session() as session:
        return {
            c
            for (_, c), row in latest_by_candidate(session, requester_id).items()
            if row.verdict == "not_relevant"
        }

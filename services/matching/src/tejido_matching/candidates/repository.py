"""All SQL of the candidates read model."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlmodel import Session, col, select

from tejido_matching.candidates.models import AllianceRecord, Candidate


def get_candidate(session: Session, organization_id: str) -> Candidate | None:
    return session.get(Candidate, organization_id)


def new_candidate(organization_id: str, event_time: datetime) -> Candidate:
    return Candidate(organization_id=organization_id, event_time=event_time)


def save(session: Session, row: Candidate | AllianceRecord) -> None:
    session.add(row)


def get_alliance(session: Session, alliance_id: str) -> AllianceRecord | None:
    return session.get(AllianceRecord, alliance_id)


def iter_candidates(session: Session, batch: int = 2000) -> Iterator[Candidate]:
    """Every row in primary-key order, in batches (keyset), so 100,000 rows never sit in one list."""
    last = ""
    while True:
        rows = session.exec(
            select(Candidate)
            .where(col(Candidate.organization_id) > last)
            .order_by(col(Candidate.organization_id))
            .limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].organization_id


def all_alliances(session: Session) -> list[AllianceRecord]:
    return list(session.exec(select(AllianceRecord)).all())


def stale_embeddings(session: Session, limit: int) -> list[Candidate]:
    """Profiles whose texts changed since they were last embedded (the embedding work queue)."""
    rows = session.exec(
        select(Candidate)
        .where(col(Candidate.texts_hash).is_not(None))
        .where(
            (col(Candidate.embedded_hash).is_(None))
            | (col(Candidate.embedded_hash) != col(Candidate.texts_hash))
        )
        .limit(limit)
    ).all()
    return list(rows)


def embeddings_for(session: Session, organization_id: str, texts_hash: str) -> bytes | None:
    row = session.get(Candidate, organization_id)
    if row is not None and row.embedded_hash == texts_hash:
        return row.embeddings
    return None


def store_embeddings(session: Session, organization_id: str, texts_hash: str, blob: bytes) -> bool | None:
    """Store unless the texts changed meanwhile (False: the newer texts will be embedded instead).
    None: the snapshot has no row for it yet (its durable consumer is behind the worker's)."""
    row = session.get(Candidate, organization_id)
    if row is None:
        return None
    if row.texts_hash != texts_hash:
        return False
    row.embedded_hash = texts_hash
    row.embeddings = blob
    session.add(row)
    return True

"""Append to and verify the hash chain. ``hash = sha256(prev_hash + canonical entry)``; the first
entry's ``prev_hash`` is 64 zeros. Verification recomputes every hash in order and reports the first
entry whose stored hash, link or position does not match."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlmodel import Session

from tejido_common.db import Database
from tejido_duediligence.audit.models import AuditEntryRow, AuditHeadRow
from tejido_duediligence.audit.repository import HEAD_ID, AuditRepository
from tejido_duediligence.audit.schemas import AuditEntry, AuditPage, BrokenLink, Verification
from tejido_duediligence.kit.actor import actor, utcnow

GENESIS = "0" * 64


def canonical(payload: dict[str, Any]) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def entry_hash(
    prev_hash: str, seq: int, at: datetime, who: str, action: str, subject: str, payload: str
) -> str:
    body = canonical(
        {
            "seq": seq,
            "at": at.isoformat(),
            "actor": who,
            "action": action,
            "subject": subject,
            "payload": payload,
        }
    )
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


class AuditLog:
    def __init__(self, db: Database):
        self.db = db

    def append(self, session: Session, action: str, subject: str, payload: dict[str, Any]) -> AuditEntryRow:
        """Append in the caller's transaction: the audited change and its entry commit together."""
        repo = AuditRepository(session)
        head = repo.head_for_update()
        if head is None:
            head = AuditHeadRow(id=HEAD_ID, seq=0, hash=GENESIS)
        # Microseconds dropped: every backend stores and returns the same instant, so hashes recompute.
        at = utcnow().replace(microsecond=0)
        seq = head.seq + 1
        body = canonical(payload)
        who = actor()
        digest = entry_hash(head.hash, seq, at, who, action, subject, body)
        entry = AuditEntryRow(
            seq=seq,
            at=at,
            actor=who,
            action=action,
            subject=subject,
            payload=body,
            prev_hash=head.hash,
            hash=digest,
        )
        head.seq, head.hash = seq, digest
        repo.add(entry, head)
        return entry

    def verify(self) -> Verification:
        with self.db.read_session() as session:
            repo = AuditRepository(session)
            prev, expected_seq, count = GENESIS, 1, 0
            for row in repo.entries():
                broken: str | None = None
                if row.seq != expected_seq:
                    broken = f"entry {expected_seq} is missing"
                elif row.prev_hash != prev:
                    broken = "prev_hash does not match the previous entry's hash"
                elif (
                    entry_hash(prev, row.seq, row.at, row.actor, row.action, row.subject, row.payload)
                    != row.hash
                ):
                    broken = "content does not match its hash"
                if broken:
                    return Verification(
                        ok=False,
                        entries=count,
                        head_hash=prev,
                        first_broken=BrokenLink(
                            seq=expected_seq if row.seq != expected_seq else row.seq, reason=broken
                        ),
                    )
                prev, expected_seq, count = row.hash, expected_seq + 1, count + 1
            head = repo.head()
            if head is not None and (head.seq != count or head.hash != prev):
                # Entries removed from the end leave a chain that is valid but shorter than the head.
                return Verification(
                    ok=False,
                    entries=count,
                    head_hash=prev,
                    first_broken=BrokenLink(seq=count + 1, reason="entries after this point are missing"),
                )
            return Verification(ok=True, entries=count, head_hash=prev if count else None, first_broken=None)

    def page(self, subject: str | None, after: int, limit: int) -> AuditPage:
        with self.db.read_session() as session:
            rows = AuditRepository(session).page(subject, after, limit + 1)
        items = [
            AuditEntry(
                seq=r.seq,
                at=r.at,
                actor=r.actor,
                action=r.action,
                subject=r.subject,
                payload=json.loads(r.payload),
                prev_hash=r.prev_hash,
                hash=r.hash,
            )
            for r in rows[:limit]
        ]
        return AuditPage(items=items, next_after=items[-1].seq if len(rows) > limit else None)

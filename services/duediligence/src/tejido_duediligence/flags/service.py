"""Flag rules: the allowed level changes, who and why on each, the event and the audit entry."""

from __future__ import annotations

from sqlmodel import Session

from tejido_common.db import Database
from tejido_common.ids import new_id
from tejido_common.outbox import add_event
from tejido_common.problems import Conflict, NotFound, field_error
from tejido_duediligence.audit.service import AuditLog
from tejido_duediligence.flags.events import FLAG_CHANGED, FlagChanged
from tejido_duediligence.flags.models import FlagChangeRow, FlagRow
from tejido_duediligence.flags.repository import FlagRepository
from tejido_duediligence.flags.schemas import Flag, FlagChange, FlagCreate, FlagTransition, OrganizationFlags
from tejido_duediligence.kit.actor import actor, utcnow
from tejido_duediligence.organizations.service import OrganizationDirectory

SOURCE = "tejido/duediligence"
# UNPP's flag life cycle: a yellow flag is escalated once, then confirmed red or sent back to yellow.
TRANSITIONS: dict[str, set[str]] = {
    "observation": {"yellow", "closed"},
    "yellow": {"escalated", "closed"},
    "escalated": {"red", "yellow", "closed"},
    "red": {"yellow", "closed"},
    "closed": set(),
}


class FlagNotFound(NotFound):
    code, title = "flag-not-found", "Flag not found"


class InvalidFlagTransition(Conflict):
    code, title = "invalid-flag-transition", "This level change is not allowed"


class FlagService:
    def __init__(self, db: Database, directory: OrganizationDirectory, audit: AuditLog):
        self.db = db
        self.directory = directory
        self.audit = audit

    def raise_flag(self, body: FlagCreate) -> Flag:
        with self.db.session() as session:
            self.directory.require_assessable(session, body.organization_id)
            row = self.create(
                session, body.organization_id, body.level, body.category, body.title, body.reason
            )
            return self._view(session, row)

    def create(
        self,
        session: Session,
        org_id: str,
        level: str,
        category: str,
        title: str,
        reason: str,
        hit_id: str | None = None,
    ) -> FlagRow:
        """Raise a flag in the caller's transaction (screening raises red ones for confirmed hits)."""
        now = utcnow()
        row = FlagRow(
            id=new_id(),
            organization_id=org_id,
            level=level,
            category=category,
            title=title,
            hit_id=hit_id,
            version=1,
            created_at=now,
            created_by=actor(),
            updated_at=now,
        )
        self._record(session, row, None, reason)
        return row

    def transition(self, flag_id: str, body: FlagTransition) -> Flag:
        with self.db.session() as session:
            row = FlagRepository(session).get_for_update(flag_id)
            if row is None:
                raise FlagNotFound(f"flag {flag_id} does not exist")
            if body.to not in TRANSITIONS[row.level]:
                allowed = sorted(TRANSITIONS[row.level]) or ["none"]
                raise InvalidFlagTransition(
                    f"a {row.level} flag cannot become {body.to} (allowed: {', '.join(allowed)})",
                    errors=[field_error(["to"], f"not allowed from {row.level}")],
                )
            previous = row.level
            row.level = body.to
            row.version += 1
            row.updated_at = utcnow()
            self._record(session, row, previous, body.reason)
            return self._view(session, row)

    def _record(self, session: Session, row: FlagRow, previous: str | None, reason: str) -> None:
        repo = FlagRepository(session)
        change = FlagChangeRow(
            flag_id=row.id,
            seq=row.version,
            from_level=previous,
            to_level=row.level,
            reason=reason,
            at=row.updated_at,
            by=actor(),
        )
        repo.add(row, change)
        reds = repo.red_count(row.organization_id)
        payload = FlagChanged(
            organization_id=row.organization_id,
            flag_id=row.id,
            level=row.level,
            previous_level=previous,
            category=row.category,
            reason=reason,
            changed_by=change.by,
            changed_at=change.at,
            blocking=reds > 0,
            red_flags=reds,
        )
        add_event(
            session,
            FLAG_CHANGED.envelope(payload, source=SOURCE, subject=f"organization/{row.organization_id}"),
        )
        self.audit.append(session, "flag.changed", f"flag/{row.id}", payload.model_dump(mode="json"))

    def is_blocked(self, session: Session, org_id: str) -> bool:
        return FlagRepository(session).red_count(org_id) > 0

    def get(self, flag_id: str) -> Flag:
        with self.db.read_session() as session:
            row = FlagRepository(session).get(flag_id)
            if row is None:
                raise FlagNotFound(f"flag {flag_id} does not exist")
            return self._view(session, row)

    def of_organization(self, org_id: str) -> OrganizationFlags:
        with self.db.read_session() as session:
            self.directory.require_known(session, org_id)
            rows = FlagRepository(session).of_organization(org_id)
            flags = [self._view(session, r) for r in rows]
        return OrganizationFlags(
            organization_id=org_id, blocking=any(f.level == "red" for f in flags), flags=flags
        )

    def search(self, org_id: str | None, levels: list[str], limit: int) -> list[Flag]:
        with self.db.read_session() as session:
            return [self._view(session, r) for r in FlagRepository(session).search(org_id, levels, limit)]

    @staticmethod
    def _view(session: Session, row: FlagRow) -> Flag:
        history = [
            FlagChange(from_level=c.from_level, to_level=c.to_level, reason=c.reason, at=c.at, by=c.by)
            for c in FlagRepository(session).history(row.id)
        ]
        return Flag(**row.model_dump(), history=history)

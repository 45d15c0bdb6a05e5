"""Screening rules: load list versions, screen organizations and key people (on demand, when the
registry changes a name or person, when a list version arrives), and adjudicate hits."""

from __future__ import annotations

import hashlib
import json
import threading
from importlib import resources

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from tejido_common.db import Database, insert_rows
from tejido_common.ids import new_id
from tejido_common.logging import get_logger
from tejido_common.outbox import add_event
from tejido_common.problems import Conflict, NotFound, Unprocessable, field_error
from tejido_duediligence.audit.service import AuditLog
from tejido_duediligence.flags.service import FlagService
from tejido_duediligence.kit.actor import actor, utcnow
from tejido_duediligence.organizations.repository import OrganizationRepository
from tejido_duediligence.screening import lists
from tejido_duediligence.screening.events import SCREENING_HIT, ScreeningHit
from tejido_duediligence.screening.matcher import Entry, ListIndex, NameVariant
from tejido_duediligence.screening.models import HitRow, ListEntryRow, ListVersionRow
from tejido_duediligence.screening.normalize import tokens_for
from tejido_duediligence.screening.repository import ScreeningRepository
from tejido_duediligence.screening.schemas import (
    CheckHit,
    CheckRequest,
    CheckResult,
    Decision,
    Hit,
    ListVersion,
    ListVersionRef,
    LoadReport,
    RowProblem,
    ScreeningRun,
    WatchList,
)

SOURCE = "tejido/duediligence"
SYNTHETIC_LIST_ID = "un-sc-synthetic"
log = get_logger(__name__)


class HitNotFound(NotFound):
    code, title = "hit-not-found", "Screening hit not found"


class AlreadyAdjudicated(Conflict):
    code, title = "hit-already-adjudicated", "The hit was already confirmed or dismissed"


class UnknownList(NotFound):
    code, title = "unknown-watchlist", "Watch list not found"


class ConcurrentLoad(Conflict):
    code, title = "concurrent-watchlist-load", "Another load of this list committed first"


class UnreadableList(Unprocessable):
    code, title = "unreadable-watchlist", "The watch-list file cannot be read"


def subject_key(name: str, kind: str) -> str:
    """The same screened name (however spelled or ordered) keeps the same key across re-screens."""
    return f"{kind}:{' '.join(sorted(tokens_for(name, kind)))}"[:500]


class ScreeningService:
    def __init__(
        self, db: Database, flags: FlagService, audit: AuditLog, *, threshold: float, max_bytes: int
    ):
        self.db = db
        self.flags = flags
        self.audit = audit
        self.threshold = threshold
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._cache: tuple[frozenset[str], ListIndex] | None = None

    # -- the index of the current list versions -------------------------------------------------
    def current_index(self, session: Session) -> tuple[ListIndex, list[ListVersionRow]]:
        """Rebuilt only when a list version changes (replicas notice through the database)."""
        repo = ScreeningRepository(session)
        versions = repo.current_versions()
        ids = frozenset(v.id for v in versions)
        with self._lock:
            if self._cache is None or self._cache[0] != ids:
                entries = [
                    Entry(
                        ref=row.ref,
                        list_id=row.list_id,
                        version_id=row.version_id,
                        kind=row.kind,
                        name=row.name,
                        names=[
                            NameVariant(n["name"], n.get("quality", "primary"), frozenset(n.get("given", [])))
                            for n in row.names
                        ],
                        countries=list(row.countries),
                    )
                    for row in repo.entries(sorted(ids))
                ]
                self._cache = (ids, ListIndex(entries))
            return self._cache[1], versions

    # -- ad-hoc checks --------------------------------------------------------------------------
    def check(self, body: CheckRequest) -> CheckResult:
        threshold = body.threshold if body.threshold is not None else self.threshold
        with self.db.read_session() as session:
            index, versions = self.current_index(session)
        hits = index.screen(body.name, body.kind, body.country, threshold)
        return CheckResult(
            name=body.name,
            kind=body.kind,
            threshold=threshold,
            lists=[ListVersionRef(list_id=v.list_id, version_id=v.id, seq=v.seq) for v in versions],
            hits=[
                CheckHit(
                    list_id=h.entry.list_id,
                    list_version_id=h.entry.version_id,
                    entry_ref=h.entry.ref,
                    entry_name=h.entry.name,
                    entry_kind=h.entry.kind,
                    entry_countries=h.entry.countries,
                    score=h.score,
                    matched_fields=h.matched_fields(),
                )
                for h in hits
            ],
        )

    # -- screening organizations ----------------------------------------------------------------
    def screen_organization(self, session: Session, org_id: str) -> int:
        """Screen the organization's names and key people in the caller's transaction; new hits are
        queued (and announced). A hit already recorded for the same name, list version and entry is
        left as it is: a dismissed hit stays dismissed."""
        orgs = OrganizationRepository(session)
        org = orgs.get(org_id)
        if org is None or org.status == "archived":
            return 0
        people = orgs.people(org_id)
        subjects = [(n, "organization") for n in (org.legal_name, *org.aliases)]
        subjects += [(str(p["name"]), "person") for p in (people.people if people else []) if p.get("name")]
        repo = ScreeningRepository(session)
        self._follow_subjects(session, repo, org_id, {subject_key(n, k) for n, k in subjects})
        index, versions = self.current_index(session)
        if not versions:
            return 0
        seen = repo.existing_keys(org_id, [v.id for v in versions])
        new = 0
        for name, kind in subjects:
            key = subject_key(name, kind)
            # A person's country never rules a hit out; an organization's may (see matcher).
            for hit in index.screen(
                name, kind, org.country if kind == "organization" else None, self.threshold
            ):
                hit_key = (key, hit.entry.version_id, hit.entry.ref)
                if hit_key in seen:
                    continue
                seen.add(hit_key)
                row = HitRow(
                    id=new_id(),
                    organization_id=org_id,
                    subject_kind=kind,
                    subject_name=name[:500],
                    subject_key=key,
                    list_id=hit.entry.list_id,
                    version_id=hit.entry.version_id,
                    entry_ref=hit.entry.ref,
                    entry_name=hit.entry.name,
                    score=hit.score,
                    matched=hit.matched_fields(),
                    status="pending",
                    created_at=utcnow(),
                )
                repo.add(row)
                payload = ScreeningHit(
                    hit_id=row.id,
                    organization_id=org_id,
                    subject_kind=kind,
                    subject_name=row.subject_name,
                    list_id=row.list_id,
                    list_version_id=row.version_id,
                    entry_ref=row.entry_ref,
                    entry_name=row.entry_name,
                    score=row.score,
                    matched_fields=row.matched,
                    status="pending",
                    created_at=row.created_at,
                )
                add_event(
                    session, SCREENING_HIT.envelope(payload, source=SOURCE, subject=f"organization/{org_id}")
                )
                new += 1
        return new

    def _follow_subjects(
        self, session: Session, repo: ScreeningRepository, org_id: str, current: set[str]
    ) -> None:
        """A pending hit on a name the organization no longer carries (renamed, alias dropped, person
        gone) leaves the reviewers' queue as ``withdrawn``, kept with the reason; if the name comes back,
        the same hit is pending again rather than a second one."""
        for row in repo.open_hits_for_update(org_id):
            still_carried = row.subject_key in current
            if row.status == "pending" and not still_carried:
                row.status, row.decided_at, row.decided_by = "withdrawn", utcnow(), "system"
                row.reason = f"the {row.subject_kind}'s name is no longer in the registry profile"
            elif row.status == "withdrawn" and still_carried:
                row.status, row.reason, row.decided_at, row.decided_by = "pending", None, None, None
            else:
                continue
            repo.add(row)
            # Names stay out of the log, as for adjudications.
            self.audit.append(
                session,
                "screening.withdrawn" if row.status == "withdrawn" else "screening.reopened",
                f"organization/{org_id}",
                {"hit_id": row.id, "list_id": row.list_id, "entry_ref": row.entry_ref},
            )

    def rescreen(self, org_id: str) -> ScreeningRun:
        with self.db.session() as session:
            if OrganizationRepository(session).get(org_id) is None:
                raise NotFound(f"organization {org_id} is not known to due diligence")
            return ScreeningRun(organizations=1, new_hits=self.screen_organization(session, org_id))

    def rescreen_all(self, batch: int = 100) -> ScreeningRun:
        with self.db.read_session() as session:
            ids = OrganizationRepository(session).active_ids()
        new = 0
        for start in range(0, len(ids), batch):
            for attempt in range(3):
                try:
                    with self.db.session() as session:
                        found = sum(self.screen_organization(session, o) for o in ids[start : start + batch])
                    new += found
                    break
                except IntegrityError:
                    # A registry event screened one of these organizations at the same moment: its
                    # hits are committed now, so the retry sees them and adds only what is missing.
                    if attempt == 2:
                        raise
        return ScreeningRun(organizations=len(ids), new_hits=new)

    # -- adjudication ---------------------------------------------------------------------------
    def adjudicate(self, hit_id: str, body: Decision) -> Hit:
        with self.db.session() as session:
            repo = ScreeningRepository(session)
            row = repo.hit_for_update(hit_id)
            if row is None:
                raise HitNotFound(f"hit {hit_id} does not exist")
            if row.status != "pending":
                raise AlreadyAdjudicated(f"hit {hit_id} was already {row.status}")
            row.status = "confirmed" if body.decision == "confirm" else "dismissed"
            row.reason, row.decided_at, row.decided_by = body.reason, utcnow(), actor()
            repo.add(row)
            flag_id = None
            if row.status == "confirmed":
                flag = self.flags.create(
                    session,
                    row.organization_id,
                    "red",
                    "sanctions_match",
                    f"Confirmed watch-list match: {row.entry_name} ({row.list_id} {row.entry_ref})"[:300],
                    body.reason,
                    hit_id=row.id,
                )
                flag_id = flag.id
            # The audit entry names the hit, not the person: the log is not restricted data.
            self.audit.append(
                session,
                "screening.adjudicated",
                f"organization/{row.organization_id}",
                {
                    "hit_id": row.id,
                    "decision": row.status,
                    "reason": body.reason,
                    "list_id": row.list_id,
                    "list_version_id": row.version_id,
                    "entry_ref": row.entry_ref,
                    "score": row.score,
                    "flag_id": flag_id,
                },
            )
            return Hit.model_validate(row, from_attributes=True).model_copy(update={"flag_id": flag_id})

    def hits(self, org_id: str | None, statuses: list[str], limit: int) -> list[Hit]:
        with self.db.read_session() as session:
            rows = ScreeningRepository(session).hits(org_id, statuses, limit)
        return [Hit.model_validate(r, from_attributes=True) for r in rows]

    def get_hit(self, hit_id: str) -> Hit:
        with self.db.read_session() as session:
            row = ScreeningRepository(session).hit(hit_id)
        if row is None:
            raise HitNotFound(f"hit {hit_id} does not exist")
        return Hit.model_validate(row, from_attributes=True)

    # -- watch lists ----------------------------------------------------------------------------
    def load(
        self,
        data: bytes,
        *,
        filename: str | None,
        content_type: str | None,
        fmt: str | None = None,
        list_id: str | None = None,
        rescreen: bool = True,
    ) -> LoadReport:
        if len(data) > self.max_bytes:
            raise Unprocessable(
                f"watch-list files may be at most {self.max_bytes} bytes",
                errors=[field_error(["file"], "too large")],
            )
        fmt = fmt or lists.sniff_format(filename, content_type, data)
        try:
            parsed = (
                lists.parse_un_xml(data, list_id or lists.UN_LIST_ID)
                if fmt == "un-xml"
                else lists.parse_csv(data)
            )
        except lists.ListFileError as exc:
            raise UnreadableList(str(exc), errors=[field_error(["file"], str(exc))]) from None
        errors = [RowProblem(row=e.row, field=e.field, reason=e.reason) for e in parsed.errors]
        if not parsed.entries:
            raise UnreadableList(
                "the file holds no valid entry: nothing was loaded",
                errors=[field_error(["file"], "no valid entry")],
                extra={"row_errors": [e.model_dump() for e in errors]},
            )
        groups: dict[str, list[lists.ParsedEntry]] = {}
        for entry in parsed.entries:
            groups.setdefault(entry.list_id, []).append(entry)
        try:
            created, unchanged = self._store_versions(groups, parsed, filename)
        except IntegrityError:
            raise ConcurrentLoad(
                "another load of the same list committed a version at the same moment; send the file again",
                errors=[field_error(["file"], "concurrent load of the same list")],
            ) from None
        # A new list version re-screens every organization (each batch in its own transaction).
        run = self.rescreen_all() if created and rescreen else None
        return LoadReport(
            format=parsed.format,
            versions=created,
            unchanged=unchanged,
            entries_loaded=sum(v.entries for v in created),
            errors=errors,
            rescreened=run,
        )

    def _store_versions(
        self, groups: dict[str, list[lists.ParsedEntry]], parsed: lists.ParsedFile, filename: str | None
    ) -> tuple[list[ListVersion], list[str]]:
        created: list[ListVersion] = []
        unchanged: list[str] = []
        with self.db.session() as session:
            repo = ScreeningRepository(session)
            current = {v.list_id: v for v in repo.current_versions()}
            for group_id, entries in sorted(groups.items()):
                digest = _digest(entries)
                previous = current.get(group_id)
                if previous is not None and previous.sha256 == digest:
                    unchanged.append(group_id)
                    continue
                version = ListVersionRow(
                    id=new_id(),
                    list_id=group_id,
                    seq=(previous.seq if previous else 0) + 1,
                    source_format=parsed.format,
                    source_name=(filename or None) and str(filename)[:255],
                    sha256=digest,
                    generated_at=parsed.generated_at,
                    entries=len(entries),
                    loaded_at=utcnow(),
                    loaded_by=actor(),
                )
                repo.add(version)
                rows = [_entry_row(version, e) for e in _unique(entries)]
                insert_rows(session, ListEntryRow.__table__, rows)  # type: ignore[attr-defined]
                created.append(ListVersion.model_validate(version, from_attributes=True))
        return created, unchanged

    def load_shipped(self) -> list[LoadReport]:
        """The synthetic lists shipped for demos (one UN-format, one CSV), loaded once: only when no
        list is known yet."""
        with self.db.read_session() as session:
            if ScreeningRepository(session).current_versions():
                return []
        folder = resources.files("tejido_duediligence.screening") / "data"
        return [
            self.load(
                (folder / "synthetic-un-sc.xml").read_bytes(),
                filename="synthetic-un-sc.xml",
                content_type="application/xml",
                list_id=SYNTHETIC_LIST_ID,
            ),
            self.load(
                (folder / "synthetic.csv").read_bytes(), filename="synthetic.csv", content_type="text/csv"
            ),
        ]

    def watchlists(self) -> list[WatchList]:
        with self.db.read_session() as session:
            repo = ScreeningRepository(session)
            return [
                WatchList(
                    list_id=v.list_id,
                    current=ListVersion.model_validate(v, from_attributes=True),
                    versions=repo.version_count(v.list_id),
                )
                for v in repo.current_versions()
            ]

    def versions(self, list_id: str) -> list[ListVersion]:
        with self.db.read_session() as session:
            rows = ScreeningRepository(session).versions(list_id)
        if not rows:
            raise UnknownList(f"watch list {list_id} has never been loaded")
        return [ListVersion.model_validate(r, from_attributes=True) for r in rows]


def _unique(entries: list[lists.ParsedEntry]) -> list[lists.ParsedEntry]:
    """One entry per reference (a file repeating one keeps its last record)."""
    return list({e.ref: e for e in entries}.values())


def _digest(entries: list[lists.ParsedEntry]) -> str:
    canonical = sorted(
        json.dumps(
            [e.ref, e.kind, e.name, [[n.text, n.quality] for n in e.names], e.countries], ensure_ascii=False
        )
        for e in _unique(entries)
    )
    return hashlib.sha256("\n".join(canonical).encode()).hexdigest()


def _entry_row(version: ListVersionRow, entry: lists.ParsedEntry) -> dict[str, object]:
    return {
        "id": new_id(),
        "version_id": version.id,
        "list_id": version.list_id,
        "ref": entry.ref,
        "kind": entry.kind,
        "name": entry.name,
        "names": [{"name": n.text, "quality": n.quality, "given": n.given} for n in entry.names],
        "countries": entry.countries,
        "details": entry.details,
    }

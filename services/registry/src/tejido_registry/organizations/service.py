"""Organization use cases: rules beyond the schema, persistence, history and events in one transaction."""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError

from tejido_common.context import current_actor, current_correlation_id
from tejido_common.db import Database
from tejido_common.ids import new_id
from tejido_common.problems import (
    Conflict,
    DomainError,
    FieldError,
    NotFound,
    PreconditionFailed,
    Unprocessable,
    field_error,
    unprocessable_from,
)
from tejido_common.taxonomy import taxonomy
from tejido_registry.kit.changes import Change, diff, merge_patch
from tejido_registry.kit.text import acronym_key, normalize, search_terms
from tejido_registry.kit.uow import UnitOfWork
from tejido_registry.organizations import events
from tejido_registry.organizations.completeness import completeness
from tejido_registry.organizations.duplicates import DuplicateIndex, name_keys
from tejido_registry.organizations.models import OrganizationRow
from tejido_registry.organizations.queries import iso_utc, public_dict, to_model
from tejido_registry.organizations.repository import (
    FACET_VALUE_LENGTH,
    NamesWatermark,
    OrganizationRepository,
)
from tejido_registry.organizations.schemas import (
    SECTIONS,
    Completeness,
    DueDiligenceSummary,
    LikelyDuplicate,
    Organization,
    OrganizationCreate,
    People,
)

IfMatchVersions = Collection[int] | None  # the versions an If-Match header accepts; None: no condition


@dataclass
class BatchItem:
    """One organization of a bulk upsert: its number in the file, the validated profile, and the
    sections to merge into an existing organization given its stored public profile."""

    number: int
    payload: OrganizationCreate
    changes: Callable[[dict[str, Any]], dict[str, Any]]


@dataclass
class BatchOutcome:
    number: int
    outcome: Literal["created", "updated", "unchanged"] | None  # None: failed, see errors
    errors: list[FieldError] = field(default_factory=list)


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """A batch allocates many short-lived objects and frees them all at its end: the cyclic garbage
    collector walking them meanwhile is pure overhead (a large share of import time)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def facets_of(org: OrganizationCreate) -> list[tuple[str, str]]:
    tax = taxonomy()
    identity, purpose, where, coop = org.identity, org.purpose, org.where, org.cooperation
    facets: list[tuple[str, str]] = []
    if identity.cso_subtype:
        facets.append(("cso_subtype", identity.cso_subtype))
    if identity.government_level:
        facets.append(("government_level", identity.government_level))
    for code in purpose.program_areas:
        facets.append(("program_area", code))
        category = tax.program_area_category(code)
        if category:
            facets.append(("program_area", category))
    facets += [("social_indicator", v) for v in purpose.social_indicators]
    facets += [("population", v) for v in purpose.target_populations]
    facets += [("language", v) for v in where.languages]
    facets += [("subdivision", v) for v in where.subdivisions]
    for place in where.areas_of_operation:
        facets.append(("area_country", place.country))
        if place.subdivision:
            facets.append(("subdivision", place.subdivision))
    facets += [("offer_kind", item.kind) for item in coop.offers]
    facets += [("need_kind", item.kind) for item in coop.needs]
    texts = [identity.legal_name, *identity.aliases, identity.acronym or "", purpose.mission or ""]
    terms = search_terms(texts)
    acronym = acronym_key(identity.acronym or "")
    if acronym:
        # Found as one word (S.E.M.I.L.L.A. by "semilla") and ranked first when searched exactly.
        facets.append(("acronym", acronym))
        terms.add(acronym)
    facets += [("term", t) for t in prefix_free(terms)]
    return facets


def prefix_free(terms: set[str]) -> list[str]:
    """The terms that are no other term's prefix (as stored: cut to the facet value length). Terms
    are only ever searched by prefix, and a search word that is a prefix of "educa" is one of
    "educacion" too: only the longer term needs a row."""
    ordered = sorted(t[:FACET_VALUE_LENGTH] for t in terms)
    last = len(ordered) - 1
    return [t for i, t in enumerate(ordered) if i == last or not ordered[i + 1].startswith(t)]


def _names(org: OrganizationCreate) -> list[str]:
    return [org.identity.legal_name, *org.identity.aliases]


def _identifier_pairs(org: OrganizationCreate) -> list[tuple[str, str]]:
    return [(i.scheme, i.id) for i in org.identity.identifiers]


def _public_state(org: OrganizationCreate | Organization, status: str) -> dict[str, Any]:
    return {"status": status, **org.model_dump(mode="json", include=set(SECTIONS))}


class OrganizationService:
    def __init__(
        self,
        db: Database,
        *,
        duplicate_threshold: float = 88.0,
    ):
        self.db = db
        self.duplicate_threshold = duplicate_threshold
        # The names a finished bulk import knew, for the next one (see checkout_duplicate_index).
        self._kept_index: tuple[NamesWatermark, DuplicateIndex] | None = None
        self._kept_lock = threading.Lock()

    # -- the duplicate index of bulk imports -------------------------------------------------------
    def checkout_duplicate_index(self) -> tuple[DuplicateIndex, NamesWatermark]:
        """The names index for a bulk import. Loading a country's names costs what the country holds
        (a growing share of each import as the registry fills up), so the index a finished import
        kept current is handed to the next import, unless anything else has written organizations
        since (then it is loaded afresh). An index is used by one import at a time."""
        with self.db.read_session() as session:
            mark = OrganizationRepository(session).names_watermark()
        with self._kept_lock:
            kept, self._kept_index = self._kept_index, None
        if kept is not None and kept[0] == mark:
            return kept[1], mark
        return DuplicateIndex(self.duplicate_threshold), mark

    def keep_duplicate_index(self, index: DuplicateIndex, since: NamesWatermark, created: int) -> None:
        """Keep a finished import's index for the next one, if the only writes to organizations since
        ``since`` are the ``created`` organizations that import registered (and so added to it)."""
        with self.db.read_session() as session:
            repo = OrganizationRepository(session)
            mark = repo.names_watermark()
            changed = repo.changed_between(since.last_updated, mark.last_updated)
        if mark.count == since.count + created and changed == created:
            with self._kept_lock:
                self._kept_index = (mark, index)

    # -- writes ---------------------------------------------------------------------------------
    def create(self, payload: OrganizationCreate, *, allow_duplicate: bool = False) -> Organization:
        try:
            with UnitOfWork.begin(self.db) as uow:
                org = self._create(uow, payload, DuplicateIndex(self.duplicate_threshold), allow_duplicate)
        except IntegrityError as exc:  # a concurrent create took the same identifier
            raise Conflict("an organization with the same identifier was registered concurrently") from exc
        return org

    def _create(
        self,
        uow: UnitOfWork,
        payload: OrganizationCreate,
        dup_index: DuplicateIndex,
        allow_duplicate: bool = False,
        *,
        identifiers_checked: bool = False,
    ) -> Organization:
        """Register inside the unit of work (bulk imports share one per batch and check identifiers
        for the whole batch themselves)."""
        repo = OrganizationRepository(uow.session)
        org_id = new_id()
        if not identifiers_checked:
            self._check_identifiers(repo, payload, org_id)
        if not allow_duplicate:
            duplicates = dup_index.find(repo, payload.where.country, _names(payload))
            if duplicates:
                raise LikelyDuplicates(duplicates)
        self._check_references(repo, payload, org_id)
        people = [p.model_dump(mode="json") for p in payload.people] if payload.people else None
        # The version-1 snapshot is the registered state; history lists changes from then on.
        now = datetime.now(UTC)
        return self._save(uow, org_id, payload, None, people, "registered", [], now, dup_index)

    def update(
        self,
        org_id: str,
        changes: dict[str, Any],
        *,
        if_match: IfMatchVersions = None,
        replace: bool = False,
    ) -> Organization:
        """Merge (or with ``replace``, overwrite) the given sections; ``status`` may move draft ↔ active."""
        with UnitOfWork.begin(self.db) as uow:
            row = self._writable(OrganizationRepository(uow.session), org_id, if_match)
            org, _ = self._update(uow, row, changes, replace=replace)
            return org

    def _update(
        self,
        uow: UnitOfWork,
        row: OrganizationRow,
        changes: dict[str, Any],
        *,
        replace: bool = False,
        dup_index: DuplicateIndex | None = None,
    ) -> tuple[Organization, bool]:
        repo = OrganizationRepository(uow.session)
        before = to_model(row)
        merged = before.model_dump(mode="json", include={"status", *SECTIONS})
        for section, fields in changes.items():
            if section in SECTIONS and fields is not None:
                merged[section] = dict(fields) if replace else merge_patch(merged[section], fields)
            elif section == "status" and fields is not None:
                merged["status"] = fields
        try:
            candidate = OrganizationCreate.model_validate(merged)
        except ValidationError as exc:
            raise unprocessable_from(exc) from exc
        before_state = _public_state(before, before.status)
        after_state = _public_state(candidate, candidate.status)
        change_list = diff(before_state, after_state)
        if not change_list:
            return before, False
        self._check_identifiers(repo, candidate, row.id)
        self._check_references(repo, candidate, row.id)
        org = self._save(
            uow, row.id, candidate, row, row.people, "updated", change_list, datetime.now(UTC), dup_index
        )
        return org, True

    def replace_people(
        self, org_id: str, people: People, *, if_match: IfMatchVersions = None
    ) -> tuple[People, int]:
        """Key people are restricted: the change is versioned without names and announced on its own
        event type (for due-diligence screening), never inside the public organization events."""
        with UnitOfWork.begin(self.db) as uow:
            repo = OrganizationRepository(uow.session)
            row = self._writable(repo, org_id, if_match)
            old = row.people or []
            new = [p.model_dump(mode="json") for p in people.people]
            if old == new:
                return people, row.version
            now = datetime.now(UTC)
            row.people = new
            row.version += 1
            row.updated_at = now
            row.completeness = completeness(row.profile, new)["overall"]
            uow.session.add(row)
            repo.add_version(
                self._version_values(
                    row.id,
                    row.version,
                    row.status,
                    row.profile,
                    "people_updated",
                    [Change(field="people", old={"count": len(old)}, new={"count": len(new)})],
                    now,
                )
            )
            uow.add_event(
                events.people_updated(org_id, row.legal_name, row.country, row.version, new), org_id
            )
            return people, row.version

    def archive(self, org_id: str) -> Organization:
        with UnitOfWork.begin(self.db) as uow:
            repo = OrganizationRepository(uow.session)
            row = repo.get_for_update(org_id)
            if row is None:
                raise NotFound(f"organization {org_id} does not exist")
            if row.status == "archived":
                return to_model(row)  # archiving is idempotent: no second event
            now = datetime.now(UTC)
            previous = row.status
            row.status = "archived"
            row.archived_at = now
            row.updated_at = now
            row.version += 1
            uow.session.add(row)
            org = to_model(row)
            repo.add_version(
                self._version_values(
                    row.id,
                    row.version,
                    row.status,
                    row.profile,
                    "archived",
                    [Change(field="status", old=previous, new="archived")],
                    now,
                )
            )
            uow.add_event(events.archived(org), org_id)
            return org

    # -- bulk -------------------------------------------------------------------------------------
    def upsert_batch(
        self,
        items: Sequence[BatchItem],
        dup_index: DuplicateIndex,
        *,
        allow_duplicates: bool = False,
        on_commit: Callable[[UnitOfWork, list[BatchOutcome]], None] | None = None,
    ) -> list[BatchOutcome]:
        """Create, update or leave unchanged the organization each item describes, in one transaction:
        by identifier, else by exact name in the same country (so importing a file twice changes
        nothing). New rows are written with one executemany per table; identifier owners are looked
        up once. ``on_commit`` runs inside that transaction with the outcomes (e.g. to record what the
        batch committed). If a concurrent writer takes an identifier mid-batch, the batch is redone
        item by item and ``on_commit`` runs once at the end."""
        try:
            with gc_paused(), UnitOfWork.begin(self.db, buffered=True) as uow:
                repo = OrganizationRepository(uow.session)
                owners = repo.owners_of_identifiers(
                    pair for item in items for pair in _identifier_pairs(item.payload)
                )
                loaded = repo.load(owners.values())  # noqa: F841 (held: the session keeps them weakly)
                outcomes = [self._upsert(uow, item, dup_index, allow_duplicates, owners) for item in items]
                uow.flush()
                if on_commit is not None:
                    on_commit(uow, outcomes)
                return outcomes
        except IntegrityError:
            dup_index.clear()
        outcomes = []
        for item in items:
            try:
                with UnitOfWork.begin(self.db) as uow:
                    outcome = self._upsert(uow, item, dup_index, allow_duplicates, None)
            except IntegrityError:
                reason = "identifier registered concurrently by another request"
                outcome = BatchOutcome(item.number, None, [field_error(["identity", "identifiers"], reason)])
            outcomes.append(outcome)
        if on_commit is not None:
            with UnitOfWork.begin(self.db) as uow:
                on_commit(uow, outcomes)
        return outcomes

    def _upsert(
        self,
        uow: UnitOfWork,
        item: BatchItem,
        dup_index: DuplicateIndex,
        allow_duplicates: bool,
        owners: dict[tuple[str, str], str] | None,
    ) -> BatchOutcome:
        """``owners`` (batch mode) maps every identifier of the batch already registered to its
        organization and learns the ones this item registers; without it they are looked up."""
        repo = OrganizationRepository(uow.session)
        payload = item.payload
        pairs = _identifier_pairs(payload)
        if owners is None:
            known = set(repo.owners_of_identifiers(pairs).values())
        else:
            known = {owners[p] for p in pairs if p in owners}
        if len(known) > 1:
            reason = "the identifiers belong to different organizations"
            return BatchOutcome(item.number, None, [field_error(["identity", "identifiers"], reason)])
        owner = (
            known.pop()
            if known
            else dup_index.exact(repo, payload.where.country, payload.identity.legal_name)
        )
        # A row refused half-way (e.g. its event is too large) must leave nothing in the batch.
        mark = uow.buffer.checkpoint() if uow.buffer is not None else None
        try:
            if owner is None:
                org = self._create(
                    uow, payload, dup_index, allow_duplicates, identifiers_checked=owners is not None
                )
                if owners is not None:
                    owners.update(dict.fromkeys(pairs, org.id))
                return BatchOutcome(item.number, "created")
            uow.flush()  # the organization may have been created earlier in this batch
            row = repo.get(owner)
            if row is None or row.status == "archived":
                reason = f"organization {owner} is archived"
                return BatchOutcome(item.number, None, [field_error(["identity", "identifiers"], reason)])
            changes = item.changes(public_dict(row))
            if not any(changes.values()):
                return BatchOutcome(item.number, "unchanged")  # nothing to merge: skip validating
            with uow.session.begin_nested():  # undone alone if this row's update is refused
                _, changed = self._update(uow, row, changes, dup_index=dup_index)
            if changed and owners is not None:
                owners.update(dict.fromkeys(pairs, owner))
            return BatchOutcome(item.number, "updated" if changed else "unchanged")
        except LikelyDuplicates as exc:
            if uow.buffer is not None and mark is not None:
                uow.buffer.rollback(mark)
            dup = exc.duplicates[0]
            reason = f"likely duplicate of {dup.legal_name!r} ({dup.id}): {dup.reason}"
            return BatchOutcome(item.number, None, [field_error(["identity", "legal_name"], reason)])
        except DomainError as exc:
            if uow.buffer is not None and mark is not None:
                uow.buffer.rollback(mark)
            return BatchOutcome(item.number, None, exc.errors or [field_error(["row"], exc.detail)])

    # -- internals ------------------------------------------------------------------------------
    def _writable(
        self, repo: OrganizationRepository, org_id: str, if_match: IfMatchVersions
    ) -> OrganizationRow:
        row = repo.get_for_update(org_id)
        if row is None:
            raise NotFound(f"organization {org_id} does not exist")
        if if_match is not None and row.version not in if_match:
            wanted = ", ".join(str(v) for v in sorted(if_match))
            raise PreconditionFailed(
                f"organization {org_id} is at version {row.version}, not {wanted}",
                extra={"current_version": row.version},
            )
        if row.status == "archived":
            raise Conflict(f"organization {org_id} is archived and can no longer be changed")
        return row

    def _save(
        self,
        uow: UnitOfWork,
        org_id: str,
        candidate: OrganizationCreate,
        row: OrganizationRow | None,
        people: list[dict[str, Any]] | None,
        action: str,
        changes: list[Change],
        now: datetime,
        dup_index: DuplicateIndex | None,
    ) -> Organization:
        """Write a validated profile (new when ``row`` is None), its derived rows, history and event."""
        repo = OrganizationRepository(uow.session)
        profile = candidate.model_dump(mode="json", include=set(SECTIONS))
        scores = completeness(profile, people)
        fields: dict[str, Any] = {
            "status": candidate.status,
            "legal_name": candidate.identity.legal_name,
            "sort_name": normalize(candidate.identity.legal_name)[:300],
            "actor_type": candidate.identity.actor_type,
            "country": candidate.where.country,
            "willing_to_cooperate": candidate.cooperation.willing_to_cooperate,
            "completeness": scores["overall"],
            "profile": profile,
            "updated_at": now,
        }
        due_diligence = None
        if row is None:
            version, created_at = 1, now
            repo.insert_organization(
                {
                    **fields,
                    "id": org_id,
                    "version": 1,
                    "created_at": now,
                    "archived_at": None,
                    "people": people,
                }
            )
        else:
            for key, value in fields.items():
                setattr(row, key, value)
            row.version += 1
            version, created_at = row.version, row.created_at
            repo.add(row)
            if row.dd_band:
                due_diligence = DueDiligenceSummary(band=row.dd_band, rated_at=row.dd_rated_at)
        # Built from already-validated parts: no second validation of the whole profile.
        org = Organization.model_construct(
            id=org_id,
            status=candidate.status,
            version=version,
            created_at=created_at,
            updated_at=now,
            archived_at=None,
            identity=candidate.identity,
            where=candidate.where,
            purpose=candidate.purpose,
            capacity=candidate.capacity,
            cooperation=candidate.cooperation,
            completeness=Completeness(**scores),
            due_diligence=due_diligence,
        )
        # The event carries the organization's JSON form, built from the profile just serialized for
        # the row (the profile is serialized once for row, history and event).
        data = {
            "id": org_id,
            "status": candidate.status,
            "version": version,
            "created_at": iso_utc(created_at),
            "updated_at": iso_utc(now),
            "archived_at": None,
            **profile,
            "completeness": scores,
            "due_diligence": None
            if due_diligence is None
            else {"band": due_diligence.band, "rated_at": iso_utc(due_diligence.rated_at)},
        }
        names = name_keys(_names(candidate))
        new = row is None  # nothing to delete first
        repo.replace_identifiers(org_id, _identifier_pairs(candidate), new=new)
        repo.replace_facets(org_id, facets_of(candidate), new=new)
        repo.replace_names(org_id, candidate.where.country, names, new=new)
        repo.add_version(
            self._version_values(org_id, version, candidate.status, profile, action, changes, now)
        )
        if action == "updated":
            event = events.updated(data, [c.field for c in changes])
        else:
            event = events.registered(data)
        uow.add_event(event, org_id)
        if row is None and people:
            # Due diligence screens key people: it learns of them on registration too, on their own
            # restricted event (never inside the public registered event).
            name, country = candidate.identity.legal_name, candidate.where.country
            uow.add_event(events.people_updated(org_id, name, country, 1, people), org_id)
        if dup_index is not None:
            # Last: a row refused above (e.g. an event over the size limit) leaves no name behind.
            dup_index.add(candidate.where.country, org_id, names)
        return org

    @staticmethod
    def _version_values(
        org_id: str,
        version: int,
        status: str,
        profile: dict[str, Any],
        action: str,
        changes: list[Change],
        now: datetime,
    ) -> dict[str, Any]:
        return {
            "organization_id": org_id,
            "version": version,
            "changed_at": now,
            "actor": current_actor(),
            "correlation_id": current_correlation_id(),
            "action": action,
            "changes": [c.model_dump(mode="json") for c in changes],
            "snapshot": {"status": status, **profile},
        }

    @staticmethod
    def _check_identifiers(repo: OrganizationRepository, org: OrganizationCreate, org_id: str) -> None:
        owners = repo.owners_of_identifiers(_identifier_pairs(org))
        clashes = {pair: owner for pair, owner in owners.items() if owner != org_id}
        if clashes:
            names = repo.legal_names(clashes.values())
            duplicates = [
                LikelyDuplicate(
                    id=owner,
                    legal_name=names.get(owner, ""),
                    matched_name=f"{scheme}:{value}",
                    score=100.0,
                    reason=f"same identifier {scheme} {value}",
                )
                for (scheme, value), owner in clashes.items()
            ]
            raise Conflict(
                "an organization with the same identifier is already registered",
                errors=[field_error(["identity", "identifiers"], d.reason) for d in duplicates],
                extra={"duplicates": [d.model_dump() for d in duplicates]},
            )

    @staticmethod
    def _check_references(repo: OrganizationRepository, org: OrganizationCreate, org_id: str) -> None:
        refs: list[tuple[list[str | int], str]] = []
        if org.identity.parent_organization_id:
            refs.append((["identity", "parent_organization_id"], org.identity.parent_organization_id))
        for i, prior in enumerate(org.cooperation.prior_cooperation):
            if prior.organization_id:
                refs.append(
                    (["cooperation", "prior_cooperation", i, "organization_id"], prior.organization_id)
                )
        if not refs:
            return
        existing = repo.existing_ids(ref for _, ref in refs)
        errors = [
            field_error(
                loc, "no such organization" if ref != org_id else "an organization cannot refer to itself"
            )
            for loc, ref in refs
            if ref not in existing or ref == org_id
        ]
        if errors:
            raise Unprocessable("referenced organizations do not exist", errors=errors)


class LikelyDuplicates(Conflict):
    """409 listing likely duplicates; the client may confirm with ``allow_duplicate=true``."""

    code, title = "likely-duplicate", "Likely duplicate organization"

    def __init__(self, duplicates: list[LikelyDuplicate]):
        super().__init__(
            f"{len(duplicates)} organization(s) in the same country have a very similar name; "
            "send allow_duplicate=true to register anyway",
            errors=[field_error(["identity", "legal_name"], d.reason) for d in duplicates],
            extra={"duplicates": [d.model_dump() for d in duplicates]},
        )
        self.duplicates = duplicates

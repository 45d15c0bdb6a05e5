"""Alliance use cases: the stage machine, its gates and the party rules; persistence and events in
one transaction (every write stages its event in the transactional outbox).

Rules beyond the schema:

* parties are existing, non-archived organizations (422 naming the field otherwise), each at most once;
  agreement signatories must be parties;
* stage changes follow :mod:`tejido_registry.alliances.stages` (409 naming ``to_stage`` for an illegal
  move, 409 naming each missing field for a gate); the gates of the stages already reached keep
  holding, so a change that would break one (e.g. clearing ``project.cost`` while established, or
  removing a party so that fewer than two remain past prospecting) is refused with 409;
* *concluded* and *dissolved* alliances are read only (409);
* a write that changes nothing writes nothing and emits nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from tejido_common.context import current_actor, current_correlation_id
from tejido_common.db import Database
from tejido_common.http import IfMatchVersions
from tejido_common.ids import new_id
from tejido_common.pagination import decode_cursor, encode_cursor
from tejido_common.problems import (
    Conflict,
    FieldError,
    NotFound,
    PreconditionFailed,
    Unprocessable,
    field_error,
    unprocessable_from,
)
from tejido_common.taxonomy import taxonomy
from tejido_registry.alliances import events, stages
from tejido_registry.alliances.models import AllianceRow, AllianceStageChangeRow
from tejido_registry.alliances.repository import AllianceFilter, AllianceRepository
from tejido_registry.alliances.schemas import (
    Alliance,
    AllianceCreate,
    AllianceFields,
    AllianceHistory,
    AlliancePage,
    OrganizationAlliance,
    OrganizationAlliances,
    Party,
    PartyCreate,
    StageChange,
    TransitionRequest,
)
from tejido_registry.kit.changes import diff, merge_patch
from tejido_registry.kit.uow import UnitOfWork

SOURCE = "tejido/registry"
FIELD_NAMES = tuple(AllianceFields.model_fields)
SERVER_FIELDS = ("id", "version", "stage", "stage_changed_at", "created_at", "updated_at")


def to_model(row: AllianceRow) -> Alliance:
    return Alliance.model_validate(
        {
            **row.doc,
            "id": row.id,
            "version": row.version,
            "stage": row.stage,
            "stage_changed_at": row.stage_changed_at,
            "created_at": row.created_at,
            "updated_at": row.updated_at,
        }
    )


def changed_fields(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Dotted paths whose value differs (objects compared field by field, lists whole)."""
    return [change.field for change in diff(before, after)]


def _fields_of(alliance: Alliance | AllianceFields) -> dict[str, Any]:
    return alliance.model_dump(mode="json", include=set(FIELD_NAMES))


def _validate(doc: dict[str, Any], prefix: list[str | int] | None = None) -> AllianceFields:
    try:
        return AllianceFields.model_validate(doc)
    except ValidationError as exc:
        raise unprocessable_from(exc, prefix) from exc


def _consistency_errors(fields: AllianceFields) -> list[FieldError]:
    """Each organization is a party once; signatories of agreements are parties."""
    errors: list[FieldError] = []
    seen: set[str] = set()
    for i, party in enumerate(fields.parties):
        if party.organization_id in seen:
            errors.append(
                field_error(["parties", i, "organization_id"], "this organization is already a party")
            )
        seen.add(party.organization_id)
    for i, agreement in enumerate(fields.agreements):
        for j, signatory in enumerate(agreement.signatories):
            if signatory not in seen:
                errors.append(
                    field_error(
                        ["agreements", i, "signatories", j], f"{signatory} is not a party of this alliance"
                    )
                )
    return errors


def storable(value: str) -> bool:
    """Whether an id could be stored at all (PostgreSQL refuses NUL characters even in a lookup)."""
    return "\x00" not in value


@dataclass
class AllianceQuery(AllianceFilter):
    cursor: str | None = None
    limit: int | None = None


def _check_values(name: str, values: Sequence[str], allowed: Sequence[str]) -> list[str]:
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise Unprocessable(
            f"invalid filter {name}",
            errors=[
                field_error(["query", name], f"unknown value {v!r}; expected one of: {', '.join(allowed)}")
                for v in unknown
            ],
        )
    return list(values)


class AllianceService:
    def __init__(self, db: Database, *, page_size_default: int = 50, page_size_max: int = 200):
        self.db = db
        self.page_size_default = page_size_default
        self.page_size_max = page_size_max

    # -- reads ----------------------------------------------------------------------------------
    def get(self, alliance_id: str) -> Alliance:
        if not storable(alliance_id):
            raise NotFound("no such alliance")
        with self.db.read_session() as session:
            row = AllianceRepository(session).get(alliance_id)
            if row is None:
                raise NotFound(f"alliance {alliance_id} does not exist")
            return to_model(row)

    def get_party(self, alliance_id: str, organization_id: str) -> Party:
        alliance = self.get(alliance_id)
        for party in alliance.parties:
            if party.organization_id == organization_id:
                return party
        raise NotFound(f"organization {organization_id} is not a party of alliance {alliance_id}")

    def _page(self, cursor: str | None, limit: int | None, kind: str) -> tuple[int, str | None]:
        size = min(limit or self.page_size_default, self.page_size_max)
        after = None
        if cursor:
            decoded = decode_cursor(cursor)
            if (
                len(decoded) != 2
                or decoded[0] != kind
                or not isinstance(decoded[1], str)
                or not storable(decoded[1])
            ):
                raise Unprocessable(
                    "the cursor is not one this API returned",
                    errors=[field_error(["cursor"], f"cursor was not issued for this {kind} listing")],
                )
            after = decoded[1]
        return size, after

    def search(self, q: AllianceQuery) -> AlliancePage:
        tax = taxonomy().alliance
        if not all(storable(v) for v in q.organization_ids):
            raise Unprocessable(
                "invalid filter organization_id",
                errors=[field_error(["query", "organization_id"], "must not contain NUL characters")],
            )
        flt = AllianceFilter(
            organization_ids=list(q.organization_ids),
            stages=_check_values("stage", q.stages, stages.STAGES),
            types=_check_values("type", q.types, tax["types"]),
            modalities=_check_values("modality", q.modalities, tax["modalities"]),
            scopes=_check_values("scope", q.scopes, tax["scopes"]),
            development_strategies=_check_values(
                "development_strategy", q.development_strategies, tax["development_strategies"]
            ),
        )
        size, after = self._page(q.cursor, q.limit, "alliances")
        with self.db.read_session() as session:
            rows = AllianceRepository(session).search(flt, after_id=after, limit=size + 1)
        items = [to_model(r) for r in rows[:size]]
        next_cursor = encode_cursor(["alliances", items[-1].id]) if len(rows) > size else None
        return AlliancePage(items=items, next_cursor=next_cursor, limit=size)

    def history(self, alliance_id: str) -> AllianceHistory:
        if not storable(alliance_id):
            raise NotFound("no such alliance")
        with self.db.read_session() as session:
            repo = AllianceRepository(session)
            row = repo.get(alliance_id)
            if row is None:
                raise NotFound(f"alliance {alliance_id} does not exist")
            changes = repo.stage_changes(alliance_id)
        items = [
            StageChange(
                version=c.version,
                from_stage=c.from_stage,
                to_stage=c.to_stage,
                reason=c.reason,
                changed_at=c.changed_at,
                actor=c.actor,
                correlation_id=c.correlation_id,
            )
            for c in changes
        ]
        return AllianceHistory(alliance_id=alliance_id, stage=row.stage, items=items)

    def organization_alliances(
        self, organization_id: str, *, cursor: str | None, limit: int | None
    ) -> OrganizationAlliances:
        size, after = self._page(cursor, limit, "organization-alliances")
        if not storable(organization_id):
            raise NotFound("no such organization")
        with self.db.read_session() as session:
            repo = AllianceRepository(session)
            if not repo.organization_statuses([organization_id]):
                raise NotFound(f"organization {organization_id} does not exist")
            rows = repo.alliances_of(organization_id, after_id=after, limit=size + 1)
        items = [
            OrganizationAlliance(
                id=row.id,
                name=row.name,
                stage=row.stage,
                type=row.type,
                scope=row.scope,
                modality=row.modality,
                role=role,
            )
            for row, role in rows[:size]
        ]
        next_cursor = encode_cursor(["organization-alliances", items[-1].id]) if len(rows) > size else None
        return OrganizationAlliances(
            organization_id=organization_id, items=items, next_cursor=next_cursor, limit=size
        )

    # -- writes ---------------------------------------------------------------------------------
    # Every write is one explicit unit of work: the row, its stage history and its event commit together.

    def create(self, payload: AllianceCreate) -> Alliance:
        now = datetime.now(UTC)
        doc = payload.model_dump(mode="json")
        for party in doc["parties"]:
            party["added_at"] = now.isoformat()
        fields = _validate(doc)
        self._check(fields)
        with UnitOfWork.begin(self.db) as uow:
            repo = AllianceRepository(uow.session)
            self._check_organizations(
                repo,
                [
                    (["parties", i, "organization_id"], p.organization_id)
                    for i, p in enumerate(fields.parties)
                ],
            )
            row = AllianceRow(
                id=new_id(),
                name=fields.name,
                stage=stages.INITIAL,
                doc={},
                version=0,
                created_at=now,
                updated_at=now,
                stage_changed_at=now,
            )
            alliance = self._save(repo, row, fields, now)
            self._record_stage(repo, row, None, stages.INITIAL, "created", now)
            uow.add_event(events.created(alliance), aggregate_id=row.id)
            return alliance

    def update(
        self, alliance_id: str, changes: dict[str, Any], *, if_match: IfMatchVersions = None
    ) -> Alliance:
        """Apply a merge patch of the non-stage fields (``changes`` as sent, unset fields left out)."""
        with self._editing(alliance_id, if_match) as (uow, repo, row):
            before = to_model(row)
            fields = _validate(merge_patch(_fields_of(before), changes))
            self._check(fields)
            return self._apply_update(uow, repo, row, before, fields, check_gates=True)

    def transition(
        self, alliance_id: str, request: TransitionRequest, *, if_match: IfMatchVersions = None
    ) -> Alliance:
        with self._editing(alliance_id, if_match, terminal_too=True) as (uow, repo, row):
            from_stage, to_stage = row.stage, request.to_stage
            errors = stages.transition_errors(from_stage, to_stage)
            if errors:
                raise Conflict(f"illegal stage change {from_stage} → {to_stage}", errors=errors)
            fields = AllianceFields.model_validate(row.doc)
            errors = stages.stage_errors(to_stage, fields)
            if errors:
                missing = ", ".join(e.field for e in errors)
                raise Conflict(f"entering {to_stage} needs data the alliance lacks: {missing}", errors=errors)
            now = datetime.now(UTC)
            row.stage = to_stage
            row.stage_changed_at = now
            alliance = self._save(repo, row, fields, now)
            self._record_stage(repo, row, from_stage, to_stage, request.reason, now)
            uow.add_event(
                events.stage_changed(alliance, from_stage, to_stage, request.reason), aggregate_id=row.id
            )
            return alliance

    def add_party(
        self, alliance_id: str, party: PartyCreate, *, if_match: IfMatchVersions = None
    ) -> Alliance:
        with self._editing(alliance_id, if_match) as (uow, repo, row):
            fields = AllianceFields.model_validate(row.doc)
            if any(p.organization_id == party.organization_id for p in fields.parties):
                raise Conflict(
                    f"organization {party.organization_id} is already a party of alliance {alliance_id}",
                    errors=[field_error(["organization_id"], "already a party")],
                )
            self._check_organizations(repo, [(["organization_id"], party.organization_id)])
            now = datetime.now(UTC)
            new_party = Party.model_validate({**party.model_dump(), "added_at": now})
            doc = _fields_of(fields)
            doc["parties"].append(new_party.model_dump(mode="json"))
            alliance = self._save(repo, row, _validate(doc), now)
            uow.add_event(events.party_added(alliance, new_party), aggregate_id=row.id)
            return alliance

    def update_party(
        self,
        alliance_id: str,
        organization_id: str,
        changes: dict[str, Any],
        *,
        if_match: IfMatchVersions = None,
    ) -> Alliance:
        """Merge patch of one party's role, contribution, expected benefit or legitimacy sought."""
        with self._editing(alliance_id, if_match) as (uow, repo, row):
            before = to_model(row)
            doc = _fields_of(before)
            index = self._party_index(before, organization_id)
            merged = merge_patch(doc["parties"][index], changes)
            try:
                Party.model_validate(merged)
            except ValidationError as exc:  # name the party's own fields, as sent
                raise unprocessable_from(exc) from exc
            doc["parties"][index] = merged
            return self._apply_update(uow, repo, row, before, _validate(doc), check_gates=False)

    def remove_party(
        self, alliance_id: str, organization_id: str, *, if_match: IfMatchVersions = None
    ) -> Alliance:
        with self._editing(alliance_id, if_match) as (uow, repo, row):
            before = to_model(row)
            index = self._party_index(before, organization_id)
            remaining = len(before.parties) - 1
            if remaining < 1:
                raise Conflict(
                    "an alliance keeps at least one party; dissolve it instead",
                    errors=[field_error(["parties"], "cannot remove the last party")],
                )
            if stages.past_prospecting(row.stage) and remaining < stages.MIN_PARTIES:
                raise Conflict(
                    f"an alliance in stage {row.stage} needs at least {stages.MIN_PARTIES} parties",
                    errors=[
                        field_error(
                            ["parties"],
                            f"removing {organization_id} would leave {remaining} party past prospecting",
                        )
                    ],
                )
            signed = [
                field_error(["agreements", i, "signatories"], f"{organization_id} signed {a.title!r}")
                for i, a in enumerate(before.agreements)
                if organization_id in a.signatories
            ]
            if signed:
                raise Conflict(
                    f"organization {organization_id} signed agreements of this alliance; "
                    "remove it from their signatories first",
                    errors=signed,
                )
            removed = before.parties[index]
            doc = _fields_of(before)
            del doc["parties"][index]
            alliance = self._save(repo, row, _validate(doc), datetime.now(UTC))
            uow.add_event(events.party_removed(alliance, removed), aggregate_id=row.id)
            return alliance

    @contextlib.contextmanager
    def _editing(
        self, alliance_id: str, if_match: IfMatchVersions, *, terminal_too: bool = False
    ) -> Iterator[tuple[UnitOfWork, AllianceRepository, AllianceRow]]:
        """A unit of work holding the alliance locked at the version ``If-Match`` names; concluded and
        dissolved alliances only for a stage change (which refuses them itself)."""
        with UnitOfWork.begin(self.db) as uow:
            repo = AllianceRepository(uow.session)
            lock = self._locked if terminal_too else self._writable
            yield uow, repo, lock(repo, alliance_id, if_match)

    def _apply_update(
        self,
        uow: UnitOfWork,
        repo: AllianceRepository,
        row: AllianceRow,
        before: Alliance,
        fields: AllianceFields,
        *,
        check_gates: bool,
    ) -> Alliance:
        """Save a field change and announce what changed; a change that changes nothing writes nothing."""
        changed = changed_fields(_fields_of(before), _fields_of(fields))
        if not changed:
            return before
        if check_gates:
            self._check_gates_in_force(row.stage, fields)
        alliance = self._save(repo, row, fields, datetime.now(UTC))
        uow.add_event(events.updated(alliance, changed), aggregate_id=row.id)
        return alliance

    # -- helpers --------------------------------------------------------------------------------
    @staticmethod
    def _party_index(alliance: Alliance, organization_id: str) -> int:
        for i, party in enumerate(alliance.parties):
            if party.organization_id == organization_id:
                return i
        raise NotFound(f"organization {organization_id} is not a party of alliance {alliance.id}")

    @staticmethod
    def _locked(repo: AllianceRepository, alliance_id: str, if_match: IfMatchVersions) -> AllianceRow:
        row = repo.get_for_update(alliance_id) if storable(alliance_id) else None
        if row is None:
            raise NotFound(f"alliance {alliance_id} does not exist")
        if if_match is not None and row.version not in if_match:
            wanted = ", ".join(str(v) for v in sorted(if_match))
            raise PreconditionFailed(
                f"alliance {alliance_id} is at version {row.version}, not {wanted}",
                extra={"current_version": row.version},
            )
        return row

    def _writable(self, repo: AllianceRepository, alliance_id: str, if_match: IfMatchVersions) -> AllianceRow:
        row = self._locked(repo, alliance_id, if_match)
        if row.stage in stages.TERMINAL:
            raise Conflict(f"alliance {alliance_id} is {row.stage} and can no longer be changed")
        return row

    @staticmethod
    def _check(fields: AllianceFields) -> None:
        errors = _consistency_errors(fields)
        if errors:
            raise Unprocessable(
                f"{len(errors)} invalid field(s): {', '.join(e.field for e in errors)}", errors=errors
            )

    @staticmethod
    def _check_gates_in_force(stage: str, fields: AllianceFields) -> None:
        errors = stages.stage_errors(stage, fields)
        if errors:
            missing = ", ".join(e.field for e in errors)
            raise Conflict(f"the alliance is in stage {stage}, whose gates need: {missing}", errors=errors)

    @staticmethod
    def _check_organizations(repo: AllianceRepository, refs: list[tuple[list[str | int], str]]) -> None:
        statuses = repo.organization_statuses((ref for _, ref in refs), lock=True)
        errors = []
        for loc, ref in refs:
            status = statuses.get(ref)
            if status is None:
                errors.append(field_error(loc, f"no such organization {ref}"))
            elif status == "archived":
                errors.append(field_error(loc, f"organization {ref} is archived"))
        if errors:
            raise Unprocessable("parties must be existing, non-archived organizations", errors=errors)

    @staticmethod
    def _save(repo: AllianceRepository, row: AllianceRow, fields: AllianceFields, now: datetime) -> Alliance:
        row.doc = _fields_of(fields)
        row.name = fields.name
        row.type = fields.type
        row.scope = fields.scope
        row.modality = fields.modality
        row.development_strategy = fields.development_strategy
        row.version += 1
        row.updated_at = now
        repo.add(row)
        repo.replace_parties(row.id, [(p.organization_id, p.role) for p in fields.parties])
        return to_model(row)

    @staticmethod
    def _record_stage(
        repo: AllianceRepository,
        row: AllianceRow,
        from_stage: str | None,
        to_stage: str,
        reason: str | None,
        now: datetime,
    ) -> None:
        repo.add_stage_change(
            AllianceStageChangeRow(
                alliance_id=row.id,
                version=row.version,
                from_stage=from_stage,
                to_stage=to_stage,
                reason=reason,
                changed_at=now,
                actor=current_actor(),
                correlation_id=current_correlation_id(),
            )
        )

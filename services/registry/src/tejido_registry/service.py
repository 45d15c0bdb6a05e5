"""Organization use cases: validation beyond the schema, persistence and events, in one transaction."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from tejido_common.db import Database
from tejido_common.events import Envelope, event_type
from tejido_common.ids import new_id
from tejido_common.outbox import add_event
from tejido_common.pagination import decode_cursor, encode_cursor
from tejido_common.problems import (
    Conflict,
    NotFound,
    PreconditionFailed,
    Unprocessable,
    field_error,
    unprocessable_from,
)
from tejido_common.taxonomy import taxonomy

from tejido_registry.models import OrganizationRow
from tejido_registry.repository import OrganizationFilter, OrganizationRepository
from tejido_registry.schemas import (
    SECTIONS,
    Organization,
    OrganizationCreate,
    OrganizationPage,
    OrganizationPatch,
)

SOURCE = "tejido/registry"


def organization_event(action: str, org: Organization, **extra: Any) -> Envelope:
    """Event-carried state: the whole public profile travels with every organization event."""
    return Envelope.new(
        event_type("registry", "organization", action),
        source=SOURCE,
        subject=f"organization/{org.id}",
        data={"organization": org.model_dump(mode="json"), **extra},
    )


def to_model(row: OrganizationRow) -> Organization:
    return Organization.model_validate(
        {
            "id": row.id,
            "status": row.status,
            "version": row.version,
            "created_at": row.created_at,
            "updated_at": row.updated_at,
            "archived_at": row.archived_at,
            **row.profile,
        }
    )


def facets_of(org: OrganizationCreate | Organization) -> list[tuple[str, str]]:
    tax = taxonomy()
    facets: list[tuple[str, str]] = []
    for code in org.purpose.program_areas:
        facets.append(("program_area", code))
        category = tax.program_area_category(code)
        if category:
            facets.append(("program_area", category))
    facets += [("social_indicator", v) for v in org.purpose.social_indicators]
    facets += [("population", v) for v in org.purpose.target_populations]
    facets += [("language", v) for v in org.where.languages]
    facets += [("subdivision", v) for v in org.where.subdivisions]
    for place in org.where.areas_of_operation:
        facets.append(("area_country", place.country))
        if place.subdivision:
            facets.append(("subdivision", place.subdivision))
    return facets


def _identifier_pairs(org: OrganizationCreate | Organization) -> list[tuple[str, str]]:
    return [(i.scheme, i.id) for i in org.identity.identifiers]


class OrganizationService:
    def __init__(self, db: Database, *, page_size_default: int = 50, page_size_max: int = 200):
        self.db = db
        self.page_size_default = page_size_default
        self.page_size_max = page_size_max

    # -- reads -------------------------------------------------------------------------------
    def get(self, org_id: str) -> Organization:
        with self.db.read_session() as session:
            row = OrganizationRepository(session).get(org_id)
            if row is None:
                raise NotFound(f"organization {org_id} does not exist")
            return to_model(row)

    def list_page(
        self,
        *,
        statuses: list[str],
        actor_types: list[str],
        countries: list[str],
        program_areas: list[str],
        cursor: str | None,
        limit: int | None,
    ) -> OrganizationPage:
        size = min(limit or self.page_size_default, self.page_size_max)
        after = decode_cursor(cursor)[0] if cursor else None
        facets = {"program_area": program_areas} if program_areas else {}
        flt = OrganizationFilter(
            statuses=statuses or ["draft", "active"],
            actor_types=actor_types,
            countries=[c.upper() for c in countries],
            facets=facets,
        )
        with self.db.read_session() as session:
            rows = OrganizationRepository(session).list(flt, after_id=after, limit=size + 1)
        items = [to_model(r) for r in rows[:size]]
        next_cursor = encode_cursor([items[-1].id]) if len(rows) > size else None
        return OrganizationPage(items=items, next_cursor=next_cursor, limit=size)

    # -- writes ------------------------------------------------------------------------------
    def create(self, payload: OrganizationCreate) -> Organization:
        now = datetime.now(UTC)
        org_id = new_id()
        profile = payload.model_dump(mode="json", include=set(SECTIONS))
        try:
            with self.db.session() as session:
                repo = OrganizationRepository(session)
                self._check_identifiers(repo, payload, org_id)
                self._check_parent(repo, payload.identity.parent_organization_id, org_id)
                row = OrganizationRow(
                    id=org_id,
                    status=payload.status,
                    legal_name=payload.identity.legal_name,
                    actor_type=payload.identity.actor_type,
                    country=payload.where.country,
                    profile=profile,
                    version=1,
                    created_at=now,
                    updated_at=now,
                )
                repo.add(row)
                repo.replace_identifiers(org_id, _identifier_pairs(payload))
                repo.replace_facets(org_id, facets_of(payload))
                org = to_model(row)
                add_event(session, organization_event("registered", org), aggregate_id=org_id)
        except IntegrityError as exc:  # a concurrent create took the same identifier
            raise Conflict("an organization with the same identifier was registered concurrently") from exc
        return org

    def update(self, org_id: str, patch: OrganizationPatch, *, if_match: int | None = None) -> Organization:
        changes = patch.model_dump(exclude_unset=True)
        with self.db.session() as session:
            repo = OrganizationRepository(session)
            row = repo.get_for_update(org_id)
            if row is None:
                raise NotFound(f"organization {org_id} does not exist")
            if if_match is not None and if_match != row.version:
                raise PreconditionFailed(
                    f"organization {org_id} is at version {row.version}, not {if_match}",
                    extra={"current_version": row.version},
                )
            if row.status == "archived":
                raise Conflict(f"organization {org_id} is archived and can no longer be changed")
            before = to_model(row)
            merged = before.model_dump(mode="json")
            for section, fields in changes.items():
                if section in SECTIONS and fields is not None:
                    merged[section] = {**merged[section], **fields}
                elif section == "status" and fields is not None:
                    merged["status"] = fields
            try:
                after = Organization.model_validate(merged)
            except ValidationError as exc:
                raise unprocessable_from(exc) from exc
            changed = self._changed_fields(before, after)
            if not changed:
                return before
            candidate = OrganizationCreate.model_validate(
                {"status": after.status, **after.model_dump(include=set(SECTIONS))}
            )
            self._check_identifiers(repo, candidate, org_id)
            self._check_parent(repo, after.identity.parent_organization_id, org_id)
            row.profile = after.model_dump(mode="json", include=set(SECTIONS))
            row.status = after.status
            row.legal_name = after.identity.legal_name
            row.actor_type = after.identity.actor_type
            row.country = after.where.country
            row.version += 1
            row.updated_at = datetime.now(UTC)
            session.add(row)
            session.flush()
            repo.replace_identifiers(org_id, _identifier_pairs(candidate))
            repo.replace_facets(org_id, facets_of(candidate))
            org = to_model(row)
            add_event(
                session, organization_event("updated", org, changed_fields=changed), aggregate_id=org_id
            )
            return org

    def archive(self, org_id: str) -> Organization:
        with self.db.session() as session:
            repo = OrganizationRepository(session)
            row = repo.get_for_update(org_id)
            if row is None:
                raise NotFound(f"organization {org_id} does not exist")
            if row.status == "archived":
                return to_model(row)  # archiving is idempotent: no second event
            now = datetime.now(UTC)
            row.status = "archived"
            row.archived_at = now
            row.updated_at = now
            row.version += 1
            session.add(row)
            session.flush()
            org = to_model(row)
            add_event(session, organization_event("archived", org), aggregate_id=org_id)
            return org

    # -- rules -------------------------------------------------------------------------------
    @staticmethod
    def _changed_fields(before: Organization, after: Organization) -> list[str]:
        changed = []
        if before.status != after.status:
            changed.append("status")
        for section in SECTIONS:
            old = getattr(before, section).model_dump(mode="json")
            new = getattr(after, section).model_dump(mode="json")
            changed += [f"{section}.{k}" for k in new if old.get(k) != new.get(k)]
        return changed

    @staticmethod
    def _check_identifiers(repo: OrganizationRepository, org: OrganizationCreate, org_id: str) -> None:
        owners = repo.owners_of_identifiers(_identifier_pairs(org))
        clashes = {pair: owner for pair, owner in owners.items() if owner != org_id}
        if clashes:
            duplicates = []
            for (scheme, value), owner in clashes.items():
                other = repo.get(owner)
                duplicates.append(
                    {
                        "id": owner,
                        "legal_name": other.legal_name if other else "",
                        "reason": f"same identifier {scheme} {value}",
                    }
                )
            raise Conflict(
                "an organization with the same identifier is already registered",
                errors=[field_error(["identity", "identifiers"], str(d["reason"])) for d in duplicates],
                extra={"duplicates": duplicates},
            )

    @staticmethod
    def _check_parent(repo: OrganizationRepository, parent_id: str | None, org_id: str) -> None:
        if parent_id is None:
            return
        if parent_id == org_id or not repo.exists(parent_id):
            raise Unprocessable(
                f"parent organization {parent_id} does not exist",
                errors=[field_error(["identity", "parent_organization_id"], "no such organization")],
            )

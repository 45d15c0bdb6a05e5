"""Rules of the read model: apply registry events in version order; say which organizations may be
assessed; tell other domains (screening) when names or key people changed."""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session

from tejido_common.db import Database
from tejido_common.problems import Conflict, NotFound
from tejido_duediligence.kit.actor import utcnow
from tejido_duediligence.organizations.models import KeyPeopleRow, OrganizationRow
from tejido_duediligence.organizations.repository import OrganizationRepository
from tejido_duediligence.organizations.schemas import OrganizationView, PeopleEvent, Profile

# (session, organization id) → None; runs inside the consumer's transaction.
NamesChanged = Callable[[Session, str], object]


class UnknownOrganization(NotFound):
    code, title = "unknown-organization", "Organization not known to due diligence"


class ArchivedOrganization(Conflict):
    code, title = "organization-archived", "Organization is archived"


class OrganizationDirectory:
    def __init__(self, db: Database):
        self.db = db
        self.on_names_changed: list[NamesChanged] = []

    # -- applying events ------------------------------------------------------------------------
    def apply_profile(self, session: Session, profile: Profile) -> None:
        repo = OrganizationRepository(session)
        row = repo.get(profile.id)
        if row is not None and row.version >= profile.version:
            return  # a redelivered or late event: newer state is already here
        names = (profile.identity.legal_name, profile.identity.aliases, profile.identity.acronym)
        changed = row is None or names != (row.legal_name, row.aliases, row.acronym)
        changed = changed or (row is not None and row.country != profile.where.country)
        if row is None:
            row = OrganizationRow(id=profile.id, legal_name="", status="", version=0, updated_at=utcnow())
        row.legal_name = profile.identity.legal_name
        row.aliases = list(profile.identity.aliases)
        row.acronym = profile.identity.acronym
        row.country = profile.where.country
        row.status = profile.status
        row.version = profile.version
        row.updated_at = utcnow()
        repo.save(row)
        if changed and row.status != "archived":
            self._names_changed(session, row.id)

    def apply_people(self, session: Session, event: PeopleEvent) -> None:
        repo = OrganizationRepository(session)
        row = repo.people(event.organization_id)
        if row is not None and row.version >= event.version:
            return
        people = [p.model_dump() for p in event.people]
        changed = row is None or [p.get("name") for p in row.people] != [p["name"] for p in people]
        if row is None:
            row = KeyPeopleRow(organization_id=event.organization_id, version=0, updated_at=utcnow())
        row.people = people
        row.version = event.version
        row.updated_at = utcnow()
        repo.save(row)
        if changed and repo.get(event.organization_id) is not None:
            self._names_changed(session, event.organization_id)

    def _names_changed(self, session: Session, org_id: str) -> None:
        for callback in self.on_names_changed:
            callback(session, org_id)

    # -- reads used by other domains ------------------------------------------------------------
    def require_known(self, session: Session, org_id: str) -> OrganizationRow:
        row = OrganizationRepository(session).get(org_id)
        if row is None:
            raise UnknownOrganization(
                f"organization {org_id} is not known to due diligence (no registry event received)"
            )
        return row

    def require_assessable(self, session: Session, org_id: str) -> OrganizationRow:
        row = self.require_known(session, org_id)
        if row.status == "archived":
            raise ArchivedOrganization(f"organization {org_id} is archived and cannot be assessed")
        return row

    def get(self, org_id: str) -> OrganizationView:
        with self.db.read_session() as session:
            row = OrganizationRepository(session).get(org_id)
            if row is None:
                raise UnknownOrganization(f"organization {org_id} is not known to due diligence")
            return OrganizationView.model_validate(row, from_attributes=True)

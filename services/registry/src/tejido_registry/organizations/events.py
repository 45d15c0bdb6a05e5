"""Events the organizations package produces: typed payloads (strict: a producer cannot send a field
the contract does not know), their contracts, and the builders the service uses.

The public events carry the whole public profile (event-carried state); key people travel only on the
restricted ``people_updated`` event. Regenerate the checked-in schemas after a compatible change::

    .venv/bin/python -m tejido_common.event_contracts tejido_registry.organizations.events
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tejido_common.event_contracts import EventContract
from tejido_common.events import Envelope
from tejido_registry.organizations.schemas import Organization, Person

SOURCE = "tejido/registry"


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OrganizationRegistered(_Payload):
    organization: Organization


class OrganizationUpdated(_Payload):
    organization: Organization
    changed_fields: list[str] = Field(description="e.g. identity.acronym")


class OrganizationArchived(_Payload):
    organization: Organization


class PeopleUpdated(_Payload):
    organization_id: str
    legal_name: str
    country: str
    version: int
    people: list[Person]


REGISTERED = EventContract(
    "registry.organization.registered.v1",
    OrganizationRegistered,
    "An organization was registered. Carries the whole public profile (never key people).",
)
UPDATED = EventContract(
    "registry.organization.updated.v1",
    OrganizationUpdated,
    "An organization's public profile changed. Carries the whole profile and the changed fields.",
)
ARCHIVED = EventContract(
    "registry.organization.archived.v1",
    OrganizationArchived,
    "An organization was archived. Carries the whole public profile (status archived).",
)
PEOPLE_UPDATED = EventContract(
    "registry.organization.people_updated.v1",
    PeopleUpdated,
    "RESTRICTED: an organization's key people changed, or were given on registration (for "
    "due-diligence screening only; never forwarded to webhooks or shown publicly).",
    restricted=True,
)
CONTRACTS = [REGISTERED, UPDATED, ARCHIVED, PEOPLE_UPDATED]


def _subject(org_id: str) -> str:
    return f"organization/{org_id}"


# ``org`` may also be given as its JSON form (exactly ``Organization.model_dump(mode="json")``): the
# writer builds that once from the profile it stores, instead of serializing the whole profile again
# for the event (a test checks that both forms give the same event).
OrganizationData = Organization | dict[str, Any]


def registered(org: OrganizationData) -> Envelope:
    if isinstance(org, dict):
        return Envelope.new(
            REGISTERED.type, source=SOURCE, subject=_subject(org["id"]), data={"organization": org}
        )
    return REGISTERED.envelope(
        OrganizationRegistered(organization=org), source=SOURCE, subject=_subject(org.id)
    )


def updated(org: OrganizationData, changed_fields: list[str]) -> Envelope:
    if isinstance(org, dict):
        data = {"organization": org, "changed_fields": list(changed_fields)}
        return Envelope.new(UPDATED.type, source=SOURCE, subject=_subject(org["id"]), data=data)
    payload = OrganizationUpdated(organization=org, changed_fields=changed_fields)
    return UPDATED.envelope(payload, source=SOURCE, subject=_subject(org.id))


def archived(org: Organization) -> Envelope:
    payload = OrganizationArchived(organization=org)
    return ARCHIVED.envelope(payload, source=SOURCE, subject=_subject(org.id))


def people_updated(
    org_id: str, legal_name: str, country: str, version: int, people: list[dict[str, Any]]
) -> Envelope:
    payload = PeopleUpdated(
        organization_id=org_id,
        legal_name=legal_name,
        country=country,
        version=version,
        people=[Person.model_validate(p) for p in people],
    )
    return PEOPLE_UPDATED.envelope(payload, source=SOURCE, subject=_subject(org_id))

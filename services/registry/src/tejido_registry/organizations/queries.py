"""The read side of organizations: one profile (now or as of a time), key people, history, and search
with keyset cursors. Pages are served from the stored documents, already validated when written."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tejido_common.db import Database
from tejido_common.problems import NotFound
from tejido_registry.kit.changes import Change
from tejido_registry.kit.http import bad_cursor, decode_cursor, encode_cursor
from tejido_registry.kit.text import acronym_key, name_key, normalize, query_tokens
from tejido_registry.organizations.completeness import completeness
from tejido_registry.organizations.models import OrganizationRow
from tejido_registry.organizations.repository import (
    OrganizationFilter,
    OrganizationRepository,
    Relevance,
    Sort,
)
from tejido_registry.organizations.schemas import (
    SECTIONS,
    Organization,
    OrganizationHistory,
    OrganizationVersion,
    People,
    Person,
    SearchQuery,
)


def _search_cursor(cursor: str, sort: str, sort_key: str) -> list[Any]:
    """The (sort value, last id) a search cursor carries, checked against the sort it claims."""
    issued_for, value, last_id = decode_cursor(cursor, length=3)
    if issued_for != sort:
        raise bad_cursor(f"cursor was not issued for sort={sort}")
    if not isinstance(last_id, str):
        raise bad_cursor()
    if sort_key == "updated":
        try:
            value = datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            value = None
        if value is None or value.tzinfo is None:
            raise bad_cursor()
    elif sort_key == "completeness":
        if not isinstance(value, int) or isinstance(value, bool):
            raise bad_cursor()
    elif sort_key == "relevance":
        if not (
            isinstance(value, list)
            and len(value) == 2
            and isinstance(value[0], int)
            and not isinstance(value[0], bool)
            and isinstance(value[1], str)
        ):
            raise bad_cursor()
    elif not isinstance(value, str):
        raise bad_cursor()
    return [value, last_id]


def to_model(row: OrganizationRow) -> Organization:
    due_diligence = {"band": row.dd_band, "rated_at": row.dd_rated_at} if row.dd_band else None
    return Organization.model_validate(
        {
            "id": row.id,
            "status": row.status,
            "version": row.version,
            "created_at": row.created_at,
            "updated_at": row.updated_at,
            "archived_at": row.archived_at,
            "completeness": completeness(row.profile, row.people),
            "due_diligence": due_diligence,
            **row.profile,
        }
    )


def iso_utc(value: datetime | None) -> str | None:
    """The same text pydantic writes for a UTC datetime."""
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def public_dict(row: OrganizationRow) -> dict[str, Any]:
    """The public profile as JSON-ready data, straight from the stored document (validated when it was
    written): what search pages and exports serve, without re-validating every profile they list."""
    if not all(section in row.profile for section in SECTIONS):
        return to_model(row).model_dump(mode="json")  # written before a section existed: fill defaults
    due_diligence = {"band": row.dd_band, "rated_at": iso_utc(row.dd_rated_at)} if row.dd_band else None
    return {
        "id": row.id,
        "status": row.status,
        "version": row.version,
        "created_at": iso_utc(row.created_at),
        "updated_at": iso_utc(row.updated_at),
        "archived_at": iso_utc(row.archived_at),
        **{section: row.profile[section] for section in SECTIONS},
        "completeness": completeness(row.profile, row.people),
        "due_diligence": due_diligence,
    }


def relevance_of(q: str) -> Relevance:
    return Relevance(
        exact=normalize(q)[:300],
        key=name_key(q)[:300],
        acronym=acronym_key(q)[:120],
        prefixes=tuple(query_tokens(q)),
    )


def describe_match(item: dict[str, Any], q: str) -> str:
    """Why a search hit matched, for people reading the results."""
    identity = item["identity"]
    exact, key = normalize(q), name_key(q)
    if normalize(identity["legal_name"]) == exact or name_key(identity["legal_name"]) == key:
        return "exact name"
    if any(name_key(alias) == key for alias in identity.get("aliases") or []):
        return "exact alias"
    if identity.get("acronym") and acronym_key(identity["acronym"]) == acronym_key(q):
        return "exact acronym"
    words = query_tokens(q)
    for label, names in (("name", [identity["legal_name"]]), ("alias", identity.get("aliases") or [])):
        for name in names:
            name_words = normalize(name).split()
            if all(any(w.startswith(t) for w in name_words) for t in words):
                return f"words of the {label}"
    return "words in the mission or other texts"


class OrganizationQueries:
    def __init__(self, db: Database, *, page_size_default: int = 50, page_size_max: int = 200):
        self.db = db
        self.page_size_default = page_size_default
        self.page_size_max = page_size_max

    def get(self, org_id: str, *, as_of: datetime | None = None) -> Organization:
        with self.db.read_session() as session:
            repo = OrganizationRepository(session)
            row = repo.get(org_id)
            if row is None:
                raise NotFound(f"organization {org_id} does not exist")
            if as_of is None:
                return to_model(row)
            version = repo.version_as_of(org_id, as_of)
            if version is None:
                raise NotFound(f"organization {org_id} did not exist at {as_of.isoformat()}")
            return Organization.model_validate(
                {
                    "id": row.id,
                    "version": version.version,
                    "created_at": row.created_at,
                    "updated_at": version.changed_at,
                    "archived_at": version.changed_at
                    if version.snapshot.get("status") == "archived"
                    else None,
                    **version.snapshot,
                }
            )

    def get_people(self, org_id: str) -> tuple[People, int]:
        """The key people and the organization's version (their ETag)."""
        with self.db.read_session() as session:
            row = OrganizationRepository(session).get(org_id)
            if row is None:
                raise NotFound(f"organization {org_id} does not exist")
            return People(people=[Person.model_validate(p) for p in row.people or []]), row.version

    def history(self, org_id: str, *, cursor: str | None, limit: int | None) -> OrganizationHistory:
        size = min(limit or self.page_size_default, self.page_size_max)
        before = None
        if cursor:
            (before,) = decode_cursor(cursor, length=1)
            if not isinstance(before, int) or isinstance(before, bool):
                raise bad_cursor()
        with self.db.read_session() as session:
            repo = OrganizationRepository(session)
            if repo.get(org_id) is None:
                raise NotFound(f"organization {org_id} does not exist")
            rows = repo.versions(org_id, before_version=before, limit=size + 1)
        items = [
            OrganizationVersion(
                version=r.version,
                action=r.action,
                changed_at=r.changed_at,
                actor=r.actor,
                correlation_id=r.correlation_id,
                changes=[Change.model_validate(c) for c in r.changes],
            )
            for r in rows[:size]
        ]
        next_cursor = encode_cursor([items[-1].version]) if len(rows) > size else None
        return OrganizationHistory(organization_id=org_id, items=items, next_cursor=next_cursor)

    def search(self, p: SearchQuery) -> dict[str, Any]:
        """A page shaped like :class:`OrganizationPage`, as JSON-ready data (see :func:`public_dict`)."""
        terms = query_tokens(p.q) if p.q else []
        sort = p.sort or ("relevance" if terms else "created")
        descending = sort.startswith("-")
        sort_key = sort.lstrip("-")
        size = min(p.limit or self.page_size_default, self.page_size_max)
        after = _search_cursor(p.cursor, sort, sort_key) if p.cursor else None
        facets: dict[str, list[str]] = {
            "cso_subtype": p.cso_subtype,
            "government_level": p.government_level,
            "subdivision": p.subdivision,
            "program_area": p.program_area,
            "social_indicator": p.social_indicator,
            "population": p.population,
            "language": p.language,
            "offer_kind": p.offer_kind,
            "need_kind": p.need_kind,
        }
        identifier = None
        if p.identifier:
            scheme, _, ident = p.identifier.partition(":")
            identifier = (scheme.strip().upper(), ident.strip())
        # A sync feed must see archivals; ordinary listings hide archived organizations.
        statuses = list(p.status) or ([] if p.modified_since else ["draft", "active"])
        flt = OrganizationFilter(
            statuses=statuses,
            actor_types=p.actor_type,
            countries=p.country,
            facets={k: v for k, v in facets.items() if v},
            term_prefixes=terms,
            willing_to_cooperate=p.willing_to_cooperate,
            completeness_min=p.completeness_min,
            dd_bands=p.dd_band,
            modified_since=p.modified_since,
            identifier=identifier,
        )
        relevance = relevance_of(p.q) if sort_key == "relevance" and p.q else None
        with self.db.read_session() as session:
            rows = OrganizationRepository(session).search(
                flt, Sort(sort_key, descending), after=after, limit=size + 1, relevance=relevance
            )
        items = [public_dict(r) for r, _ in rows[:size]]
        if p.q:
            for item in items:
                item["match"] = describe_match(item, p.q)
        next_cursor = None
        if len(rows) > size:
            last, rank = rows[size - 1]
            value: object = {
                "created": last.id,
                "name": last.sort_name,
                "updated": last.updated_at.isoformat(),
                "completeness": last.completeness,
                "relevance": [rank, last.sort_name],
            }[sort_key]
            next_cursor = encode_cursor([sort, value, last.id])
        return {"items": items, "next_cursor": next_cursor, "limit": size}

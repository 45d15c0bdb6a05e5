"""The read side of organizations: one profile (now or as of a time), key people, history, and search
with keyset cursors. Pages are served from the stored documents, already validated when written."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tejido_common.db import Database
from tejido_common.problems import NotFound, Unprocessable, field_error
from tejido_common.taxonomy import taxonomy
from tejido_registry.kit.http import bad_cursor, decode_cursor, encode_cursor
from tejido_registry.kit.text import query_tokens
from tejido_registry.organizations.completeness import completeness
from tejido_registry.organizations.models import OrganizationRow
from tejido_registry.organizations.repository import (
    SORT_COLUMNS,
    OrganizationFilter,
    OrganizationRepository,
    Sort,
)
from tejido_registry.organizations.schemas import (
    DD_BANDS,
    SECTIONS,
    Change,
    Organization,
    OrganizationHistory,
    OrganizationVersion,
    People,
    Person,
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


def _iso(value: datetime | None) -> str | None:
    """The same text pydantic writes for a UTC datetime."""
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def public_dict(row: OrganizationRow) -> dict[str, Any]:
    """The public profile as JSON-ready data, straight from the stored document (validated when it was
    written): what search pages and exports serve, without re-validating every profile they list."""
    if not all(section in row.profile for section in SECTIONS):
        return to_model(row).model_dump(mode="json")  # written before a section existed: fill defaults
    due_diligence = {"band": row.dd_band, "rated_at": _iso(row.dd_rated_at)} if row.dd_band else None
    return {
        "id": row.id,
        "status": row.status,
        "version": row.version,
        "created_at": _iso(row.created_at),
        "updated_at": _iso(row.updated_at),
        "archived_at": _iso(row.archived_at),
        **{section: row.profile[section] for section in SECTIONS},
        "completeness": completeness(row.profile, row.people),
        "due_diligence": due_diligence,
    }


@dataclass
class SearchParams:
    q: str | None = None
    statuses: Sequence[str] = ()
    actor_types: Sequence[str] = ()
    cso_subtypes: Sequence[str] = ()
    government_levels: Sequence[str] = ()
    countries: Sequence[str] = ()
    subdivisions: Sequence[str] = ()
    program_areas: Sequence[str] = ()
    social_indicators: Sequence[str] = ()
    populations: Sequence[str] = ()
    languages: Sequence[str] = ()
    offer_kinds: Sequence[str] = ()
    need_kinds: Sequence[str] = ()
    willing_to_cooperate: bool | None = None
    completeness_min: int | None = None
    dd_bands: Sequence[str] = ()
    modified_since: datetime | None = None
    identifier: str | None = None
    sort: str = "created"
    cursor: str | None = None
    limit: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _check_values(name: str, values: Sequence[str], check: Callable[[str], str]) -> list[str]:
    out = []
    for value in values:
        try:
            out.append(check(value))
        except ValueError as exc:
            raise Unprocessable(
                f"invalid filter {name}", errors=[field_error(["query", name], str(exc))]
            ) from exc
    return out


def _in(kind: str, allowed: Sequence[str]) -> Callable[[str], str]:
    def check(value: str) -> str:
        if value not in allowed:
            raise ValueError(f"unknown {kind} {value!r}")
        return value

    return check


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

    def search(self, p: SearchParams) -> dict[str, Any]:
        """A page shaped like :class:`OrganizationPage`, as JSON-ready data (see :func:`public_dict`)."""
        tax = taxonomy()
        descending = p.sort.startswith("-")
        sort_key = p.sort.lstrip("-")
        if sort_key not in SORT_COLUMNS:
            raise Unprocessable(
                "unknown sort",
                errors=[
                    field_error(
                        ["query", "sort"], f"expected one of {', '.join(SORT_COLUMNS)} (prefix - to reverse)"
                    )
                ],
            )
        size = min(p.limit or self.page_size_default, self.page_size_max)
        after = _search_cursor(p.cursor, p.sort, sort_key) if p.cursor else None
        program_areas = _check_values(
            "program_area", p.program_areas, _in("program area", [*tax.program_categories, *tax.programs])
        )
        facets: dict[str, list[str]] = {
            "cso_subtype": _check_values(
                "cso_subtype", p.cso_subtypes, _in("CSO sub-type", tax.cso_subtypes)
            ),
            "government_level": _check_values(
                "government_level", p.government_levels, _in("government level", tax.government_levels)
            ),
            "subdivision": [s.upper() for s in p.subdivisions],
            "program_area": program_areas,
            "social_indicator": _check_values(
                "social_indicator", p.social_indicators, _in("social indicator", tax.social_indicators)
            ),
            "population": _check_values(
                "population", p.populations, _in("population", tax.target_populations)
            ),
            "language": [v.lower() for v in p.languages],
            "offer_kind": _check_values(
                "offer_kind", p.offer_kinds, _in("cooperation kind", tax.cooperation_kinds)
            ),
            "need_kind": _check_values(
                "need_kind", p.need_kinds, _in("cooperation kind", tax.cooperation_kinds)
            ),
        }
        identifier = None
        if p.identifier:
            scheme, sep, ident = p.identifier.partition(":")
            if not sep or not ident:
                raise Unprocessable(
                    "invalid identifier filter",
                    errors=[
                        field_error(["query", "identifier"], "expected SCHEME:ID, e.g. MX-RFC:ABC010101XYZ")
                    ],
                )
            identifier = (scheme.strip().upper(), ident.strip())
        statuses = _check_values("status", p.statuses, _in("status", ("draft", "active", "archived")))
        if not statuses:
            # A sync feed must see archivals; ordinary listings hide archived organizations.
            statuses = [] if p.modified_since else ["draft", "active"]
        flt = OrganizationFilter(
            statuses=statuses,
            actor_types=_check_values("actor_type", p.actor_types, _in("actor type", tax.actor_types)),
            countries=[c.upper() for c in p.countries],
            facets={k: v for k, v in facets.items() if v},
            term_prefixes=query_tokens(p.q) if p.q else (),
            willing_to_cooperate=p.willing_to_cooperate,
            completeness_min=p.completeness_min,
            dd_bands=_check_values("dd_band", p.dd_bands, _in("band", DD_BANDS)),
            modified_since=p.modified_since,
            identifier=identifier,
        )
        with self.db.read_session() as session:
            rows = OrganizationRepository(session).search(
                flt, Sort(sort_key, descending), after=after, limit=size + 1
            )
        items = [public_dict(r) for r in rows[:size]]
        next_cursor = None
        if len(rows) > size:
            last = rows[size - 1]
            value: object = {
                "created": last.id,
                "name": last.sort_name,
                "updated": last.updated_at.isoformat(),
                "completeness": last.completeness,
            }[sort_key]
            next_cursor = encode_cursor([p.sort, value, last.id])
        return {"items": items, "next_cursor": next_cursor, "limit": size}

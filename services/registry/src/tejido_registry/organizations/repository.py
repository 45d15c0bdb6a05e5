"""All SQL of the registry's organizations lives here."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, get_args

from sqlalchemy import and_, case, delete, func, or_, select, tuple_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from tejido_common.db import insert_rows
from tejido_registry.kit.uow import table_of
from tejido_registry.organizations.models import (
    OrganizationFacetRow,
    OrganizationIdentifierRow,
    OrganizationImportRow,
    OrganizationNameRow,
    OrganizationRow,
    OrganizationVersionRow,
)
from tejido_registry.organizations.schemas import Status

# Public sort names → the column that orders them (the id breaks ties, so keys are unique).
SORT_COLUMNS: dict[str, Any] = {
    "created": OrganizationRow.id,  # ids are time-ordered (UUIDv7)
    "name": OrganizationRow.sort_name,
    "updated": OrganizationRow.updated_at,
    "completeness": OrganizationRow.completeness,
}


STATUSES = get_args(Status)
FACET_VALUE_LENGTH = 120  # the facet table's value column
RAREST_COUNT_LIMIT = 5_000  # a search word's frequency is counted up to this many facet rows
RARE_WORD_LIMIT = 1_000  # a search word this rare drives the search whatever the other filters
TOP_LIST_LIMIT = 2_000  # organizations that may rank 0 or 1, passed to the page queries as a list
FACET_ORDER = {
    name: i
    for i, name in enumerate(
        (
            "subdivision",
            "need_kind",
            "offer_kind",
            "program_area",
            "government_level",
            "cso_subtype",
            "population",
            "area_country",
            "social_indicator",
            "language",
        )
    )
}


@dataclass
class OrganizationFilter:
    statuses: Sequence[str] = ()
    actor_types: Sequence[str] = ()
    countries: Sequence[str] = ()
    # facet name → accepted values (an organization matches if it has any of them)
    facets: Mapping[str, Sequence[str]] = field(default_factory=dict)
    # each entry is one search word; an organization must have a term starting with every one
    term_prefixes: Sequence[str] = ()
    willing_to_cooperate: bool | None = None
    completeness_min: int | None = None
    dd_bands: Sequence[str] = ()
    modified_since: datetime | None = None
    identifier: tuple[str, str] | None = None
    # set by the search: the first search word is rare enough to drive it (see _rarest_first)
    drive_by_term: bool = False


@dataclass(frozen=True)
class NamesWatermark:
    """How many organizations there are and the latest change: every write to an organization (its
    names included, archiving too) moves one of them."""

    count: int
    last_updated: datetime | None


@dataclass
class Sort:
    key: str = "created"
    descending: bool = False


@dataclass(frozen=True)
class Relevance:
    """What ranks a search by relevance: rank 0 is an exact name, alias or acronym (accents, case and
    word order ignored), 1 a name or alias with a word starting with each search word, 2 the rest
    (mission and other texts)."""

    exact: str  # the normalized query, as sort_name stores a legal name
    key: str  # word-order-insensitive, as organization_names stores names and aliases
    acronym: str
    prefixes: tuple[str, ...]


def _prefix_upper_bound(prefix: str) -> str:
    """The smallest string greater than every string starting with ``prefix``."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _status_condition(statuses: Sequence[str]) -> ColumnElement[bool]:
    """Two of the three statuses (the default listing: draft and active) as "not the third": an IN
    list on the status index would make SQLite read every later row of both statuses and sort them
    for each keyset page, where "not archived" lets it walk the sort order's index and stop at the
    page's end."""
    status = col(OrganizationRow.status)
    rest = [s for s in STATUSES if s not in statuses]
    if len(rest) == 1 and set(statuses) <= set(STATUSES):
        condition: ColumnElement[bool] = status != rest[0]
        return condition
    return status.in_(statuses)


class OrganizationRepository:
    def __init__(self, session: Session):
        self.session = session

    # -- organizations --------------------------------------------------------------------------
    def get(self, org_id: str) -> OrganizationRow | None:
        return self.session.get(OrganizationRow, org_id)

    def get_for_update(self, org_id: str) -> OrganizationRow | None:
        stmt = select(OrganizationRow).where(col(OrganizationRow.id) == org_id).with_for_update()
        return self.session.scalars(stmt).first()

    def load(self, ids: Iterable[str]) -> list[OrganizationRow]:
        """Read these organizations with one query per 500, so that :meth:`get` finds them in the
        session (a bulk import updating thousands would otherwise read them one by one). The session
        holds them weakly: keep the returned list while they are needed."""
        wanted, rows = list(set(ids)), list[OrganizationRow]()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            rows += self.session.scalars(select(OrganizationRow).where(col(OrganizationRow.id).in_(chunk)))
        return rows

    def add(self, row: OrganizationRow) -> None:
        self.session.add(row)

    def insert_organization(self, values: dict[str, Any]) -> None:
        """A new organization as a plain row (bulk imports buffer these; see RowBuffer)."""
        insert_rows(self.session, table_of(OrganizationRow), [values])

    def existing_ids(self, ids: Iterable[str]) -> set[str]:
        wanted = list(set(ids))
        if not wanted:
            return set()
        stmt = select(col(OrganizationRow.id)).where(col(OrganizationRow.id).in_(wanted))
        return set(self.session.scalars(stmt))

    def exists(self, org_id: str) -> bool:
        return bool(self.existing_ids([org_id]))

    def legal_names(self, ids: Iterable[str]) -> dict[str, str]:
        wanted = list(set(ids))
        if not wanted:
            return {}
        stmt = select(col(OrganizationRow.id), col(OrganizationRow.legal_name)).where(
            col(OrganizationRow.id).in_(wanted)
        )
        return {row[0]: row[1] for row in self.session.execute(stmt)}

    def names_watermark(self) -> NamesWatermark:
        row = self.session.execute(
            select(func.count(), func.max(col(OrganizationRow.updated_at))).select_from(OrganizationRow)
        ).one()
        return NamesWatermark(int(row[0]), row[1])

    def changed_between(self, after: datetime | None, until: datetime | None) -> int:
        """Organizations whose last change is in (after, until]."""
        stmt = select(func.count()).select_from(OrganizationRow)
        if after is not None:
            stmt = stmt.where(col(OrganizationRow.updated_at) > after)
        if until is not None:
            stmt = stmt.where(col(OrganizationRow.updated_at) <= until)
        return int(self.session.scalar(stmt) or 0)

    # -- identifiers ----------------------------------------------------------------------------
    def owners_of_identifiers(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
        wanted = set(pairs)
        if not wanted:
            return {}
        ident = OrganizationIdentifierRow
        # Two IN lists ride the (scheme, value) primary key; the exact pairs are picked out below.
        stmt = select(col(ident.scheme), col(ident.value), col(ident.organization_id)).where(
            col(ident.scheme).in_({s for s, _ in wanted}), col(ident.value).in_({v for _, v in wanted})
        )
        return {(r[0], r[1]): r[2] for r in self.session.execute(stmt) if (r[0], r[1]) in wanted}

    def replace_identifiers(
        self, org_id: str, pairs: Iterable[tuple[str, str]], *, new: bool = False
    ) -> None:
        if not new:
            self.session.execute(
                delete(OrganizationIdentifierRow).where(
                    col(OrganizationIdentifierRow.organization_id) == org_id
                )
            )
        rows = [{"scheme": s, "value": v, "organization_id": org_id} for s, v in set(pairs)]
        if rows:
            insert_rows(self.session, table_of(OrganizationIdentifierRow), rows)

    # -- facets and names -----------------------------------------------------------------------
    def replace_facets(self, org_id: str, facets: Iterable[tuple[str, str]], *, new: bool = False) -> None:
        if not new:
            self.session.execute(
                delete(OrganizationFacetRow).where(col(OrganizationFacetRow.organization_id) == org_id)
            )
        rows = [
            {"facet": f, "value": v[:FACET_VALUE_LENGTH], "organization_id": org_id} for f, v in set(facets)
        ]
        if rows:
            # Core inserts: an organization has dozens of facets and bulk imports write thousands.
            insert_rows(self.session, table_of(OrganizationFacetRow), rows)

    def replace_names(
        self, org_id: str, country: str, names: Mapping[str, str], *, new: bool = False
    ) -> None:
        """``names`` maps each normalized name key to one original spelling."""
        if not new:
            self.session.execute(
                delete(OrganizationNameRow).where(col(OrganizationNameRow.organization_id) == org_id)
            )
        rows = [
            {"organization_id": org_id, "norm": k[:300], "country": country, "name": n[:300]}
            for k, n in names.items()
            if k
        ]
        if rows:
            insert_rows(self.session, table_of(OrganizationNameRow), rows)

    def names_in_country(self, country: str) -> list[tuple[str, str, str]]:
        """(normalized name, organization id, spelling) of the country's organizations that are not
        archived: plain tuples, as a bulk import loads a whole country's names at once."""
        names = OrganizationNameRow
        stmt = (
            select(col(names.norm), col(names.organization_id), col(names.name))
            .join(OrganizationRow, col(OrganizationRow.id) == col(OrganizationNameRow.organization_id))
            .where(col(OrganizationNameRow.country) == country, col(OrganizationRow.status) != "archived")
        )
        return [(r[0], r[1], r[2]) for r in self.session.execute(stmt)]

    # -- history --------------------------------------------------------------------------------
    def add_version(self, values: dict[str, Any]) -> None:
        insert_rows(self.session, table_of(OrganizationVersionRow), [values])

    def versions(
        self, org_id: str, *, before_version: int | None, limit: int
    ) -> list[OrganizationVersionRow]:
        stmt = select(OrganizationVersionRow).where(col(OrganizationVersionRow.organization_id) == org_id)
        if before_version is not None:
            stmt = stmt.where(col(OrganizationVersionRow.version) < before_version)
        stmt = stmt.order_by(col(OrganizationVersionRow.version).desc()).limit(limit)
        return list(self.session.scalars(stmt))

    def version_as_of(self, org_id: str, when: datetime) -> OrganizationVersionRow | None:
        stmt = (
            select(OrganizationVersionRow)
            .where(
                col(OrganizationVersionRow.organization_id) == org_id,
                col(OrganizationVersionRow.changed_at) <= when,
            )
            .order_by(col(OrganizationVersionRow.version).desc())
            .limit(1)
        )
        return self.session.scalars(stmt).first()

    # -- search ---------------------------------------------------------------------------------
    def search(
        self,
        flt: OrganizationFilter,
        sort: Sort,
        *,
        after: list[Any] | None,
        limit: int,
        relevance: Relevance | None = None,
    ) -> list[tuple[OrganizationRow, int]]:
        """Two steps: the ids of one page (narrow columns only, index-covered where possible), then
        those organizations' rows, whose profile documents are large. Each row comes with its
        relevance rank (0 unless ranked by relevance)."""
        if flt.term_prefixes:
            flt = self._rarest_first(flt)
        id_col = col(OrganizationRow.id)
        if relevance is not None:
            return self._fetch(self._ranked_ids(flt, relevance, after, limit))
        column = SORT_COLUMNS[sort.key]
        key_col = col(column)
        stmt = select(id_col).where(*self._conditions(flt))
        if after is not None:
            value, last_id = after
            if sort.key == "created":
                stmt = stmt.where(id_col < last_id if sort.descending else id_col > last_id)
            # A row-value comparison: both SQLite and PostgreSQL seek the (key, id) index with it,
            # where the equivalent OR of two conditions makes SQLite walk every earlier page again.
            elif sort.descending:
                stmt = stmt.where(tuple_(key_col, id_col) < tuple_(value, last_id))
            else:
                stmt = stmt.where(tuple_(key_col, id_col) > tuple_(value, last_id))
        if sort.key == "created":
            order = [id_col.desc() if sort.descending else id_col]
        else:
            order = [key_col.desc(), id_col.desc()] if sort.descending else [key_col, id_col]
        ids = list(self.session.scalars(stmt.order_by(*order).limit(limit)))
        return self._fetch([(i, 0) for i in ids])

    def _rarest_first(self, flt: OrganizationFilter) -> OrganizationFilter:
        """The search words by how many organizations have a word starting with them (counted up to
        a bound, on the facet index): the rarest drives the search, the others are probes. A rare
        word drives even with a country or actor type: its few organizations are checked, instead of
        probing every organization of the country for it."""
        facet = OrganizationFacetRow

        def seen(prefix: str) -> int:
            rows = (
                select(col(facet.organization_id))
                .where(
                    col(facet.facet) == "term",
                    col(facet.value) >= prefix,
                    col(facet.value) < _prefix_upper_bound(prefix),
                )
                .limit(RAREST_COUNT_LIMIT)
            )
            return int(self.session.scalar(select(func.count()).select_from(rows.subquery())) or 0)

        counted = sorted((seen(p), p) for p in flt.term_prefixes)
        rare = counted[0][0] <= RARE_WORD_LIMIT
        return replace(flt, term_prefixes=[p for _, p in counted], drive_by_term=rare)

    def _fetch(self, ranked: list[tuple[str, int]]) -> list[tuple[OrganizationRow, int]]:
        if not ranked:
            return []
        id_col = col(OrganizationRow.id)
        stmt = select(OrganizationRow).where(id_col.in_([i for i, _ in ranked]))
        rows = {r.id: r for r in self.session.scalars(stmt)}
        return [(rows[i], rank) for i, rank in ranked if i in rows]

    def _ranked_ids(
        self, flt: OrganizationFilter, rel: Relevance, after: list[Any] | None, limit: int
    ) -> list[tuple[str, int]]:
        org, names, facet = OrganizationRow, OrganizationNameRow, OrganizationFacetRow
        id_col, name_col = col(org.id), col(org.sort_name)
        own_names = col(names.organization_id) == id_col
        same_name = or_(
            name_col == rel.exact,
            select(col(names.norm)).where(own_names, col(names.norm) == rel.key).exists(),
        )
        same_acronym = (
            select(col(facet.value))
            .where(
                col(facet.organization_id) == id_col,
                col(facet.facet) == "acronym",
                col(facet.value) == rel.acronym,
            )
            .exists()
        )
        word_starts = [
            or_(col(names.norm).like(f"{p}%"), col(names.norm).like(f"% {p}%")) for p in rel.prefixes
        ]
        prefixed = select(col(names.norm)).where(own_names, *word_starts).exists()
        # A name equal to the query has a word starting with each query word: only organizations
        # with such a name are checked for an equal one.
        rank_expr = case((prefixed, case((same_name, 0), else_=1)), (same_acronym, 0), else_=2)
        # Ranks 0 and 1 are found from the other side: the names with a word starting with each query
        # word (one pass over a country's names) and the acronym. Everything else ranks 2 and is read
        # in name order, so a frequent word stops at the page's end instead of ranking and sorting
        # every organization that has it.
        name_hits = select(col(names.organization_id)).where(*word_starts)
        if flt.countries and not flt.drive_by_term:  # names carry their country: one pass over them
            name_hits = name_hits.where(col(names.country).in_(flt.countries))
        elif flt.term_prefixes:  # else only the names of those with the (rarest) first word
            first = flt.term_prefixes[0]
            with_word = select(col(facet.organization_id)).where(
                col(facet.facet) == "term",
                col(facet.value) >= first,
                col(facet.value) < _prefix_upper_bound(first),
            )
            name_hits = name_hits.where(col(names.organization_id).in_(with_word))
        acronym_hits = select(col(facet.organization_id)).where(
            col(facet.facet) == "acronym", col(facet.value) == rel.acronym
        )
        # Usually few: found once and given to both queries below as a list.
        hits: Any = name_hits.union(acronym_hits)
        listed = list(self.session.scalars(select(hits.subquery().c[0]).limit(TOP_LIST_LIMIT + 1)))
        if len(listed) <= TOP_LIST_LIMIT:
            hits = listed
        conds = self._conditions(flt)
        found: list[tuple[str, int]] = []
        last_rank = after[0][0] if after is not None else 0
        if last_rank < 2 and (not isinstance(hits, list) or hits):
            # Ordered by the selected column's label: SQLite would evaluate the CASE's correlated
            # subqueries a second time for an ORDER BY that repeats the expression.
            rank = rank_expr.label("rank")
            top = select(id_col, rank).where(*conds, id_col.in_(hits), rank_expr < 2)
            if after is not None:
                (_, last_name), last_id = after
                top = top.where(
                    or_(
                        rank_expr > last_rank,
                        and_(rank_expr == last_rank, name_col > last_name),
                        and_(rank_expr == last_rank, name_col == last_name, id_col > last_id),
                    )
                )
            rows = self.session.execute(top.order_by(rank, name_col, id_col).limit(limit))
            found = [(r[0], int(r[1])) for r in rows]
        if len(found) < limit:
            rest = select(id_col).where(*conds, id_col.not_in(hits))
            if after is not None and last_rank == 2:
                (_, last_name), last_id = after
                rest = rest.where(tuple_(name_col, id_col) > tuple_(last_name, last_id))
            ids = self.session.scalars(rest.order_by(name_col, id_col).limit(limit - len(found)))
            found += [(i, 2) for i in ids]
        return found

    def _conditions(self, flt: OrganizationFilter) -> list[ColumnElement[bool]]:
        org = OrganizationRow
        conds: list[ColumnElement[bool]] = []
        if flt.statuses:
            conds.append(_status_condition(flt.statuses))
        if flt.actor_types:
            conds.append(col(org.actor_type).in_(flt.actor_types))
        if flt.countries:
            conds.append(col(org.country).in_(flt.countries))
        if flt.willing_to_cooperate is not None:
            conds.append(col(org.willing_to_cooperate) == flt.willing_to_cooperate)
        if flt.completeness_min is not None:
            conds.append(col(org.completeness) >= flt.completeness_min)
        if flt.dd_bands:
            conds.append(col(org.dd_band).in_(flt.dd_bands))
        if flt.modified_since is not None:
            conds.append(col(org.updated_at) >= flt.modified_since)
        if flt.identifier is not None:
            ident = OrganizationIdentifierRow
            sub = select(col(ident.organization_id)).where(
                col(ident.scheme) == flt.identifier[0], col(ident.value) == flt.identifier[1]
            )
            conds.append(col(org.id).in_(sub))
        facet = OrganizationFacetRow
        # Search words first (usually the most selective), then facets from the most to the least
        # selective in practice.
        checks: list[tuple[str, Any]] = [
            ("term", and_(col(facet.value) >= p, col(facet.value) < _prefix_upper_bound(p)))
            for p in flt.term_prefixes
        ]
        checks += [
            (name, col(facet.value).in_(flt.facets[name]))
            for name in sorted(flt.facets, key=lambda n: FACET_ORDER.get(n, len(FACET_ORDER)))
        ]
        # Without a filter on the organizations' own columns the most selective check drives the
        # search (an IN list, in id order); every other check is a probe of the facet primary key
        # for each candidate, never a list of, say, every Spanish-speaking organization.
        drive = flt.drive_by_term or not (flt.countries or flt.actor_types or flt.identifier)
        for i, (name, value_cond) in enumerate(checks):
            if drive and i == 0:
                sub = select(col(facet.organization_id)).where(col(facet.facet) == name, value_cond)
                conds.append(col(org.id).in_(sub))
            else:
                probe = select(col(facet.organization_id)).where(
                    col(facet.facet) == name, value_cond, col(facet.organization_id) == col(org.id)
                )
                conds.append(probe.exists())
        return conds


class ImportRepository:
    """The import jobs' durable reports."""

    def __init__(self, session: Session):
        self.session = session

    def create(self, report: Any) -> None:
        self.session.add(OrganizationImportRow(**self._values(report)))

    def save(self, report: Any) -> None:
        row = self.session.get(OrganizationImportRow, report.id)
        if row is None:
            self.create(report)
            return
        for key, value in self._values(report).items():
            setattr(row, key, value)
        self.session.add(row)

    def get(self, import_id: str) -> OrganizationImportRow | None:
        return self.session.get(OrganizationImportRow, import_id)

    @staticmethod
    def _values(report: Any) -> dict[str, Any]:
        return {
            "id": report.id,
            "state": report.state,
            "format": report.format,
            "started_at": report.started_at,
            "updated_at": datetime.now(UTC),
            "finished_at": report.finished_at,
            "rows_committed": report.rows_committed,
            "stopped_reason": report.stopped_reason,
            "report": report.model_dump(mode="json"),
        }

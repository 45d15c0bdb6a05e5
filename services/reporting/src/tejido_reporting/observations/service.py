"""Recording observations: one path for the API, bulk CSV and events.

Revisions: ``(organization, observation_key)`` names an observation, ``revision`` its version.

* a new revision higher than the one in force replaces it (the old one is kept, marked not in force,
  and its contribution leaves the rollups);
* the same revision with the same content is a replay: nothing changes;
* the same revision with different content is refused (409 / a row error);
* a revision lower than the one in force (a late replay) is kept in the history, never counted.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from tejido_common.db import Database
from tejido_common.ids import new_ids
from tejido_common.problems import Conflict, NotFound, Unprocessable, field_error
from tejido_reporting.aggregates.rollups import RollupWriter, base_key
from tejido_reporting.indicators.repository import IndicatorRepository
from tejido_reporting.indicators.service import definition_of
from tejido_reporting.kit.errors import UnknownParty, errors_of
from tejido_reporting.kit.territory import Territory
from tejido_reporting.network.repository import NetworkRepository
from tejido_reporting.observations import bulk
from tejido_reporting.observations.models import ObservationRow
from tejido_reporting.observations.repository import ObservationRepository
from tejido_reporting.observations.schemas import (
    ImportReport,
    ObservationHistory,
    ObservationOut,
    Outcome,
    RowError,
)
from tejido_reporting.observations.validation import BatchContext, Candidate, IndicatorInfo, Problems, check

Status = Literal["recorded", "replayed", "kept_superseded"]
UNKNOWN_FIELDS = ("organization_id", "alliance_id")


@dataclass(slots=True)
class Result:
    status: Status
    observation_id: str
    supersedes: int | None = None


@dataclass(slots=True)
class Refusal:
    problems: Problems
    conflict: bool = False


def load_context(session: Session, raws: Sequence[Mapping[str, Any]]) -> BatchContext:
    codes = {str(r.get("indicator") or "") for r in raws}
    orgs = {str(r.get("organization_id") or "") for r in raws}
    alliances = {str(r.get("alliance_id") or "") for r in raws} - {""}
    rows = IndicatorRepository(session).latest_of(codes)
    network = NetworkRepository(session)
    return BatchContext(
        indicators={c: IndicatorInfo(c, row.version, definition_of(row)) for c, row in rows.items()},
        organization_status=network.organization_statuses(orgs),
        alliance_parties=network.alliance_parties(alliances),
    )


def _row(c: Candidate, *, obs_id: str, in_force: bool, source: str, now: datetime) -> dict[str, Any]:
    return {
        "id": obs_id,
        "ident": c.ident,
        "organization_id": c.organization_id,
        "observation_key": c.observation_key,
        "revision": c.revision,
        "content_hash": c.content_hash,
        "in_force": in_force,
        "indicator_code": c.indicator.code,
        "indicator_version": c.indicator.version,
        "alliance_id": c.alliance_id,
        "country": c.country,
        "subdivision": c.subdivision,
        "municipality": c.municipality,
        "period_start": c.period_start,
        "period_end": c.period_end,
        "month": c.month,
        "value": c.value,
        "numerator": c.numerator,
        "denominator": c.denominator,
        "weight": c.weight,
        "currency": c.currency,
        "evidence_level": c.evidence_level,
        "parts": c.parts,
        "source": source,
        "recorded_at": now,
    }


@dataclass
class _Held:
    """What the batch knows of one observation: its revisions' hashes and the one in force."""

    revisions: dict[int, tuple[str, str]]  # revision → (content hash, observation id)
    in_force: Any  # ObservationRow, Candidate or None
    in_force_revision: int
    in_force_id: str


def ingest(session: Session, raws: Sequence[Mapping[str, Any]], source: str) -> list[Result | Refusal]:
    """Validate and record a batch in the caller's transaction (never commits); one result per input."""
    ctx = load_context(session, raws)
    checked = [check(raw, ctx) for raw in raws]
    candidates = [c for c in checked if isinstance(c, Candidate)]
    repo = ObservationRepository(session)
    stored = repo.revisions_of(c.ident for c in candidates)
    # the full rows only of the revisions in force (a new revision subtracts their contribution)
    in_force_rows = repo.by_ids([r.id for rows in stored.values() for r in rows if r.in_force])
    held: dict[str, _Held] = {}
    for ident, rows in stored.items():
        current = next((r for r in rows if r.in_force), None)
        held[ident] = _Held(
            revisions={r.revision: (r.content_hash, r.id) for r in rows},
            in_force=in_force_rows[current.id] if current else None,
            in_force_revision=current.revision if current else 0,
            in_force_id=current.id if current else "",
        )
    now = datetime.now(UTC)
    inserts: list[dict[str, Any]] = []
    retired: list[str] = []
    writer = RollupWriter()
    results: list[Result | Refusal] = []
    fresh_ids = iter(new_ids(len(candidates)))  # in order: at most one new id per candidate
    for item in checked:
        if not isinstance(item, Candidate):
            results.append(Refusal(item))
            continue
        state = held.get(item.ident)
        if state is None:
            state = held[item.ident] = _Held({}, None, 0, "")
        known = state.revisions.get(item.revision)
        if known is not None:
            if known[0] == item.content_hash:
                results.append(Result("replayed", known[1]))
            else:
                results.append(
                    Refusal(
                        [
                            (
                                "revision",
                                f"revision {item.revision} of {item.observation_key!r} was recorded "
                                "with different content: send a higher revision to correct it",
                            )
                        ],
                        conflict=True,
                    )
                )
            continue
        obs_id = next(fresh_ids)
        state.revisions[item.revision] = (item.content_hash, obs_id)
        if item.revision < state.in_force_revision:
            inserts.append(_row(item, obs_id=obs_id, in_force=False, source=source, now=now))
            results.append(Result("kept_superseded", obs_id))
            continue
        previous, previous_revision = state.in_force, state.in_force_revision
        inserts.append(_row(item, obs_id=obs_id, in_force=True, source=source, now=now))
        value_type = item.indicator.definition.value_type
        key = base_key(item.indicator.code, item)
        if previous is not None:
            retired.append(state.in_force_id)
            prev_code = (
                previous.indicator_code if isinstance(previous, ObservationRow) else previous.indicator.code
            )
            prev_key = base_key(prev_code, previous)
            if value_type == "latest":
                writer.add_stock(prev_key, previous, 0, "", simple=False)
            else:
                writer.add_flow(prev_key, value_type, previous, -1)
        if value_type == "latest":
            simple = previous is None and not item.parts
            as_of = item.period_end.year * 10000 + item.period_end.month * 100 + item.period_end.day
            writer.add_stock(
                key,
                item,
                as_of,
                obs_id,
                simple=simple,
                disaggregated=bool(item.indicator.definition.disaggregations),
            )
        else:
            writer.add_flow(key, value_type, item, +1)
        state.in_force, state.in_force_revision, state.in_force_id = item, item.revision, obs_id
        results.append(Result("recorded", obs_id, previous_revision or None))
    repo.insert(inserts)
    if retired:
        # A revision recorded and replaced within this batch is not stored yet as in force: drop it.
        retired_set = set(retired)
        for row in inserts:
            if row["id"] in retired_set:
                row["in_force"] = False
        repo.retire(retired)
    writer.flush(session)
    return results


def to_out(row: ObservationRow) -> ObservationOut:
    territory = Territory(row.country, row.subdivision, row.municipality).label()
    return ObservationOut(
        id=row.id,
        organization_id=row.organization_id,
        observation_key=row.observation_key,
        revision=row.revision,
        in_force=row.in_force,
        indicator=row.indicator_code,
        indicator_version=row.indicator_version,
        period_start=row.period_start,
        period_end=row.period_end,
        territory=territory,
        alliance_id=row.alliance_id or None,
        value=row.value,
        numerator=row.numerator,
        denominator=row.denominator,
        weight=row.weight,
        currency=row.currency or None,
        evidence_level=row.evidence_level,
        parts=row.parts,
        source=row.source,
        recorded_at=row.recorded_at,
    )


def refusal_error(refusal: Refusal) -> Exception:
    """The problem document for one refused observation (the API's single-observation path)."""
    errors = errors_of(refusal.problems)
    detail = "; ".join(f"{f}: {r}" for f, r in refusal.problems[:5])
    if refusal.conflict:
        return Conflict(detail, errors=errors)
    if any(f in UNKNOWN_FIELDS and r.startswith("unknown") for f, r in refusal.problems):
        return UnknownParty(detail, errors=errors)
    return Unprocessable(detail, errors=errors or [field_error([], "invalid observation")])


@contextmanager
def gc_paused() -> Iterator[None]:
    """A batch allocates many short-lived containers and frees them together: pausing the cyclic
    collector for the batch avoids repeated full scans (the registry's bulk import does the same)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


ANALYZE_EVERY_ROWS = 25_000


class ObservationService:
    def __init__(self, db: Database, *, batch_size: int = 25_000, max_row_errors: int = 10_000):
        self.db = db
        self.batch_size = batch_size
        self.max_row_errors = max_row_errors
        self._since_statistics = 0  # rows imported since the planner statistics were refreshed
        self._rows_at_statistics = 0  # observations the last refresh counted

    def statistics_due(self) -> int:
        """Imported rows after which the planner statistics are refreshed: every 25,000 while the table
        is small (the planner's first picture, an empty table, is what misleads it), then each time
        the table has grown by half (the planner scales its row counts by the table's current size
        itself, and each refresh samples four growing tables while the import waits)."""
        return max(ANALYZE_EVERY_ROWS, self._rows_at_statistics // 2)

    def record(self, raw: Mapping[str, Any], source: str = "api") -> Outcome:
        try:
            return self._record(raw, source)
        except IntegrityError:
            # A concurrent request recorded this revision first: now it is a replay or a conflict.
            return self._record(raw, source)

    def _record(self, raw: Mapping[str, Any], source: str) -> Outcome:
        with self.db.session() as session:
            result = ingest(session, [raw], source)[0]
            if isinstance(result, Refusal):
                raise refusal_error(result)
            row = ObservationRepository(session).by_id(result.observation_id)
            assert row is not None
            return Outcome(status=result.status, observation=to_out(row), supersedes=result.supersedes)

    def history(self, organization_id: str, key: str) -> ObservationHistory:
        with self.db.read_session() as session:
            rows = ObservationRepository(session).history(f"{organization_id}/{key}")
        if not rows:
            raise NotFound(f"no observation {key!r} of organization {organization_id}")
        return ObservationHistory(
            organization_id=organization_id, observation_key=key, revisions=[to_out(r) for r in rows]
        )

    def import_csv(self, body: bytes, may_report: Callable[[str], bool] | None = None) -> ImportReport:
        """Valid rows are recorded batch by batch (one transaction each); bad rows are reported.
        ``may_report`` (an org_editor's scope): rows of other organizations are row errors."""
        _header, rows = bulk.parse(bulk.decode(body))
        report = ImportReport(
            rows=0, committed=0, recorded=0, corrections=0, replayed=0, kept_superseded=0, failed=0, errors=[]
        )
        # One connection for the whole import, a transaction per batch: on SQLite the pool opens a new
        # connection per transaction, whose page cache starts cold (every batch re-read the index pages
        # it writes into); here each batch finds the pages the previous ones loaded.
        with self.db.engine.connect() as connection:
            self._import_rows(connection, rows, report, may_report)
        return report

    def _import_rows(
        self,
        connection: Connection,
        rows: Iterator[bulk.ParsedRow],
        report: ImportReport,
        may_report: Callable[[str], bool] | None,
    ) -> None:
        batch: list[bulk.ParsedRow] = []
        for parsed in rows:
            report.rows += 1
            if parsed.error is not None or parsed.record is None:
                field, reason = parsed.error or ("row", "empty row")
                self._fail(report, parsed.number, [(field, reason)])
                continue
            organization = str(parsed.record.get("organization_id", ""))
            if may_report is not None and not may_report(organization):
                reason = "this organization is outside the caller's scope"
                self._fail(report, parsed.number, [("organization_id", reason)])
                continue
            batch.append(parsed)
            if len(batch) >= self.batch_size:
                self._import_batch(connection, batch, report)
                batch = []
        if batch:
            self._import_batch(connection, batch, report)

    def _import_batch(
        self, connection: Connection, batch: list[bulk.ParsedRow], report: ImportReport
    ) -> None:
        with gc_paused():
            self._import_records(connection, batch, report)

    def _import_records(
        self, connection: Connection, batch: list[bulk.ParsedRow], report: ImportReport
    ) -> None:
        records = [p.record or {} for p in batch]
        try:
            with self.db.session(connection) as session:
                results = ingest(session, records, "csv")
        except IntegrityError:
            # Another writer recorded one of these revisions concurrently: redo the batch row by row.
            results = []
            for record in records:
                try:
                    with self.db.session(connection) as session:
                        results.append(ingest(session, [record], "csv")[0])
                except IntegrityError:
                    results.append(Refusal([("revision", "recorded concurrently by another request")], True))
        self._since_statistics += len(records)
        if self.db.dialect == "postgresql" and self._since_statistics >= self.statistics_due():
            self._since_statistics = 0
            with self.db.session() as session:
                self._rows_at_statistics = ObservationRepository(session).refresh_statistics()
        for parsed, result in zip(batch, results, strict=True):
            if isinstance(result, Refusal):
                self._fail(report, parsed.number, result.problems)
                continue
            report.committed += 1
            if result.status == "recorded":
                report.recorded += 1
                if result.supersedes:
                    report.corrections += 1
            elif result.status == "replayed":
                report.replayed += 1
            else:
                report.kept_superseded += 1

    def _fail(self, report: ImportReport, number: int, problems: Problems) -> None:
        report.failed += 1
        for field, reason in problems:
            if len(report.errors) >= self.max_row_errors:
                report.errors_truncated = True
                return
            report.errors.append(RowError(row=number, field=field, reason=reason))

"""Bulk import of CSV or JSON Lines (streamed, validated row by row, upserted by identifier).

A file is read as it arrives and imported in batches, one transaction per batch. Valid rows are
imported; each bad row is reported with its row number, field and reason. A row whose identifier is
already registered updates that organization (or is left unchanged), and a row without identifier
whose name matches an organization of the same country exactly is that organization: importing the
same file twice changes nothing the second time.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from tejido_common.db import Database
from tejido_common.ids import new_id
from tejido_common.problems import DomainError, NotFound, Unprocessable, field_error
from tejido_registry.kit.uow import UnitOfWork
from tejido_registry.organizations.bulk.export import Format
from tejido_registry.organizations.bulk.stream import StopImport
from tejido_registry.organizations.bulk.tabular import (
    HEADER,
    column_for,
    record_from_row,
    row_from_organization,
)
from tejido_registry.organizations.duplicates import DuplicateIndex
from tejido_registry.organizations.repository import ImportRepository, NamesWatermark
from tejido_registry.organizations.schemas import SECTIONS, OrganizationCreate
from tejido_registry.organizations.service import BatchItem, BatchOutcome, OrganizationService, gc_paused

# Fields of an exported organization that the registry computes: ignored on import, so an export
# can be edited and imported back.
READ_ONLY_FIELDS = (
    "id",
    "version",
    "created_at",
    "updated_at",
    "archived_at",
    "completeness",
    "due_diligence",
)
MAX_REPORTED_ERRORS = 10_000
# A big import changes what the search planner should expect: statistics are refreshed after one that
# wrote at least this many rows and this share of the organizations there were before. (On PostgreSQL
# a refresh costs seconds at 100,000 organizations, in the import's request: after every import it
# was a growing share of each one; a smaller change leaves the statistics close enough.)
ANALYZE_AFTER_ROWS = 1_000
ANALYZE_AFTER_SHARE = 0.2


class RowError(BaseModel):
    row: int
    field: str
    reason: str


ImportState = Literal["running", "completed", "failed"]


class ImportReport(BaseModel):
    """The durable report of one import job (``GET /v1/organizations/imports/{id}``)."""

    id: str
    state: ImportState = "running"
    format: Format
    started_at: datetime
    finished_at: datetime | None = None
    rows_committed: int = Field(
        default=0,
        description="rows 1 to rows_committed are settled (created, updated, unchanged or listed in "
        "errors) and committed: after a failure, re-send from the next row",
    )
    stopped_reason: str | None = Field(default=None, description="why a failed import stopped")
    total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    errors: list[RowError] = []
    errors_truncated: bool = False
    warnings: list[str] = []


@dataclass
class ParsedRow:
    number: int  # 1-based data row (CSV: the header is row 0), as a spreadsheet user counts
    record: dict[str, Any] | None
    error: RowError | None = None
    cells: dict[str, str] | None = None  # CSV: the row as written


def parse_csv(lines: Iterable[str], report: ImportReport) -> Iterator[ParsedRow]:
    reader = csv.DictReader(lines)
    try:
        header = reader.fieldnames or []
    except csv.Error as exc:
        raise Unprocessable(
            "the CSV header cannot be read", errors=[field_error(["file", "header"], str(exc))]
        ) from exc
    if "legal_name" not in header:
        raise Unprocessable(
            "the CSV file has no legal_name column",
            errors=[field_error(["file", "header"], f"expected columns such as: {', '.join(HEADER[:8])}, …")],
        )
    unknown = [h for h in header if h not in HEADER]
    if unknown:
        report.warnings.append(f"ignored unknown columns: {', '.join(unknown)}")
    number = 0
    while True:
        number += 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # a cell over the field size limit, a NUL byte …
            yield ParsedRow(number, None, RowError(row=number, field="row", reason=f"unreadable row: {exc}"))
            continue
        if None in row:  # more cells than header columns
            yield ParsedRow(number, None, RowError(row=number, field="row", reason="more cells than columns"))
            continue
        yield ParsedRow(number, record_from_row(row), cells=row)


def parse_jsonl(lines: Iterable[str]) -> Iterator[ParsedRow]:
    number = 0
    for line in lines:
        if not line.strip():
            continue
        number += 1
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield ParsedRow(
                number, None, RowError(row=number, field="row", reason=f"malformed JSON: {exc.msg}")
            )
            continue
        except RecursionError:
            yield ParsedRow(number, None, RowError(row=number, field="row", reason="JSON nested too deeply"))
            continue
        if not isinstance(record, dict):
            yield ParsedRow(number, None, RowError(row=number, field="row", reason="expected a JSON object"))
            continue
        for key in READ_ONLY_FIELDS:
            record.pop(key, None)
        yield ParsedRow(number, record)


class ImportStopped(DomainError):
    """The import stopped part-way; the problem names the job whose report says what was committed."""

    code, title = "import-stopped", "Import stopped"

    def __init__(self, status: int, reason: str, report: ImportReport):
        super().__init__(
            f"{reason}; rows 1 to {report.rows_committed} are committed (see the import's report)",
            errors=[field_error(["file"], reason)],
            extra={
                "import_id": report.id,
                "import_url": f"/v1/organizations/imports/{report.id}",
                "rows_committed": report.rows_committed,
            },
        )
        self.status = status


@dataclass
class BulkImporter:
    service: OrganizationService
    format: Format
    allow_duplicates: bool = False
    batch_size: int = 2_000  # see RegistrySettings.import_batch_size
    report: ImportReport = field(init=False)
    dup_index: DuplicateIndex = field(init=False)
    names_mark: NamesWatermark = field(init=False)
    rows_read: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self.report = ImportReport(id=new_id(), format=self.format, started_at=datetime.now(UTC))
        self.dup_index, self.names_mark = self.service.checkout_duplicate_index()

    def start(self) -> ImportReport:
        """Record the job before the first row is read, so even an import that dies is visible."""
        with self.service.db.session() as session:
            ImportRepository(session).create(self.report)
        return self.report

    def run(self, lines: Iterable[str]) -> ImportReport:
        batch: list[ParsedRow] = []
        try:
            rows = parse_csv(lines, self.report) if self.format == "csv" else parse_jsonl(lines)
            for parsed in rows:
                self.rows_read = parsed.number
                batch.append(parsed)
                if len(batch) >= self.batch_size:
                    self._import_batch(batch)
                    batch = []
        except StopImport as stop:
            # The complete rows read before the input broke off are imported like any others.
            if batch:
                self._import_batch(batch)
            reason = f"{stop.reason}, in row {self.rows_read + 1}"
            self._finish("failed", reason)
            raise ImportStopped(stop.status, reason, self.report) from stop
        except DomainError as exc:  # the whole file is unusable (e.g. no legal_name column)
            self._finish("failed", exc.detail)
            exc.extra = {**exc.extra, "import_id": self.report.id}
            raise
        if batch:
            self._import_batch(batch)
        self._finish("completed", None)
        if not self.report.updated:  # an update may drop names that the index still knows
            self.service.keep_duplicate_index(self.dup_index, self.names_mark, self.report.created)
        if needs_analyze(self.report.created + self.report.updated, self.names_mark.count):
            self.service.db.analyze()
        return self.report

    def _finish(self, state: ImportState, reason: str | None) -> None:
        self.report.state = state
        self.report.stopped_reason = reason
        self.report.finished_at = datetime.now(UTC)
        with self.service.db.session() as session:
            ImportRepository(session).save(self.report)

    # -- per batch ------------------------------------------------------------------------------
    def _fail(self, *errors: RowError) -> None:
        """One failed row, with every reason it failed for."""
        self.report.failed += 1
        for error in errors:
            if len(self.report.errors) < MAX_REPORTED_ERRORS:
                self.report.errors.append(error)
            else:
                self.report.errors_truncated = True

    def _import_batch(self, batch: list[ParsedRow]) -> None:
        # Validating a batch allocates as much as writing it: no cyclic garbage collection meanwhile.
        with gc_paused():
            self._validate_and_upsert(batch)

    def _validate_and_upsert(self, batch: list[ParsedRow]) -> None:
        self.report.total += len(batch)
        items: list[BatchItem] = []
        for parsed in batch:
            if parsed.error is not None or parsed.record is None:
                self._fail(parsed.error or RowError(row=parsed.number, field="row", reason="empty row"))
                continue
            try:
                payload = OrganizationCreate.model_validate(parsed.record)
            except ValidationError as exc:
                self._fail(
                    *(self._row_error(parsed.number, err["loc"], str(err["msg"])) for err in exc.errors())
                )
                continue
            items.append(BatchItem(parsed.number, payload, partial(_changes, parsed)))
        last_row = batch[-1].number

        def record(uow: UnitOfWork, outcomes: list[BatchOutcome]) -> None:
            # The report says what is committed: it is written in the batch's own transaction (from
            # the report as it was before the batch: a batch redone item by item records again).
            self.report = before.model_copy(update={"errors": list(before.errors)})
            for outcome in outcomes:
                if outcome.outcome is None:
                    self._fail(
                        *(
                            RowError(row=outcome.number, field=self._field(e.field), reason=e.reason)
                            for e in outcome.errors
                        )
                    )
                else:
                    setattr(self.report, outcome.outcome, getattr(self.report, outcome.outcome) + 1)
            self.report.rows_committed = last_row
            ImportRepository(uow.session).save(self.report)

        before = self.report.model_copy(update={"errors": list(self.report.errors)})
        try:
            self.service.upsert_batch(
                items, self.dup_index, allow_duplicates=self.allow_duplicates, on_commit=record
            )
        except BaseException:
            self.report = before  # nothing of this batch was committed
            raise

    def _field(self, dotted: str) -> str:
        return column_for(tuple(dotted.split("."))) if self.format == "csv" else dotted

    def _row_error(self, number: int, loc: tuple[str | int, ...], reason: str) -> RowError:
        reason = reason.removeprefix("Value error, ")
        name = column_for(loc) if self.format == "csv" else ".".join(str(p) for p in loc) or "row"
        return RowError(row=number, field=name, reason=reason)


def needs_analyze(written: int, before: int) -> bool:
    """Whether an import that wrote ``written`` organizations into a registry of ``before`` changed
    it enough to refresh the planner's statistics."""
    return written >= ANALYZE_AFTER_ROWS and written >= ANALYZE_AFTER_SHARE * before


def _changes(parsed: ParsedRow, stored: dict[str, Any]) -> dict[str, Any]:
    """The sections a row changes in the organization it matches (``stored``: its public profile)."""
    if parsed.cells is not None:
        # A cell equal to what an export of the stored profile writes leaves that field as it is: the
        # flat form cannot carry everything (offer descriptions …), so exporting, editing a few cells
        # and importing changes exactly those cells.
        exported = row_from_organization(stored)
        record = record_from_row(
            {k: v for k, v in parsed.cells.items() if k in exported and exported[k] != v}
        )
    else:
        record = parsed.record or {}
    return {k: v for k, v in record.items() if k in SECTIONS or k == "status"}


def import_report(db: Database, import_id: str) -> ImportReport:
    with db.read_session() as session:
        row = ImportRepository(session).get(import_id)
        if row is None:
            raise NotFound(f"import {import_id} does not exist")
        return ImportReport.model_validate(row.report)

"""All SQL of observations."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, NamedTuple

import psycopg
from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from tejido_reporting.observations.models import ObservationRow

INSERT_COLUMNS = (
    "id", "ident", "organization_id", "observation_key", "revision", "content_hash", "in_force",
    "indicator_code", "indicator_version", "alliance_id", "country", "subdivision", "municipality",
    "period_start", "period_end", "month", "value", "numerator", "denominator", "weight", "currency",
    "evidence_level", "parts", "source", "recorded_at",
)  # fmt: skip
_SQLITE_INSERT = (
    f"INSERT INTO observations ({', '.join(INSERT_COLUMNS)}) "  # noqa: S608 - our own column names
    f"VALUES ({', '.join('?' for _ in INSERT_COLUMNS)})"
)
_COPY = f"COPY observations ({', '.join(INSERT_COLUMNS)}) FROM STDIN"


def _values(row: dict[str, Any], recorded_at: str, sqlite: bool) -> tuple[Any, ...]:
    """One row as the driver takes it (what SQLAlchemy would bind: ISO dates, JSON text, and on SQLite
    UTC datetimes without offset and 0/1 booleans)."""
    parts = row["parts"]
    return (
        row["id"], row["ident"], row["organization_id"], row["observation_key"], row["revision"],
        row["content_hash"], int(row["in_force"]) if sqlite else row["in_force"], row["indicator_code"],
        row["indicator_version"], row["alliance_id"], row["country"], row["subdivision"], row["municipality"],
        row["period_start"].isoformat(), row["period_end"].isoformat(), row["month"], row["value"],
        row["numerator"], row["denominator"], row["weight"], row["currency"], row["evidence_level"],
        json.dumps(parts) if parts else "[]", row["source"], recorded_at,
    )  # fmt: skip


class Revision(NamedTuple):
    """What the idempotency check needs of one stored revision."""

    ident: str
    revision: int
    content_hash: str
    id: str
    in_force: bool


_REVISIONS = "SELECT ident, revision, content_hash, id, in_force FROM observations WHERE ident"


class ObservationRepository:
    def __init__(self, session: Session):
        self.session = session

    def revisions_of(self, idents: Iterable[str]) -> dict[str, list[Revision]]:
        """Every stored revision of these observations, by ident: five columns straight from the
        driver (a bulk import asks for every row's key, and most are new)."""
        wanted = sorted(set(idents))  # each key once, in a stable order
        out: dict[str, list[Revision]] = {}
        connection = self.session.connection()
        raw = connection.connection.driver_connection
        assert raw is not None
        found: list[tuple[Any, ...]] = []
        if connection.dialect.name == "sqlite":
            cursor = raw.cursor()
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ", ".join("?" for _ in chunk)
                found += cursor.execute(f"{_REVISIONS} IN ({marks})", chunk).fetchall()
        else:
            with raw.cursor() as cursor:
                for start in range(0, len(wanted), 5000):
                    cursor.execute(f"{_REVISIONS} = ANY(%s)", (wanted[start : start + 5000],))
                    found += cursor.fetchall()
        for ident, revision, content_hash, obs_id, in_force in found:
            out.setdefault(ident, []).append(Revision(ident, revision, content_hash, obs_id, bool(in_force)))
        return out

    def by_ids(self, ids: list[str]) -> dict[str, ObservationRow]:
        out: dict[str, ObservationRow] = {}
        for start in range(0, len(ids), 500):
            stmt = select(ObservationRow).where(col(ObservationRow.id).in_(ids[start : start + 500]))
            out.update((row.id, row) for row in self.session.scalars(stmt))
        return out

    def insert(self, rows: list[dict[str, Any]]) -> None:
        """Straight to the driver (the bulk path: no per-row statement compilation): SQLite's
        executemany, PostgreSQL's COPY. Every row of a batch shares its ``recorded_at``."""
        if not rows:
            return
        connection = self.session.connection()
        raw = connection.connection.driver_connection
        assert raw is not None
        sqlite = connection.dialect.name == "sqlite"
        moment: datetime = rows[0]["recorded_at"]
        recorded_at = (
            moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else moment.isoformat()
        )
        values = [_values(row, recorded_at, sqlite) for row in rows]
        try:
            if sqlite:
                raw.cursor().executemany(_SQLITE_INSERT, values)
                return
            with raw.cursor() as cursor, cursor.copy(_COPY) as copy:
                for value in values:
                    copy.write_row(value)
        except (sqlite3.IntegrityError, psycopg.IntegrityError) as exc:
            # Past SQLAlchemy here: raise what its callers handle (a concurrent writer won the race).
            raise IntegrityError("INSERT INTO observations", None, exc) from exc

    def refresh_statistics(self) -> int:
        """Fresh planner statistics (PostgreSQL) for the tables a bulk import grows. Autovacuum gets
        there only after a while; until then the planner believes the observations table is as small
        as it was, and looks revisions up by scanning it instead of using the ident index. Returns the
        observations the statistics now count."""
        for table in ("observations", "rollups", "rollups_by_place", "stock_rollups"):
            self.session.execute(text(f"ANALYZE {table}"))
        counted = self.session.execute(
            text("SELECT reltuples FROM pg_class WHERE oid = 'observations'::regclass")
        ).scalar_one()
        return max(0, int(counted))  # the planner's row count (ANALYZE samples it), never -1

    def retire(self, ids: list[str]) -> None:
        """Mark revisions as no longer in force (they stay in the history)."""
        for start in range(0, len(ids), 500):
            self.session.execute(
                update(ObservationRow)
                .where(col(ObservationRow.id).in_(ids[start : start + 500]))
                .values(in_force=False)
            )

    def history(self, ident: str) -> list[ObservationRow]:
        stmt = (
            select(ObservationRow)
            .where(col(ObservationRow.ident) == ident)
            .order_by(col(ObservationRow.revision))
        )
        return list(self.session.scalars(stmt))

    def by_id(self, obs_id: str) -> ObservationRow | None:
        stmt = select(ObservationRow).where(col(ObservationRow.id) == obs_id)
        return self.session.scalars(stmt).first()

"""Dialect-aware SQL helpers (SQLite and PostgreSQL both have INSERT … ON CONFLICT)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session


def insert_for(session: Session, table: Table) -> Any:
    """An ``INSERT`` that supports ``on_conflict_do_update``/``…_nothing`` on the session's backend."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def json_list(value: Any) -> list[str]:
    """A tolerant reader's list of strings: anything else becomes an empty list."""
    if not isinstance(value, list):
        return []
    return [str(v) for v in value if isinstance(v, str | int)]


def upsert_many(
    session: Session,
    table: str,
    columns: Sequence[tuple[str, str]],
    rows: Sequence[tuple[Any, ...]],
    conflict: Sequence[str],
    update: str,
    where: str = "",
) -> None:
    """``INSERT … ON CONFLICT (conflict) DO UPDATE SET update [WHERE where]`` of many rows, straight to
    the driver (the bulk path: no per-row parameter processing in SQLAlchemy). ``columns`` are
    ``(name, kind)`` with kind ``text``, ``int`` or ``float``; ``update``/``where`` refer to the stored
    row as ``t`` and the new one as ``excluded``. SQLite: one prepared statement, ``executemany``;
    PostgreSQL: ``COPY`` into a temporary table, then one ``INSERT … SELECT`` in key order (concurrent
    batches lock shared rows in one order). Rows must have distinct conflict keys (PostgreSQL cannot
    update one row twice in a statement)."""
    if not rows:
        return
    names = ", ".join(name for name, _ in columns)
    tail = f"ON CONFLICT ({', '.join(conflict)}) DO UPDATE SET {update}" + (
        f" WHERE {where}" if where else ""
    )
    connection = session.connection()
    raw = connection.connection.driver_connection
    assert raw is not None
    if connection.dialect.name == "sqlite":
        marks = ", ".join("?" for _ in columns)
        sql = f"INSERT INTO {table} AS t ({names}) VALUES ({marks}) {tail}"  # noqa: S608 - our own names
        raw.cursor().executemany(sql, rows)
        return
    staging = f"staged_{table}"
    with raw.cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {staging} (LIKE {table}) ON COMMIT DELETE ROWS")
        cursor.execute(f"TRUNCATE {staging}")
        with cursor.copy(f"COPY {staging} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            f"INSERT INTO {table} AS t ({names}) SELECT {names} FROM {staging} "  # noqa: S608
            f"ORDER BY {', '.join(conflict)} {tail}"
        )


def insert_many(
    session: Session, table: str, columns: Sequence[tuple[str, str]], rows: Sequence[tuple[Any, ...]]
) -> None:
    """A plain ``INSERT`` of many rows straight to the driver (``COPY`` on PostgreSQL)."""
    if not rows:
        return
    names = ", ".join(name for name, _ in columns)
    connection = session.connection()
    raw = connection.connection.driver_connection
    assert raw is not None
    if connection.dialect.name == "sqlite":
        marks = ", ".join("?" for _ in columns)
        raw.cursor().executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)  # noqa: S608
        return
    with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)

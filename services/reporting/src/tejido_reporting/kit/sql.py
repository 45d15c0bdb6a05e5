"""Dialect-aware SQL helpers (SQLite and PostgreSQL both have INSERT … ON CONFLICT)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

# PostgreSQL array types of the columns the bulk helpers write (by Python value kind).
PG_TYPES = {"text": "text[]", "int": "bigint[]", "float": "float8[]"}


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
    PostgreSQL: one statement over ``unnest`` of one array per column. Rows must have distinct
    conflict keys (PostgreSQL cannot update one row twice in a statement)."""
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
    arrays = ", ".join(f"%s::{PG_TYPES[kind]}" for _, kind in columns)
    sql = f"INSERT INTO {table} AS t ({names}) SELECT * FROM unnest({arrays}) {tail}"  # noqa: S608
    with raw.cursor() as cursor:
        for start in range(0, len(rows), 20_000):
            chunk = rows[start : start + 20_000]
            cursor.execute(sql, [list(column) for column in zip(*chunk, strict=True)])


def insert_many(
    session: Session, table: str, columns: Sequence[tuple[str, str]], rows: Sequence[tuple[Any, ...]]
) -> None:
    """A plain ``INSERT`` of many rows straight to the driver (see :func:`upsert_many`)."""
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
    arrays = ", ".join(f"%s::{PG_TYPES[kind]}" for _, kind in columns)
    with raw.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays})",  # noqa: S608
            [list(column) for column in zip(*rows, strict=True)],
        )

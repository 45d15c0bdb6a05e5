"""Dialect-aware SQL helpers (SQLite and PostgreSQL both have INSERT … ON CONFLICT)."""

from __future__ import annotations

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

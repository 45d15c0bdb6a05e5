"""The explicit unit of work of the registry's writes: one transaction's session, the events it stages
in the outbox, and (bulk imports) the rows it buffers for one executemany per table.

``tejido_common``'s ``add_event`` and ``insert_rows`` still keep their markers in ``session.info``;
this object is the one place that sets and reads them, so no service code touches those flags."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pydantic_core
from sqlalchemy import JSON, Column, Connection, String, Table, insert, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, SQLModel

from tejido_common.db import ROW_BUFFER, Database, RowBuffer
from tejido_common.events import Envelope
from tejido_common.outbox import add_event


class UnitOfWork:
    def __init__(self, session: Session, buffer: RowBuffer | None = None):
        self.session = session
        self.buffer = buffer

    @classmethod
    @contextlib.contextmanager
    def begin(cls, db: Database, *, buffered: bool = False) -> Iterator[UnitOfWork]:
        """A transaction, committed when the block ends without an exception. ``buffered``: new rows
        are collected and written table by table at the end (or at :meth:`flush`)."""
        with db.session() as session:
            uow = cls(session, RowBuffer() if buffered else None)
            if uow.buffer is not None:
                session.info[ROW_BUFFER] = uow.buffer
                if db.dialect == "postgresql":
                    _fast_compression(session)
            try:
                with session.no_autoflush if buffered else contextlib.nullcontext():
                    yield uow
                uow.flush()
            finally:
                session.info.pop(ROW_BUFFER, None)

    def add_event(self, envelope: Envelope, aggregate_id: str) -> None:
        """Stage an event: relayed only if this unit of work commits."""
        add_event(self.session, envelope, aggregate_id=aggregate_id)

    def flush(self) -> None:
        """Write the buffered rows now (e.g. before reading an organization created earlier in the
        same batch)."""
        if self.buffer is not None and self.buffer.rows:
            for table, rows in self.buffer.rows.items():
                if rows:
                    _insert_many(self.session, table, rows)
            self.buffer.rows = {}
            self.session.flush()


def _fast_compression(session: Session) -> None:
    """Large values written by this transaction (profiles, snapshots, event payloads: ~2 KB each)
    are compressed with lz4 rather than pglz, where the server has it: pglz took about an eighth of
    the server's time for a bulk import's rows (what is stored and how it reads back is unchanged)."""
    session.execute(
        text(
            "SELECT set_config('default_toast_compression', 'lz4', true) FROM pg_settings"
            " WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)"
        )
    )


def _plain_text(table: Table) -> bool:
    return all(isinstance(column.type, String) for column in table.columns)


def _insert_many(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """One statement for many rows. PostgreSQL: one COPY per table (see :func:`_copy_rows`). SQLite:
    tables of plain text columns (facets, names, identifiers: ~30 rows per organization) skip
    SQLAlchemy's per-row parameter processing, which cost more than the insert itself, with one
    executemany of tuples; other tables keep their type processing (JSON, UTC times)."""
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        _copy_rows(conn, table, rows)
        return
    if not _plain_text(table):
        session.execute(insert(table), rows)
        return
    names = list(rows[0])
    quote = conn.dialect.identifier_preparer.quote
    columns = ", ".join(quote(n) for n in names)
    # Only the table's own (quoted) names are put into the statements, never values.
    marks = ", ".join(["?"] * len(names))
    sql = f"INSERT INTO {quote(table.name)} ({columns}) VALUES ({marks})"  # noqa: S608
    conn.exec_driver_sql(sql, [tuple(row[n] for n in names) for row in rows])


def _copy_rows(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """PostgreSQL: the rows as one ``COPY … FROM STDIN`` in the session's transaction. The server
    inserts them without planning or executing a statement per row (an executemany of the wide rows
    ran one INSERT per organization, version and event; ``unnest()`` of arrays one statement, but
    psycopg builds each array in Python). Values are converted as an INSERT's bind processing would
    (UTC times; JSON documents, encoded by pydantic-core, several times faster than ``json.dumps``);
    columns left out get their server defaults (the outbox's sequence)."""
    names = list(rows[0])
    quote = conn.dialect.identifier_preparer.quote
    columns = ", ".join(quote(n) for n in names)
    # Only the table's own (quoted) names are put into the statement, never values.
    sql = f"COPY {quote(table.name)} ({columns}) FROM STDIN"
    driver = conn.connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    try:
        with driver.cursor() as cursor, cursor.copy(sql) as copy:
            data = _plain_copy_text(rows, names) if _plain_text(table) else None
            if data is not None:
                copy.write(data)
                return
            processors = [
                (i, proc) for i, name in enumerate(names) if (proc := _bind(table.c[name], conn)) is not None
            ]
            for row in rows:
                values = [row[n] for n in names]
                for i, proc in processors:
                    values[i] = proc(values[i])
                copy.write_row(values)
    except psycopg.Error as exc:  # as SQLAlchemy raises them: a unique violation is an IntegrityError
        raise DBAPIError.instance(sql, None, exc, psycopg.Error) from exc


def _bind(column: Column[Any], conn: Connection) -> Callable[[Any], Any] | None:
    if isinstance(column.type, JSON):
        none_as_null = column.type.none_as_null

        def to_json(value: Any) -> str | None:
            if value is None and none_as_null:
                return None
            return pydantic_core.to_json(value).decode()

        return to_json
    processor: Callable[[Any], Any] | None = column.type.bind_processor(conn.dialect)
    return processor


def _plain_copy_text(rows: list[dict[str, Any]], names: list[str]) -> str | None:
    """Rows of text values as COPY's text format in one string (~25 facet rows per organization:
    formatting them one by one through psycopg cost more than the server's insert), or None if any
    value is not a string or needs escaping (a tab, newline, carriage return or backslash in it)."""
    try:
        data = "\n".join(["\t".join([row[n] for n in names]) for row in rows])
    except TypeError:  # a None (NULL) or another type: formatted value by value instead
        return None
    # Every tab and newline must be a separator: none inside a value, and nothing to escape.
    clean = (
        data.count("\t") == len(rows) * (len(names) - 1)
        and data.count("\n") == len(rows) - 1
        and "\\" not in data
        and "\r" not in data
    )
    return data + "\n" if clean else None


def table_of(model: type[SQLModel]) -> Table:
    """The Core table of a SQLModel table class (SQLModel does not type ``__table__``)."""
    table: Table = getattr(model, "__table__")  # noqa: B009
    return table

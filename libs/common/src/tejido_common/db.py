"""Database access: SQLite files by default, PostgreSQL (one schema per service) in production.

On SQLite, write transactions start with BEGIN IMMEDIATE so that concurrent writers queue on the
busy timeout instead of failing when a read lock cannot be upgraded; reads use a separate engine
with ordinary deferred transactions so they never wait for writers (WAL mode).

SQLite connections are kept in a small pool per engine instead of being opened for each transaction:
a new connection starts with an empty page cache and memory map, and closing the last one checkpoints
the whole write-ahead log. With thousands of rows per transaction that cost more than the inserts
(bulk import at 100,000 organizations: commits 4.3 s of 10.4 s per 10,000 rows). A pooled connection
is used by one thread at a time (checked out, then returned with its transaction rolled back); a
forked child never reuses its parent's connections.
"""

from __future__ import annotations

import os
import re
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, TypeDecorator, event, insert, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.pool import NullPool, QueuePool
from sqlmodel import Session, create_engine

OUTBOX_FLAG = "tejido_outbox_written"
# The largest event this service lets a write stage (see tejido_common.outbox.add_event).
MAX_EVENT_BYTES_KEY = "tejido_max_event_bytes"
_SCHEMA_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def normalize_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and use the psycopg 3 driver for them."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


# Connections kept per SQLite engine. More are opened when busy and closed when returned, with no
# upper bound (as before the pool): a cap would make the 41st concurrent reader (a slow export, a slow
# client) wait for a free connection and then fail, where SQLite itself would serve it.
SQLITE_POOL = {"write": (2, -1), "read": (4, -1)}
# The whole file is memory-mapped up to SQLite's own limit (2 GB): a registry of 100,000
# organizations is 1.5 GB, and pages beyond the map are read with a system call each.
SQLITE_MMAP_BYTES = 0x7FFF0000
# A checkpoint copies every page of the write-ahead log into the database file. Bulk writes dirty
# pages all over the big indexes (a facet row lands at a random place of its B-tree): checkpointing
# after ~200 MB of log instead of SQLite's 4 MB writes a page changed by several transactions once.
# The log is truncated back to WAL_KEEP_BYTES after a checkpoint.
SQLITE_WAL_AUTOCHECKPOINT_PAGES = 50_000
SQLITE_WAL_KEEP_BYTES = 64 * 1024 * 1024
_POOLED_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()


def _forget_parent_connections() -> None:  # pragma: no cover - runs in a forked child
    """A forked child must not use (or close) the SQLite connections it inherited: they belong to
    the parent's transactions and locks. It opens its own."""
    for engine in list(_POOLED_ENGINES):
        engine.dispose(close=False)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_parent_connections)


def _sqlite_engine(url: str, *, immediate: bool) -> Engine:
    parsed = make_url(url)
    connect_args = {"check_same_thread": False, "timeout": 30}
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        size, overflow = SQLITE_POOL["write" if immediate else "read"]
        engine = create_engine(
            url, connect_args=connect_args, poolclass=QueuePool, pool_size=size, max_overflow=overflow
        )
        _POOLED_ENGINES.add(engine)
    else:  # an in-memory database is one per connection: nothing worth keeping
        engine = create_engine(url, connect_args=connect_args, poolclass=NullPool)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        # The default 2 MB page cache thrashes once a registry holds tens of thousands of profiles.
        cur.execute("PRAGMA cache_size=-131072")
        cur.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
        cur.execute(f"PRAGMA wal_autocheckpoint={SQLITE_WAL_AUTOCHECKPOINT_PAGES}")
        cur.execute(f"PRAGMA journal_size_limit={SQLITE_WAL_KEEP_BYTES}")
        cur.execute("PRAGMA temp_store=MEMORY")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class Database:
    """Engines and sessions for one service's database."""

    def __init__(self, url: str, schema: str | None = None):
        # Called after a commit that staged outbox events (the relay wakes up at once).
        self.after_outbox_commit: list[Callable[[], None]] = []
        # Set by the service runtime from its settings; None keeps add_event's default.
        self.max_event_bytes: int | None = None
        self.url = normalize_url(url)
        self.sqlite = is_sqlite(self.url)
        self.schema = None if self.sqlite else schema
        if self.schema and not _SCHEMA_RE.match(self.schema):
            raise ValueError(f"invalid PostgreSQL schema name {self.schema!r}")
        if self.sqlite:
            self.engine = _sqlite_engine(self.url, immediate=True)
            self.read_engine = _sqlite_engine(self.url, immediate=False)
        else:
            connect_args: dict[str, Any] = {}
            if self.schema:
                connect_args["options"] = f"-csearch_path={self.schema}"
            self.engine = create_engine(
                self.url, connect_args=connect_args, pool_pre_ping=True, pool_size=10, max_overflow=10
            )
            self.read_engine = self.engine

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self, connection: Connection | None = None) -> Iterator[Session]:
        """A write transaction: committed on success, rolled back on any error. ``connection`` (from
        ``engine.connect()``): run it there instead of on a connection from the pool, e.g. every
        batch of one import on the same connection."""
        with Session(
            connection if connection is not None else self.engine, expire_on_commit=False
        ) as session:
            if self.max_event_bytes:
                session.info[MAX_EVENT_BYTES_KEY] = self.max_event_bytes
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
            if session.info.pop(OUTBOX_FLAG, False):
                for callback in self.after_outbox_commit:
                    callback()

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        with Session(self.read_engine, expire_on_commit=False) as session:
            yield session

    def ensure_schema(self) -> None:
        if self.schema:
            with self.engine.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"'))

    def analyze(self) -> None:
        """Refresh the query planner's statistics after start-up or a big import. Without them the
        planners guess, and pick poor plans for multi-filter searches (a full sort instead of an
        ordered index walk, say). SQLite: approximate and bounded; PostgreSQL: this schema's tables
        (autovacuum would get there too, but only after a while)."""
        with self.engine.connect() as conn:
            if self.sqlite:
                conn.exec_driver_sql("PRAGMA analysis_limit=1000")
                conn.exec_driver_sql("ANALYZE")
            elif self.schema:
                tables = conn.execute(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = :schema"),
                    {"schema": self.schema},
                ).scalars()
                for table in list(tables):
                    conn.exec_driver_sql(f'ANALYZE "{self.schema}"."{table}"')
            conn.commit()

    def ping(self) -> None:
        with self.read_engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them without an offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given; use UTC-aware datetimes")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


ROW_BUFFER = "tejido_row_buffer"


class RowBuffer:
    """Rows waiting to be inserted with one executemany per table (bulk imports).

    Put one in ``session.info[ROW_BUFFER]`` and :func:`insert_rows` buffers instead of executing;
    :meth:`flush` writes everything, table by table in first-use order, inside the same transaction.
    """

    def __init__(self) -> None:
        self.rows: dict[Any, list[dict[str, Any]]] = {}

    def checkpoint(self) -> dict[Any, int]:
        """Where each table's rows end now; :meth:`rollback` drops whatever was buffered after it
        (a bulk row that fails half-way must leave nothing behind)."""
        return {table: len(rows) for table, rows in self.rows.items()}

    def rollback(self, mark: dict[Any, int]) -> None:
        for table, rows in self.rows.items():
            del rows[mark.get(table, 0) :]

    def flush(self, session: Session) -> None:
        for table, rows in self.rows.items():
            if rows:
                session.execute(insert(table), rows)
        self.rows = {}


def insert_rows(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    """Core INSERT of plain dicts (no ORM object per row), or buffered when the session has a buffer."""
    if not rows:
        return
    buffer: RowBuffer | None = session.info.get(ROW_BUFFER)
    if buffer is not None:
        buffer.rows.setdefault(table, []).extend(rows)
    else:
        session.execute(insert(table), rows)

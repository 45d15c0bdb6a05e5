"""SQLite connections: kept between transactions, one thread at a time, never across a fork."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from tejido_common.db import SQLITE_WAL_AUTOCHECKPOINT_PAGES, Database


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'kept.db'}")
    with database.session() as session:
        session.execute(text("CREATE TABLE t (n INTEGER)"))
    return database


def _connection(db: Database) -> object:
    with db.session() as session:
        return session.connection().connection.dbapi_connection


def test_a_transaction_reuses_a_kept_connection_with_its_settings(db: Database) -> None:
    assert _connection(db) is _connection(db)  # not a new connection (and page cache) each time
    with db.read_session() as session:
        pages = session.execute(text("PRAGMA wal_autocheckpoint")).scalar()
        mode = session.execute(text("PRAGMA journal_mode")).scalar()
    assert (pages, mode) == (SQLITE_WAL_AUTOCHECKPOINT_PAGES, "wal")
    db.dispose()


def test_a_failed_transaction_leaves_nothing_on_the_kept_connection(db: Database) -> None:
    with pytest.raises(RuntimeError), db.session() as session:
        session.execute(text("INSERT INTO t VALUES (1)"))
        raise RuntimeError("stop")
    with db.session() as session:  # the same connection: no transaction left open, nothing written
        session.execute(text("INSERT INTO t VALUES (2)"))
    with db.read_session() as session:
        assert session.execute(text("SELECT n FROM t")).scalars().all() == [2]
    db.dispose()


def test_threads_write_at_once_without_sharing_a_connection(db: Database) -> None:
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for i in range(20):
                with db.session() as session:
                    session.execute(text("INSERT INTO t VALUES (:n)"), {"n": n * 100 + i})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with db.read_session() as session:
        assert session.execute(text("SELECT count(*) FROM t")).scalar() == 120
    db.dispose()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_opens_its_own_connections(db: Database) -> None:
    _connection(db)  # the parent now keeps a connection in the pool
    assert db.engine.pool.checkedin() == 1  # type: ignore[attr-defined]
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe
        try:
            inherited = db.engine.pool.checkedin()  # type: ignore[attr-defined]
            with db.session() as session:
                session.execute(text("INSERT INTO t VALUES (7)"))
            os.write(write, str(inherited).encode())
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    assert os.read(read, 10) == b"0"  # the child saw none of the parent's connections
    os.close(read)
    with db.session() as session:  # the parent's own connection still works, and sees the child's row
        assert session.execute(text("SELECT n FROM t")).scalars().all() == [7]
    db.dispose()


def test_many_slow_readers_at_once_are_all_served(db: Database) -> None:
    """The pool keeps a few connections, but never caps them: 48 readers holding a connection at
    the same moment (slow exports, slow clients) are all served, none waits for another."""
    holding = threading.Barrier(48, timeout=20)
    answers: list[int] = []
    errors: list[BaseException] = []

    def read() -> None:
        try:
            with db.read_session() as session:
                answers.append(session.execute(text("SELECT 1")).scalar_one())
                holding.wait()  # every reader holds its connection here at once
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=read) for _ in range(48)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == [] and answers == [1] * 48

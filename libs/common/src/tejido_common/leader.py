"""One publishing relay per service: whoever holds the service's relay lock publishes, the others wait.

- PostgreSQL: a session-level advisory lock held on a dedicated connection. The server frees it the
  moment that connection ends (process killed, network gone), so a standby takes over on its next try.
- SQLite: an ``flock`` on a file next to the database. The kernel frees it when the process dies.

Standbys try again every poll interval, so takeover happens within about a second.
"""

from __future__ import annotations

import contextlib
import zlib
from pathlib import Path
from typing import IO, Any

from sqlalchemy import text
from sqlalchemy.engine import Connection, make_url

from tejido_common.db import Database
from tejido_common.logging import get_logger

try:  # POSIX; elsewhere SQLite deployments run one replica anyway.
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

log = get_logger(__name__)


class RelayLeadership:
    def __init__(self, db: Database, name: str = "outbox-relay"):
        self.db = db
        self.name = name
        self._conn: Connection | None = None
        self._file: IO[Any] | None = None
        self._key = zlib.crc32(f"tejido-{name}:{db.schema or ''}".encode())

    @property
    def held(self) -> bool:
        return self._conn is not None or self._file is not None

    def lock_path(self) -> Path | None:
        database = make_url(self.db.url).database
        if not database or database == ":memory:":
            return None
        return Path(database).with_name(Path(database).name + f".{self.name}.lock")

    def acquire(self) -> bool:
        """Take the lock if free, or confirm it is still ours. Never blocks."""
        if self.db.sqlite:
            return self._acquire_file()
        return self._acquire_pg()

    def _acquire_file(self) -> bool:
        if self._file is not None:
            return True
        path = self.lock_path()
        if path is None or fcntl is None:
            self._file = open("/dev/null")
            return True
        fh = open(path, "a+")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.close()
            return False
        self._file = fh
        log.info("relay leadership taken", lock=str(path))
        return True

    def _acquire_pg(self) -> bool:
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT 1"))
                self._conn.commit()
                return True
            except Exception as exc:
                # The connection is gone, and the server freed the lock with it: somebody else may lead.
                log.warning("relay leadership lost", error=str(exc)[:200])
                self._drop()
        conn = self.db.engine.connect()
        try:
            got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self._key}).scalar())
            conn.commit()
        except Exception:
            conn.close()
            raise
        if not got:
            conn.close()
            return False
        self._conn = conn
        log.info("relay leadership taken", schema=self.db.schema)
        return True

    def _drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.invalidate()  # never hand a connection holding the lock back to the pool
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None
        if self._file is not None:
            with contextlib.suppress(Exception):
                self._file.close()  # closing the descriptor releases the flock
            self._file = None

    def release(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self._key})
                self._conn.commit()
        self._drop()

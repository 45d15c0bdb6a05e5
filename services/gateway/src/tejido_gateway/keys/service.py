"""API keys for integrations: created by an admin (or ``tejido keys create``), shown once, stored as a
digest, revocable, with a last-used time. ``authenticate`` turns a presented key into a principal."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from tejido_common.db import Database
from tejido_common.identity import ORG_EDITOR, ROLES, Principal
from tejido_common.problems import NotFound, Unprocessable, field_error
from tejido_gateway.keys import repository
from tejido_gateway.keys.models import ApiKeyRow

PREFIX = "tjd_"
# tjd_<12 hex id>_<43 url-safe characters>: the id finds the row, the secret proves possession.
KEY_FORMAT = re.compile(r"^tjd_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
# last_used_at is a hint, not an audit trail: written at most this often per key.
TOUCH_EVERY_SECONDS = 60.0


class InvalidKey(Exception):
    """The presented key is malformed, unknown or revoked (the message says which, for the client)."""


@dataclass(frozen=True)
class NewKey:
    row: ApiKeyRow
    key: str


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def looks_like_key(token: str) -> bool:
    return token.startswith(PREFIX)


class KeyService:
    def __init__(self, db: Database, *, cache_seconds: float = 5.0):
        self.db = db
        self.cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, Principal]] = {}  # presented key digest → (expiry, principal)
        self._touched: dict[str, float] = {}
        self._lock = threading.Lock()

    def create(
        self, name: str, role: str, organizations: list[str] | None = None, *, created_by: str | None = None
    ) -> NewKey:
        orgs = sorted(set(organizations or []))
        if role not in ROLES:
            raise Unprocessable("unknown role", errors=[field_error(["role"], f"one of {', '.join(ROLES)}")])
        if role == ORG_EDITOR and not orgs:
            raise Unprocessable(
                "an org_editor key needs its organizations",
                errors=[field_error(["organizations"], "at least one organization id for role org_editor")],
            )
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        row = ApiKeyRow(
            id=f"k_{key_id}",
            name=name,
            role=role,
            organizations=orgs,
            secret_sha256=_digest(secret),
            created_at=datetime.now(UTC),
            created_by=created_by,
        )
        with self.db.session() as session:
            repository.add(session, row)
        return NewKey(row, f"{PREFIX}{key_id}_{secret}")

    def list(self) -> list[ApiKeyRow]:
        with self.db.read_session() as session:
            return list(repository.list_all(session))

    def get(self, key_id: str) -> ApiKeyRow:
        with self.db.read_session() as session:
            row = repository.get(session, key_id)
        if row is None:
            raise NotFound(f"no API key {key_id}")
        return row

    def revoke(self, key_id: str) -> ApiKeyRow:
        with self.db.session() as session:
            if repository.get(session, key_id) is None:
                raise NotFound(f"no API key {key_id}")
            repository.revoke(session, key_id, datetime.now(UTC))
        with self._lock:
            self._cache = {k: v for k, v in self._cache.items() if v[1].id != key_id}
        return self.get(key_id)

    def cached(self, presented: str) -> Principal | None:
        """The principal of a key verified moments ago (no database), if any."""
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(_digest(presented))
            if cached and cached[0] > now and now - self._touched.get(cached[1].id, 0) < TOUCH_EVERY_SECONDS:
                return cached[1]
        return None

    def authenticate(self, presented: str) -> Principal:
        """The principal of a valid key; :class:`InvalidKey` otherwise. Blocking (database)."""
        digest = _digest(presented)
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(digest)
        if cached and cached[0] > now:
            self._touch(cached[1].id, now)
            return cached[1]
        match = KEY_FORMAT.match(presented)
        if not match:
            raise InvalidKey("malformed API key")
        key_id, secret = f"k_{match.group(1)}", match.group(2)
        with self.db.read_session() as session:
            row = repository.get(session, key_id)
        if row is None or not hmac.compare_digest(row.secret_sha256, _digest(secret)):
            raise InvalidKey("unknown API key")
        if row.revoked_at is not None:
            raise InvalidKey("revoked API key")
        principal = Principal(
            id=row.id, kind="key", role=row.role, organizations=tuple(row.organizations), name=row.name
        )
        if self.cache_seconds > 0:
            with self._lock:
                if len(self._cache) > 10_000:  # bounded: many distinct keys just mean more lookups
                    self._cache.clear()
                self._cache[digest] = (now + self.cache_seconds, principal)
        self._touch(row.id, now)
        return principal

    def _touch(self, key_id: str, now: float) -> None:
        with self._lock:
            if now - self._touched.get(key_id, -TOUCH_EVERY_SECONDS) < TOUCH_EVERY_SECONDS:
                return
            self._touched[key_id] = now
        with self.db.session() as session:
            repository.touch(session, key_id, datetime.now(UTC))

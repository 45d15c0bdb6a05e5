from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel


class AuditEntry(BaseModel):
    seq: int
    at: datetime
    actor: str
    action: str
    subject: str
    payload: dict[str, Any]
    prev_hash: str
    hash: str


class AuditPage(BaseModel):
    items: list[AuditEntry]
    next_after: int | None


class BrokenLink(BaseModel):
    seq: int
    reason: str


class Verification(BaseModel):
    ok: bool
    entries: int
    head_hash: str | None
    first_broken: BrokenLink | None

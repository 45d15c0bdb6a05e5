"""The indicator catalog: a default catalog shipped as data, and definitions a network adds.

Definitions are versioned: a change always writes a new version and never edits one in place, so
every observation keeps pointing at the definition it was validated against. An indicator already
in use keeps its unit and value type (changing them would add incompatible numbers together: define
a new code instead).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session

from tejido_common.db import Database
from tejido_common.problems import FieldError, NotFound, field_error, unprocessable_from
from tejido_reporting.indicators.models import IndicatorRow
from tejido_reporting.indicators.repository import IndicatorRepository
from tejido_reporting.indicators.schemas import Indicator, IndicatorDefinition
from tejido_reporting.kit.errors import NotInUseChange

FIXED_WHEN_IN_USE = ("unit", "value_type")


def default_catalog() -> list[IndicatorDefinition]:
    raw = json.loads(
        (resources.files("tejido_reporting.indicators") / "default_catalog.json").read_text("utf-8")
    )
    return [IndicatorDefinition.model_validate(item) for item in raw["indicators"]]


def definition_doc(definition: IndicatorDefinition) -> dict[str, Any]:
    return definition.model_dump(mode="json", exclude_none=True)


def content_hash(doc: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(doc, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def to_indicator(row: IndicatorRow, in_use: bool = False) -> Indicator:
    return Indicator.model_validate(
        {
            **row.doc,
            "version": row.version,
            "builtin": row.builtin,
            "created_at": row.created_at,
            "in_use": in_use,
        }
    )


def definition_of(row: IndicatorRow) -> IndicatorDefinition:
    return IndicatorDefinition.model_validate(row.doc)


def seed_defaults(session: Session) -> int:
    """Add the shipped indicators a database does not have yet (start-up; idempotent)."""
    repo = IndicatorRepository(session)
    existing = repo.latest_of()
    added = 0
    for definition in default_catalog():
        if definition.code in existing:
            continue
        doc = definition_doc(definition)
        repo.add(
            IndicatorRow(
                code=definition.code,
                version=1,
                doc=doc,
                content_hash=content_hash(doc),
                builtin=True,
                created_at=datetime.now(UTC),
            )
        )
        added += 1
    return added


class IndicatorService:
    def __init__(self, db: Database):
        self.db = db

    def define(self, raw: dict[str, Any]) -> tuple[Indicator, bool]:
        """Add a definition or a new version of one; ``(indicator, created)`` — an identical definition
        returns the current version unchanged."""
        try:
            definition = IndicatorDefinition.model_validate(raw)
        except ValidationError as exc:
            raise unprocessable_from(exc) from exc
        doc = definition_doc(definition)
        digest = content_hash(doc)
        with self.db.session() as session:
            repo = IndicatorRepository(session)
            latest = repo.latest(definition.code)
            in_use = latest is not None and repo.in_use(definition.code)
            if latest is not None and latest.content_hash == digest:
                return to_indicator(latest, in_use), False
            if latest is not None and in_use:
                errors: list[FieldError] = [
                    field_error([name], f"stays {latest.doc.get(name)!r} once the indicator is in use")
                    for name in FIXED_WHEN_IN_USE
                    if latest.doc.get(name) != doc.get(name)
                ]
                if errors:
                    raise NotInUseChange(
                        f"indicator {definition.code} already has observations or targets: its unit and "
                        "value type cannot change (define a new code)",
                        errors=errors,
                    )
            row = IndicatorRow(
                code=definition.code,
                version=(latest.version + 1) if latest else 1,
                doc=doc,
                content_hash=digest,
                builtin=False,
                created_at=datetime.now(UTC),
            )
            repo.add(row)
            return to_indicator(row, in_use), True

    def get(self, code: str, version: int | None = None) -> Indicator:
        with self.db.read_session() as session:
            repo = IndicatorRepository(session)
            row = repo.latest(code) if version is None else repo.version(code, version)
            if row is None:
                what = code if version is None else f"{code} version {version}"
                raise NotFound(f"indicator {what} does not exist")
            return to_indicator(row, repo.in_use(code))

    def versions(self, code: str) -> list[Indicator]:
        with self.db.read_session() as session:
            repo = IndicatorRepository(session)
            rows = repo.versions(code)
            if not rows:
                raise NotFound(f"indicator {code} does not exist")
            used = repo.in_use(code)
            return [to_indicator(row, used) for row in rows]

    def list(self, family: str | None = None, program_area: str | None = None) -> list[Indicator]:
        with self.db.read_session() as session:
            repo = IndicatorRepository(session)
            used = repo.codes_in_use()
            items = [to_indicator(row, row.code in used) for row in repo.latest_of().values()]
        if family:
            items = [i for i in items if family in i.families]
        if program_area:
            items = [
                i for i in items if program_area in i.program_areas or program_area[:2] in i.program_areas
            ]
        return items

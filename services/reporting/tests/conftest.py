from __future__ import annotations

import json
from collections.abc import Iterator
from copy import deepcopy
from pathlib import Path
from typing import Any

import pytest

from tejido_common.db import Database
from tejido_common.events import Envelope
from tejido_common.ids import new_id
from tejido_common.migrations import upgrade
from tejido_common.testing import DatabaseTarget
from tejido_reporting.aggregates.queries import Aggregator
from tejido_reporting.app import MIGRATIONS
from tejido_reporting.indicators.service import IndicatorService, seed_defaults
from tejido_reporting.network.handlers import apply_alliance, apply_organization, apply_rating
from tejido_reporting.observations.service import ObservationService
from tejido_reporting.settings import ReportingSettings
from tejido_reporting.targets.service import TargetService

CONTRACTS = Path(__file__).resolve().parents[3] / "tests" / "contracts"


def recorded(type_: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((CONTRACTS / f"{type_}.json").read_text())
    return data


class World:
    """The reporting service's domain packages over a real database, without HTTP or NATS (fast tier).
    Registry and due-diligence events are built from the recorded contract examples."""

    def __init__(self, db: Database, settings: ReportingSettings):
        self.db = db
        self.indicators = IndicatorService(db)
        self.observations = ObservationService(db, batch_size=3)
        self.aggregator = Aggregator(db, settings.fx_rates)
        self.targets = TargetService(db, self.aggregator)

    def organization(
        self,
        org_id: str | None = None,
        *,
        version: int = 1,
        action: str = "registered",
        purpose: dict[str, Any] | None = None,
        **identity: Any,
    ) -> str:
        event = deepcopy(recorded("registry.organization.registered.v1"))
        event["type"] = f"registry.organization.{action}.v1"
        org = event["data"]["organization"]
        org["id"] = org_id or new_id()
        org["version"] = version
        org["identity"].update(identity)
        org["purpose"].update(purpose or {})
        event["id"] = new_id()
        self.apply(apply_organization, event)
        return str(org["id"])

    def alliance(self, parties: list[str], *, stage: str = "established", version: int = 1) -> str:
        event = deepcopy(recorded("registry.alliance.stage_changed.v1"))
        alliance = event["data"]["alliance"]
        alliance["id"] = new_id()
        alliance["version"] = version
        alliance["stage"] = stage
        template = alliance["parties"][0]
        alliance["parties"] = [{**template, "organization_id": org} for org in parties]
        event["id"] = new_id()
        self.apply(apply_alliance, event)
        return str(alliance["id"])

    def rating(self, org_id: str, band: str, rated_at: str = "2026-11-23T21:30:00Z") -> None:
        event = deepcopy(recorded("duediligence.rating.published.v1"))
        event["data"].update(organization_id=org_id, band=band, rated_at=rated_at)
        event["id"] = new_id()
        self.apply(apply_rating, event)

    def apply(self, handler: Any, event: dict[str, Any]) -> None:
        with self.db.session() as session:
            handler(session, Envelope.model_validate(event))


@pytest.fixture
def world(data_dir: Path, db_target: DatabaseTarget) -> Iterator[World]:
    settings = ReportingSettings(
        data_dir=data_dir,
        database_url=db_target.url,
        database_schema=db_target.schema,
        fx_rates={"USD": {"2009": {"MXN": 0.074, "PEN": 0.33}, "2010": {"MXN": 0.079}}},
    )
    db = Database(settings.resolved_database_url(), settings.resolved_schema())
    upgrade(db, MIGRATIONS)
    with db.session() as session:
        seed_defaults(session)
    yield World(db, settings)
    db.dispose()

"""Helpers for tests that need the due-diligence service (this package's tests and cross-service tests)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select
from sqlmodel import Session, col

from tejido_common.outbox import OutboxRow
from tejido_common.runtime import ServiceRuntime
from tejido_common.testing import DatabaseTarget, ServerThread, service_client, wait_until
from tejido_duediligence.app import MIGRATIONS, Domains, create_app
from tejido_duediligence.assessments.schemas import AnswerPut, AssessmentCreate, Transition
from tejido_duediligence.organizations.schemas import Identity, PeopleEvent, Profile, Where
from tejido_duediligence.settings import DuediligenceSettings


@dataclass
class RunningDuediligence:
    url: str
    app: Any
    settings: DuediligenceSettings
    client: httpx.Client

    @property
    def domains(self) -> Domains:
        domains: Domains = self.app.state.domains
        return domains


def duediligence_settings(
    data_dir: Path, nats_url: str, target: DatabaseTarget, **extra: Any
) -> DuediligenceSettings:
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "nats_url": nats_url,
        "database_url": target.url,
        "database_schema": target.schema,
        "log_level": "WARNING",
        "outbox_poll_seconds": 0.1,
        "load_synthetic_watchlist": False,
        **extra,
    }
    return DuediligenceSettings(**values)


@contextlib.contextmanager
def running_duediligence(settings: DuediligenceSettings) -> Iterator[RunningDuediligence]:
    """The real service served over HTTP on a free port, ready (database and NATS reachable)."""
    app = create_app(settings)
    with ServerThread(app) as server, service_client(server.url, settings) as client:
        wait_until(lambda: client.get("/readyz").status_code == 200, message="duediligence ready")
        yield RunningDuediligence(server.url, app, settings, client)


@contextlib.contextmanager
def migrated_domains(settings: DuediligenceSettings) -> Iterator[Domains]:
    """The domain services on a migrated database, without HTTP or NATS (the fast test tier)."""
    runtime = ServiceRuntime(settings, migrations_dir=MIGRATIONS)
    runtime.migrate()
    try:
        yield Domains(runtime, settings)
    finally:
        runtime.db.dispose()


def known_organization(
    domains: Domains,
    org_id: str,
    name: str,
    *,
    country: str | None = "MX",
    aliases: list[str] | None = None,
    version: int = 1,
    status: str = "active",
) -> None:
    """Apply a registry profile as the consumer would (the same service call, in one transaction)."""
    profile = Profile(
        id=org_id,
        status=status,
        version=version,
        identity=Identity(legal_name=name, aliases=aliases or []),
        where=Where(country=country),
    )
    with domains.directory.db.session() as session:
        domains.directory.apply_profile(session, profile)


def key_people(domains: Domains, org_id: str, names: list[str], *, version: int = 1) -> None:
    event = PeopleEvent.model_validate(
        {"organization_id": org_id, "version": version, "people": [{"name": n} for n in names]}
    )
    session: Session
    with domains.directory.db.session() as session:
        domains.directory.apply_people(session, event)


def outbox(domains: Domains, type_: str | None = None) -> list[dict[str, Any]]:
    with domains.directory.db.read_session() as session:
        rows = session.scalars(select(OutboxRow).order_by(col(OutboxRow.seq))).all()
    events = [json.loads(r.payload) for r in rows]
    return [e for e in events if type_ is None or e["type"] == type_]


def finalized_assessment(
    domains: Domains,
    org_id: str,
    *,
    hact: str = "low",
    psea: str = "adequate",
    overrides: dict[str, str] | None = None,
) -> str:
    """A reviewer assessment answered all ``hact``/``psea`` (except ``overrides``), taken to finalized."""
    service = domains.assessments
    assessment = service.create(AssessmentCreate(organization_id=org_id, kind="reviewer"))
    framework = service.catalog.get(assessment.framework_id, assessment.framework_version)
    for dimension, question in framework.questions():
        label = (overrides or {}).get(question.id, hact if dimension.rule == "hact" else psea)
        service.put_answer(assessment.id, question.id, AnswerPut(answer=label))
    for step in ("submitted", "in_review", "finalized"):
        service.transition(assessment.id, Transition(to=step))
    return assessment.id

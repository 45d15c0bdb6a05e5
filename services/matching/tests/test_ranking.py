"""Fast tier: the ranking rules on an in-memory engine fed with events (no NATS, no HTTP, no model)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tejido_matching.ranking.engine import MatchingEngine
from tejido_matching.ranking.weights import FEATURES, MODES, resolve_weights
from tejido_matching.testing import org, organization_event, rating_event


def engine_with(*profiles: dict[str, Any]) -> MatchingEngine:
    engine = MatchingEngine(resolve_weights(), embedder=None)
    for p in profiles:
        engine.apply(organization_event(p))
    return engine


def ids(result: dict[str, Any]) -> list[str]:
    return [i["candidate"]["name"] for i in result["items"]]


REQUESTER = org(
    "Mujeres de Cajeme",
    subdivisions=["MX-SON"],
    program_areas=["HE3"],
    offers=[("community_presence", "Presencia en colonias de Cajeme")],
    needs=[("knowledge_and_methodology", "Asesoría en microcrédito para mujeres", ["MX-SON"])],
)
SONORA_MICRO = org(
    "Microcréditos Sonora",
    subdivisions=["MX-SON"],
    offers=[("knowledge_and_methodology", "Metodología de microcrédito grupal")],
)
PERU_MICRO = org(
    "Microfinanzas Andinas",
    country="PE",
    subdivisions=["PE-LIM"],
    offers=[("knowledge_and_methodology", "Metodología de microcrédito grupal")],
)
SONORA_NOTHING = org(
    "Deportes Sonora",
    subdivisions=["MX-SON"],
    offers=[("facilities_and_infrastructure", "Canchas deportivas")],
)


def test_microcredit_in_sonora_ranks_above_peru_and_above_a_sonora_cso_offering_nothing_needed() -> None:
    engine = engine_with(REQUESTER, SONORA_MICRO, PERU_MICRO, SONORA_NOTHING)
    result = engine.handle({"organization_id": REQUESTER["id"], "diversity": False})
    names = ids(result)
    assert names.index("Microcréditos Sonora") < names.index("Microfinanzas Andinas")
    assert names.index("Microcréditos Sonora") < names.index("Deportes Sonora")
    top = result["items"][0]
    pairs = top["evidence"]["complementarity"]["pairs"]
    assert {"direction": "candidate_offers", "kind": "knowledge_and_methodology"}.items() <= pairs[0].items()
    assert "MX-SON" in top["evidence"]["territory"]["shared_places"]


@pytest.mark.parametrize("mode", MODES[:3])
def test_contributions_sum_to_the_score_and_each_feature_is_in_unit_range(mode: str) -> None:
    engine = engine_with(REQUESTER, SONORA_MICRO, PERU_MICRO, SONORA_NOTHING)
    result = engine.handle({"organization_id": REQUESTER["id"], "mode": mode})
    assert result["items"]
    weights = resolve_weights()[mode]
    for item in result["items"]:
        assert set(item["contributions"]) == set(FEATURES)
        assert sum(item["contributions"].values()) == pytest.approx(item["score"], abs=1e-9)
        for feature, value in item["features"].items():
            assert 0.0 <= value <= 1.0
            assert item["contributions"][feature] == pytest.approx(weights[feature] * value, abs=1e-6)


def test_filters_itself_archived_unwilling_and_informal_never_appear() -> None:
    archived = org("Archivada", subdivisions=["MX-SON"], status="archived")
    unwilling = org("No coopera", subdivisions=["MX-SON"], willing=False)
    informal = org("Grupo informal", subdivisions=["MX-SON"], actor_type="informal")
    engine = engine_with(REQUESTER, SONORA_MICRO, archived, unwilling, informal)
    names = ids(engine.handle({"organization_id": REQUESTER["id"]}))
    assert names == ["Microcréditos Sonora"]


def test_high_risk_and_red_flag_are_excluded_unless_asked_then_marked() -> None:
    risky, flagged = org("Riesgosa", subdivisions=["MX-SON"]), org("Bandera roja", subdivisions=["MX-SON"])
    engine = engine_with(REQUESTER, SONORA_MICRO, risky, flagged)
    engine.apply(rating_event(risky["id"], "high"))
    engine.apply(rating_event(flagged["id"], "low", red_flag=True))
    assert ids(engine.handle({"organization_id": REQUESTER["id"]})) == ["Microcréditos Sonora"]
    shown = engine.handle({"organization_id": REQUESTER["id"], "include_blocked": True})["items"]
    marked = {i["candidate"]["name"]: i["candidate"]["blocked_reasons"] for i in shown}
    assert marked == {"Microcréditos Sonora": [], "Riesgosa": ["high_risk"], "Bandera roja": ["red_flag"]}


def test_a_newer_rating_unblocks_and_a_stale_one_is_ignored() -> None:
    from datetime import UTC, datetime, timedelta

    risky = org("Riesgosa", subdivisions=["MX-SON"])
    engine = engine_with(REQUESTER, risky)
    now = datetime.now(UTC)
    engine.apply(rating_event(risky["id"], "high", rated_at=now))
    engine.apply(rating_event(risky["id"], "low", rated_at=now - timedelta(days=1)))  # older: ignored
    assert ids(engine.handle({"organization_id": REQUESTER["id"]})) == []
    engine.apply(rating_event(risky["id"], "low", rated_at=now + timedelta(days=1)))
    assert ids(engine.handle({"organization_id": REQUESTER["id"]})) == ["Riesgosa"]


def test_optional_filters() -> None:
    university = org(
        "Universidad de Sonora", actor_type="academia", subdivisions=["MX-SON"], languages=["eng"]
    )
    engine = engine_with(REQUESTER, SONORA_MICRO, PERU_MICRO, university)
    q = {"organization_id": REQUESTER["id"]}
    assert ids(engine.handle({**q, "filters": {"actor_types": ["academia"]}})) == ["Universidad de Sonora"]
    assert ids(engine.handle({**q, "filters": {"countries": ["PE"]}})) == ["Microfinanzas Andinas"]
    assert "Microfinanzas Andinas" not in ids(engine.handle({**q, "filters": {"subdivisions": ["MX-SON"]}}))
    assert ids(engine.handle({**q, "filters": {"languages": ["eng"]}})) == ["Universidad de Sonora"]


def test_one_sided_fit_ranks_below_mutual_fit() -> None:
    mutual = org(
        "Mutua",
        subdivisions=["MX-SON"],
        offers=[("knowledge_and_methodology", "microcrédito")],
        needs=[("community_presence", "llegar a colonias")],
    )
    one_sided = org(
        "Unilateral",
        subdivisions=["MX-SON"],
        offers=[("knowledge_and_methodology", "microcrédito")],
        needs=[("funding", "fondos")],
    )
    engine = engine_with(REQUESTER, mutual, one_sided)
    items = {i["candidate"]["name"]: i for i in engine.handle({"organization_id": REQUESTER["id"]})["items"]}
    assert (
        items["Mutua"]["features"]["complementarity"] > items["Unilateral"]["features"]["complementarity"] > 0
    )


def test_principal_need_weighs_most() -> None:
    requester = org(
        "Pide dos cosas",
        subdivisions=["MX-SON"],
        needs=[("funding", "fondos semilla"), ("training", "capacitación contable")],
    )
    funder = org("Da fondos", subdivisions=["MX-SON"], offers=[("funding", "fondos")])
    trainer = org("Capacita", subdivisions=["MX-SON"], offers=[("training", "cursos")])
    engine = engine_with(requester, funder, trainer)
    assert ids(engine.handle({"organization_id": requester["id"], "diversity": False}))[0] == "Da fondos"


def test_program_areas_give_partial_credit_within_a_category() -> None:
    requester = org("Salud", subdivisions=["MX-SON"], program_areas=["HE1"])
    same = org("Misma área", subdivisions=["MX-SON"], program_areas=["HE1"])
    sibling = org("Misma categoría", subdivisions=["MX-SON"], program_areas=["HE2"])
    other = org("Otra", subdivisions=["MX-SON"], program_areas=["ED1"])
    engine = engine_with(requester, same, sibling, other)
    fit = {
        i["candidate"]["name"]: i["features"]["objective_fit"]
        for i in engine.handle({"organization_id": requester["id"], "mode": "similar"})["items"]
    }
    assert fit["Misma área"] > fit["Misma categoría"] > fit["Otra"] == 0


def test_local_partner_mode_prefers_presence_where_the_requester_wants_to_go() -> None:
    requester = org(
        "Quiere ir a Chiapas",
        subdivisions=["MX-SON"],
        needs=[("community_presence", "Presencia comunitaria en Chiapas", ["MX-CHP"])],
    )
    chiapas = org("Local de Chiapas", subdivisions=["MX-CHP"], offers=[("community_presence", "Comunidades")])
    sonora = org("Local de Sonora", subdivisions=["MX-SON"], offers=[("community_presence", "Comunidades")])
    engine = engine_with(requester, chiapas, sonora)
    result = engine.handle({"organization_id": requester["id"], "mode": "local_partner", "diversity": False})
    assert ids(result)[0] == "Local de Chiapas"
    assert result["items"][0]["features"]["territory"] == 1.0
    assert result["items"][1]["features"]["territory"] < 1.0


def test_sector_diversity_favours_another_sector() -> None:
    government = org("Ayuntamiento", actor_type="government", subdivisions=["MX-SON"])
    cso = org("Otra OSC", subdivisions=["MX-SON"])
    engine = engine_with(REQUESTER, government, cso)
    items = {i["candidate"]["name"]: i for i in engine.handle({"organization_id": REQUESTER["id"]})["items"]}
    assert items["Ayuntamiento"]["features"]["sector_diversity"] == 1.0
    assert items["Otra OSC"]["features"]["sector_diversity"] == 0.0


def test_explanations_follow_the_language() -> None:
    engine = engine_with(REQUESTER, SONORA_MICRO)
    es = engine.handle({"organization_id": REQUESTER["id"], "lang": "es"})["items"][0]["evidence"]
    en = engine.handle({"organization_id": REQUESTER["id"], "lang": "en"})["items"][0]["evidence"]
    assert es["territory"]["reason"].startswith("Trabaja en")
    assert en["territory"]["reason"].startswith("Works in")


def test_unknown_organization_is_an_error_naming_the_field() -> None:
    engine = engine_with(REQUESTER)
    assert engine.handle({"organization_id": "nope"})["error"]["field"] == "organization_id"


def test_replayed_and_stale_profile_events_change_nothing() -> None:
    engine = engine_with(REQUESTER, SONORA_MICRO)
    newer = {**SONORA_MICRO, "version": 2, "where": {**SONORA_MICRO["where"], "subdivisions": ["MX-CHH"]}}
    assert engine.apply(organization_event(newer, "updated"))
    assert not engine.apply(organization_event(SONORA_MICRO, "updated"))  # version 1 after 2: stale
    assert engine.index.profile_of(SONORA_MICRO["id"]).where.subdivisions == ["MX-CHH"]  # type: ignore[union-attr]


def test_diversity_rerank_lifts_a_different_candidate_above_near_copies() -> None:
    copies = [
        org(f"Copia {i}", subdivisions=["MX-SON"], offers=[("knowledge_and_methodology", "microcrédito")])
        for i in range(8)
    ]
    different = org(
        "Universidad distinta",
        actor_type="academia",
        subdivisions=["MX-CHH"],
        offers=[("knowledge_and_methodology", "microcrédito")],
    )
    engine = engine_with(REQUESTER, *copies, different)
    # The copies' missions read alike; the university's does not (unit vectors, as the model gives).
    alike, unlike = np.zeros((3, 512), dtype=np.float32), np.zeros((3, 512), dtype=np.float32)
    alike[:, 0], unlike[:, 1] = 1.0, 1.0
    for p in copies:
        engine.index.set_embeddings(p["id"], alike)
    engine.index.set_embeddings(different["id"], unlike)
    plain = ids(engine.handle({"organization_id": REQUESTER["id"], "diversity": False, "limit": 20}))
    diverse = ids(engine.handle({"organization_id": REQUESTER["id"], "diversity": True, "limit": 20}))
    assert plain.index("Universidad distinta") > 3
    assert diverse.index("Universidad distinta") < plain.index("Universidad distinta")
    assert sorted(plain) == sorted(diverse)


def alliance_event(alliance_id: str, parties: list[str], stage: str = "prospecting", version: int = 1) -> Any:
    from tejido_matching.testing import event

    return event(
        "registry.alliance.created.v1",
        {
            "alliance": {
                "id": alliance_id,
                "version": version,
                "stage": stage,
                "name": "Alianza",
                "parties": [{"organization_id": p, "role": "executor"} for p in parties],
            }
        },
    )


def test_alliance_mode_looks_for_what_no_party_supplies_and_excludes_the_parties() -> None:
    a = org("OSC A", subdivisions=["MX-SON"], needs=[("funding", "fondos"), ("training", "capacitación")])
    b = org("OSC B", subdivisions=["MX-SON"], offers=[("training", "capacitación")])
    foundation = org(
        "Fundación", actor_type="private_foundation", subdivisions=["MX-SON"], offers=[("funding", "fondos")]
    )
    trainer = org("Capacitadora", subdivisions=["MX-SON"], offers=[("training", "capacitación")])
    engine = engine_with(a, b, foundation, trainer)
    engine.apply(alliance_event("al-1", [a["id"], b["id"]]))
    result = engine.handle({"alliance_id": "al-1", "mode": "alliance"})
    assert ids(result) == ["Fundación", "Capacitadora"]
    top = result["items"][0]
    assert top["features"]["sector_diversity"] == 1.0
    assert top["features"]["complementarity"] > result["items"][1]["features"]["complementarity"]
    assert engine.handle({"alliance_id": "nope", "mode": "alliance"})["error"]["field"] == "alliance_id"


def test_track_record_and_shared_partners_raise_trust() -> None:
    partner = org("Socia común", subdivisions=["MX-SON"])
    veteran = org("Con historial", subdivisions=["MX-SON"])
    newcomer = org("Nueva", subdivisions=["MX-SON"])
    engine = engine_with(REQUESTER, partner, veteran, newcomer)
    engine.apply(alliance_event("al-1", [REQUESTER["id"], partner["id"]], stage="established"))
    engine.apply(alliance_event("al-2", [veteran["id"], partner["id"]], stage="concluded"))
    items = {i["candidate"]["name"]: i for i in engine.handle({"organization_id": REQUESTER["id"]})["items"]}
    assert items["Con historial"]["features"]["trust"] > items["Nueva"]["features"]["trust"]
    assert items["Con historial"]["evidence"]["trust"]["shared_partners"] == [partner["id"]]
    assert items["Con historial"]["evidence"]["trust"]["earlier_alliances"] == 1


def test_a_blocking_flag_hides_a_candidate_and_lifting_it_brings_it_back() -> None:
    from datetime import UTC, datetime, timedelta

    from tejido_matching.testing import event

    flagged = org("Con bandera", subdivisions=["MX-SON"])
    engine = engine_with(REQUESTER, flagged)
    now = datetime.now(UTC)

    def flag(level: str, at: datetime, **extra: Any) -> Any:
        data = {"organization_id": flagged["id"], "level": level, "changed_at": at.isoformat(), **extra}
        return event("duediligence.flag.changed.v1", data)

    engine.apply(flag("red", now, blocking=True))
    assert ids(engine.handle({"organization_id": REQUESTER["id"]})) == []
    shown = engine.handle({"organization_id": REQUESTER["id"], "include_blocked": True})["items"]
    assert shown[0]["candidate"]["blocked_reasons"] == ["blocking_flag"]
    engine.apply(flag("yellow", now - timedelta(hours=1), blocking=False))  # older: ignored
    assert ids(engine.handle({"organization_id": REQUESTER["id"]})) == []
    engine.apply(flag("yellow", now + timedelta(hours=1), blocking=False))
    assert ids(engine.handle({"organization_id": REQUESTER["id"]})) == ["Con bandera"]

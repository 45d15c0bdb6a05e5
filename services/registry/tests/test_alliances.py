"""Alliances over the registry's HTTP API, against a real database and a real NATS server."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from sqlalchemy import func, select
from sqlmodel import col

from tejido_common.events import Envelope, load_schema
from tejido_common.outbox import OutboxRow
from tejido_common.testing import EventCollector
from tejido_registry.alliances.models import AlliancePartyRow, AllianceRow, AllianceStageChangeRow
from tejido_registry.testing import RunningRegistry, org_body

PROJECT = {
    "type": "low-cost modular housing",
    "size": "40 houses",
    "cost": {"amount": 80000, "currency": "usd"},
    "funding_sources": ["pooled_fund", "international_cooperation"],
    "expected_social_impact": "Affordable housing for less favoured families",
}
RESULT = {
    "indicator_code": "housing_units_built",
    "value": 40,
    "unit": "houses",
    "period": "1993/1995",
    "evidence_level": "documented",
}


# -- helpers -----------------------------------------------------------------------------------
def new_org(c: httpx.Client, name: str, **sections: Any) -> str:
    r = c.post("/v1/organizations", json=org_body(name, **sections), params={"allow_duplicate": "true"})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def party(org_id: str, role: str = "executor", **extra: Any) -> dict[str, Any]:
    return {"organization_id": org_id, "role": role, **extra}


def alliance_body(*org_ids: str, name: str = "Alianza", **extra: Any) -> dict[str, Any]:
    roles = ["initiator", "counterpart", "mediator", "funder"]
    return {
        "name": name,
        "purpose": "Unir esfuerzos para mejorar la calidad de vida",
        "parties": [party(o, roles[i % len(roles)]) for i, o in enumerate(org_ids)],
        **extra,
    }


def create(c: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    r = c.post("/v1/alliances", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


def move(c: httpx.Client, alliance_id: str, to: str, reason: str | None = None) -> httpx.Response:
    return c.post(f"/v1/alliances/{alliance_id}:transition", json={"to_stage": to, "reason": reason})


def walk(c: httpx.Client, alliance_id: str, *stages: str) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for stage in stages:
        r = move(c, alliance_id, stage, f"to {stage}")
        assert r.status_code == 200, r.text
        data = r.json()
    return data


def fields(problem: httpx.Response) -> list[str]:
    return [e["field"] for e in problem.json().get("errors", [])]


def counts(registry: RunningRegistry) -> tuple[int, int, int, int]:
    """alliances, party rows, stage changes, outbox events about alliances."""
    with registry.db.read_session() as s:
        alliances = s.scalar(select(func.count()).select_from(AllianceRow))
        parties = s.scalar(select(func.count()).select_from(AlliancePartyRow))
        changes = s.scalar(select(func.count()).select_from(AllianceStageChangeRow))
        events = s.scalar(
            select(func.count())
            .select_from(OutboxRow)
            .where(col(OutboxRow.subject).startswith("registry.alliance."))
        )
    return alliances, parties, changes, events


def validate(event: Envelope) -> None:
    Draft202012Validator(load_schema(event.type)).validate(event.model_dump(mode="json")["data"])


@pytest.fixture
def c(registry: RunningRegistry) -> httpx.Client:
    return registry.client


# -- create, read, list, patch -------------------------------------------------------------------
def test_create_get_and_normalize(c: httpx.Client) -> None:
    a, b = new_org(c, "SERVIVIENDA"), new_org(c, "FEDECOH")
    body = alliance_body(
        a,
        b,
        name="SERVIVIENDA – FEDECOH",
        type="knowledge",
        scope="international",
        modality="south_south",
        development_strategy="poverty_reduction",
        project={"size": "40 houses", "cost": {"amount": "80000", "currency": "usd"}},
        agreements=[
            {"kind": "convention", "title": "Convenio", "signatories": [a, b], "signed_on": "1993-05-01"}
        ],
    )
    body["parties"][0]["contribution"] = {"kind": "technical", "amount": 2000, "currency": "usd"}
    body["parties"][0]["legitimacy_sought"] = ["relational", "social", "social"]
    r = c.post("/v1/alliances", json=body)
    assert r.status_code == 201, r.text
    alliance = r.json()
    assert r.headers["location"] == f"/v1/alliances/{alliance['id']}"
    assert r.headers["etag"] == 'W/"1"'
    assert alliance["stage"] == "objectives" and alliance["version"] == 1
    assert alliance["project"]["cost"] == {"amount": "80000.00", "currency": "USD"}
    first = alliance["parties"][0]
    assert first["contribution"] == {
        "kind": "technical",
        "amount": "2000.00",
        "currency": "USD",
        "description": None,
    }
    assert first["legitimacy_sought"] == ["relational", "social"]
    assert first["added_at"] is not None
    got = c.get(f"/v1/alliances/{alliance['id']}")
    assert got.status_code == 200 and got.json() == alliance and got.headers["etag"] == 'W/"1"'
    assert c.get(f"/v1/alliances/{a}").status_code == 404
    assert (
        c.get("/v1/alliances/%00").status_code == 404
    )  # never reaches the database (PostgreSQL refuses NUL)
    assert c.get(f"/v1/alliances/{alliance['id']}/parties/{b}").json()["role"] == "counterpart"
    assert c.get(f"/v1/alliances/{alliance['id']}/parties/nobody").status_code == 404


def test_list_filters_and_cursor_pagination(c: httpx.Client) -> None:
    a, b, x = new_org(c, "A"), new_org(c, "B"), new_org(c, "X")
    ids = []
    for i in range(5):
        extra = (
            {"type": "knowledge", "modality": "bilateral", "scope": "local"} if i % 2 else {"type": "brand"}
        )
        orgs = (a, b) if i < 3 else (a, x)
        ids.append(create(c, alliance_body(*orgs, name=f"Alianza {i}", **extra))["id"])
    walk(c, ids[4], "prospecting")
    seen, cursor = [], None
    while True:
        page = c.get("/v1/alliances", params={"limit": 2, **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200, page.text
        data = page.json()
        assert data["limit"] == 2 and set(data) == {"items", "next_cursor", "limit"}
        seen += [item["id"] for item in data["items"]]
        cursor = data["next_cursor"]
        if not cursor:
            break
    assert seen == ids

    def ids_for(**params: Any) -> list[str]:
        r = c.get("/v1/alliances", params=params)
        assert r.status_code == 200, r.text
        return [item["id"] for item in r.json()["items"]]

    assert ids_for(organization_id=x) == ids[3:]
    assert ids_for(organization_id=a) == ids
    assert ids_for(stage="prospecting") == [ids[4]]
    assert ids_for(stage=["objectives", "prospecting"]) == ids
    assert ids_for(type="knowledge") == [ids[1], ids[3]]
    assert ids_for(modality="bilateral", scope="local", organization_id=b) == [ids[1]]
    assert ids_for(scope="national") == []
    bad = c.get("/v1/alliances", params={"stage": "signed"})
    assert bad.status_code == 422 and fields(bad) == ["query.stage"]
    bad = c.get("/v1/alliances", params={"type": "friendship", "modality": "x"})
    assert bad.status_code == 422 and fields(bad) == ["query.type"]
    assert c.get("/v1/alliances", params={"cursor": "!!"}).status_code == 422
    foreign = c.get(f"/v1/organizations/{a}/alliances", params={"limit": 1}).json()["next_cursor"]
    bad = c.get("/v1/alliances", params={"cursor": foreign})
    assert bad.status_code == 422 and fields(bad) == ["cursor"]


def test_merge_patch_if_match_and_no_op(registry: RunningRegistry, c: httpx.Client) -> None:
    a, b = new_org(c, "A"), new_org(c, "B")
    alliance = create(c, alliance_body(a, b, project={"type": "housing", "size": "40 houses"}))
    url = f"/v1/alliances/{alliance['id']}"
    r = c.patch(
        url,
        json={"project": {"cost": {"amount": 5, "currency": "MXN"}, "size": None}, "scope": "local"},
        headers={"If-Match": 'W/"1"'},
    )
    assert r.status_code == 200, r.text
    patched = r.json()
    assert r.headers["etag"] == 'W/"2"' and patched["version"] == 2
    assert patched["project"] == {
        "type": "housing",
        "size": None,
        "cost": {"amount": "5.00", "currency": "MXN"},
        "funding_sources": [],
        "expected_social_impact": None,
    }
    assert patched["scope"] == "local" and patched["parties"] == alliance["parties"]
    stale = c.patch(url, json={"name": "Otra"}, headers={"If-Match": 'W/"1"'})
    assert stale.status_code == 412 and stale.json()["current_version"] == 2
    assert c.patch(url, json={"name": "Otra"}, headers={"If-Match": "garbage"}).status_code == 422
    # RFC 9110: a list of entity tags matches when any one does.
    listed = c.patch(url, json={"scope": "national"}, headers={"If-Match": 'W/"1", W/"2"'})
    assert listed.status_code == 200 and listed.json()["version"] == 3, listed.text
    assert c.patch(url, json={"scope": "local"}, headers={"If-Match": 'W/"1", W/"2"'}).status_code == 412
    assert c.patch(url, json={"scope": "local"}, headers={"If-Match": 'W/"3"'}).status_code == 200
    before = counts(registry)
    same = c.patch(url, json={"scope": "local", "project": {"type": "housing"}})
    assert same.status_code == 200 and same.json()["version"] == 4
    assert counts(registry) == before  # nothing changed, nothing written, no event
    for body, field in [
        ({"name": None}, "name"),
        ({"type": "friendship"}, "type"),
        ({"project": {"cost": {"amount": -1, "currency": "USD"}}}, "project.cost.amount"),
        ({"project": {"cost": {"amount": 1, "currency": None}}}, "project.cost.currency"),
        ({"project": {"funding_sources": ["lottery"]}}, "project.funding_sources.0"),
        ({"results": [{"indicator_code": "x", "period": "last year"}]}, "results.0.period"),
        (
            {"agreements": [{"kind": "mou", "title": "MoU", "signatories": ["someone"]}]},
            "agreements.0.signatories.0",
        ),
        ({"stage": "established"}, "stage"),
        ({"parties": []}, "parties"),
    ]:
        r = c.patch(url, json=body)
        assert r.status_code == 422, (body, r.text)
        assert field in fields(r), (body, r.json())
    assert counts(registry) == before
    assert c.patch("/v1/alliances/nope", json={"name": "x"}).status_code == 404


# -- party validation ----------------------------------------------------------------------------
def test_party_validation_names_fields_and_writes_nothing(registry: RunningRegistry, c: httpx.Client) -> None:
    a, gone = new_org(c, "A"), new_org(c, "Archivada")
    assert c.post(f"/v1/organizations/{gone}:archive").status_code == 200
    cases: list[tuple[dict[str, Any], str, str]] = [
        (alliance_body(a, "00000000-0000-7000-8000-000000000000"), "parties.1.organization_id", "no such"),
        (alliance_body(a, gone), "parties.1.organization_id", "archived"),
        (alliance_body(a, a), "parties.1.organization_id", "already a party"),
        (
            {**alliance_body(a), "parties": [party(a, contribution={"kind": "financial", "amount": 100})]},
            "parties.0.contribution.currency",
            "currency is required",
        ),
        (
            {
                **alliance_body(a),
                "parties": [party(a, contribution={"kind": "financial", "amount": 1, "currency": "XYZ"})],
            },
            "parties.0.contribution.currency",
            "ISO 4217",
        ),
        ({**alliance_body(a), "parties": [party(a, role="boss")]}, "parties.0.role", "party role"),
        (
            {**alliance_body(a), "parties": [party(a, legitimacy_sought=["fame"])]},
            "parties.0.legitimacy_sought.0",
            "",
        ),
        (
            {**alliance_body(a), "parties": [party(a, contribution={"kind": "love"})]},
            "parties.0.contribution.kind",
            "",
        ),
        ({**alliance_body(a), "parties": []}, "parties", ""),
        ({**alliance_body(a), "stage": "established"}, "stage", ""),
        ({**alliance_body(a), "name": " "}, "name", ""),
        ({**alliance_body(a), "purpose": "a\u0000b"}, "purpose", "control characters"),
        (
            alliance_body(
                a,
                agreements=[
                    {"kind": "mou", "title": "t", "signed_on": "2009-04-01", "renewed_on": "2008-01-01"}
                ],
            ),
            "agreements.0.renewed_on",
            "before",
        ),
        (alliance_body(a, results=[{"value": 3}]), "results.0", "indicator_code or a description"),
    ]
    for body, field, reason in cases:
        r = c.post("/v1/alliances", json=body)
        assert r.status_code == 422, (field, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        errors = {e["field"]: e["reason"] for e in r.json()["errors"]}
        assert field in errors, (field, errors)
        assert reason in errors[field], (field, errors)
    assert (
        c.post(
            "/v1/alliances", content=b"{not json", headers={"content-type": "application/json"}
        ).status_code
        == 400
    )
    assert counts(registry) == (0, 0, 0, 0)
    # no currency needed without an amount; a currency alone is fine
    ok = create(
        c,
        {**alliance_body(a), "parties": [party(a, contribution={"kind": "in_kind", "description": "site"})]},
    )
    assert ok["parties"][0]["contribution"]["amount"] is None


# -- the stage machine ---------------------------------------------------------------------------
def test_full_stage_walk_with_gates_history_and_events(registry: RunningRegistry, c: httpx.Client) -> None:
    collector = EventCollector(registry.settings.nats_url, "registry.alliance.>").start()
    try:
        a, b = new_org(c, "SERVIVIENDA"), new_org(c, "FEDECOH")
        alliance = create(c, alliance_body(a, name="Vivienda popular"))
        aid = alliance["id"]
        assert move(c, aid, "prospecting", "buscar contraparte").status_code == 200

        def refused(to: str, expected: list[str]) -> None:
            before = counts(registry)
            version = c.get(f"/v1/alliances/{aid}").json()["version"]
            r = move(c, aid, to)
            assert r.status_code == 409, r.text
            assert fields(r) == expected, r.json()
            assert c.get(f"/v1/alliances/{aid}").json()["version"] == version
            assert counts(registry) == before  # nothing written, no event staged

        refused("negotiation", ["parties"])
        r = c.post(f"/v1/alliances/{aid}/parties", json=party(b, "counterpart"))
        assert r.status_code == 201, r.text
        assert r.headers["location"] == f"/v1/alliances/{aid}/parties/{b}"
        assert move(c, aid, "negotiation").status_code == 200
        all_project = [
            f"project.{f}" for f in ("type", "size", "cost", "funding_sources", "expected_social_impact")
        ]
        refused("commitments", all_project)
        assert (
            c.patch(
                f"/v1/alliances/{aid}", json={"project": {"type": PROJECT["type"], "size": "40 houses"}}
            ).status_code
            == 200
        )
        refused("commitments", all_project[2:])
        assert move(c, aid, "trial", "probar la relación").status_code == 200
        assert c.patch(f"/v1/alliances/{aid}", json={"project": PROJECT}).status_code == 200
        assert move(c, aid, "commitments").status_code == 200
        assert move(c, aid, "established").status_code == 200
        # gates already passed keep holding
        r = c.patch(f"/v1/alliances/{aid}", json={"project": {"cost": None, "funding_sources": []}})
        assert r.status_code == 409 and fields(r) == ["project.cost", "project.funding_sources"]
        refused("concluded", ["results"])
        partial = {**RESULT, "period": None}
        assert (
            c.patch(
                f"/v1/alliances/{aid}", json={"results": [partial, {"description": "bien evaluado"}]}
            ).status_code
            == 200
        )
        refused("concluded", ["results"])
        assert c.patch(f"/v1/alliances/{aid}", json={"results": [RESULT]}).status_code == 200
        done = move(c, aid, "concluded", "40 casas entregadas")
        assert done.status_code == 200, done.text
        final = done.json()
        assert final["stage"] == "concluded" and done.headers["etag"] == f'W/"{final["version"]}"'
        # terminal: read only
        assert c.patch(f"/v1/alliances/{aid}", json={"name": "x"}).status_code == 409
        assert c.post(f"/v1/alliances/{aid}/parties", json=party(new_org(c, "C"))).status_code == 409
        assert c.delete(f"/v1/alliances/{aid}/parties/{b}").status_code == 409
        r = move(c, aid, "dissolved")
        assert r.status_code == 409 and fields(r) == ["to_stage"]

        history = c.get(f"/v1/alliances/{aid}/history").json()
        assert history["alliance_id"] == aid and history["stage"] == "concluded"
        steps = [(h["from_stage"], h["to_stage"], h["reason"]) for h in history["items"]]
        assert steps == [
            (None, "objectives", "created"),
            ("objectives", "prospecting", "buscar contraparte"),
            ("prospecting", "negotiation", None),
            ("negotiation", "trial", "probar la relación"),
            ("trial", "commitments", None),
            ("commitments", "established", None),
            ("established", "concluded", "40 casas entregadas"),
        ]
        times = [h["changed_at"] for h in history["items"]]
        assert times == sorted(times)
        assert c.get("/v1/alliances/nope/history").status_code == 404

        expected = [
            "created",
            "stage_changed",
            "party_added",
            "stage_changed",
            "updated",
            "stage_changed",
            "updated",
            "stage_changed",
            "stage_changed",
            "updated",
            "updated",
            "stage_changed",
        ]
        events = collector.wait_for(len(expected))
        time.sleep(0.5)  # nothing else may follow
        events = list(collector.events)
    finally:
        collector.stop()
    assert [e.type.split(".")[2] for e in events] == expected
    assert len({e.id for e in events}) == len(events)
    for event in events:
        validate(event)
        assert event.source == "tejido/registry" and event.subject == f"alliance/{aid}"
        assert event.data["alliance"]["id"] == aid
    versions = [e.data["alliance"]["version"] for e in events]
    assert versions == list(range(1, len(events) + 1))
    assert events[-1].data["alliance"] == final
    stage_events = [e for e in events if e.type == "registry.alliance.stage_changed.v1"]
    assert [(e.data["from_stage"], e.data["to_stage"]) for e in stage_events][-1] == (
        "established",
        "concluded",
    )
    assert stage_events[-1].data["reason"] == "40 casas entregadas"
    assert events[2].data["party"]["organization_id"] == b
    assert events[4].data["changed_fields"] == ["project.size", "project.type"]


def test_illegal_transitions_and_going_back(c: httpx.Client) -> None:
    a, b = new_org(c, "A"), new_org(c, "B")
    aid = create(c, alliance_body(a, b, project=PROJECT))["id"]
    for to, reason in [
        ("negotiation", "cannot move from objectives to negotiation"),
        ("signed", "unknown stage"),
        ("objectives", "already in stage"),
        ("concluded", "cannot move"),
    ]:
        r = move(c, aid, to)
        assert r.status_code == 409, r.text
        assert fields(r) == ["to_stage"] and reason in r.json()["errors"][0]["reason"]
    missing = c.post(f"/v1/alliances/{aid}:transition", json={"reason": "x"})
    assert missing.status_code == 422 and fields(missing) == ["to_stage"]
    assert c.post("/v1/alliances/nope:transition", json={"to_stage": "prospecting"}).status_code == 404
    walk(c, aid, "prospecting", "negotiation", "prospecting", "negotiation", "trial", "negotiation", "trial")
    for to in ("prospecting", "objectives", "established"):
        r = move(c, aid, to)
        assert r.status_code == 409 and fields(r) == ["to_stage"], (to, r.text)
    walk(c, aid, "commitments")
    for to in ("negotiation", "trial", "concluded"):
        r = move(c, aid, to)
        assert r.status_code == 409 and fields(r) == ["to_stage"], (to, r.text)
    stale = c.post(
        f"/v1/alliances/{aid}:transition", json={"to_stage": "established"}, headers={"If-Match": 'W/"1"'}
    )
    assert stale.status_code == 412
    # negotiation → commitments skips the optional trial; dissolved from any non-terminal stage
    other = create(c, alliance_body(a, b, project=PROJECT))["id"]
    assert walk(c, other, "prospecting", "negotiation", "commitments")["stage"] == "commitments"
    early = create(c, alliance_body(a))["id"]
    dissolved = walk(c, early, "dissolved")
    assert dissolved["stage"] == "dissolved"
    r = move(c, early, "objectives")
    assert r.status_code == 409 and "terminal" in r.json()["errors"][0]["reason"]


# -- parties -------------------------------------------------------------------------------------
def test_party_add_update_remove_rules(c: httpx.Client) -> None:
    a, b, m, gone = new_org(c, "A"), new_org(c, "B"), new_org(c, "Mediadora"), new_org(c, "Archivada")
    assert c.post(f"/v1/organizations/{gone}:archive").status_code == 200
    aid = create(c, alliance_body(a))["id"]
    url = f"/v1/alliances/{aid}/parties"
    dup = c.post(url, json=party(a))
    assert dup.status_code == 409 and fields(dup) == ["organization_id"]
    r = c.post(url, json=party(gone))
    assert r.status_code == 422 and fields(r) == ["organization_id"] and "archived" in r.text
    r = c.post(url, json=party("00000000-0000-7000-8000-000000000000"))
    assert r.status_code == 422 and fields(r) == ["organization_id"]
    r = c.post(url, json=party(b, contribution={"kind": "financial", "amount": 10}))
    assert r.status_code == 422 and fields(r) == ["contribution.currency"]
    assert c.post("/v1/alliances/nope/parties", json=party(b)).status_code == 404
    # before negotiation an alliance may shrink to one party, never to none
    assert c.post(url, json=party(b, "counterpart")).status_code == 201
    assert c.delete(f"{url}/{b}").status_code == 200
    last = c.delete(f"{url}/{a}")
    assert last.status_code == 409 and fields(last) == ["parties"]
    assert c.delete(f"{url}/{b}").status_code == 404
    assert c.post(url, json=party(b, "counterpart")).status_code == 201
    walk(c, aid, "prospecting", "negotiation")
    r = c.delete(f"{url}/{b}")
    assert r.status_code == 409 and fields(r) == ["parties"]
    assert c.post(url, json=party(m, "mediator")).status_code == 201
    # a signatory stays until the agreement no longer names it
    signed = c.patch(
        f"/v1/alliances/{aid}",
        json={"agreements": [{"kind": "written", "title": "Convenio", "signatories": [a, m]}]},
    )
    assert signed.status_code == 200, signed.text
    r = c.delete(f"{url}/{m}")
    assert r.status_code == 409 and fields(r) == ["agreements.0.signatories"]
    r = c.patch(
        f"{url}/{m}",
        json={"role": "facilitator", "contribution": {"kind": "intangible", "description": "confianza"}},
    )
    assert r.status_code == 200, r.text
    assert c.get(f"{url}/{m}").json()["role"] == "facilitator"
    r = c.patch(f"{url}/{m}", json={"role": "king"})
    assert r.status_code == 422 and fields(r) == ["role"]
    assert c.patch(f"{url}/{gone}", json={"role": "funder"}).status_code == 404
    assert c.patch(f"/v1/alliances/{aid}", json={"agreements": []}).status_code == 200
    r = c.delete(f"{url}/{m}", headers={"If-Match": 'W/"1"'})
    assert r.status_code == 412
    r = c.delete(f"{url}/{m}")
    assert r.status_code == 200, r.text
    assert [p["organization_id"] for p in r.json()["parties"]] == [a, b]


def test_organization_profile_lists_its_alliances(c: httpx.Client) -> None:
    a, b, m = new_org(c, "A"), new_org(c, "B"), new_org(c, "M")
    first = create(c, alliance_body(a, b, name="Uno", type="knowledge"))
    second = create(
        c,
        {
            "name": "Dos",
            "purpose": "p",
            "parties": [party(b, "funder"), party(m, "mediator")],
            "scope": "local",
        },
    )
    walk(c, second["id"], "prospecting")
    r = c.get(f"/v1/organizations/{b}/alliances")
    assert r.status_code == 200, r.text
    listing = r.json()
    assert listing["organization_id"] == b
    assert [(i["id"], i["name"], i["stage"], i["type"], i["role"]) for i in listing["items"]] == [
        (first["id"], "Uno", "objectives", "knowledge", "counterpart"),
        (second["id"], "Dos", "prospecting", None, "funder"),
    ]
    assert [i["role"] for i in c.get(f"/v1/organizations/{m}/alliances").json()["items"]] == ["mediator"]
    page = c.get(f"/v1/organizations/{b}/alliances", params={"limit": 1}).json()
    assert [i["id"] for i in page["items"]] == [first["id"]]
    rest = c.get(f"/v1/organizations/{b}/alliances", params={"cursor": page["next_cursor"]}).json()
    assert [i["id"] for i in rest["items"]] == [second["id"]] and rest["next_cursor"] is None
    # roles follow party changes
    c.patch(f"/v1/alliances/{second['id']}/parties/{b}", json={"role": "executor"})
    assert c.get(f"/v1/organizations/{b}/alliances").json()["items"][1]["role"] == "executor"
    lonely = new_org(c, "Sola")
    assert c.get(f"/v1/organizations/{lonely}/alliances").json()["items"] == []
    assert c.get("/v1/organizations/nope/alliances").status_code == 404

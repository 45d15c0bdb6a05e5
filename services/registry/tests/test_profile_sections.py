"""The whole profile: section sub-resources, money with currency, completeness, restricted people."""

from __future__ import annotations

from tejido_common.testing import EventCollector
from tejido_registry.testing import RunningRegistry, org_body


def test_section_sub_resources_read_merge_and_replace(registry: RunningRegistry) -> None:
    c = registry.client
    org = c.post("/v1/organizations", json=org_body()).json()
    base = f"/v1/organizations/{org['id']}"
    assert c.get(f"{base}/capacity").json()["staff"] is None
    r = c.patch(
        f"{base}/capacity", json={"staff": 12, "annual_budget": {"amount": "250000.50", "currency": "mxn"}}
    )
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == 'W/"2"'
    assert r.json()["annual_budget"] == {"amount": "250000.50", "currency": "MXN"}
    r = c.patch(f"{base}/capacity", json={"volunteers": 30}, headers={"If-Match": 'W/"2"'})
    assert r.json()["staff"] == 12 and r.json()["volunteers"] == 30  # merge keeps other fields
    coop = {
        "offers": [{"kind": "training", "description": "Talleres de liderazgo", "program_areas": ["ED2"]}],
        "needs": [{"kind": "funding", "amount": {"amount": 40000, "currency": "USD"}}],
        "willing_to_cooperate": True,
        "legitimacy_sought": ["social", "relational"],
        "swot": {
            "strengths": ["presencia comunitaria"],
            "weaknesses": ["finanzas"],
            "assessed_on": "2026-10-01",
        },
        "intake": {"worked_with_other_csos": True, "willing_to_work_with_others": True},
    }
    r = c.put(f"{base}/cooperation", json=coop)
    assert r.status_code == 200, r.text
    assert (
        r.json()["needs"][0]["amount"] == {"amount": "40000.00", "currency": "USD"}
        or r.json()["needs"][0]["amount"]["currency"] == "USD"
    )
    r = c.put(f"{base}/cooperation", json={"willing_to_cooperate": False})
    assert r.json()["offers"] == [] and r.json()["willing_to_cooperate"] is False  # PUT replaces the section
    full = c.get(base).json()
    assert full["capacity"]["volunteers"] == 30 and full["version"] == 5


def test_money_always_carries_a_currency_and_codes_are_checked(registry: RunningRegistry) -> None:
    c = registry.client
    org = c.post("/v1/organizations", json=org_body()).json()
    base = f"/v1/organizations/{org['id']}"
    cases = [
        ("capacity", {"annual_budget": {"amount": 1000}}, "capacity.annual_budget.currency"),
        (
            "capacity",
            {"annual_budget": {"amount": 1000, "currency": "XYZ"}},
            "capacity.annual_budget.currency",
        ),
        ("capacity", {"funding_mix": [{"source": "lottery"}]}, "capacity.funding_mix.0.source"),
        ("capacity", {"staff": -1}, "capacity.staff"),
        ("cooperation", {"offers": [{"kind": "magic"}]}, "cooperation.offers.0.kind"),
        ("cooperation", {"legitimacy_sought": ["fame"]}, "cooperation.legitimacy_sought.0"),
    ]
    for section, body, field in cases:
        r = c.patch(f"{base}/{section}", json=body)
        assert r.status_code == 422, (body, r.text)
        assert field in [e["field"] for e in r.json()["errors"]], r.json()
    assert c.get(base).json()["version"] == 1


def test_completeness_per_section_and_filter(registry: RunningRegistry) -> None:
    c = registry.client
    sparse = c.post("/v1/organizations", json=org_body("Sparse")).json()
    rich_body = org_body(
        "Rich",
        identity={
            "acronym": "RICH",
            "legal_form": "A.C.",
            "founding_year": 2006,
            "identifiers": [{"scheme": "MX-RFC", "id": "RIC060101AAA"}],
        },
        where={
            "municipalities": ["Navojoa"],
            "coordinates": {"lat": 27.07, "lon": -109.44},
            "areas_of_operation": [{"country": "MX", "subdivision": "MX-SON"}],
            "scope": "local",
        },
        purpose={
            "mission": "m",
            "vision": "v",
            "objectives": ["o"],
            "target_populations": ["women"],
            "working_methods": ["talleres"],
        },
    )
    rich = c.post("/v1/organizations", json=rich_body).json()
    assert rich["completeness"]["identity"] == 100
    assert rich["completeness"]["where"] == 100
    assert rich["completeness"]["purpose"] == 100
    assert rich["completeness"]["capacity"] == 0
    assert sparse["completeness"]["overall"] < rich["completeness"]["overall"]
    threshold = rich["completeness"]["overall"]
    found = c.get("/v1/organizations", params={"completeness_min": threshold}).json()["items"]
    assert [o["id"] for o in found] == [rich["id"]]
    by_completeness = c.get("/v1/organizations", params={"sort": "-completeness"}).json()["items"]
    assert [o["id"] for o in by_completeness] == [rich["id"], sparse["id"]]


def test_people_are_restricted(registry: RunningRegistry, nats_server) -> None:
    collector = EventCollector(nats_server.url, "registry.>").start()
    try:
        c = registry.client
        org = c.post("/v1/organizations", json=org_body()).json()
        people = {
            "people": [
                {"name": "Rosa Secreta", "role": "director"},
                {"name": "Juan Reservado", "role": "legal_representative"},
            ]
        }
        r = c.put(f"/v1/organizations/{org['id']}/people", json=people)
        assert r.status_code == 200, r.text
        assert c.get(f"/v1/organizations/{org['id']}/people").json()["people"][0]["name"] == "Rosa Secreta"
        c.patch(f"/v1/organizations/{org['id']}", json={"identity": {"acronym": "GC"}})
        public = [
            c.get(f"/v1/organizations/{org['id']}").text,
            c.get("/v1/organizations").text,
            c.get("/v1/organizations", params={"q": "Rosa"}).text,
            c.get(f"/v1/organizations/{org['id']}/history").text,
        ]
        assert c.get("/v1/organizations", params={"q": "Secreta"}).json()["items"] == []
        for text in public:
            assert "Secreta" not in text and "Reservado" not in text
        profile = c.get(f"/v1/organizations/{org['id']}").json()
        assert profile["completeness"]["people"] == 100
        events = collector.wait_for(3)
        by_type = {e.type: e for e in events}
        assert set(by_type) == {
            "registry.organization.registered.v1",
            "registry.organization.people_updated.v1",
            "registry.organization.updated.v1",
        }
        for event in events:
            if event.type != "registry.organization.people_updated.v1":
                assert "Secreta" not in event.model_dump_json()
        assert by_type["registry.organization.people_updated.v1"].data["people"][0]["name"] == "Rosa Secreta"
        bad = c.put(
            f"/v1/organizations/{org['id']}/people", json={"people": [{"name": "X", "role": "emperor"}]}
        )
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "people.0.role"
    finally:
        collector.stop()

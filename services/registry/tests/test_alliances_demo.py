"""The demo alliances load through the API, pass every gate with the sources' data, and load once."""

from __future__ import annotations

import json
from importlib import resources

from tejido_cli.demo_alliances import (
    demo_alliances,
    demo_org_ids_by_slug,
    load_demo_alliances,
    slugs_of,
    stage_path,
)
from tejido_registry.testing import RunningRegistry


def demo_org_lines() -> list[str]:
    text = resources.files("tejido_cli").joinpath("demo/organizations.jsonl").read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip()]


def test_demo_alliances_refer_only_to_demo_organizations() -> None:
    slugs = {json.loads(line)["identity"]["identifiers"][0]["id"] for line in demo_org_lines()}
    items = demo_alliances()
    assert len({i["alliance"]["name"] for i in items}) == len(items)
    for item in items:
        assert slugs_of(item) <= slugs, item["key"]
        assert item["sources"], item["key"]
    assert stage_path("concluded") == [
        "prospecting",
        "negotiation",
        "commitments",
        "established",
        "concluded",
    ]
    assert stage_path("trial") == ["prospecting", "negotiation", "trial"]


def test_demo_alliances_load_once(registry: RunningRegistry) -> None:
    c = registry.client
    for line in demo_org_lines():
        r = c.post("/v1/organizations", content=line.encode(), headers={"content-type": "application/json"})
        assert r.status_code == 201, r.text
    ids = demo_org_ids_by_slug(c)
    items = demo_alliances()
    assert set(ids) == set().union(*(slugs_of(i) for i in items))
    assert load_demo_alliances(c, ids) == len(items)
    listed = c.get("/v1/alliances", params={"limit": 100}).json()["items"]
    by_name = {a["name"]: a for a in listed}
    assert len(listed) == len(items)
    for item in items:
        alliance = by_name[item["alliance"]["name"]]
        assert alliance["stage"] == item["stage"], item["key"]
        history = c.get(f"/v1/alliances/{alliance['id']}/history").json()["items"]
        assert [h["to_stage"] for h in history][1:] == stage_path(item["stage"])
    houses = by_name["SERVIVIENDA – FEDECOH: low-cost housing in Honduras"]
    assert houses["project"]["cost"] == {"amount": "80000.00", "currency": "USD"}
    thp = c.get(f"/v1/organizations/{ids['the-hunger-project-mexico']}/alliances").json()["items"]
    assert len(thp) == 6
    # loading again creates nothing; a partial set of organizations loads only what it can
    assert load_demo_alliances(c, ids) == 0
    assert load_demo_alliances(c, {k: v for k, v in ids.items() if k != "fedecoh"}) == 0
    assert len(c.get("/v1/alliances", params={"limit": 100}).json()["items"]) == len(items)

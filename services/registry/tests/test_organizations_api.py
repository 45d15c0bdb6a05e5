"""Registry HTTP API against a real database and a real NATS server."""

from __future__ import annotations

from sqlalchemy import func, select

from tejido_common.outbox import OutboxRow
from tejido_registry.organizations.models import OrganizationRow
from tejido_registry.testing import RunningRegistry, org_body


def count_rows(registry: RunningRegistry) -> tuple[int, int]:
    with registry.db.read_session() as s:
        orgs = s.scalar(select(func.count()).select_from(OrganizationRow))
        events = s.scalar(select(func.count()).select_from(OutboxRow))
    return orgs, events


def test_create_get_and_normalize(registry: RunningRegistry) -> None:
    body = org_body(
        identity={"aliases": ["Consciousness Group", "Consciousness Group"], "founding_year": 1998},
        where={"country": "mx", "languages": ["es", "tzo"], "subdivisions": ["mx-son"]},
    )
    r = registry.client.post("/v1/organizations", json=body)
    assert r.status_code == 201, r.text
    org = r.json()
    assert r.headers["location"] == f"/v1/organizations/{org['id']}"
    assert r.headers["etag"] == 'W/"1"'
    assert org["status"] == "active" and org["version"] == 1
    assert org["where"]["country"] == "MX"
    assert org["where"]["subdivisions"] == ["MX-SON"]
    assert org["where"]["languages"] == ["spa", "tzo"]
    assert org["identity"]["aliases"] == ["Consciousness Group"]
    got = registry.client.get(f"/v1/organizations/{org['id']}")
    assert got.status_code == 200 and got.json() == org
    # Search pages are served from the stored documents without re-validation: same shape, same values.
    assert registry.client.get("/v1/organizations").json()["items"] == [org]


def test_list_filters_and_cursor_pagination(registry: RunningRegistry) -> None:
    ids = []
    for i in range(7):
        body = org_body(f"Org {i}")
        if i % 2:
            body["identity"] = {
                "legal_name": f"Gov {i}",
                "actor_type": "government",
                "government_level": "national",
            }
            body["where"]["country"] = "PE"
            body["where"]["subdivisions"] = []
            body["purpose"]["program_areas"] = ["ED2"]
        ids.append(registry.client.post("/v1/organizations", json=body).json()["id"])
    seen, cursor = [], None
    while True:
        page = registry.client.get(
            "/v1/organizations", params={"limit": 3, **({"cursor": cursor} if cursor else {})}
        )
        assert page.status_code == 200
        data = page.json()
        seen += [o["id"] for o in data["items"]]
        cursor = data["next_cursor"]
        if not cursor:
            break
    assert seen == ids  # creation order, no gaps, no repeats
    govs = registry.client.get("/v1/organizations", params={"actor_type": "government"}).json()["items"]
    assert {o["id"] for o in govs} == {ids[1], ids[3], ids[5]}
    peru = registry.client.get("/v1/organizations", params={"country": "pe"}).json()["items"]
    assert len(peru) == 3
    education = registry.client.get("/v1/organizations", params={"program_area": "ED"}).json()["items"]
    assert {o["id"] for o in education} == {ids[1], ids[3], ids[5]}
    he1 = registry.client.get("/v1/organizations", params=[("program_area", "HE1"), ("country", "MX")]).json()
    assert len(he1["items"]) == 4
    bad = registry.client.get("/v1/organizations", params={"cursor": "!!not-a-cursor"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "query.cursor"


def test_partial_update_merges_section_and_guards_version(registry: RunningRegistry) -> None:
    org = registry.client.post("/v1/organizations", json=org_body(identity={"acronym": "GC"})).json()
    r = registry.client.patch(
        f"/v1/organizations/{org['id']}",
        json={"purpose": {"mission": "Fortalecer a las OSC"}},
        headers={"If-Match": 'W/"1"'},
    )
    assert r.status_code == 200, r.text
    updated = r.json()
    assert updated["version"] == 2
    assert updated["purpose"]["mission"] == "Fortalecer a las OSC"
    assert updated["purpose"]["program_areas"] == ["HE1"]  # untouched fields kept
    assert updated["identity"]["acronym"] == "GC"
    stale = registry.client.patch(
        f"/v1/organizations/{org['id']}", json={"identity": {"acronym": "X"}}, headers={"If-Match": 'W/"1"'}
    )
    assert stale.status_code == 412
    assert stale.json()["current_version"] == 2
    noop = registry.client.patch(
        f"/v1/organizations/{org['id']}", json={"purpose": {"mission": "Fortalecer a las OSC"}}
    )
    assert noop.json()["version"] == 2  # nothing changed, no new version and no event
    cleared = registry.client.patch(f"/v1/organizations/{org['id']}", json={"identity": {"acronym": None}})
    assert cleared.json()["identity"]["acronym"] is None


def test_archive_is_idempotent_and_freezes(registry: RunningRegistry) -> None:
    org = registry.client.post("/v1/organizations", json=org_body()).json()
    first = registry.client.post(f"/v1/organizations/{org['id']}:archive")
    assert first.status_code == 200 and first.json()["status"] == "archived"
    again = registry.client.post(f"/v1/organizations/{org['id']}:archive")
    assert again.json()["version"] == first.json()["version"]
    assert registry.client.get("/v1/organizations").json()["items"] == []
    archived = registry.client.get("/v1/organizations", params={"status": "archived"}).json()["items"]
    assert [o["id"] for o in archived] == [org["id"]]
    frozen = registry.client.patch(f"/v1/organizations/{org['id']}", json={"identity": {"acronym": "X"}})
    assert frozen.status_code == 409
    assert frozen.headers["content-type"].startswith("application/problem+json")
    _, events = count_rows(registry)
    assert events == 2  # registered + one archived


def test_duplicate_identifier_is_a_conflict(registry: RunningRegistry) -> None:
    ident = {"identifiers": [{"scheme": "mx-rfc", "id": "GCO980101AB1"}]}
    first = registry.client.post("/v1/organizations", json=org_body(identity=ident))
    assert first.status_code == 201
    assert first.json()["identity"]["identifiers"] == [{"scheme": "MX-RFC", "id": "GCO980101AB1"}]
    second = registry.client.post("/v1/organizations", json=org_body("Consciousness Group", identity=ident))
    assert second.status_code == 409
    problem = second.json()
    assert problem["duplicates"][0]["id"] == first.json()["id"]
    assert problem["errors"][0]["field"] == "identity.identifiers"


def test_not_found_is_a_problem(registry: RunningRegistry) -> None:
    r = registry.client.get("/v1/organizations/does-not-exist")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["status"] == 404


def _assert_problem(r, status: int, field: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == status and body["title"]
    assert field in [e["field"] for e in body["errors"]], body


def test_bad_input_names_the_field_and_writes_nothing(registry: RunningRegistry) -> None:
    c = registry.client
    _assert_problem(
        c.post("/v1/organizations", json=org_body(identity={"founding_year": "long ago"})),
        422,
        "identity.founding_year",
    )
    _assert_problem(
        c.post("/v1/organizations", json=org_body(identity={"legal_name": 42})), 422, "identity.legal_name"
    )
    _assert_problem(
        c.post("/v1/organizations", json=org_body(purpose={"program_areas": ["HE1", "ZZ9"]})),
        422,
        "purpose.program_areas.1",
    )
    _assert_problem(
        c.post("/v1/organizations", json=org_body(identity={"actor_type": "pirates"})),
        422,
        "identity.actor_type",
    )
    _assert_problem(c.post("/v1/organizations", json=org_body(where={"country": "XX"})), 422, "where.country")
    _assert_problem(
        c.post("/v1/organizations", json=org_body(where={"subdivisions": ["PE-LIM"]})),
        422,
        "where.subdivisions",
    )
    _assert_problem(
        c.post("/v1/organizations", json=org_body(where={"languages": ["klingon"]})), 422, "where.languages.0"
    )
    _assert_problem(c.post("/v1/organizations", json={**org_body(), "unexpected": 1}), 422, "unexpected")
    malformed = c.post(
        "/v1/organizations", content=b'{"identity": {', headers={"content-type": "application/json"}
    )
    _assert_problem(malformed, 400, "body")
    oversized = c.post("/v1/organizations", json=org_body(purpose={"mission": "x" * 100_000}))
    _assert_problem(oversized, 413, "body")
    assert count_rows(registry) == (0, 0)
    org = c.post("/v1/organizations", json=org_body()).json()
    _assert_problem(
        c.patch(f"/v1/organizations/{org['id']}", json={"where": {"scope": "galactic"}}), 422, "where.scope"
    )
    _assert_problem(
        c.patch(f"/v1/organizations/{org['id']}", json={"identity": {"legal_name": None}}),
        422,
        "identity.legal_name",
    )
    assert c.get(f"/v1/organizations/{org['id']}").json()["version"] == 1
    assert count_rows(registry) == (1, 1)


def test_control_characters_and_nul_are_refused_not_500(registry: RunningRegistry) -> None:
    c = registry.client
    r = c.post("/v1/organizations", json=org_body("Grupo\u0000Conciencia"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "identity.legal_name"
    r = c.get("/v1/organizations/abc%00def")
    assert r.status_code in (404, 422), r.text
    assert r.headers["content-type"].startswith("application/problem+json")

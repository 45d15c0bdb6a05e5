"""Bad input found by attacking the registry from outside: each a 4xx problem naming the field, never
a 500 (regression tests, against a real database and NATS)."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
from sqlalchemy import select

from tejido_common.outbox import OutboxRow
from tejido_registry.testing import RunningRegistry, org_body


def problem(r: httpx.Response, status: int, field: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    body: dict[str, Any] = r.json()
    assert field in [e["field"] for e in body.get("errors") or []], body
    return body


def outbox(registry: RunningRegistry) -> list[tuple[str, dict[str, Any]]]:
    with registry.db.read_session() as s:
        rows = s.scalars(select(OutboxRow).order_by(OutboxRow.seq)).all()  # type: ignore[arg-type]
        return [(r.subject, json.loads(r.payload)["data"]) for r in rows]


def test_tampered_cursors_are_400_naming_the_cursor(registry: RunningRegistry) -> None:
    c = registry.client
    org = c.post("/v1/organizations", json=org_body()).json()
    for cursor in ("W10", "WyJhYmMiXQ", "!!not-a-cursor", "WzEsMiwzXQ", "eyJhIjoxfQ"):
        problem(
            c.get(f"/v1/organizations/{org['id']}/history", params={"cursor": cursor}), 400, "query.cursor"
        )
    # search cursors of the wrong shape for their sort
    for sort, raw in (
        ("updated", '["updated", "not a date", "x"]'),
        ("updated", '["updated", 5, "x"]'),
        ("completeness", '["completeness", "high", "x"]'),
        ("name", '["name", ["a"], "x"]'),
        ("created", '["created", "x"]'),
        ("created", '["created", {"a": 1}, 3]'),
    ):
        encoded = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
        problem(c.get("/v1/organizations", params={"sort": sort, "cursor": encoded}), 400, "query.cursor")
    first = c.get("/v1/organizations", params={"sort": "name", "limit": 1}).json()
    problem(c.get("/v1/organizations", params={"sort": "-name", "cursor": "W10"}), 400, "query.cursor")
    assert first["items"]


def test_dates_without_offset_are_utc_and_overflowing_dates_are_422(registry: RunningRegistry) -> None:
    c = registry.client
    org = c.post("/v1/organizations", json=org_body()).json()
    # A date or time without offset is read as UTC (documented in the parameter's description).
    assert c.get(f"/v1/organizations/{org['id']}", params={"as_of": "2030-01-01"}).status_code == 200
    assert c.get(f"/v1/organizations/{org['id']}", params={"as_of": "2030-01-01T00:00:00"}).status_code == 200
    assert c.get(f"/v1/organizations/{org['id']}", params={"as_of": "2000-01-01"}).status_code == 404
    page = c.get("/v1/organizations", params={"modified_since": "2020-01-01"})
    assert page.status_code == 200 and [o["id"] for o in page.json()["items"]] == [org["id"]]
    assert c.get("/v1/organizations", params={"modified_since": "2999-01-01"}).json()["items"] == []
    export = c.get("/v1/organizations:export", params={"modified_since": "2020-01-01T00:00"})
    assert export.status_code == 200 and org["id"] in export.text
    overflow = "9999-12-31T23:59:59-05:00"
    problem(c.get(f"/v1/organizations/{org['id']}", params={"as_of": overflow}), 422, "query.as_of")
    problem(c.get("/v1/organizations", params={"modified_since": overflow}), 422, "query.modified_since")
    problem(
        c.get("/v1/organizations:export", params={"modified_since": overflow}), 422, "query.modified_since"
    )
    underflow = "0001-01-01T00:00:00+05:00"
    problem(c.get("/v1/organizations", params={"modified_since": underflow}), 422, "query.modified_since")
    problem(c.get("/v1/organizations", params={"modified_since": "yesterday"}), 422, "query.modified_since")


def test_people_have_etags_and_if_match_takes_a_list(registry: RunningRegistry) -> None:
    c = registry.client
    org = c.post("/v1/organizations", json=org_body()).json()
    url = f"/v1/organizations/{org['id']}"
    got = c.get(f"{url}/people")
    assert got.headers["etag"] == 'W/"1"'
    put = c.put(
        f"{url}/people", json={"people": [{"name": "Ana", "role": "director"}]}, headers={"If-Match": 'W/"1"'}
    )
    assert put.status_code == 200 and put.headers["etag"] == 'W/"2"'
    assert c.get(f"{url}/people").headers["etag"] == 'W/"2"'
    stale = c.put(f"{url}/people", json={"people": []}, headers={"If-Match": 'W/"1"'})
    assert stale.status_code == 412
    # RFC 9110: If-Match may list several entity tags; any one of them matching is enough.
    listed = c.patch(url, json={"identity": {"acronym": "GC"}}, headers={"If-Match": 'W/"7", W/"2"'})
    assert listed.status_code == 200, listed.text
    assert listed.headers["etag"] == 'W/"3"'
    none_match = c.patch(url, json={"identity": {"acronym": "GX"}}, headers={"If-Match": 'W/"1", "2"'})
    assert none_match.status_code == 412
    problem(
        c.patch(url, json={"identity": {"acronym": "GX"}}, headers={"If-Match": "W/abc"}),
        422,
        "headers.If-Match",
    )


def test_patch_merges_nested_objects_as_rfc_7386_says(registry: RunningRegistry) -> None:
    c = registry.client
    body = org_body(
        where={"coordinates": {"lat": 29.1, "lon": -110.9}},
        cooperation={"swot": {"strengths": ["redes"], "threats": ["sequía"], "assessed_on": "2024-05-01"}},
    )
    org = c.post("/v1/organizations", json=body).json()
    url = f"/v1/organizations/{org['id']}"
    r = c.patch(
        url, json={"where": {"coordinates": {"lat": 30.0}}, "cooperation": {"swot": {"threats": None}}}
    )
    assert r.status_code == 200, r.text
    assert r.json()["where"]["coordinates"] == {"lat": 30.0, "lon": -110.9}
    assert r.json()["cooperation"]["swot"]["strengths"] == ["redes"]
    assert r.json()["cooperation"]["swot"]["threats"] == []
    assert r.json()["cooperation"]["swot"]["assessed_on"] == "2024-05-01"
    section = c.patch(f"{url}/cooperation", json={"swot": {"weaknesses": ["fondos"]}})
    assert section.status_code == 200, section.text
    assert section.json()["swot"]["strengths"] == ["redes"] and section.json()["swot"]["weaknesses"] == [
        "fondos"
    ]


def test_limit_over_the_cap_is_documented_and_reported(registry: RunningRegistry) -> None:
    c = registry.client
    page = c.get("/v1/organizations", params={"limit": 1000})
    assert page.status_code == 200 and page.json()["limit"] == 200
    params = {
        p["name"]: p for p in c.get("/openapi.json").json()["paths"]["/v1/organizations"]["get"]["parameters"]
    }
    assert "200" in params["limit"]["description"] and "capped" in params["limit"]["description"]
    history = c.get("/openapi.json").json()["paths"]["/v1/organizations/{org_id}/history"]["get"]
    assert "capped" in {p["name"]: p for p in history["parameters"]}["limit"]["description"]


def test_control_bidi_and_zero_width_characters_are_refused(registry: RunningRegistry) -> None:
    c = registry.client
    problem(
        c.post(
            "/v1/organizations",
            json=org_body(identity={"identifiers": [{"scheme": "MX-RFC", "id": "AB\x07C"}]}),
        ),
        422,
        "identity.identifiers.0.id",
    )
    problem(
        c.post("/v1/organizations", json=org_body(identity={"acronym": "G\x1bC"})), 422, "identity.acronym"
    )
    problem(c.post("/v1/organizations", json=org_body("Grupo \u202eaicneicnoC")), 422, "identity.legal_name")
    problem(c.post("/v1/organizations", json=org_body("Grupo\u200bConciencia")), 422, "identity.legal_name")
    problem(
        c.post("/v1/organizations", json=org_body(identity={"aliases": ["Alias\ufeff"]})),
        422,
        "identity.aliases.0",
    )
    problem(
        c.post("/v1/organizations", json=org_body(identity={"acronym": "G\u2066C"})), 422, "identity.acronym"
    )
    # ordinary accents, ñ and apostrophe variants stay welcome
    ok = c.post("/v1/organizations", json=org_body("J´pas Joloviletik Ñuu Savi", identity={"acronym": "JJ"}))
    assert ok.status_code == 201, ok.text


def test_undecodable_and_too_deep_json_bodies_are_problems_with_errors(registry: RunningRegistry) -> None:
    c = registry.client
    headers = {"content-type": "application/json"}
    problem(c.post("/v1/organizations", content=b'{"identity": "\xff\xfe"}', headers=headers), 400, "body")
    deep = b'{"identity": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    problem(c.post("/v1/organizations", content=deep, headers=headers), 400, "body")
    org = c.post("/v1/organizations", json=org_body()).json()
    problem(c.patch(f"/v1/organizations/{org['id']}", content=deep, headers=headers), 400, "body")


def test_people_on_registration_emit_people_updated_and_never_leak(registry: RunningRegistry) -> None:
    c = registry.client
    body = {**org_body(), "people": [{"name": "Persona Reservada", "role": "director"}]}
    org = c.post("/v1/organizations", json=body).json()
    events = outbox(registry)
    assert [t for t, _ in events] == [
        "registry.organization.registered.v1",
        "registry.organization.people_updated.v1",
    ]
    assert "Persona Reservada" not in json.dumps(events[0][1])
    assert events[1][1]["organization_id"] == org["id"]
    assert events[1][1]["people"][0]["name"] == "Persona Reservada"
    assert events[1][1]["version"] == 1

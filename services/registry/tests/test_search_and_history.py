"""Search (text and facets), sorting, the modified-since feed, and history / as-of reads."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from tejido_registry.testing import RunningRegistry, org_body


def _ids(r) -> list[str]:
    assert r.status_code == 200, r.text
    return [o["id"] for o in r.json()["items"]]


def seed(c) -> dict[str, str]:
    orgs = {
        "thp": org_body(
            "The Hunger Project México",
            identity={"acronym": "THP"},
            where={"country": "MX", "subdivisions": ["MX-ZAC"], "languages": ["spa"]},
            purpose={
                "mission": "Empoderar a mujeres y hombres para terminar con el hambre",
                "program_areas": ["HE1", "HL2"],
                "target_populations": ["women"],
                "social_indicators": ["self_sufficiency"],
            },
            cooperation={"offers": [{"kind": "training"}], "willing_to_cooperate": True},
        ),
        "jpas": org_body(
            "J'Pas Joloviletik",
            identity={"aliases": ["Cooperativa de tejedoras"]},
            where={"country": "MX", "subdivisions": ["MX-CHP"], "languages": ["tzo", "spa"]},
            purpose={
                "mission": "Organización de artesanas indígenas",
                "program_areas": ["HE3"],
                "target_populations": ["indigenous_women"],
            },
            cooperation={"needs": [{"kind": "market_access"}], "willing_to_cooperate": True},
        ),
        "sedesol": {
            "identity": {
                "legal_name": "Secretaría de Desarrollo Social",
                "acronym": "SEDESOL",
                "actor_type": "government",
                "government_level": "national",
                "identifiers": [{"scheme": "MX-GOB", "id": "SEDESOL"}],
            },
            "where": {"country": "MX", "scope": "national"},
            "purpose": {"mission": "Social development policy", "program_areas": ["HE"]},
            "cooperation": {"offers": [{"kind": "funding"}], "willing_to_cooperate": False},
        },
        "servivienda": org_body(
            "Fundación Servicio de Vivienda Popular",
            identity={"acronym": "SERVIVIENDA"},
            where={"country": "CO", "subdivisions": [], "languages": ["spa"]},
            purpose={"mission": "Housing for low-income families", "program_areas": ["HO1"]},
        ),
    }
    return {k: c.post("/v1/organizations", json=v).json()["id"] for k, v in orgs.items()}


def test_text_search_is_accent_and_case_insensitive(registry: RunningRegistry) -> None:
    c = registry.client
    ids = seed(c)
    assert _ids(c.get("/v1/organizations", params={"q": "organizacion"})) == [ids["jpas"]]
    assert _ids(c.get("/v1/organizations", params={"q": "ORGANIZACIÓN artesanas"})) == [ids["jpas"]]
    assert _ids(c.get("/v1/organizations", params={"q": "jpas"})) == [ids["jpas"]]
    assert _ids(c.get("/v1/organizations", params={"q": "j´pas"})) == [ids["jpas"]]
    assert _ids(c.get("/v1/organizations", params={"q": "tejedora"})) == [ids["jpas"]]  # alias, prefix
    assert _ids(c.get("/v1/organizations", params={"q": "sedesol"})) == [ids["sedesol"]]  # acronym
    assert _ids(c.get("/v1/organizations", params={"q": "hunger"})) == [ids["thp"]]  # English
    assert _ids(c.get("/v1/organizations", params={"q": "hambre mujeres"})) == [
        ids["thp"]
    ]  # mission, Spanish
    assert _ids(c.get("/v1/organizations", params={"q": "housing", "country": "MX"})) == []


def test_facet_filters(registry: RunningRegistry) -> None:
    c = registry.client
    ids = seed(c)

    def find(**params) -> set[str]:
        return set(_ids(c.get("/v1/organizations", params=params)))

    assert find(actor_type="government") == {ids["sedesol"]}
    assert find(government_level="national") == {ids["sedesol"]}
    assert find(cso_subtype="ngo") == {ids["thp"], ids["jpas"], ids["servivienda"]}
    assert find(country="CO") == {ids["servivienda"]}
    assert find(subdivision="MX-CHP") == {ids["jpas"]}
    assert find(program_area="HE") == {ids["thp"], ids["jpas"], ids["sedesol"]}
    assert find(program_area="HE1") == {ids["thp"]}
    assert find(social_indicator="self_sufficiency") == {ids["thp"]}
    assert find(population="indigenous_women") == {ids["jpas"]}
    assert find(language="tzo") == {ids["jpas"]}
    assert find(offer_kind="training") == {ids["thp"]}
    assert find(need_kind="market_access") == {ids["jpas"]}
    assert find(willing_to_cooperate="true") == {ids["thp"], ids["jpas"]}
    assert find(willing_to_cooperate="false") == {ids["sedesol"]}
    assert find(identifier="MX-GOB:SEDESOL") == {ids["sedesol"]}
    combined = c.get(
        "/v1/organizations", params=[("program_area", "HE"), ("actor_type", "cso"), ("q", "mujeres")]
    )
    assert set(_ids(combined)) == {ids["thp"]}
    for params, field in [
        ({"program_area": "XX"}, "query.program_area"),
        ({"actor_type": "pirate"}, "query.actor_type"),
        ({"sort": "shoe_size"}, "query.sort"),
        ({"identifier": "nocolon"}, "query.identifier"),
        ({"completeness_min": 101}, "query.completeness_min"),
    ]:
        r = c.get("/v1/organizations", params=params)
        assert r.status_code == 422, params
        assert r.json()["errors"][0]["field"] == field


def test_sorting_with_cursor(registry: RunningRegistry) -> None:
    c = registry.client
    names = ["Zeta", "alfa", "Ómega", "beta", "Gamma", "delta", "Épsilon"]
    for n in names:
        c.post("/v1/organizations", json=org_body(f"{n} Asociación {len(n)}"))
    for sort in ("name", "-name", "created", "-created", "updated", "-updated"):
        seen, cursor = [], None
        while True:
            params = {"sort": sort, "limit": 2, **({"cursor": cursor} if cursor else {})}
            data = c.get("/v1/organizations", params=params).json()
            seen += [o["identity"]["legal_name"] for o in data["items"]]
            cursor = data["next_cursor"]
            if not cursor:
                break
        assert len(seen) == len(names) and len(set(seen)) == len(names), sort
        if sort == "name":
            assert [s.split()[0] for s in seen] == [
                "alfa",
                "beta",
                "delta",
                "Épsilon",
                "Gamma",
                "Ómega",
                "Zeta",
            ]
        if sort == "-name":
            assert seen[0].startswith("Zeta")
    first = c.get("/v1/organizations", params={"sort": "name", "limit": 2}).json()
    wrong = c.get("/v1/organizations", params={"sort": "-name", "cursor": first["next_cursor"]})
    assert wrong.status_code == 400 and wrong.json()["errors"][0]["field"] == "query.cursor"


def test_modified_since_feed_includes_changes_and_archivals(registry: RunningRegistry) -> None:
    c = registry.client
    ids = seed(c)
    time.sleep(0.01)
    mark = datetime.now(UTC)
    time.sleep(0.01)
    c.patch(f"/v1/organizations/{ids['jpas']}", json={"identity": {"acronym": "JPJ"}})
    c.post(f"/v1/organizations/{ids['sedesol']}:archive")
    feed = c.get("/v1/organizations", params={"modified_since": mark.isoformat(), "sort": "updated"}).json()[
        "items"
    ]
    assert [o["id"] for o in feed] == [ids["jpas"], ids["sedesol"]]
    assert feed[1]["status"] == "archived"


def test_history_and_as_of(registry: RunningRegistry) -> None:
    c = registry.client
    org = c.post(
        "/v1/organizations", json=org_body(identity={"acronym": "GC"}), headers={"X-Request-ID": "h-1"}
    ).json()
    time.sleep(0.01)
    between = datetime.now(UTC)
    time.sleep(0.01)
    c.patch(
        f"/v1/organizations/{org['id']}",
        json={"identity": {"acronym": "GCO"}, "purpose": {"mission": "Nueva"}},
        headers={"X-Request-ID": "h-2"},
    )
    c.post(f"/v1/organizations/{org['id']}:archive")
    history = c.get(f"/v1/organizations/{org['id']}/history").json()
    assert [v["version"] for v in history["items"]] == [3, 2, 1]
    assert [v["action"] for v in history["items"]] == ["archived", "updated", "registered"]
    changes = {ch["field"]: ch for ch in history["items"][1]["changes"]}
    assert changes["identity.acronym"] == {"field": "identity.acronym", "old": "GC", "new": "GCO"}
    assert changes["purpose.mission"]["old"] is None and changes["purpose.mission"]["new"] == "Nueva"
    assert history["items"][1]["correlation_id"] == "h-2"
    page = c.get(f"/v1/organizations/{org['id']}/history", params={"limit": 2}).json()
    rest = c.get(f"/v1/organizations/{org['id']}/history", params={"cursor": page["next_cursor"]}).json()
    assert [v["version"] for v in page["items"] + rest["items"]] == [3, 2, 1]
    then = c.get(f"/v1/organizations/{org['id']}", params={"as_of": between.isoformat()}).json()
    assert then["identity"]["acronym"] == "GC" and then["version"] == 1 and then["status"] == "active"
    assert c.get(f"/v1/organizations/{org['id']}").json()["identity"]["acronym"] == "GCO"
    before = c.get(f"/v1/organizations/{org['id']}", params={"as_of": "2000-01-01T00:00:00Z"})
    assert before.status_code == 404


def test_q_ranks_by_relevance_when_no_sort_is_given(registry: RunningRegistry) -> None:
    c = registry.client
    made = {}
    for key, name, identity, mission in [
        ("mission", "Colectivo Río", {}, "Sembramos semilla criolla"),
        ("prefix", "Fundación Semillas del Norte", {}, "Educación"),
        ("alias", "Asociación Tierra", {"aliases": ["SEMILLA"]}, None),
        ("acronym", "Grupo Sur", {"acronym": "S.E.M.I.L.L.A."}, None),
        ("name", "Semilla", {}, None),
    ]:
        body = org_body(name, identity=identity, purpose={"mission": mission} if mission else {})
        r = c.post("/v1/organizations", json=body, params={"allow_duplicate": "true"})
        assert r.status_code == 201, r.text
        made[r.json()["id"]] = key
    page = c.get("/v1/organizations", params={"q": "Sémilla"}).json()
    assert [made[o["id"]] for o in page["items"]] == ["alias", "acronym", "name", "prefix", "mission"]
    assert [o["match"] for o in page["items"]] == [
        "exact alias",
        "exact acronym",
        "exact name",
        "words of the name",
        "words in the mission or other texts",
    ]
    seen, cursor = [], None
    while True:
        params = {"q": "semilla", "limit": 2, **({"cursor": cursor} if cursor else {})}
        data = c.get("/v1/organizations", params=params).json()
        seen += [made[o["id"]] for o in data["items"]]
        cursor = data["next_cursor"]
        if not cursor:
            break
    assert seen == ["alias", "acronym", "name", "prefix", "mission"]
    by_name = c.get("/v1/organizations", params={"q": "semilla", "sort": "name"}).json()["items"]
    assert [made[o["id"]] for o in by_name] == ["alias", "mission", "prefix", "acronym", "name"]
    assert "match" not in c.get("/v1/organizations").json()["items"][0]

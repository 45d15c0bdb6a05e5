"""Duplicate detection on create: same identifier, or a fuzzy name/alias match in the same country."""

from __future__ import annotations

import pytest

from tejido_registry.kit.text import name_key
from tejido_registry.testing import RunningRegistry, org_body


def test_name_key_ignores_accents_case_apostrophes_and_word_order() -> None:
    assert name_key("J'Pas Joloviletik") == name_key("J´pas Joloviletik") == name_key("JOLOVILETIK j’pas")
    assert name_key("Organización Ñandú") == name_key("organizacion nandu")


def test_shared_alias_is_a_likely_duplicate(registry: RunningRegistry) -> None:
    c = registry.client
    first = c.post(
        "/v1/organizations", json=org_body("Grupo Conciencia", identity={"aliases": ["Consciousness Group"]})
    )
    assert first.status_code == 201
    second = c.post(
        "/v1/organizations", json=org_body("Consciousness Group", identity={"aliases": ["Conciencia"]})
    )
    assert second.status_code == 409, second.text
    problem = second.json()
    assert problem["type"].endswith("/likely-duplicate")
    assert problem["duplicates"][0]["id"] == first.json()["id"]
    assert problem["duplicates"][0]["legal_name"] == "Grupo Conciencia"
    assert problem["errors"][0]["field"] == "identity.legal_name"
    confirmed = c.post(
        "/v1/organizations", params={"allow_duplicate": "true"}, json=org_body("Consciousness Group")
    )
    assert confirmed.status_code == 201


@pytest.mark.parametrize(
    ("existing", "candidate"),
    [
        ("J'Pas Joloviletik", "J´pas Joloviletik"),
        ("J'Pas Joloviletik", "J´pas Joliviletik"),  # a spelling variant in the sources
        ("Red LASES", "RED LASES"),
        ("Comercio Justo México", "Mexico Comercio Justo"),
        ("Consejo Lagunero de ONG's", "Consejo Lagunero de ONGs"),
    ],
)
def test_spelling_variants_are_caught(registry: RunningRegistry, existing: str, candidate: str) -> None:
    c = registry.client
    assert c.post("/v1/organizations", json=org_body(existing)).status_code == 201
    r = c.post("/v1/organizations", json=org_body(candidate))
    assert r.status_code == 409, r.text


def test_same_name_in_another_country_or_archived_is_not_a_duplicate(registry: RunningRegistry) -> None:
    c = registry.client
    mx = c.post("/v1/organizations", json=org_body("Fundación Esperanza")).json()
    peru = org_body("Fundación Esperanza", where={"country": "PE", "subdivisions": []})
    assert c.post("/v1/organizations", json=peru).status_code == 201
    assert (
        c.post("/v1/organizations", json=org_body("Fundación Horizonte")).status_code == 201
    )  # different name
    c.post(f"/v1/organizations/{mx['id']}:archive")
    assert c.post("/v1/organizations", json=org_body("Fundacion Esperanza")).status_code == 201

"""Search parameters (one model, validated once), cursors and dates, and the service's rules, against
the database only."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from tejido_common.http import parse_if_match as if_match_versions
from tejido_common.outbox import OutboxRow
from tejido_common.problems import BadRequest, PreconditionFailed
from tejido_registry.kit.changes import merge_patch
from tejido_registry.kit.text import normalize
from tejido_registry.organizations.queries import OrganizationQueries
from tejido_registry.organizations.schemas import OrganizationCreate, People, SearchQuery
from tejido_registry.organizations.service import OrganizationService
from tejido_registry.testing import org_body


def cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"program_area": ["XX"]}, "program_area"),
        ({"actor_type": ["pirate"]}, "actor_type"),
        ({"status": ["deleted"]}, "status"),
        ({"dd_band": ["purple"]}, "dd_band"),
        ({"sort": "shoe_size"}, "sort"),
        ({"identifier": "nocolon"}, "identifier"),
        ({"completeness_min": 101}, "completeness_min"),
        ({"modified_since": "9999-12-31T23:59:59-05:00"}, "modified_since"),
        ({"limit": 0}, "limit"),
    ],
)
def test_bad_search_parameters_name_the_parameter(params: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        SearchQuery.model_validate(params)
    assert [e["loc"] for e in info.value.errors()] == [(field,)]


def test_dates_without_offset_are_utc() -> None:
    query = SearchQuery.model_validate({"modified_since": "2020-01-01"})
    assert query.modified_since is not None and query.modified_since.utcoffset().total_seconds() == 0  # type: ignore[union-attr]


def test_tampered_cursors_are_bad_requests(
    service: OrganizationService, queries: OrganizationQueries
) -> None:
    for i in range(4):
        service.create(
            OrganizationCreate.model_validate(org_body(f"Colectivo {i} Uno")), allow_duplicate=True
        )
    page = queries.search(SearchQuery(sort="completeness"))
    assert page["next_cursor"] and len(page["items"]) == 2
    for bad in (
        "W10",
        cursor(["completeness", "x", "id"]),
        cursor(["name", "a", "id"]),
        cursor(["completeness", True, "id"]),
        cursor(["completeness", 1, 2]),
    ):
        with pytest.raises(BadRequest) as info:
            queries.search(SearchQuery(sort="completeness", cursor=bad))
        assert info.value.errors and info.value.errors[0].field == "query.cursor"
    org_id = page["items"][0]["id"]
    for bad in ("W10", "WyJhYmMiXQ", cursor([True])):
        with pytest.raises(BadRequest):
            queries.history(org_id, cursor=bad, limit=None)


def test_merge_patch_is_rfc_7386() -> None:
    target = {"a": {"b": 1, "c": 2}, "l": [1, 2], "x": 1}
    assert merge_patch(target, {"a": {"b": None, "d": 3}, "l": [3], "x": None}) == {
        "a": {"c": 2, "d": 3},
        "l": [3],
    }
    assert target == {"a": {"b": 1, "c": 2}, "l": [1, 2], "x": 1}  # not modified in place


def test_if_match_accepts_a_list_of_etags(service: OrganizationService) -> None:
    assert if_match_versions('W/"1", "2" ,W/"3"') == {1, 2, 3}
    assert if_match_versions("*") is None
    org = service.create(OrganizationCreate.model_validate(org_body()))
    service.update(org.id, {"identity": {"acronym": "GC"}}, if_match=if_match_versions('W/"9", W/"1"'))
    with pytest.raises(PreconditionFailed):
        service.update(org.id, {"identity": {"acronym": "GX"}}, if_match=if_match_versions('W/"1"'))


def test_people_on_registration_only_on_their_restricted_event(service: OrganizationService) -> None:
    body = {**org_body(), "people": [{"name": "Persona Reservada", "role": "director"}]}
    org = service.create(OrganizationCreate.model_validate(body))
    with service.db.read_session() as s:
        events = [(r.subject, r.payload) for r in s.scalars(select(OutboxRow).order_by(OutboxRow.seq))]  # type: ignore[arg-type]
    assert [t for t, _ in events] == [
        "registry.organization.registered.v1",
        "registry.organization.people_updated.v1",
    ]
    assert "Persona Reservada" not in events[0][1] and "Persona Reservada" in events[1][1]
    people, version = service.replace_people(org.id, People(people=[]))
    assert version == 2 and people.people == []


def test_upsert_batch_creates_updates_and_reports_each_item(service: OrganizationService) -> None:
    from tejido_registry.organizations.duplicates import DuplicateIndex
    from tejido_registry.organizations.service import BatchItem

    def item(number: int, name: str, ident: str, mission: str | None = None) -> BatchItem:
        body = org_body(name, identity={"identifiers": [{"scheme": "XX-TEST", "id": ident}]})
        if mission:
            body["purpose"]["mission"] = mission
        payload = OrganizationCreate.model_validate(body)
        sections = payload.model_dump(mode="json", include={"identity", "where", "purpose"})
        return BatchItem(number, payload, lambda stored: sections)

    committed: list[list[Any]] = []
    first = [item(1, "Colectivo Alfa Uno", "1"), item(2, "Colectivo Beta Dos", "2"), item(3, "Otro", "1")]
    outcomes = service.upsert_batch(
        first, DuplicateIndex(88), on_commit=lambda uow, out: committed.append([o.outcome for o in out])
    )
    # the third item names the first one's identifier: it updates the organization created just before
    assert [o.outcome for o in outcomes] == ["created", "created", "updated"] == committed[0]
    again = service.upsert_batch(
        [item(1, "Otro", "1"), item(2, "Colectivo Beta Dos", "2", "Nueva")], DuplicateIndex(88)
    )
    assert [o.outcome for o in again] == ["unchanged", "updated"]
    clash = org_body(
        "Colectivo Gama",
        identity={"identifiers": [{"scheme": "XX-TEST", "id": "1"}, {"scheme": "XX-TEST", "id": "2"}]},
    )
    payload = OrganizationCreate.model_validate(clash)
    (bad,) = service.upsert_batch([BatchItem(7, payload, lambda stored: {})], DuplicateIndex(88))
    assert bad.outcome is None and bad.errors[0].field == "identity.identifiers"


def test_events_carry_exactly_the_typed_organization(
    service: OrganizationService, queries: OrganizationQueries
) -> None:
    """The writer builds the event's organization from the profile it serialized for the row (once),
    not from the typed model: it must be exactly what the typed model gives, due-diligence band and
    times included, and what a read returns."""
    from datetime import UTC, datetime

    from tejido_common.events import Envelope
    from tejido_registry.organizations.handlers import apply_due_diligence_rating
    from tejido_registry.organizations.schemas import Organization

    org = service.create(OrganizationCreate.model_validate(org_body(identity={"aliases": ["GC Sur"]})))
    rating = {"organization_id": org.id, "band": "low", "rated_at": datetime.now(UTC).isoformat()}
    with service.db.session() as session:
        apply_due_diligence_rating(
            session, Envelope.new("duediligence.rating.published.v1", source="t", subject="s", data=rating)
        )
    service.update(org.id, {"identity": {"acronym": "GC"}, "purpose": {"mission": "Salud comunitaria"}})
    with service.db.read_session() as session:
        events = [json.loads(r.payload) for r in session.scalars(select(OutboxRow).order_by(OutboxRow.seq))]
    carried = [
        e["data"]["organization"] for e in events if e["type"].endswith((".registered.v1", ".updated.v1"))
    ]
    assert len(carried) == 2
    for data in carried:
        assert data == Organization.model_validate(data).model_dump(mode="json")
    assert carried[0]["due_diligence"] is None and carried[1]["due_diligence"]["band"] == "low"
    assert carried[1] == queries.get(org.id).model_dump(mode="json")


def test_a_term_that_prefixes_another_is_found_through_it(
    service: OrganizationService, queries: OrganizationQueries
) -> None:
    """Terms that are a prefix of another term of the same organization get no facet row of their own
    (searches are by prefix): searching them, or any prefix of them, still finds the organization."""
    from tejido_registry.organizations.models import OrganizationFacetRow
    from tejido_registry.organizations.service import prefix_free

    org = service.create(
        OrganizationCreate.model_validate(
            org_body("Red Educa", identity={"acronym": "EDU"}, purpose={"mission": "Educación y salud"})
        )
    )
    for q in ("educa", "edu", "educacion", "red educa", "salud"):
        found = queries.search(SearchQuery(q=q))["items"]
        assert [item["id"] for item in found] == [org.id], q
    assert queries.search(SearchQuery(q="edu"))["items"][0]["match"] == "exact acronym"
    with service.db.read_session() as session:
        terms = set(
            session.scalars(
                select(OrganizationFacetRow.value).where(
                    OrganizationFacetRow.organization_id == org.id, OrganizationFacetRow.facet == "term"
                )
            )
        )
    assert terms == {"red", "educacion", "salud"}
    assert prefix_free(set()) == [] and prefix_free({"ab", "abc", "abd"}) == ["abc", "abd"]


def test_every_set_of_statuses_lists_exactly_those(
    service: OrganizationService, queries: OrganizationQueries
) -> None:
    """Two statuses are searched as "not the third" (so keyset pages walk the sort index): the same
    organizations as the IN list."""
    import itertools

    made = {
        status: service.create(
            OrganizationCreate.model_validate({**org_body(f"Grupo {status}"), "status": status})
        ).id
        for status in ("draft", "active")
    }
    archived = service.create(OrganizationCreate.model_validate(org_body("Grupo archivado")))
    service.archive(archived.id)
    made["archived"] = archived.id
    for n in (1, 2, 3):
        for statuses in itertools.combinations(made, n):
            found, cursor = [], None
            while True:
                page = queries.search(SearchQuery(status=list(statuses), sort="name", cursor=cursor))
                found += [item["id"] for item in page["items"]]
                if not (cursor := page["next_cursor"]):
                    break
            assert sorted(found) == sorted(made[s] for s in statuses), statuses
    assert {item["id"] for item in queries.search(SearchQuery())["items"]} == {made["draft"], made["active"]}


@pytest.mark.parametrize("rare_word_limit", [1_000, 0], ids=["word-drives", "country-drives"])
def test_relevance_pages_walk_every_rank_in_order(
    service: OrganizationService,
    queries: OrganizationQueries,
    rare_word_limit: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Ranks 0 and 1 come from the names and the acronym, rank 2 is read in name order: page after
    page (with and without a country; the search driven by the rare word or by the country), every
    match comes exactly once, by rank, then name, then id."""
    from tejido_registry.organizations import repository

    monkeypatch.setattr(repository, "RARE_WORD_LIMIT", rare_word_limit)
    bodies = []
    for i, country, sub in [(i, c, s) for i in range(4) for c, s in (("MX", "MX-SON"), ("CO", "CO-ANT"))]:
        where = {"country": country, "subdivisions": [sub]}
        bodies += [
            org_body(f"Colectivo Río {i}{country}", where=where, purpose={"mission": f"Maíz nativo {i}"}),
            org_body(f"Red Maizal {i}{country}", where=where),
            org_body(f"Grupo Sur {i}{country}", where=where, identity={"acronym": "MAIZ"}),
            org_body(f"Otro {i}{country}", where=where, purpose={"mission": "Agua"}),
        ]
    bodies.append(org_body("Maíz", where={"country": "MX", "subdivisions": ["MX-SON"]}))
    for body in bodies:
        service.create(OrganizationCreate.model_validate(body), allow_duplicate=True)
    rank = {
        "exact name": 0,
        "exact alias": 0,
        "exact acronym": 0,
        "words of the name": 1,
        "words of the alias": 1,
    }
    for country in ([], ["MX"], ["MX", "CO"]):
        seen, cursor = [], None
        while True:
            page = queries.search(SearchQuery(q="maiz", country=country, cursor=cursor))
            seen += page["items"]
            if not (cursor := page["next_cursor"]):
                break
        keys = [(rank.get(o["match"], 2), normalize(o["identity"]["legal_name"]), o["id"]) for o in seen]
        assert keys == sorted(keys) and len({o["id"] for o in seen}) == len(seen)
        expected = 25 if not country or len(country) == 2 else 13
        assert len(seen) == expected, country
        assert {o["where"]["country"] for o in seen} <= set(country or ["MX", "CO"])

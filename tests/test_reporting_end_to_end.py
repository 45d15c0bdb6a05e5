"""Impact reporting across services, all real: a registry and the reporting service over HTTP, one
NATS with JetStream, separate databases (SQLite, or PostgreSQL schemas with TEST_DATABASE_URL).

The registry announces organizations and alliances; reporting learns them from events only, and the
sources' own arithmetic is reproduced through reporting's HTTP API."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import nats
import pytest

from tejido_common.events import Envelope
from tejido_common.identity import ORG_EDITOR, scoped
from tejido_common.testing import service_client, wait_until
from tejido_registry.testing import RunningRegistry, org_body
from tejido_reporting.exports import iati
from tejido_reporting.observations.events import OBSERVATION_SUBMITTED
from tejido_reporting.observations.schemas import ObservationIn
from tejido_reporting.testing import RunningReporting

from .reporting_browser import artifact_dir, chromium_binary, view
from .reporting_stack import registry_and_reporting

pytestmark = pytest.mark.db


@dataclass
class Stack:
    nats_url: str
    registry: RunningRegistry
    reporting: RunningReporting
    orgs: dict[str, str]
    alliance: str
    propagation_seconds: float

    @property
    def api(self) -> httpx.Client:
        return self.reporting.client


def publish(nats_url: str, event: Envelope, msg_id: str | None = None) -> None:
    async def send() -> None:
        nc = await nats.connect(nats_url)
        try:
            await nc.jetstream().publish(
                event.type, event.to_bytes(), headers={"Nats-Msg-Id": msg_id or event.id}
            )
        finally:
            await nc.close()

    asyncio.run(send())


def stats(stack: Stack) -> dict[str, Any]:
    response = stack.api.get("/v1/reports/network")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("reporting-e2e")
    with registry_and_reporting(root) as (nats_url, registry, reporting):
        c = registry.client

        def register(name: str, country: str, sub: str, actor: str = "cso") -> str:
            body = org_body(name)
            body["identity"]["actor_type"] = actor
            if actor != "cso":
                body["identity"].pop("cso_subtype", None)
            body["identity"]["identifiers"] = [
                {"scheme": "XX-TEJIDODEMO", "id": name.lower().replace(" ", "-")}
            ]
            body["where"] = {"country": country, "subdivisions": [sub], "languages": ["spa"]}
            response = c.post("/v1/organizations", json=body, params={"allow_duplicate": "true"})
            assert response.status_code == 201, response.text
            return str(response.json()["id"])

        started = time.monotonic()
        orgs = {
            "thp": register("The Hunger Project Mexico", "MX", "MX-ZAC"),
            "peru": register("Fondo Minero Social", "PE", "PE-ANC", "corporate_foundation"),
            "servivienda": register("SERVIVIENDA", "CO", "CO-DC"),
            "fedecoh": register("FEDECOH", "HN", "HN-FM"),
        }
        party = {"role": "executor", "legitimacy_sought": ["relational"]}
        alliance = c.post(
            "/v1/alliances",
            json={
                "name": "SERVIVIENDA – FEDECOH: low-cost housing in Honduras",
                "purpose": "Technology transfer for low-cost modular housing.",
                "type": "knowledge",
                "scope": "international",
                "modality": "south_south",
                "development_strategy": "poverty_reduction",
                "parties": [
                    {**party, "organization_id": orgs["servivienda"]},
                    {
                        "role": "counterpart",
                        "organization_id": orgs["fedecoh"],
                        "legitimacy_sought": ["market"],
                    },
                ],
            },
        )
        assert alliance.status_code == 201, alliance.text
        alliance_id = str(alliance.json()["id"])
        transition = c.post(f"/v1/alliances/{alliance_id}:transition", json={"to_stage": "prospecting"})
        assert transition.status_code == 200, transition.text
        api = reporting.client
        wait_until(
            lambda: (
                api.get("/v1/reports/network").json()["alliances"]["by_stage"].get("prospecting") == 1
                and api.get("/v1/reports/network").json()["organizations"]["total"] == 4
            ),
            timeout=20,
            message="reporting learns the registry's organizations and alliance",
        )
        yield Stack(nats_url, registry, reporting, orgs, alliance_id, time.monotonic() - started)


def observe(stack: Stack, org: str, key: str, indicator: str, **fields: Any) -> httpx.Response:
    body = {
        "organization_id": stack.orgs[org],
        "observation_key": key,
        "indicator": indicator,
        "period": fields.pop("period", "2009"),
        "territory": fields.pop("territory", "MX-ZAC"),
        **fields,
    }
    return stack.api.post("/v1/observations", json=body)


def aggregate(stack: Stack, **params: Any) -> dict[str, Any]:
    response = stack.api.get("/v1/reports/aggregate", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


ACTION_AREAS = (("health", 2), ("environment", 8), ("income_generation", 36), ("infrastructure", 13))


def record_source_figures(stack: Stack) -> None:
    """The sources' figures as organizations would report them (idempotent: sending them again is a
    replay, so every test that needs them records them)."""
    sent: list[httpx.Response] = []
    # Peru mining social fund: 886 of 1,568 projects finished, reported by region
    for key, region, num, den in (
        ("anc", "PE-ANC", 500, 800),
        ("cus", "PE-CUS", 200, 400),
        ("are", "PE-ARE", 186, 368),
    ):
        sent.append(
            observe(
                stack,
                "peru",
                f"share-{key}",
                "projects_finished_share",
                numerator=num,
                denominator=den,
                territory=region,
            )
        )
    # The Hunger Project Mexico: 4,174 participants in 157 workshops (Zacatecas and Durango)
    sent.append(observe(stack, "thp", "participants-zac", "workshop_participants", value=2900))
    sent.append(
        observe(stack, "thp", "participants-dgo", "workshop_participants", value=1274, territory="MX-DUR")
    )
    sent.append(observe(stack, "thp", "workshops", "workshops_held", value=157))
    for key, territory, participants, workshops in (
        ("zac", "MX-ZAC", 2900, 110),
        ("dgo", "MX-DUR", 1274, 47),
    ):
        sent.append(
            observe(
                stack,
                "thp",
                f"avg-{key}",
                "participants_per_workshop",
                value=participants / workshops,
                weight=workshops,
                territory=territory,
            )
        )
    parts = [{"dimension": "action_area", "category": c, "value": v} for c, v in ACTION_AREAS]
    sent.append(observe(stack, "thp", "actions-2009", "community_actions", value=59, parts=parts))
    for response in sent:
        assert response.status_code in (200, 201), response.text


def test_the_sources_arithmetic_through_the_api(stack: Stack) -> None:
    record_source_figures(stack)
    # 886 of 1,568 projects finished = 56.5 % (Σ numerators / Σ denominators, not a mean of regions)
    share = aggregate(stack, indicator="projects_finished_share")["totals"][0]
    assert (share["numerator"], share["denominator"], round(share["value"], 1)) == (886, 1568, 56.5)
    by_region = aggregate(stack, indicator="projects_finished_share", group_by="territory", territory="PE")
    assert {r["group"]["subdivision"]: round(r["value"], 1) for r in by_region["rows"]} == {
        "PE-ANC": 62.5,
        "PE-CUS": 50.0,
        "PE-ARE": 50.5,
    }
    # 4,174 participants over 157 workshops ≈ 26.6 per workshop (a weighted mean of the two states)
    assert aggregate(stack, indicator="workshop_participants")["totals"][0]["value"] == 4174
    assert aggregate(stack, indicator="workshops_held")["totals"][0]["value"] == 157
    per_workshop = aggregate(stack, indicator="participants_per_workshop")["totals"][0]
    assert round(per_workshop["value"], 1) == 26.6
    # community actions: Health 2 + Environment 8 + Income generation 36 + Infrastructure 13 = 59
    assert aggregate(stack, indicator="community_actions")["totals"][0]["value"] == 59
    areas = aggregate(stack, indicator="community_actions", disaggregation="action_area", group_by="category")
    assert {r["group"]["category"]: r["value"] for r in areas["rows"]} == dict(ACTION_AREAS)


def test_csv_aggregate_neutralizes_formula_cells(stack: Stack) -> None:
    r = observe(stack, "fedecoh", "houses-evil", "houses_built", value=3, territory='HN-FM:=HYPERLINK("x")')
    assert r.status_code == 201, r.text
    response = stack.api.get(
        "/v1/reports/aggregate",
        params={
            "indicator": "houses_built",
            "group_by": "municipality",
            "territory": "HN-FM",
            "format": "csv",
        },
    )
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    lines = response.text.splitlines()
    assert lines[0].startswith("indicator,country,subdivision,municipality,value")
    assert any(line.startswith("houses_built,HN,HN-FM,\"'=HYPERLINK") for line in lines), lines


def test_refusals_are_problem_documents_naming_the_field(stack: Stack) -> None:
    unknown = stack.api.post(
        "/v1/observations",
        json={
            "organization_id": "01a20a46-0000-7000-8000-000000000000",
            "observation_key": "x",
            "indicator": "houses_built",
            "period": "2009",
            "territory": "HN",
            "value": 1,
        },
    )
    assert unknown.status_code == 422
    assert unknown.headers["content-type"] == "application/problem+json"
    assert unknown.json()["type"].endswith("/unknown-reporter")
    assert [e["field"] for e in unknown.json()["errors"]] == ["organization_id"]
    text = observe(stack, "thp", "bad", "houses_built", value="cuarenta")
    assert text.status_code == 422 and text.json()["errors"][0]["field"] == "value"
    first = observe(
        stack, "fedecoh", "houses-2010", "houses_built", value=40, period="2010", territory="HN-FM"
    )
    assert first.status_code == 201
    changed = observe(
        stack, "fedecoh", "houses-2010", "houses_built", value=41, period="2010", territory="HN-FM"
    )
    assert changed.status_code == 409 and changed.json()["errors"][0]["field"] == "revision"
    deep: Any = 1
    for _ in range(200):
        deep = {"a": deep}
    nested = stack.api.post("/v1/observations", json={"organization_id": deep})
    assert nested.status_code == 422
    big = stack.api.post(
        "/v1/observations",
        content=b"{" + b" " * 2_000_000 + b"}",
        headers={"content-type": "application/json"},
    )
    assert big.status_code == 413
    naive = stack.api.get(
        "/v1/reports/aggregate", params={"indicator": "houses_built", "from": "2009-01-01T00:00"}
    )
    assert naive.status_code == 422 and naive.json()["errors"][0]["field"].endswith("from")


def test_a_replayed_observation_event_is_counted_once(stack: Stack) -> None:
    payload = ObservationIn(
        organization_id=stack.orgs["servivienda"],
        observation_key="houses-event",
        indicator="houses_built",
        period="2011",
        territory="HN-FM",
        value=40,
        alliance_id=stack.alliance,
    )
    event = OBSERVATION_SUBMITTED.envelope(payload, source="tejido/test", subject="observation/houses-event")
    publish(stack.nats_url, event)
    publish(stack.nats_url, event, msg_id=event.id + "-redelivered")  # the same event again, past dedup
    again = OBSERVATION_SUBMITTED.envelope(payload, source="tejido/test", subject="observation/houses-event")
    publish(stack.nats_url, again)  # a new event carrying the same revision
    sentinel = OBSERVATION_SUBMITTED.envelope(
        payload.model_copy(update={"observation_key": "sentinel", "value": 1, "alliance_id": None}),
        source="tejido/test",
        subject="observation/sentinel",
    )
    publish(stack.nats_url, sentinel)
    params = {"indicator": "houses_built", "from": "2011", "to": "2011"}
    wait_until(lambda: aggregate(stack, **params)["totals"], message="observation events applied")
    wait_until(lambda: aggregate(stack, **params)["totals"][0]["value"] == 41, message="sentinel applied")
    assert aggregate(stack, **params, alliance_id=stack.alliance)["totals"][0]["value"] == 40
    history = stack.api.get(
        "/v1/observations",
        params={"organization_id": stack.orgs["servivienda"], "observation_key": "houses-event"},
    ).json()
    assert [(r["revision"], r["source"]) for r in history["revisions"]] == [(1, "event")]


def test_bulk_csv_keeps_valid_rows_and_reports_each_bad_one(stack: Stack) -> None:
    org = stack.orgs["fedecoh"]
    rows = [
        "organization_id;observation_key;indicator;period;territory;value;parts",
        f"{org};csv-1;houses_built;2012-Q1;HN-FM;10;",
        f"{org};csv-2;houses_built;2012-Q2;HN-FM;cuarenta;",
        f"{org};csv-3;workshop_participants;2012;HN-FM;30;sex:female=20|sex:male=15",
        f"{org};csv-4;houses_built;2012-Q3;HN-FM;5;",
        f"{org};csv-1;houses_built;2012-Q1;HN-FM;10;",
    ]
    body = "\ufeff" + "\r\n".join(rows) + "\r\n"
    response = stack.api.post(
        "/v1/observations:import", content=body.encode(), headers={"content-type": "text/csv"}
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert (
        report["rows"],
        report["committed"],
        report["recorded"],
        report["replayed"],
        report["failed"],
    ) == (5, 3, 2, 1, 2)
    assert [(e["row"], e["field"]) for e in report["errors"]] == [(2, "value"), (3, "parts.0.value")]
    totals = aggregate(stack, indicator="houses_built", **{"from": "2012", "to": "2012"})["totals"]
    assert totals[0]["value"] == 15
    latin1 = (
        "organization_id,observation_key,indicator,period,territory,value\n"
        f"{org},csv-5,houses_built,2012,HN-FM:Cop\xe1n,1\n"
    )
    odd = stack.api.post(
        "/v1/observations:import", content=latin1.encode("latin-1"), headers={"content-type": "text/csv"}
    )
    assert odd.status_code == 200 and odd.json()["errors"][0]["field"] == "territory"


def test_network_statistics_follow_registry_and_due_diligence_events(stack: Stack) -> None:
    # the fixture measured how long the first events took to show; the read model is updated per event
    assert stack.propagation_seconds < 20
    body = stats(stack)
    assert body["organizations"]["by_type"] == {"cso": 3, "corporate_foundation": 1}
    assert body["organizations"]["by_country"] == {"MX": 1, "PE": 1, "CO": 1, "HN": 1}
    assert body["alliances"]["by_legitimacy"] == {"market": 1, "relational": 1}
    assert body["alliances"]["by_type"] == {"knowledge": 1}
    rating = Envelope.new(
        "duediligence.rating.published.v1",
        source="tejido/duediligence",
        subject=f"organization/{stack.orgs['thp']}",
        data={"organization_id": stack.orgs["thp"], "band": "low", "rated_at": "2026-11-20T10:00:00Z"},
    )
    started = time.monotonic()
    publish(stack.nats_url, rating)
    wait_until(lambda: stats(stack)["due_diligence_bands"] == {"low": 1}, timeout=10)
    assert time.monotonic() - started < 5  # "current within a second" on an idle machine; shared here
    # new registry events show up too: a registration, then an archival
    created = stack.registry.client.post(
        "/v1/organizations", json=org_body("Red LASES"), params={"allow_duplicate": "true"}
    )
    assert created.status_code == 201
    wait_until(lambda: stats(stack)["organizations"]["total"] == 5, timeout=10)
    stack.registry.client.post(f"/v1/organizations/{created.json()['id']}:archive")
    wait_until(lambda: stats(stack)["organizations"]["by_status"].get("archived") == 1, timeout=10)
    assert stats(stack)["organizations"]["total"] == 4


def test_reporting_never_subscribes_to_restricted_events(stack: Stack) -> None:
    async def filters() -> list[str]:
        nc = await nats.connect(stack.nats_url)
        try:
            js = nc.jetstream()
            return [
                c.config.filter_subject or ""
                for c in await js.consumers_info("REGISTRY")
                if (c.config.durable_name or "").startswith("reporting")
            ]
        finally:
            await nc.close()

    subjects = asyncio.run(filters())
    assert subjects and "registry.organization.people_updated.v1" not in subjects
    assert all(not s.endswith(">") or s.startswith("registry.alliance.") for s in subjects), subjects


def test_iati_export_of_an_alliance_validates_against_the_xsd(stack: Stack) -> None:
    target = stack.api.post(
        "/v1/targets",
        json={
            "indicator": "houses_built",
            "alliance_id": stack.alliance,
            "period": "2011",
            "target": 40,
            "baseline": {"value": 0, "date": "2010-12-31"},
        },
    )
    assert target.status_code == 201, target.text
    wait_until(lambda: aggregate(stack, indicator="houses_built", alliance_id=stack.alliance)["totals"])
    response = stack.api.get(f"/v1/reports/alliances/{stack.alliance}/iati")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/xml")
    assert iati.validate(response.content) == []
    text = response.text
    assert text.count("<participating-org") == 2
    assert '<target value="40"' in text and '<actual value="40"' in text and 'baseline year="2010"' in text
    # the validator does reject a file that breaks the schema
    assert iati.validate(response.content.replace(b"<activity-status ", b"<activity-state ", 1))
    assert stack.api.get("/v1/reports/alliances/nope/iati").status_code == 404


def test_charts_render_as_svg_and_png(stack: Stack) -> None:
    svg = stack.api.get("/v1/reports/chart", params={"indicator": "workshop_participants", "by": "territory"})
    assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml"
    assert svg.content.lstrip().startswith(b"<?xml") and b"<svg" in svg.content
    png = stack.api.get(
        "/v1/reports/chart", params={"indicator": "houses_built", "format": "png", "period": "year"}
    )
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")


def test_indicator_definitions_are_versioned(stack: Stack) -> None:
    definition = {
        "code": "wells_dug",
        "name": {"es": "Pozos", "en": "Wells dug"},
        "unit": "wells",
        "value_type": "count",
        "families": ["survival"],
    }
    created = stack.api.post("/v1/indicators", json=definition)
    assert (created.status_code, created.json()["version"]) == (201, 1)
    assert stack.api.post("/v1/indicators", json=definition).status_code == 200
    renamed = stack.api.post(
        "/v1/indicators", json={**definition, "name": {"es": "Pozos cavados", "en": "Wells"}}
    )
    assert (renamed.status_code, renamed.json()["version"]) == (201, 2)
    assert observe(stack, "thp", "well-1", "wells_dug", value=3).status_code == 201
    in_use = stack.api.post("/v1/indicators", json={**definition, "unit": "metres"})
    assert in_use.status_code == 409 and [e["field"] for e in in_use.json()["errors"]] == ["unit"]
    versions = stack.api.get("/v1/indicators/wells_dug/versions").json()["versions"]
    assert [v["name"]["en"] for v in versions] == ["Wells dug", "Wells"]
    catalog = {i["code"] for i in stack.api.get("/v1/indicators").json()["items"]}
    assert {"workshop_participants", "community_actions", "funds_invested", "alliances_by_stage"} <= catalog


@pytest.mark.skipif(chromium_binary() is None, reason="no chromium here (Debian: apt-get install chromium)")
@pytest.mark.parametrize("lang", ["es", "en"])
def test_collective_impact_report_renders_in_a_browser(stack: Stack, lang: str) -> None:
    record_source_figures(stack)
    target = stack.api.post(
        "/v1/targets",
        json={
            "indicator": "workshop_participants",
            "organization_id": stack.orgs["thp"],
            "period": "2009",
            "target": 4000,
        },
    )
    assert target.status_code in (201, 409), target.text
    # A self-contained page: fetched as an authorized client would, then opened from a file (the
    # browser carries no credentials of its own, and the page needs nothing else from the server).
    html = stack.api.get("/v1/reports/collective-impact", params={"lang": lang, "as_of": "2010-01-15"})
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html"), html.text
    saved = artifact_dir() / f"collective-impact-{lang}.html"
    saved.write_bytes(html.content)
    page = view(saved.resolve().as_uri())
    (artifact_dir() / f"collective-impact-{lang}.png").write_bytes(page.screenshot)
    assert page.screenshot.startswith(b"\x89PNG")
    heading = {"es": "Informe de impacto colectivo", "en": "Collective impact report"}[lang]
    met = {"es": "cumplida", "en": "met"}[lang]
    assert heading in page.text
    assert "SERVIVIENDA – FEDECOH: low-cost housing in Honduras" in page.text  # a new alliance
    for figure in ("4,174", "157", "59", "56.5 % (886 / 1,568)", "26.6"):
        assert figure in page.text, figure
    assert met in page.text
    assert len(page.images) >= 2
    broken = [image["alt"] for image in page.images if not image["complete"] or image["width"] == 0]
    assert broken == []


def test_org_editors_report_for_their_own_organizations_only(stack: Stack) -> None:
    thp, peru = stack.orgs["thp"], stack.orgs["peru"]
    with service_client(
        stack.reporting.url, stack.reporting.settings, principal=scoped(ORG_EDITOR, [thp])
    ) as editor:
        body = {
            "observation_key": "scope-1",
            "indicator": "communities_reached",
            "period": "2009",
            "value": 2,
        }
        own = editor.post("/v1/observations", json={**body, "organization_id": thp, "territory": "MX-ZAC"})
        assert own.status_code == 201, own.text
        other = editor.post(
            "/v1/observations", json={**body, "organization_id": peru, "territory": "PE-ANC", "value": 1}
        )
        assert other.status_code == 403
        csv = (
            "organization_id,observation_key,indicator,period,territory,value\n"
            f"{thp},scope-2,communities_reached,2009,MX-ZAC,3\n"
            f"{peru},scope-3,communities_reached,2009,PE-ANC,4\n"
        )
        report = editor.post(
            "/v1/observations:import", content=csv, headers={"content-type": "text/csv"}
        ).json()
        assert report["recorded"] == 1
        assert [(e["row"], e["field"]) for e in report["errors"]] == [(2, "organization_id")]

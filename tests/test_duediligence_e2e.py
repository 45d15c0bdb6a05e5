"""Due diligence end to end over NATS with the real registry: the registry's events feed the
due-diligence read model (organizations and key people), a finalized rating reaches the registry's
profile band, key people are screened, and a confirmed hit is announced as a blocking red flag."""

from __future__ import annotations

from pathlib import Path

import httpx
from jsonschema import Draft202012Validator

from tejido_common.events import load_schema
from tejido_common.natsserver import NatsServer
from tejido_common.testing import DatabaseTarget, EventCollector, database_target, wait_until
from tejido_duediligence.testing import duediligence_settings, running_duediligence
from tejido_registry.testing import org_body, registry_settings, running_registry

LIST = b"""<?xml version="1.0" encoding="UTF-8"?>
<CONSOLIDATED_LIST dateGenerated="2026-11-01">
 <INDIVIDUALS><INDIVIDUAL><DATAID>1</DATAID><FIRST_NAME>MOHAMMED</FIRST_NAME><SECOND_NAME>YOUSEF</SECOND_NAME>
  <THIRD_NAME>QARADIMI</THIRD_NAME><REFERENCE_NUMBER>XXi.001</REFERENCE_NUMBER>
  <NATIONALITY><VALUE>Jordan</VALUE></NATIONALITY></INDIVIDUAL></INDIVIDUALS>
 <ENTITIES><ENTITY><DATAID>2</DATAID><FIRST_NAME>GRAMEEN DE LA FRONTERA A.C.</FIRST_NAME>
  <REFERENCE_NUMBER>XXe.001</REFERENCE_NUMBER><ENTITY_ADDRESS><COUNTRY>Mexico</COUNTRY></ENTITY_ADDRESS></ENTITY></ENTITIES>
</CONSOLIDATED_LIST>"""


def answer_everything(dd: httpx.Client, assessment_id: str, risky: set[str]) -> None:
    framework = dd.get("/v1/frameworks/dd-default").json()
    for dimension in framework["dimensions"]:
        for question in dimension["questions"]:
            if dimension["rule"] == "psea":
                label = "adequate"
            else:
                label = "high" if question["id"] in risky else "low"
            r = dd.put(f"/v1/assessments/{assessment_id}/answers/{question['id']}", json={"answer": label})
            assert r.status_code == 200, r.text


def test_a_rating_reaches_the_registry_profile_and_screening_follows_the_registry(
    tmp_path: Path, nats_server: NatsServer, db_target: DatabaseTarget
) -> None:
    flags = EventCollector(nats_server.url, "duediligence.>").start()
    try:
        run(tmp_path, nats_server, db_target, flags)
    finally:
        flags.stop()


def run(tmp_path: Path, nats_server: NatsServer, db_target: DatabaseTarget, flags: EventCollector) -> None:
    with (
        database_target("dd") as dd_target,
        running_registry(registry_settings(tmp_path / "registry", nats_server.url, db_target)) as registry,
        running_duediligence(duediligence_settings(tmp_path / "dd", nats_server.url, dd_target)) as dd,
    ):
        reg, c = registry.client, dd.client
        assert (
            c.post("/v1/watchlists:import", files={"file": ("un.xml", LIST, "application/xml")}).status_code
            == 201
        )
        org = reg.post("/v1/organizations", json=org_body("Grupo Conciencia")).json()

        # The registry's event makes the organization known here: assessing it stops being a 404.
        def create() -> dict[str, str] | None:
            r = c.post("/v1/assessments", json={"organization_id": org["id"], "kind": "reviewer"})
            return r.json() if r.status_code == 201 else None

        assessment = wait_until(create, 20, message="organization known to due diligence")
        # Seven key questions High: 43 + 56 = 99 points over 50 applicable → Significant.
        answer_everything(
            c, assessment["id"], {"LEG-1", "LEG-5", "GOV-1", "GOV-4", "FIN-1", "FIN-2", "FIN-3"}
        )
        for step in ("submitted", "in_review", "finalized"):
            r = c.post(f"/v1/assessments/{assessment['id']}:transition", json={"to": step})
            assert r.status_code == 200, r.text
        rating = c.get(f"/v1/assessments/{assessment['id']}/rating").json()
        assert rating["band"] == "significant"

        def band() -> str | None:
            dd_state = reg.get(f"/v1/organizations/{org['id']}").json()["due_diligence"]
            return dd_state["band"] if dd_state else None

        wait_until(lambda: band() == "significant", 20, message="band on the registry profile")
        # An override (with its justification) is published too and wins on the profile.
        r = c.post(
            f"/v1/ratings/{rating['id']}:override",
            json={
                "band": "medium",
                "justification": "Auditoría externa 2026 sin hallazgos; controles nuevos.",
            },
        )
        assert r.status_code == 200
        wait_until(lambda: band() == "medium", 20, message="overridden band on the registry profile")

        # Key people arrive through the registry's restricted event and are screened at once.
        people = {"people": [{"name": "Muhammad Yusuf al-Qaradimi", "role": "director"}]}
        assert reg.put(f"/v1/organizations/{org['id']}/people", json=people).status_code == 200

        def person_hits() -> list[dict[str, str]]:
            return c.get("/v1/screening/hits", params={"organization_id": org["id"]}).json()  # type: ignore[no-any-return]

        [hit] = wait_until(person_hits, 20, message="key person screened")
        assert (hit["subject_kind"], hit["entry_ref"]) == ("person", "XXi.001")
        # A rename in the registry re-screens the organization's names.
        reg.patch(
            f"/v1/organizations/{org['id']}", json={"identity": {"legal_name": "Grameen de la Frontera"}}
        )
        wait_until(lambda: len(person_hits()) == 2, 20, message="renamed organization screened")
        org_hit = next(h for h in person_hits() if h["subject_kind"] == "organization")
        assert org_hit["entry_name"] == "GRAMEEN DE LA FRONTERA A.C." and org_hit["score"] == 100.0
        r = c.post(
            f"/v1/screening/hits/{hit['id']}:adjudicate",
            json={"decision": "confirm", "reason": "Mismo pasaporte"},
        )
        assert r.status_code == 200 and r.json()["flag_id"]
        wait_until(lambda: any(e.type == "duediligence.flag.changed.v1" for e in flags.events), 20)
        [event] = [e for e in flags.events if e.type == "duediligence.flag.changed.v1"]
        assert (event.data["organization_id"], event.data["level"]) == (org["id"], "red")
        assert event.data["blocking"] is True
        # Everything this service put on the bus conforms to its checked-in schema.
        types = [e.type.split(".", 1)[1] for e in flags.events]
        published, hit, flag = "rating.published.v1", "screening.hit.v1", "flag.changed.v1"
        assert types == [published, published, hit, hit, flag]
        for e in flags.events:
            Draft202012Validator(load_schema(e.type)).validate(e.model_dump(mode="json")["data"])
            assert e.source == "tejido/duediligence" and e.subject == f"organization/{org['id']}"
        assert c.get("/v1/audit/verify").json()["ok"] is True

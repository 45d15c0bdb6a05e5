"""Real tier: the real registry publishes over a real NATS; matching builds its read model from those
events and answers over real HTTP (ranking in its in-process worker, reached over NATS)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import nats
import pytest

from tejido_common.identity import ORG_EDITOR, scoped
from tejido_common.testing import service_client, wait_until
from tejido_matching.candidates.models import Candidate
from tejido_matching.testing import RunningMatching, event, org, rating_event, registry_body
from tejido_registry.testing import RunningRegistry


def register(registry: RunningRegistry, profile: dict[str, Any]) -> str:
    resp = registry.client.post("/v1/organizations", json=registry_body(profile))
    assert resp.status_code == 201, resp.text
    org_id: str = resp.json()["id"]
    return org_id


def names(page: dict[str, Any]) -> list[str]:
    return [i["candidate"]["name"] for i in page["items"]]


def matches(matching: RunningMatching, **params: Any) -> Any:
    return matching.client.get("/v1/matches", params=params)


def ready_with(matching: RunningMatching, requester: str, count: int) -> dict[str, Any]:
    def page() -> dict[str, Any] | None:
        resp = matches(matching, organization_id=requester, limit=50)
        return resp.json() if resp.status_code == 200 and resp.json()["total"] >= count else None

    return wait_until(page, timeout=20, message=f"{count} candidates for {requester}")


REQUESTER = org(
    "Mujeres de Cajeme",
    subdivisions=["MX-SON"],
    program_areas=["HE3"],
    offers=[("community_presence", "Presencia en colonias de Cajeme")],
    needs=[("knowledge_and_methodology", "Asesoría en microcrédito para mujeres", ["MX-SON"])],
)
SONORA_MICRO = org(
    "Microcréditos Sonora",
    subdivisions=["MX-SON"],
    offers=[("knowledge_and_methodology", "Microcrédito grupal")],
)
PERU_MICRO = org(
    "Microfinanzas Andinas",
    country="PE",
    subdivisions=["PE-LIM"],
    offers=[("knowledge_and_methodology", "Microcrédito grupal")],
)
SONORA_NOTHING = org(
    "Deportes Sonora", subdivisions=["MX-SON"], offers=[("facilities_and_infrastructure", "Canchas")]
)


def test_ranking_from_registry_events_over_http(registry: RunningRegistry, matching: RunningMatching) -> None:
    requester = register(registry, REQUESTER)
    for p in (SONORA_MICRO, PERU_MICRO, SONORA_NOTHING):
        register(registry, p)
    page = ready_with(matching, requester, 3)
    ranked = names(page)
    assert ranked.index("Microcréditos Sonora") < ranked.index("Microfinanzas Andinas")
    assert ranked.index("Microcréditos Sonora") < ranked.index("Deportes Sonora")
    for item in page["items"]:
        assert abs(sum(item["contributions"].values()) - item["score"]) < 1e-9
    es = matches(matching, organization_id=requester, limit=1).json()
    assert es["items"][0]["evidence"]["territory"]["reason"].startswith("Works in")
    es = matching.client.get(
        "/v1/matches", params={"organization_id": requester}, headers={"Accept-Language": "es-MX,en;q=0.5"}
    )
    assert es.json()["items"][0]["evidence"]["territory"]["reason"].startswith("Trabaja en")


def test_errors_name_the_field(registry: RunningRegistry, matching: RunningMatching) -> None:
    requester = register(registry, REQUESTER)
    for p in (SONORA_MICRO, PERU_MICRO, SONORA_NOTHING):
        register(registry, p)
    ready_with(matching, requester, 3)

    unknown = matches(matching, organization_id="01a20a46-0000-7000-8000-000000000000")
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("application/problem+json")
    assert unknown.json()["errors"][0]["field"] == "organization_id"

    bad_mode = matches(matching, organization_id=requester, mode="bogus")
    assert bad_mode.status_code == 422
    assert bad_mode.json()["errors"][0]["field"].endswith("mode")

    bad_country = matches(matching, organization_id=requester, country="XX")
    assert bad_country.status_code == 422 and bad_country.json()["errors"][0]["field"] == "country.0"

    first = matches(matching, organization_id=requester, limit=1).json()
    assert first["next_cursor"]
    second = matches(matching, organization_id=requester, limit=1, cursor=first["next_cursor"]).json()
    assert second["items"][0]["rank"] == 2
    cursor = first["next_cursor"]
    tampered = cursor[:-2] + ("00" if not cursor.endswith("00") else "11")
    for bad in (tampered, "garbage", "a.b"):
        resp = matches(matching, organization_id=requester, limit=1, cursor=bad)
        assert resp.status_code == 400, bad
        assert resp.json()["errors"][0]["field"] == "cursor"
    # A cursor of another query (another mode) is refused too.
    other = matches(matching, organization_id=requester, limit=1, mode="similar", cursor=cursor)
    assert other.status_code == 400

    neither = matching.client.get("/v1/matches")
    assert neither.status_code == 422
    huge = matches(matching, organization_id=requester, limit=10_000)
    assert huge.status_code == 422 and huge.json()["errors"][0]["field"] == "limit"
    search = matching.client.post("/v1/matches:search", json={"need": "x"})
    assert search.status_code == 422 and search.json()["errors"][0]["field"] == "need"
    search = matching.client.post(
        "/v1/matches:search", json={"need": "microcrédito", "place": {"subdivision": "ZZ-99"}}
    )
    assert search.status_code == 422 and search.json()["errors"][0]["field"] == "place.subdivision"
    search = matching.client.post("/v1/matches:search", json={"need": "microcrédito", "place": "MX-SON"})
    assert (
        search.status_code == 200 and search.json()["items"][0]["candidate"]["name"] == "Microcréditos Sonora"
    )
    search = matching.client.post("/v1/matches:search", json={"need": "microcrédito", "place": "QQ"})
    assert search.status_code == 422 and search.json()["errors"][0]["field"] == "place.country"


def test_feedback_dismissal_and_acceptance_rates(
    registry: RunningRegistry, matching: RunningMatching
) -> None:
    requester = register(registry, REQUESTER)
    ids = {
        p["identity"]["legal_name"]: register(registry, p) for p in (SONORA_MICRO, PERU_MICRO, SONORA_NOTHING)
    }
    ready_with(matching, requester, 3)
    # Feedback checks the organizations against the database read model, written by the durable
    # consumer (the ranking above came from the worker's memory, which may be ahead of it).
    db = matching.app.state.runtime.db

    def in_snapshot() -> bool:
        with db.read_session() as session:
            return all(session.get(Candidate, i) is not None for i in [requester, *ids.values()])

    wait_until(in_snapshot, message="read model written")
    post = matching.client.post
    missing_reason = post(
        "/v1/matches/feedback",
        json={"requester_id": requester, "candidate_id": ids["Deportes Sonora"], "verdict": "not_relevant"},
    )
    assert missing_reason.status_code == 422
    unknown = post(
        "/v1/matches/feedback",
        json={"requester_id": requester, "candidate_id": "nope", "verdict": "contacted"},
    )
    assert unknown.status_code == 404 and unknown.json()["errors"][0]["field"] == "candidate_id"
    dismissed = post(
        "/v1/matches/feedback",
        json={
            "requester_id": requester,
            "candidate_id": ids["Deportes Sonora"],
            "verdict": "not_relevant",
            "reason": "no ofrece lo que necesitamos",
        },
    )
    assert dismissed.status_code == 201
    contacted = post(
        "/v1/matches/feedback",
        json={
            "requester_id": requester,
            "candidate_id": ids["Microcréditos Sonora"],
            "verdict": "contacted",
            "mode": "complementary",
        },
    )
    assert contacted.status_code == 201
    assert "Deportes Sonora" not in names(matches(matching, organization_id=requester).json())
    stats = matching.client.get("/v1/matches/feedback/stats", params={"requester_id": requester}).json()
    assert stats["marked"] == 2 and stats["contacted"] == 1 and stats["acceptance_rate"] == 0.5
    assert stats["not_relevant_reasons"] == {"no ofrece lo que necesitamos": 1}


@pytest.mark.parametrize("blocking", ["high_risk", "blocking_flag"])
def test_a_blocked_organization_disappears_within_seconds(
    registry: RunningRegistry, matching: RunningMatching, blocking: str
) -> None:
    requester = register(registry, REQUESTER)
    risky = register(registry, SONORA_MICRO)
    ready_with(matching, requester, 1)
    if blocking == "high_risk":
        env = rating_event(risky, "high", rated_at=datetime.now(UTC))
    else:  # a red flag (e.g. after a confirmed screening hit)
        data = {
            "organization_id": risky,
            "level": "red",
            "blocking": True,
            "changed_at": datetime.now(UTC).isoformat(),
        }
        env = event("duediligence.flag.changed.v1", data, subject=f"organization/{risky}")

    async def publish() -> None:
        nc = await nats.connect(matching.settings.nats_url)
        await nc.jetstream().publish(env.type, env.to_bytes(), headers={"Nats-Msg-Id": env.id})
        await nc.close()

    asyncio.run(publish())
    wait_until(
        lambda: "Microcréditos Sonora" not in names(matches(matching, organization_id=requester).json()),
        timeout=5,
        message="blocked candidate gone",
    )
    shown = matches(matching, organization_id=requester, include_blocked="true").json()
    assert shown["items"][0]["candidate"]["blocked_reasons"] == [blocking]


def test_org_editors_ask_for_allies_of_their_own_organizations(
    registry: RunningRegistry, matching: RunningMatching
) -> None:
    requester = register(registry, REQUESTER)
    other = register(registry, SONORA_MICRO)
    ready_with(matching, requester, 1)
    with service_client(matching.url, matching.settings, principal=scoped(ORG_EDITOR, [requester])) as editor:
        assert editor.get("/v1/matches", params={"organization_id": requester}).status_code == 200
        assert editor.get("/v1/matches", params={"organization_id": other}).status_code == 403
        mark = {"requester_id": other, "candidate_id": requester, "verdict": "contacted"}
        assert editor.post("/v1/matches/feedback", json=mark).status_code == 403
        assert editor.get("/v1/matches/feedback/stats").status_code == 403

"""The authorization matrix, end to end: every route × every role through the real gateway, in front of
the real services (real NATS, real database, real HTTP).

One row per route: who may call it. A row's roles get a response that is not a refusal (the service may
still answer 404 or 422 to the test's deliberately empty bodies); every other role gets the gateway's 403,
and callers without credentials its 401. New routes get new rows; a route without a row is open to
``admin`` only (checked by the last rows).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tejido_common.natsserver import NatsServer
from tejido_common.testing import DatabaseTarget, ServerThread, wait_until
from tejido_duediligence.app import create_app as create_duediligence
from tejido_duediligence.settings import DuediligenceSettings
from tejido_gateway.testing import RunningGateway, running_gateway
from tejido_matching.app import create_app as create_matching
from tejido_matching.settings import MatchingSettings
from tejido_registry.testing import org_body, registry_settings, running_registry
from tejido_reporting.app import create_app as create_reporting
from tejido_reporting.settings import ReportingSettings

ADMIN, OPERATOR, ORG_EDITOR, REVIEWER, FUNDER = "admin", "operator", "org_editor", "reviewer", "funder"
ANONYMOUS = "anonymous"
ROLES = (ADMIN, OPERATOR, ORG_EDITOR, REVIEWER, FUNDER)
EVERYONE = frozenset(ROLES)
PUBLIC = EVERYONE | {ANONYMOUS}
STAFF = frozenset({ADMIN, OPERATOR})
MISSING = "00000000-0000-0000-0000-000000000000"


@dataclass(frozen=True)
class Row:
    method: str
    path: str  # {A}: the org_editor's organization; {B}: another one
    allowed: frozenset[str]
    body: Any = None
    content_type: str = "application/json"


def row(method: str, path: str, allowed: set[str] | frozenset[str], body: Any = None, **kw: Any) -> Row:
    return Row(method, path, frozenset(allowed) | {ADMIN}, body, **kw)


MATRIX: tuple[Row, ...] = (
    # registry: public profile reads
    row("GET", "/v1/organizations", PUBLIC),
    row("GET", "/v1/organizations/{A}", PUBLIC),
    row("GET", "/v1/organizations/{B}/purpose", PUBLIC),
    row("GET", "/v1/organizations/{A}/alliances", EVERYONE),
    row("GET", "/v1/organizations:export", EVERYONE),
    # restricted: key people and history, org_editors for their own organizations only
    row("GET", "/v1/organizations/{A}/people", {OPERATOR, REVIEWER, ORG_EDITOR}),
    row("GET", "/v1/organizations/{B}/people", {OPERATOR, REVIEWER}),
    row("PUT", "/v1/organizations/{A}/people", {OPERATOR, ORG_EDITOR}, {"people": "not a list"}),
    row("PUT", "/v1/organizations/{B}/people", {OPERATOR}, {"people": "not a list"}),
    row("GET", "/v1/organizations/{A}/history", {OPERATOR, REVIEWER, ORG_EDITOR}),
    row("GET", "/v1/organizations/{B}/history", {OPERATOR, REVIEWER}),
    # registry: writes
    row("PATCH", "/v1/organizations/{A}", {OPERATOR, ORG_EDITOR}, {"identity": {"legal_name": ""}}),
    row("PATCH", "/v1/organizations/{B}", {OPERATOR}, {"identity": {"legal_name": ""}}),
    row("PUT", "/v1/organizations/{A}/purpose", {OPERATOR, ORG_EDITOR}, {"program_areas": ["??"]}),
    row("PUT", "/v1/organizations/{B}/purpose", {OPERATOR}, {"program_areas": ["??"]}),
    row("POST", "/v1/organizations", STAFF, {}),
    row("POST", "/v1/organizations:import", STAFF, "legal_name\n", content_type="text/csv"),
    row("POST", f"/v1/organizations/{MISSING}:archive", STAFF),
    row("GET", "/v1/alliances", EVERYONE),
    row("GET", f"/v1/alliances/{MISSING}", EVERYONE),
    row("POST", "/v1/alliances", STAFF, {}),
    row("POST", f"/v1/alliances/{MISSING}:transition", STAFF, {"to_stage": "prospecting"}),
    # matching
    row("GET", "/v1/matches?organization_id={A}", {OPERATOR, ORG_EDITOR}),
    row("GET", "/v1/matches?organization_id={B}", {OPERATOR}),  # org_editors: their own only
    row("POST", "/v1/match-runs", STAFF, {}),
    row("GET", "/v1/match-runs", STAFF),
    # due diligence
    row("GET", "/v1/assessments?organization_id={A}", {OPERATOR, REVIEWER, ORG_EDITOR}),
    row("GET", "/v1/assessments?organization_id={B}", {OPERATOR, REVIEWER}),
    row("POST", "/v1/assessments", {REVIEWER, ORG_EDITOR}, {}),
    row("GET", "/v1/frameworks", EVERYONE),
    row("POST", "/v1/frameworks", {REVIEWER}, {}),
    row("GET", "/v1/screening/hits", {REVIEWER}),
    row("POST", "/v1/screening/hits/x:confirm", {REVIEWER}, {}),
    row("GET", "/v1/flags", {REVIEWER}),
    row("GET", "/v1/watchlists", {REVIEWER}),
    row("GET", "/v1/audit", {REVIEWER}),
    row("GET", "/v1/ratings", EVERYONE),
    row("POST", "/v1/ratings/x:override", {REVIEWER}, {}),
    # reporting
    row("GET", "/v1/indicators", EVERYONE),
    row("POST", "/v1/indicators", STAFF, {}),
    row("GET", "/v1/observations", EVERYONE),
    row("POST", "/v1/observations", {OPERATOR, ORG_EDITOR}, {}),
    row("GET", "/v1/targets", EVERYONE),
    row("POST", "/v1/targets", STAFF, {}),
    row("GET", "/v1/reports", EVERYONE),
    row("POST", "/v1/reports", STAFF, {}),
    # the gateway's own resources
    row("GET", "/v1/me", EVERYONE),
    row("GET", "/v1/keys", set()),
    row("POST", "/v1/keys", set(), {"name": "x", "role": "funder"}),
    row("GET", "/v1/webhooks", {OPERATOR, FUNDER}),
    # routes nobody wrote a rule for: admin only
    row("DELETE", "/v1/organizations/{A}", set()),
    row("GET", "/v1/organizations/{A}/people/", set()),
)


@dataclass
class Platform:
    gateway: RunningGateway
    org_a: str
    org_b: str
    keys: dict[str, str]  # role → API key ("" for anonymous)


@contextlib.contextmanager
def service(app: Any) -> Iterator[str]:
    with ServerThread(app) as server:
        wait_until(
            lambda: httpx.get(f"{server.url}/readyz", timeout=5).status_code == 200, message="service ready"
        )
        yield server.url


@contextlib.contextmanager
def platform(data_dir: Path, nats: NatsServer, target: DatabaseTarget) -> Iterator[Platform]:
    """The gateway in front of the registry (on the test's database) and the other services (SQLite:
    what matters here is who gets through the gateway)."""
    common: dict[str, Any] = {"data_dir": data_dir, "nats_url": nats.url, "log_level": "WARNING"}
    with (
        running_registry(registry_settings(data_dir, nats.url, target)) as registry,
        service(create_matching(MatchingSettings(**common))) as matching,
        service(create_duediligence(DuediligenceSettings(**common))) as duediligence,
        service(create_reporting(ReportingSettings(**common))) as reporting,
        running_gateway(
            data_dir,
            nats.url,
            registry_url=registry.url,
            matching_url=matching,
            duediligence_url=duediligence,
            reporting_url=reporting,
        ) as gw,
        gw.client() as admin,
    ):
        a = admin.post("/v1/organizations", json=org_body("Grupo Conciencia"))
        b = admin.post(
            "/v1/organizations", json=org_body("Red LASES", where={"country": "AR", "subdivisions": []})
        )
        assert a.status_code == 201 and b.status_code == 201, (a.text, b.text)
        org_a, org_b = a.json()["id"], b.json()["id"]
        keys = {role: gw.new_key(role, [org_a] if role == ORG_EDITOR else []) for role in ROLES}
        keys[ANONYMOUS] = ""
        yield Platform(gw, org_a, org_b, keys)


def refused_as_expected(response: httpx.Response, role: str) -> bool:
    expected = 401 if role == ANONYMOUS else 403
    return (
        response.status_code == expected
        and response.headers.get("content-type") == "application/problem+json"
        and response.json()["status"] == expected
    )


def test_every_route_for_every_role(
    data_dir: Path, nats_server: NatsServer, db_target: DatabaseTarget
) -> None:
    wrong: list[str] = []
    with platform(data_dir, nats_server, db_target) as p:
        clients = {role: p.gateway.client(key) for role, key in p.keys.items()}
        try:
            for r in MATRIX:
                path = r.path.format(A=p.org_a, B=p.org_b)
                content = None
                if r.body is not None:
                    content = (
                        r.body.encode()
                        if isinstance(r.body, str)
                        else httpx.Request("POST", "http://x", json=r.body).content
                    )
                for role, client in clients.items():
                    headers = {"Content-Type": r.content_type} if content is not None else {}
                    response = client.request(r.method, path, content=content, headers=headers)
                    if role in r.allowed:
                        ok = response.status_code not in (401, 403) and response.status_code < 500
                    else:
                        ok = refused_as_expected(response, role)
                    if not ok:
                        verdict = "allowed" if role in r.allowed else "refused"
                        wrong.append(
                            f"{r.method} {r.path} as {role}: expected {verdict}, got {response.status_code}"
                        )
        finally:
            for client in clients.values():
                client.close()
    assert not wrong, "\n".join(wrong)


def test_history_names_the_key_and_org_editors_stay_in_their_organizations(
    data_dir: Path, nats_server: NatsServer, db_target: DatabaseTarget
) -> None:
    with platform(data_dir, nats_server, db_target) as p:
        editor_key = p.keys[ORG_EDITOR]
        with p.gateway.client(editor_key) as editor, p.gateway.client() as admin:
            me = editor.get("/v1/me").json()
            assert (me["role"], me["organizations"]) == (ORG_EDITOR, [p.org_a])
            changed = editor.patch(
                f"/v1/organizations/{p.org_a}", json={"purpose": {"mission": "Agua limpia"}}
            )
            assert changed.status_code == 200, changed.text
            other = editor.patch(f"/v1/organizations/{p.org_b}", json={"purpose": {"mission": "x"}})
            assert other.status_code == 403
            assert admin.get(f"/v1/organizations/{p.org_b}").json()["purpose"].get("mission") != "x"
            history = admin.get(f"/v1/organizations/{p.org_a}/history").json()["items"]
            assert history[0]["actor"] == f"key:{me['id']}"
            # The admin key that registered both organizations is named too, not left empty.
            assert history[-1]["actor"].startswith("key:k_")
            # A client-supplied request id is a correlation id, never an identity.
            spoofed = editor.patch(
                f"/v1/organizations/{p.org_a}",
                json={"purpose": {"mission": "Agua"}},
                headers={"X-Request-ID": "admin", "X-Tejido-Principal": "forged"},
            )
            assert spoofed.status_code == 200
            latest = admin.get(f"/v1/organizations/{p.org_a}/history").json()["items"][0]
            assert (latest["actor"], latest["correlation_id"]) == (f"key:{me['id']}", "admin")


def test_credentials_and_cross_site_writes(
    data_dir: Path, nats_server: NatsServer, db_target: DatabaseTarget
) -> None:
    with platform(data_dir, nats_server, db_target) as p, p.gateway.client("") as anonymous:
        people = anonymous.get(f"/v1/organizations/{p.org_a}/people")
        assert people.status_code == 401 and people.headers["www-authenticate"].startswith("Bearer")
        # Unknown, malformed or revoked keys: 401 problems naming the header, never the key.
        for bad in ("tjd_000000000000_" + "x" * 43, "tjd_nonsense", "Basic dXNlcjpwYXNz"):
            header = bad if bad.startswith("Basic") else f"Bearer {bad}"
            r = anonymous.get("/v1/organizations", headers={"Authorization": header})
            assert r.status_code == 401, r.text
            assert r.json()["errors"][0]["field"] == "headers.Authorization"
            assert "x" * 43 not in r.text
        funder_key = p.keys[FUNDER]
        with p.gateway.client() as admin:
            funder_id = admin.get("/v1/me", headers={"Authorization": f"Bearer {funder_key}"}).json()["id"]
            assert admin.post(f"/v1/keys/{funder_id}:revoke").status_code == 200
            listed = {k["id"]: k for k in admin.get("/v1/keys").json()["items"]}
            assert listed[funder_id]["revoked_at"] and listed[funder_id]["last_used_at"]
            assert all("key" not in k and "secret_sha256" not in k for k in listed.values())
        revoked = anonymous.get("/v1/organizations", headers={"Authorization": f"Bearer {funder_key}"})
        assert revoked.status_code == 401 and "revoked" in revoked.json()["detail"]
        # The cross-site import a web page could make through a visitor's browser: no credentials, and
        # a "simple" content type. Refused without credentials, and refused with them too.
        csv = "legal_name,actor_type,country\nForja,cso,MX\n"
        plain = {"Content-Type": "text/plain"}
        assert (
            anonymous.post("/v1/organizations:import?format=csv", content=csv, headers=plain).status_code
            == 401
        )
        with p.gateway.client() as admin:
            r = admin.post("/v1/organizations:import?format=csv", content=csv, headers=plain)
            assert r.status_code == 415 and r.json()["errors"][0]["field"] == "headers.Content-Type"
            assert admin.get("/v1/organizations", params={"q": "Forja"}).json()["items"] == []


@pytest.mark.parametrize(
    "origin,allowed", [("https://app.tejido.example", True), ("https://evil.example", False)]
)
def test_cors_allow_list_and_security_headers(
    data_dir: Path, nats_server: NatsServer, origin: str, allowed: bool
) -> None:
    with (
        running_gateway(data_dir, nats_server.url, cors_allow_origins=["https://app.tejido.example"]) as gw,
        gw.client("") as client,
    ):
        preflight = client.options(
            "/v1/organizations",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type",
            },
        )
        assert (preflight.headers.get("access-control-allow-origin") == origin) is allowed
        assert "access-control-allow-credentials" not in preflight.headers  # never cookies
        r = client.get("/v1/me", headers={"Origin": origin})
        assert r.status_code == 401
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
        assert "default-src 'none'" in r.headers["content-security-policy"]
        assert (r.headers.get("access-control-allow-origin") == origin) is allowed

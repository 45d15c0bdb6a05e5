"""The gateway's signed principal: services trust it and nothing else."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, Depends
from pydantic import SecretStr

from tejido_common.context import current_actor
from tejido_common.identity import (
    ORG_EDITOR,
    PRINCIPAL_HEADER,
    REVIEWER,
    InvalidIdentity,
    Principal,
    current_principal,
    load_internal_secret,
    require_organization,
    require_role,
    scoped,
    sign_principal,
    verify_principal,
)
from tejido_common.runtime import build_app
from tejido_common.settings import ServiceSettings
from tejido_common.testing import ServerThread, service_client

SECRET = b"s" * 40
KEY = Principal(id="k_abc", kind="key", role="operator", name="importer")


def test_signed_principal_round_trips() -> None:
    header = sign_principal(KEY, SECRET, "post", "/v1/organizations")
    assert verify_principal(header, SECRET, "POST", "/v1/organizations") == KEY


@pytest.mark.parametrize(
    "tamper",
    [
        lambda h: h[:-2] + ("AA" if not h.endswith("AA") else "BB"),  # signature changed
        lambda h: "e30" + h[h.index(".") :],  # payload swapped for {}
        lambda h: "",  # missing
        lambda h: h.split(".")[0],  # signature dropped
    ],
)
def test_tampered_headers_are_refused(tamper: Any) -> None:
    header = sign_principal(KEY, SECRET, "GET", "/v1/x")
    with pytest.raises(InvalidIdentity):
        verify_principal(tamper(header), SECRET, "GET", "/v1/x")


def test_header_is_bound_to_secret_request_and_time() -> None:
    header = sign_principal(KEY, SECRET, "GET", "/v1/organizations/a", now=1000)
    verify_principal(header, SECRET, "GET", "/v1/organizations/a", now=1000)
    with pytest.raises(InvalidIdentity):
        verify_principal(header, b"t" * 40, "GET", "/v1/organizations/a", now=1000)
    with pytest.raises(InvalidIdentity):
        verify_principal(header, SECRET, "DELETE", "/v1/organizations/a", now=1000)
    with pytest.raises(InvalidIdentity):
        verify_principal(header, SECRET, "GET", "/v1/organizations/b", now=1000)
    with pytest.raises(InvalidIdentity):
        verify_principal(header, SECRET, "GET", "/v1/organizations/a", now=1000 + 3600)


def test_secret_file_is_shared_by_processes_on_one_data_dir(tmp_path: Path) -> None:
    first = load_internal_secret(ServiceSettings(data_dir=tmp_path))
    assert first == load_internal_secret(ServiceSettings(data_dir=tmp_path))
    assert len(first) >= 32
    assert (tmp_path / "internal-secret").stat().st_mode & 0o077 == 0
    configured = ServiceSettings(data_dir=tmp_path, internal_secret=SecretStr("x" * 32))
    assert load_internal_secret(configured) == b"x" * 32
    with pytest.raises(ValueError, match="at least 32"):
        load_internal_secret(ServiceSettings(data_dir=tmp_path, internal_secret=SecretStr("short")))


def test_scope_rules() -> None:
    editor = scoped(ORG_EDITOR, ["org-a"])
    assert editor.may_act_for("org-a") and not editor.may_act_for("org-b")
    assert not scoped(ORG_EDITOR).may_act_for("org-a")
    assert scoped("operator").may_act_for("org-b")
    assert not Principal(id="anonymous", kind="anonymous").may_act_for("org-a")


def _service(tmp_path: Path) -> tuple[ServiceSettings, Any]:
    settings = ServiceSettings(data_dir=tmp_path, log_level="WARNING")
    router = APIRouter()

    @router.get("/v1/whoami")
    def whoami() -> dict[str, Any]:
        principal = current_principal()
        return {"actor": current_actor(), "role": principal.role, "orgs": list(principal.organizations)}

    @router.post("/v1/reviews", dependencies=[Depends(require_role(REVIEWER))])
    def review() -> dict[str, str]:
        return {"ok": "yes"}

    @router.get("/v1/orgs/{org}/people")
    def people(org: str) -> dict[str, str]:
        require_organization(org)
        return {"org": org}

    return settings, build_app(settings, None, title="t", routers=[router])


def test_a_service_refuses_calls_without_the_gateways_signature(tmp_path: Path) -> None:
    settings, app = _service(tmp_path)
    with ServerThread(app) as server:
        with service_client(server.url, settings, principal=None) as outsider:
            r = outsider.get("/v1/whoami")
            assert r.status_code == 401
            assert r.headers["content-type"] == "application/problem+json"
            assert r.headers["www-authenticate"].startswith("Bearer")
            # A principal signed with a guessed secret, or copied onto another path, is refused too.
            forged = sign_principal(KEY, b"g" * 40, "GET", "/v1/whoami")
            assert outsider.get("/v1/whoami", headers={PRINCIPAL_HEADER: forged}).status_code == 401
            other = sign_principal(KEY, load_internal_secret(settings), "GET", "/v1/other")
            assert outsider.get("/v1/whoami", headers={PRINCIPAL_HEADER: other}).status_code == 401
            assert outsider.get("/healthz").status_code == 200  # probes stay open
        with service_client(server.url, settings) as admin:
            assert admin.get("/v1/whoami").json() == {
                "actor": "service:test-admin",
                "role": "admin",
                "orgs": [],
            }
            assert admin.post("/v1/reviews").status_code == 200
        with httpx.Client(base_url=server.url, timeout=10) as raw:
            good = sign_principal(KEY, load_internal_secret(settings), "GET", "/v1/whoami")
            assert raw.get("/v1/whoami", headers={PRINCIPAL_HEADER: good}).json()["actor"] == "key:k_abc"


def test_role_and_scope_helpers_answer_401_and_403(tmp_path: Path) -> None:
    settings, app = _service(tmp_path)
    anonymous = Principal(id="anonymous", kind="anonymous")
    with ServerThread(app) as server:
        with service_client(server.url, settings, principal=anonymous) as c:
            assert c.post("/v1/reviews").status_code == 401
            assert c.get("/v1/orgs/a/people").status_code == 401
        with service_client(server.url, settings, principal=scoped("funder")) as c:
            r = c.post("/v1/reviews")
            assert r.status_code == 403 and r.json()["type"].endswith("/forbidden")
        with service_client(server.url, settings, principal=scoped(REVIEWER)) as c:
            assert c.post("/v1/reviews").status_code == 200
        with service_client(server.url, settings, principal=scoped(ORG_EDITOR, ["a"])) as c:
            assert c.get("/v1/orgs/a/people").status_code == 200
            assert c.get("/v1/orgs/b/people").status_code == 403

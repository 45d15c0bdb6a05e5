"""The HTTP surface over a real server and NATS: problem documents naming the field, uploads, frameworks,
override refusal and audit verification."""

from __future__ import annotations

from tejido_common.identity import ORG_EDITOR, scoped
from tejido_common.testing import service_client
from tejido_duediligence.testing import RunningDuediligence, finalized_assessment, known_organization

ORG = "01a20a4c-8a2f-7272-a847-97fc09c6c5be"


def test_frameworks_are_listable(service: RunningDuediligence) -> None:
    c = service.client
    listed = c.get("/v1/frameworks").json()
    assert [(f["id"], f["version"]) for f in listed] == [("dd-default", "2026.1")]
    assert listed[0]["questions"] >= 40
    framework = c.get("/v1/frameworks/dd-default").json()
    assert framework["dimensions"][0]["questions"][0]["text"]["es"]
    missing = c.get("/v1/frameworks/dd-default", params={"version": "1999.1"})
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"


def test_unknown_organization_and_bad_bodies_are_problems(service: RunningDuediligence) -> None:
    c = service.client
    unknown = c.post("/v1/assessments", json={"organization_id": ORG, "kind": "self"})
    assert unknown.status_code == 404 and unknown.json()["type"].endswith("/unknown-organization")
    bad = c.post("/v1/assessments", json={"organization_id": ORG, "kind": "friend"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "kind"
    malformed = c.post("/v1/assessments", content=b"{", headers={"content-type": "application/json"})
    assert malformed.status_code == 400


def test_evidence_upload_over_http(service: RunningDuediligence) -> None:
    c = service.client
    known_organization(service.domains, ORG, "Grupo Conciencia")
    a = c.post("/v1/assessments", json={"organization_id": ORG, "kind": "self"}).json()
    url = f"/v1/assessments/{a['id']}/answers/LEG-1/evidence"
    ok = c.post(
        url, files={"file": ("acta.pdf", b"%PDF-1.4\n", "application/pdf")}, data={"description": "acta"}
    )
    assert ok.status_code == 201, ok.text
    assert ok.json()["size"] == 9 and len(ok.json()["sha256"]) == 64
    download = c.get(f"/v1/assessments/{a['id']}/evidence/{ok.json()['id']}")
    assert download.content == b"%PDF-1.4\n" and download.headers["x-content-sha256"] == ok.json()["sha256"]
    exe = c.post(url, files={"file": ("x.exe", b"MZ\x90\x00", "application/octet-stream")})
    assert exe.status_code == 415 and exe.json()["errors"][0]["field"] == "file"
    big = c.post(url, files={"file": ("big.pdf", b"%PDF-" + b"0" * 5000, "application/pdf")})
    assert big.status_code == 413
    huge = c.post(url, files={"file": ("huge.pdf", b"%PDF-" + b"0" * 200_000, "application/pdf")})
    assert huge.status_code == 413  # stopped by the body limit before it is read
    none = c.post(url, data={"description": "sin archivo"})
    assert none.status_code == 422 and none.json()["errors"][0]["field"] == "file"
    missing = c.post(
        f"/v1/assessments/{a['id']}/answers/ZZZ-1/evidence", files={"file": ("a.txt", b"hola", "text/plain")}
    )
    assert missing.status_code == 404


def test_override_without_justification_is_refused_over_http(service: RunningDuediligence) -> None:
    c = service.client
    known_organization(service.domains, ORG, "Grupo Conciencia")
    rating = c.get(f"/v1/assessments/{finalized_assessment(service.domains, ORG)}/rating").json()
    url = f"/v1/ratings/{rating['id']}:override"
    for body in (
        {"band": "high"},
        {"band": "high", "justification": "   "},
        {"band": "high", "justification": "no"},
    ):
        refused = c.post(url, json=body)
        assert refused.status_code == 422, body
        assert refused.json()["errors"][0]["field"] == "justification"
    assert c.get(f"/v1/ratings/{rating['id']}").json()["band"] == "low"  # nothing changed
    done = c.post(
        url, json={"band": "high", "justification": "Denuncia penal vigente contra el representante legal."}
    )
    assert done.status_code == 200
    assert (done.json()["band"], done.json()["computed_band"]) == ("high", "low")
    explain = c.get(f"/v1/assessments/{rating['assessment_id']}/rating/explain").json()
    assert explain["band"] == "low" and explain["improvements"] == []
    verify = c.get("/v1/audit/verify").json()
    assert verify == {"ok": True, "entries": 2, "head_hash": verify["head_hash"], "first_broken": None}


def test_out_of_range_numbers_are_422_not_500(service: RunningDuediligence) -> None:
    c = service.client
    r = c.get("/v1/audit", params={"after": 2**63})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.after"
    assert c.get("/v1/audit", params={"after": 0, "limit": 1}).json() == {"items": [], "next_after": None}


def test_flags_over_http(service: RunningDuediligence) -> None:
    c = service.client
    known_organization(service.domains, ORG, "Grupo Conciencia")
    body = {
        "organization_id": ORG,
        "category": "reputational",
        "title": "Nota de prensa",
        "reason": "Denuncia",
    }
    flag = c.post("/v1/flags", json=body)
    assert flag.status_code == 201 and flag.json()["level"] == "observation"
    url = f"/v1/flags/{flag.json()['id']}:transition"
    skip = c.post(url, json={"to": "red", "reason": "directo"})
    assert skip.status_code == 409 and skip.json()["errors"][0]["field"] == "to"
    silent = c.post(url, json={"to": "yellow", "reason": "  "})
    assert silent.status_code == 422 and silent.json()["errors"][0]["field"] == "reason"
    assert c.post("/v1/flags", json=body | {"level": "red"}).status_code == 422  # red only by escalation
    assert (
        c.post(url, json={"to": "yellow", "reason": "Riesgo confirmado por dos fuentes"}).status_code == 200
    )
    state = c.get(f"/v1/flags/organizations/{ORG}").json()
    assert state["blocking"] is False and state["flags"][0]["history"][-1]["reason"].startswith("Riesgo")


def test_org_editors_work_only_on_their_own_self_assessments(service: RunningDuediligence) -> None:
    other = "01a20a4c-8a2f-7272-a847-97fc09c6c5bf"
    known_organization(service.domains, ORG, "Grupo Conciencia")
    known_organization(service.domains, other, "Red LASES")
    admin = service.client
    reviewed = admin.post("/v1/assessments", json={"organization_id": ORG, "kind": "reviewer"}).json()
    others = admin.post("/v1/assessments", json={"organization_id": other, "kind": "self"}).json()
    with service_client(service.url, service.settings, principal=scoped(ORG_EDITOR, [ORG])) as editor:
        own = editor.post("/v1/assessments", json={"organization_id": ORG, "kind": "self"})
        assert own.status_code == 201, own.text
        own_id = own.json()["id"]
        assert editor.get(f"/v1/assessments/{own_id}").status_code == 200
        listed = editor.get("/v1/assessments", params={"organization_id": ORG}).json()
        assert [a["id"] for a in listed] == [own_id]  # not the reviewer's assessment of it
        # Another organization's draft, a reviewer assessment, everything at once: refused.
        assert editor.get(f"/v1/assessments/{others['id']}").status_code == 403
        assert editor.get(f"/v1/assessments/{reviewed['id']}").status_code == 403
        assert editor.get("/v1/assessments").status_code == 403
        assert editor.get("/v1/assessments", params={"organization_id": other}).status_code == 403
        assert (
            editor.post("/v1/assessments", json={"organization_id": ORG, "kind": "reviewer"}).status_code
            == 403
        )
        assert (
            editor.post(f"/v1/assessments/{own_id}:transition", json={"to": "finalized"}).status_code == 403
        )

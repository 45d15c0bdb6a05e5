"""Screening over HTTP: list uploads (versions, per-row errors, refused files) and quick checks."""

from __future__ import annotations

from importlib import resources

from tejido_duediligence.testing import RunningDuediligence

CSV = (
    "name,aliases,kind,country,list_id\n"
    "Grameen de la Frontera A.C.,,organization,MX,csv-demo\n"
    "Sin País,,organization,Narnia,csv-demo\n"
).encode()


def test_upload_lists_and_check_names(service: RunningDuediligence) -> None:
    c = service.client
    xml = (resources.files("tejido_duediligence.screening") / "data" / "synthetic-un-sc.xml").read_bytes()
    loaded = c.post(
        "/v1/watchlists:import", files={"file": ("un.xml", xml, "application/xml")}, data={"list_id": "un-sc"}
    )
    assert loaded.status_code == 201, loaded.text
    assert loaded.json()["entries_loaded"] == 6 and loaded.json()["versions"][0]["seq"] == 1
    again = c.post(
        "/v1/watchlists:import", files={"file": ("un.xml", xml, "application/xml")}, data={"list_id": "un-sc"}
    )
    assert again.status_code == 200 and again.json()["unchanged"] == ["un-sc"]
    report = c.post("/v1/watchlists:import", files={"file": ("l.csv", CSV, "text/csv")}).json()
    assert report["entries_loaded"] == 1
    assert report["errors"] == [
        {"row": 3, "field": "country", "reason": "'Narnia' is not an ISO 3166-1 country"}
    ]
    assert sorted(w["list_id"] for w in c.get("/v1/watchlists").json()) == ["csv-demo", "un-sc"]
    assert [v["seq"] for v in c.get("/v1/watchlists/un-sc/versions").json()] == [1]
    assert c.get("/v1/watchlists/nope/versions").status_code == 404

    check = c.post("/v1/screening/checks", json={"name": "Grameen de la Frontera", "kind": "organization"})
    assert check.status_code == 200
    assert [(h["list_id"], h["score"]) for h in check.json()["hits"]] == [("csv-demo", 100.0)]
    person = c.post("/v1/screening/checks", json={"name": "Muhammad Yusuf Qaradimi", "kind": "person"}).json()
    assert [h["entry_ref"] for h in person["hits"]] == ["XXi.001"]
    fields = person["hits"][0]["matched_fields"][0]
    assert fields["field"] == "name" and {w["listed"] for w in fields["words"]} == {
        "muhammad",
        "yusuf",
        "qaradimi",
    }
    assert (
        c.post("/v1/screening/checks", json={"name": "Muhammad Yusuf", "kind": "person"}).json()["hits"] == []
    )


def test_bad_requests_are_problems_naming_the_field(service: RunningDuediligence) -> None:
    c = service.client
    for body, field in (
        ({"name": "  ", "kind": "person"}, "name"),
        ({"name": "X", "kind": "thing"}, "kind"),
        ({"name": "X", "kind": "person", "country": "Mexico"}, "country"),
        ({"name": "X", "kind": "person", "threshold": 5}, "threshold"),
    ):
        r = c.post("/v1/screening/checks", json=body)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == field, body
    broken = c.post(
        "/v1/watchlists:import", files={"file": ("un.xml", b"<CONSOLIDATED_LIST><ENTITY>", "application/xml")}
    )
    assert broken.status_code == 422 and broken.json()["errors"][0]["field"] == "file"
    binary = c.post("/v1/watchlists:import", files={"file": ("l.csv", b"\xff\xfe\x00\x01", "text/csv")})
    assert binary.status_code == 422 and "UTF-8" in binary.json()["detail"]
    no_header = c.post("/v1/watchlists:import", files={"file": ("l.csv", b"a,b\n1,2\n", "text/csv")})
    assert no_header.status_code == 422 and "name" in no_header.json()["detail"]
    bad_id = c.post(
        "/v1/watchlists:import", files={"file": ("l.csv", CSV, "text/csv")}, data={"list_id": "../x"}
    )
    assert bad_id.status_code == 422 and bad_id.json()["errors"][0]["field"] == "list_id"
    assert (
        c.post("/v1/screening/hits/nope:adjudicate", json={"decision": "dismiss", "reason": "x"}).status_code
        == 404
    )
    no_reason = c.post("/v1/screening/hits/nope:adjudicate", json={"decision": "dismiss", "reason": " "})
    assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["field"] == "reason"
    assert c.get("/v1/flags/organizations/unknown").status_code == 404

"""Screening on the database: list versions, hits for organizations and key people, adjudication,
re-screening on registry changes and new list versions, and bad list files."""

from __future__ import annotations

import pytest

from tejido_common.problems import Conflict, Unprocessable
from tejido_duediligence.app import Domains
from tejido_duediligence.screening.schemas import CheckRequest, Decision
from tejido_duediligence.testing import key_people, known_organization, outbox

ORG = "01a20a4c-8a2f-7272-a847-97fc09c6c5be"


def un_list(*entities: str, individuals: tuple[str, ...] = (), generated: str = "2026-11-01") -> bytes:
    ents = "".join(
        f"<ENTITY><DATAID>{i}</DATAID><FIRST_NAME>{name}</FIRST_NAME><REFERENCE_NUMBER>TSe.{i}</REFERENCE_NUMBER>"
        f"<ENTITY_ALIAS><QUALITY>Low</QUALITY><ALIAS_NAME>Frontera</ALIAS_NAME></ENTITY_ALIAS>"
        f"<ENTITY_ADDRESS><CITY>Tijuana</CITY><COUNTRY>Mexico</COUNTRY></ENTITY_ADDRESS></ENTITY>"
        for i, name in enumerate(entities, start=1)
    )
    people = "".join(
        f"<INDIVIDUAL><DATAID>{i}</DATAID><FIRST_NAME>{first}</FIRST_NAME><SECOND_NAME>{rest}</SECOND_NAME>"
        f"<REFERENCE_NUMBER>TSi.{i}</REFERENCE_NUMBER><NATIONALITY><VALUE>Jordan</VALUE></NATIONALITY>"
        f"<INDIVIDUAL_ALIAS><QUALITY>Good</QUALITY><ALIAS_NAME></ALIAS_NAME></INDIVIDUAL_ALIAS></INDIVIDUAL>"
        for i, (first, rest) in enumerate((p.split(" ", 1) for p in individuals), start=1)
    )
    return (
        f'<?xml version="1.0"?><CONSOLIDATED_LIST dateGenerated="{generated}">'
        f"<INDIVIDUALS>{people}</INDIVIDUALS><ENTITIES>{ents}</ENTITIES></CONSOLIDATED_LIST>"
    ).encode()


def load(domains: Domains, data: bytes, **kw: str) -> object:
    return domains.screening.load(data, filename="list.xml", content_type="application/xml", **kw)


def test_grameen_de_la_frontera_is_found_and_dismissed_stays_dismissed(domains: Domains) -> None:
    known_organization(domains, ORG, "Grameen de la Frontera", country="MX")
    report = domains.screening.load(
        un_list("GRAMEEN DE LA FRONTERA A.C."), filename="un.xml", content_type="application/xml"
    )
    assert [v.list_id for v in report.versions] == ["un-sc"] and report.rescreened is not None
    assert report.rescreened.new_hits == 1
    [hit] = domains.screening.hits(ORG, ["pending"], 10)
    assert (hit.entry_name, hit.score, hit.subject_kind) == (
        "GRAMEEN DE LA FRONTERA A.C.",
        100.0,
        "organization",
    )
    assert hit.matched[0]["listed"] == "GRAMEEN DE LA FRONTERA A.C."
    events = outbox(domains, "duediligence.screening.hit.v1")
    assert [e["data"]["hit_id"] for e in events] == [hit.id]
    dismissed = domains.screening.adjudicate(
        hit.id, Decision(decision="dismiss", reason="Homónimo: otra sede y RFC")
    )
    assert dismissed.status == "dismissed" and dismissed.flag_id is None
    # Re-screening against the same list version keeps the decision and queues nothing new.
    assert domains.screening.rescreen(ORG).new_hits == 0
    assert domains.screening.rescreen_all().new_hits == 0
    known_organization(domains, ORG, "GRAMEEN de la Frontera", country="MX", version=2)  # a registry rename
    assert [h.status for h in domains.screening.hits(ORG, [], 10)] == ["dismissed"]
    with pytest.raises(Conflict):
        domains.screening.adjudicate(hit.id, Decision(decision="confirm", reason="cambio de opinión"))
    # The same file again is no new version; a new version screens again (a new decision is due).
    again = domains.screening.load(
        un_list("GRAMEEN DE LA FRONTERA A.C."), filename="un.xml", content_type=None
    )
    assert again.versions == [] and again.unchanged == ["un-sc"]
    newer = domains.screening.load(
        un_list("GRAMEEN DE LA FRONTERA A.C.", "OTRA ENTIDAD S.A."), filename="un.xml", content_type=None
    )
    assert newer.versions[0].seq == 2 and newer.rescreened and newer.rescreened.new_hits == 1
    assert sorted(h.status for h in domains.screening.hits(ORG, [], 10)) == ["dismissed", "pending"]


def test_a_confirmed_hit_raises_a_red_flag_that_blocks(domains: Domains) -> None:
    known_organization(domains, ORG, "Grameen de la Frontera", country="MX")
    load(domains, un_list("GRAMEEN DE LA FRONTERA A.C."))
    [hit] = domains.screening.hits(ORG, ["pending"], 10)
    confirmed = domains.screening.adjudicate(
        hit.id, Decision(decision="confirm", reason="Mismo RFC y domicilio")
    )
    assert confirmed.status == "confirmed" and confirmed.flag_id
    flags = domains.flags.of_organization(ORG)
    assert flags.blocking and flags.flags[0].level == "red" and flags.flags[0].category == "sanctions_match"
    [changed] = [e["data"] for e in outbox(domains, "duediligence.flag.changed.v1")]
    assert (changed["organization_id"], changed["level"], changed["blocking"]) == (ORG, "red", True)
    actions = [e.action for e in domains.audit.page(None, 0, 10).items]
    assert actions == ["flag.changed", "screening.adjudicated"]
    assert "subject_name" not in domains.audit.page(None, 0, 10).items[1].payload  # no names in the log


def test_key_people_are_screened_when_the_registry_sends_them(domains: Domains) -> None:
    load(domains, un_list(individuals=("MOHAMMED YOUSEF QARADIMI",)))
    known_organization(domains, ORG, "Grupo Conciencia", country="MX")
    assert domains.screening.hits(ORG, [], 10) == []
    key_people(domains, ORG, ["Ana Example", "Muhammad Yusuf al-Qaradimi"])
    [hit] = domains.screening.hits(ORG, [], 10)
    assert (hit.subject_kind, hit.subject_name, hit.entry_ref) == (
        "person",
        "Muhammad Yusuf al-Qaradimi",
        "TSi.1",
    )
    # The same people again (a late or repeated event) adds nothing.
    key_people(domains, ORG, ["Ana Example", "Muhammad Yusuf al-Qaradimi"], version=2)
    assert len(domains.screening.hits(ORG, [], 10)) == 1


def test_checks_on_demand(domains: Domains) -> None:
    load(domains, un_list("GRAMEEN DE LA FRONTERA A.C.", individuals=("ALEKSANDR PETROVICH VOSTRIKOVSKIY",)))
    found = domains.screening.check(
        CheckRequest(name="Grameen de la Frontera", kind="organization", country="MX")
    )
    assert [h.entry_ref for h in found.hits] == ["TSe.1"] and found.threshold == 85.0
    other_country = domains.screening.check(
        CheckRequest(name="Grameen de la Frontera", kind="organization", country="GT")
    )
    assert other_country.hits == []
    person = domains.screening.check(CheckRequest(name="Alexander Vostrikovsky", kind="person", country="GT"))
    assert [h.entry_ref for h in person.hits] == ["TSi.1"]
    assert domains.screening.check(CheckRequest(name="Frontera", kind="organization")).hits[0].score == 100.0


def test_csv_lists_keep_valid_rows_and_report_bad_ones(domains: Domains) -> None:
    csv = (
        "name,aliases,kind,country,list_id\r\n"
        "Nebulosa Trading Corp.,Nebulosa Comercial S.A.|Grupo Nebulosa,organization,PA,demo\r\n"
        ",,organization,PA,demo\r\n"
        "Red Tizón Oscuro,,club,CO,demo\r\n"
        "Ximena Ortuño Belmontez,,person,Atlantis,demo\r\n"
        "Yusuf Karamurzayev,,person,KZ,other\r\n"
    ).encode()
    report = domains.screening.load(csv, filename="l.csv", content_type="text/csv")
    assert sorted((v.list_id, v.entries) for v in report.versions) == [("demo", 1), ("other", 1)]
    assert [(e.row, e.field) for e in report.errors] == [(3, "name"), (4, "kind"), (5, "country")]
    assert report.entries_loaded == 2


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"<CONSOLIDATED_LIST><ENTITIES><ENTITY>", "not a readable XML document"),
        (b"<OTHER_LIST/>", "expected CONSOLIDATED_LIST"),
        (
            b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b"<CONSOLIDATED_LIST>&x;</CONSOLIDATED_LIST>",
            "not a readable XML document",
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
            b"<CONSOLIDATED_LIST>&b;</CONSOLIDATED_LIST>",
            "not a readable XML document",
        ),
        (
            b"<CONSOLIDATED_LIST><ENTITIES><ENTITY><FIRST_NAME>X</FIRST_NAME></ENTITY></ENTITIES></CONSOLIDATED_LIST>",
            "no valid entry",
        ),
    ],
    ids=["truncated", "wrong root", "external entity", "entity expansion", "no valid record"],
)
def test_bad_xml_lists_are_refused_naming_the_file(domains: Domains, data: bytes, reason: str) -> None:
    with pytest.raises(Unprocessable) as refused:
        load(domains, data)
    assert refused.value.errors and refused.value.errors[0].field == "file"
    assert reason in (refused.value.detail + refused.value.errors[0].reason)
    assert domains.screening.watchlists() == []


def test_the_shipped_synthetic_lists_load_once(domains: Domains) -> None:
    reports = domains.screening.load_shipped()
    assert [(r.versions[0].list_id, r.entries_loaded, r.errors) for r in reports] == [
        ("un-sc-synthetic", 6, []),
        ("tejido-demo", 4, []),
    ]
    assert domains.screening.load_shipped() == []
    assert [w.list_id for w in domains.screening.watchlists()] == ["tejido-demo", "un-sc-synthetic"]


def test_a_pending_hit_on_a_name_the_organization_no_longer_carries_is_withdrawn_and_reopened_if_it_returns(
    domains: Domains,
) -> None:
    load(domains, un_list("GRAMEEN DE LA FRONTERA A.C.", individuals=("MOHAMMED YOUSEF QARADIMI",)))
    known_organization(domains, ORG, "Grameen de la Frontera", country="MX")
    key_people(domains, ORG, ["Muhammad Yusuf al-Qaradimi"])
    assert sorted(h.subject_kind for h in domains.screening.hits(ORG, ["pending"], 10)) == [
        "organization",
        "person",
    ]
    # Renamed and the listed person left: nothing is left for a reviewer to decide, but the record stays.
    known_organization(domains, ORG, "Grupo Conciencia Sonora", country="MX", version=2)
    key_people(domains, ORG, ["Ana Example"], version=2)
    assert domains.screening.hits(ORG, ["pending"], 10) == []
    withdrawn = domains.screening.hits(ORG, ["withdrawn"], 10)
    assert len(withdrawn) == 2 and all(h.reason and "no longer" in h.reason for h in withdrawn)
    assert [e.action for e in domains.audit.page(None, 0, 10).items].count("screening.withdrawn") == 2
    with pytest.raises(Conflict):
        domains.screening.adjudicate(withdrawn[0].id, Decision(decision="confirm", reason="tarde"))
    # The old name comes back as an alias: the same hit is pending again, not a second one.
    known_organization(domains, ORG, "Grupo Conciencia Sonora", aliases=["Grameen de la Frontera"], version=3)
    [reopened] = domains.screening.hits(ORG, ["pending"], 10)
    assert reopened.subject_kind == "organization" and reopened.id in {h.id for h in withdrawn}
    assert reopened.reason is None and len(domains.screening.hits(ORG, [], 10)) == 2

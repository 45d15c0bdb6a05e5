"""Flags (levels, who/why, blocking) and the hash-chained audit log (tampering is detected)."""

from __future__ import annotations

import itertools
import json

import pytest
from sqlalchemy import text

from tejido_common.problems import Conflict, NotFound
from tejido_duediligence.app import Domains
from tejido_duediligence.flags.schemas import FlagCreate, FlagTransition
from tejido_duediligence.testing import known_organization, outbox

ORG = "01a20a4c-8a2f-7272-a847-97fc09c6c5be"


def flag(domains: Domains, level: str = "observation") -> str:
    body = FlagCreate(
        organization_id=ORG,
        level=level,
        category="financial",
        title="Cuentas",
        reason="Estados sin auditar",  # type: ignore[arg-type]
    )
    return domains.flags.raise_flag(body).id


def test_flag_life_cycle_with_who_and_why_and_blocking(domains: Domains) -> None:
    known_organization(domains, ORG, "Grupo Conciencia")
    flag_id = flag(domains)
    with pytest.raises(Conflict):
        domains.flags.transition(flag_id, FlagTransition(to="red", reason="salto"))  # must escalate first
    for level in ("yellow", "escalated", "red"):
        domains.flags.transition(flag_id, FlagTransition(to=level, reason=f"motivo {level}"))  # type: ignore[arg-type]
    assert domains.flags.of_organization(ORG).blocking
    back = domains.flags.transition(flag_id, FlagTransition(to="yellow", reason="aclarado con el donante"))
    assert [(c.from_level, c.to_level) for c in back.history] == [
        (None, "observation"), ("observation", "yellow"), ("yellow", "escalated"), ("escalated", "red"),
        ("red", "yellow"),
    ]  # fmt: skip
    assert back.history[-1].reason == "aclarado con el donante" and back.history[-1].by == "anonymous"
    events = [e["data"] for e in outbox(domains, "duediligence.flag.changed.v1")]
    assert [(e["level"], e["blocking"]) for e in events] == [
        ("observation", False), ("yellow", False), ("escalated", False), ("red", True), ("yellow", False),
    ]  # fmt: skip
    closed = domains.flags.transition(flag_id, FlagTransition(to="closed", reason="resuelto"))
    assert closed.level == "closed"
    with pytest.raises(Conflict):
        domains.flags.transition(flag_id, FlagTransition(to="yellow", reason="reabrir"))


def test_flags_only_for_known_organizations(domains: Domains) -> None:
    with pytest.raises(NotFound):
        flag(domains)


def test_the_audit_chain_verifies_and_detects_tampering(domains: Domains) -> None:
    known_organization(domains, ORG, "Grupo Conciencia")
    flag_id = flag(domains)
    for level in ("yellow", "escalated", "red"):
        domains.flags.transition(flag_id, FlagTransition(to=level, reason=f"motivo {level}"))  # type: ignore[arg-type]
    ok = domains.audit.verify()
    assert ok.ok and ok.entries == 4 and ok.first_broken is None
    entries = domains.audit.page(None, 0, 10).items
    assert entries[0].prev_hash == "0" * 64
    assert all(e.prev_hash == p.hash for p, e in itertools.pairwise(entries))
    db = domains.directory.db
    with db.session() as session:  # someone rewrites the reason of entry 2 directly in the database
        payload = entries[1].payload | {"reason": "otro motivo"}
        session.execute(
            text("UPDATE audit_log SET payload = :p WHERE seq = 2"),
            {"p": json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)},
        )
    broken = domains.audit.verify()
    assert not broken.ok and broken.first_broken is not None
    assert broken.first_broken.seq == 2 and "hash" in broken.first_broken.reason
    assert broken.entries == 1


def test_the_audit_chain_detects_a_deleted_entry_and_a_cut_tail(domains: Domains) -> None:
    known_organization(domains, ORG, "Grupo Conciencia")
    flag_id = flag(domains)
    for level in ("yellow", "escalated"):
        domains.flags.transition(flag_id, FlagTransition(to=level, reason="motivo"))  # type: ignore[arg-type]
    db = domains.directory.db
    with db.session() as session:
        session.execute(text("DELETE FROM audit_log WHERE seq = 3"))
    tail = domains.audit.verify()
    assert not tail.ok and tail.first_broken is not None and tail.first_broken.seq == 3
    with db.session() as session:
        session.execute(text("DELETE FROM audit_log WHERE seq = 2"))
    gap = domains.audit.verify()
    assert not gap.ok and gap.first_broken is not None and gap.first_broken.seq == 2

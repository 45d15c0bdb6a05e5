"""Assessments (service tier): only known organizations, answers on the framework's scale, evidence,
the workflow with who/when, and finalization producing a published, audited rating."""

from __future__ import annotations

import hashlib

import pytest

from tejido_common.context import actor_var
from tejido_common.problems import Conflict, DomainError, NotFound, Unprocessable
from tejido_duediligence.app import Domains
from tejido_duediligence.assessments.schemas import AnswerPut, AssessmentCreate, Transition
from tejido_duediligence.testing import finalized_assessment, known_organization, outbox

ORG = "01a20a4c-8a2f-7272-a847-97fc09c6c5be"


def test_only_organizations_known_from_registry_events_can_be_assessed(domains: Domains) -> None:
    with pytest.raises(NotFound) as unknown:
        domains.assessments.create(AssessmentCreate(organization_id=ORG, kind="self"))
    assert unknown.value.status == 404 and unknown.value.code == "unknown-organization"
    known_organization(domains, ORG, "Grupo Conciencia")
    assert domains.assessments.create(AssessmentCreate(organization_id=ORG, kind="self")).status == "draft"
    known_organization(domains, ORG, "Grupo Conciencia", version=2, status="archived")
    with pytest.raises(Conflict) as archived:
        domains.assessments.create(AssessmentCreate(organization_id=ORG, kind="self"))
    assert archived.value.status == 409


def test_a_late_older_registry_event_never_overwrites_newer_state(domains: Domains) -> None:
    known_organization(domains, ORG, "Nuevo Nombre", version=3)
    known_organization(domains, ORG, "Viejo Nombre", version=2)
    assert domains.directory.get(ORG).legal_name == "Nuevo Nombre"


def test_answers_must_be_on_the_dimension_scale(domains: Domains) -> None:
    known_organization(domains, ORG, "Grupo Conciencia")
    a = domains.assessments.create(AssessmentCreate(organization_id=ORG, kind="self"))
    with pytest.raises(Unprocessable) as bad:
        domains.assessments.put_answer(a.id, "PSEA-1", AnswerPut(answer="low"))  # PSEA: absent…adequate
    assert bad.value.errors and bad.value.errors[0].field == "answer"
    with pytest.raises(NotFound):
        domains.assessments.put_answer(a.id, "NOPE-1", AnswerPut(answer="low"))
    view = domains.assessments.put_answer(a.id, "LEG-1", AnswerPut(answer="Medium"))
    assert [(x.question_id, x.answer, x.value) for x in view.answers] == [("LEG-1", "medium", 2)]
    assert "LEG-1" in view.missing_evidence and "LEG-4" not in view.missing_evidence


def test_workflow_records_who_and_when_and_refuses_skipping_steps(domains: Domains) -> None:
    known_organization(domains, ORG, "Grupo Conciencia")
    a = domains.assessments.create(AssessmentCreate(organization_id=ORG, kind="self"))
    with pytest.raises(Unprocessable) as missing:
        domains.assessments.transition(a.id, Transition(to="submitted"))
    assert missing.value.errors and missing.value.errors[0].field.startswith("answers.")
    framework = domains.catalog.get("dd-default")
    for dimension, question in framework.questions():
        label = "low" if dimension.rule == "hact" else "adequate"
        domains.assessments.put_answer(a.id, question.id, AnswerPut(answer=label))
    with pytest.raises(Conflict):
        domains.assessments.transition(a.id, Transition(to="finalized"))  # draft → finalized skips steps
    token = actor_var.set("ana@example.org")
    try:
        domains.assessments.transition(a.id, Transition(to="submitted"))
    finally:
        actor_var.reset(token)
    with pytest.raises(Unprocessable):
        domains.assessments.transition(a.id, Transition(to="draft"))  # returning needs a reason
    back = domains.assessments.transition(a.id, Transition(to="draft", reason="falta evidencia del registro"))
    steps = [(s.from_status, s.to_status, s.by) for s in back.workflow]
    assert steps == [
        (None, "draft", "anonymous"),
        ("draft", "submitted", "ana@example.org"),
        ("submitted", "draft", "anonymous"),
    ]
    assert back.workflow[-1].reason == "falta evidencia del registro"


def test_finalizing_publishes_the_rating_through_the_outbox_and_audits_it(domains: Domains) -> None:
    known_organization(domains, ORG, "Grupo Conciencia")
    assessment_id = finalized_assessment(domains, ORG, hact="medium")
    rating = domains.ratings.of_assessment(assessment_id)
    # Every question Medium: 2 points each, 4 for the 14 key ones: 128 points over 50 ≥ 2.5 × 50.
    result = rating.result["overall"]
    assert (result["points"], result["applicable"], rating.band) == (128, 50, "high")
    published = outbox(domains, "duediligence.rating.published.v1")
    assert len(published) == 1
    data = published[0]["data"]
    assert (
        data["organization_id"] == ORG and data["band"] == "high" and data["assessment_id"] == assessment_id
    )
    assert data["framework_version"] == "dd-default@2026.1" and data["overridden"] is False
    entries = domains.audit.page(None, 0, 10).items
    assert [e.action for e in entries] == ["rating.finalized"]
    assert domains.assessments.get(assessment_id).rating_id == rating.id
    with pytest.raises(Conflict):
        domains.assessments.put_answer(assessment_id, "LEG-1", AnswerPut(answer="low"))  # finalized is final


def test_evidence_is_type_and_size_limited_and_hashed(domains: Domains) -> None:
    known_organization(domains, ORG, "Grupo Conciencia")
    a = domains.assessments.create(AssessmentCreate(organization_id=ORG, kind="self"))
    pdf = b"%PDF-1.4\n% registro\n"
    evidence = domains.assessments.add_evidence(
        a.id, "LEG-1", filename="acta.pdf", content_type="application/pdf", data=pdf, description=None
    )
    assert evidence.sha256 == hashlib.sha256(pdf).hexdigest()
    meta, data = domains.assessments.evidence_file(a.id, evidence.id)
    assert data == pdf and meta.size == len(pdf)
    cases = [
        ("application/pdf", b"MZ\x90\x00 not a pdf", 415),
        ("application/x-msdownload", b"MZ\x90\x00", 415),
        ("text/plain", b"\xff\xfe\x00bad", 415),
        ("application/pdf", b"%PDF-" + b"x" * 5000, 413),  # the fixture allows 4096 bytes
    ]
    for content_type, body, status in cases:
        with pytest.raises(DomainError) as refused:
            domains.assessments.add_evidence(
                a.id, "LEG-1", filename="f", content_type=content_type, data=body, description=None
            )
        assert refused.value.status == status, content_type
        assert refused.value.errors and refused.value.errors[0].field == "file"

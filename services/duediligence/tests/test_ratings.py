"""Ratings on the database: overrides need a written justification (both bands kept), explain,
confidence from verified evidence, freshness and the expiry event."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from tejido_duediligence.app import Domains
from tejido_duediligence.assessments.schemas import AnswerPut, AssessmentCreate, Transition
from tejido_duediligence.kit.actor import utcnow
from tejido_duediligence.ratings.schemas import OverrideRequest
from tejido_duediligence.testing import finalized_assessment, known_organization, outbox

ORG = "01a20a4c-8a2f-7272-a847-97fc09c6c5be"


@pytest.mark.parametrize("justification", [None, "", "   ", "porque sí", " " * 30 + "ok"])
def test_an_override_without_a_written_justification_is_refused(justification: str | None) -> None:
    body = {"band": "low"} | ({"justification": justification} if justification is not None else {})
    with pytest.raises(ValidationError) as refused:
        OverrideRequest.model_validate(body)
    assert refused.value.errors()[0]["loc"] == ("justification",)


def test_an_override_keeps_the_computed_band_publishes_and_audits(domains: Domains) -> None:
    known_organization(domains, ORG, "Grupo Conciencia")
    rating = domains.ratings.of_assessment(finalized_assessment(domains, ORG, hact="low"))
    assert (rating.band, rating.computed_band, rating.override) == ("low", "low", None)
    why = "Investigación periodística de 2026 sobre desvío de fondos, pendiente de aclarar."
    overridden = domains.ratings.override(rating.id, OverrideRequest(band="significant", justification=why))
    assert (overridden.band, overridden.computed_band) == ("significant", "low")
    assert overridden.override is not None and overridden.override.justification == why
    events = outbox(domains, "duediligence.rating.published.v1")
    assert [(e["data"]["band"], e["data"]["overridden"]) for e in events] == [
        ("low", False),
        ("significant", True),
    ]
    assert events[1]["data"]["computed_band"] == "low"
    actions = [e.action for e in domains.audit.page(None, 0, 10).items]
    assert actions == ["rating.finalized", "rating.overridden"]
    assert domains.audit.page(None, 0, 10).items[1].payload["justification"] == why


def test_explain_of_a_stored_rating(domains: Domains) -> None:
    known_organization(domains, ORG, "Grupo Conciencia")
    # All Low except one key question High: 49 + 8 = 57 over 50 → Low ends below 72.5, still low.
    rating = domains.ratings.of_assessment(finalized_assessment(domains, ORG, overrides={"LEG-1": "high"}))
    assert rating.band == "low"
    assert domains.ratings.explain(rating.id).improvements == []
    known_organization(domains, "org-2", "Red LASES")
    risky = {q: "high" for q in ("LEG-1", "LEG-5", "GOV-1", "GOV-4", "FIN-1", "FIN-2", "FIN-3")}
    rating = domains.ratings.of_assessment(finalized_assessment(domains, "org-2", overrides=risky))
    # 43 Low (43) + 7 key High (7 × 8 = 56) = 99 over 50 → Significant (Medium ends below 95).
    assert (rating.result["overall"]["points"], rating.band) == (99, "significant")
    why = domains.ratings.explain(rating.id)
    assert why.target_band == "medium" and len(why.improvements) == 1 and why.improvements[0].key


def test_confidence_counts_only_verified_evidence(domains: Domains) -> None:
    known_organization(domains, ORG, "Grupo Conciencia")
    service = domains.assessments
    a = service.create(AssessmentCreate(organization_id=ORG, kind="reviewer"))
    for dimension, question in domains.catalog.get("dd-default").questions():
        service.put_answer(
            a.id, question.id, AnswerPut(answer="low" if dimension.rule == "hact" else "adequate")
        )
    pdf = b"%PDF-1.7\n"
    verified = service.add_evidence(
        a.id, "LEG-1", filename="r.pdf", content_type="application/pdf", data=pdf, description=None
    )
    service.add_evidence(
        a.id, "LEG-2", filename="t.pdf", content_type="application/pdf", data=pdf, description=None
    )
    service.transition(a.id, Transition(to="submitted"))
    service.verify_evidence(a.id, verified.id)
    service.transition(a.id, Transition(to="in_review"))
    service.transition(a.id, Transition(to="finalized"))
    rating = domains.ratings.of_assessment(a.id)
    total = 50 + 14 + 6  # 50 HACT questions (14 key count twice) + 6 PSEA standards
    assert rating.confidence == round(2 / total, 4)  # only LEG-1 (key, weight 2) is verified
    assert rating.freshness.oldest_evidence_age_days == 0


def test_ratings_expire_once_with_an_event_and_are_due_for_reassessment(domains: Domains) -> None:
    known_organization(domains, ORG, "Grupo Conciencia")
    rating = domains.ratings.of_assessment(finalized_assessment(domains, ORG))
    assert rating.freshness.valid_until == (rating.freshness.rated_at + timedelta(days=730)).date()
    assert domains.ratings.expire_due(utcnow()) == 0
    later = utcnow() + timedelta(days=731)
    assert domains.ratings.expire_due(later) == 1
    assert domains.ratings.expire_due(later) == 0  # announced once
    expired = outbox(domains, "duediligence.rating.expired.v1")
    assert [e["data"]["rating_id"] for e in expired] == [rating.id]
    due = domains.ratings.search(ORG, True, 10)
    assert [r.id for r in due] == [rating.id] and due[0].freshness.expired
    assert domains.ratings.search(ORG, False, 10) == []


def test_only_the_current_rating_of_an_organization_announces_its_expiry(domains: Domains) -> None:
    known_organization(domains, ORG, "Grupo Conciencia")
    old = domains.ratings.of_assessment(finalized_assessment(domains, ORG))
    new = domains.ratings.of_assessment(finalized_assessment(domains, ORG, hact="medium"))
    assert domains.ratings.expire_due(utcnow() + timedelta(days=731)) == 1
    assert [e["data"]["rating_id"] for e in outbox(domains, "duediligence.rating.expired.v1")] == [new.id]
    assert domains.ratings.get(old.id).freshness.expired  # still marked, just not announced

"""Rating rules around the pure scoring: finalize (compute, store, publish, audit), override with a
written justification, explain, freshness and expiry."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from tejido_common.db import Database
from tejido_common.ids import new_id
from tejido_common.outbox import add_event
from tejido_common.problems import NotFound
from tejido_duediligence.assessments.models import AnswerRow, AssessmentRow, EvidenceRow
from tejido_duediligence.audit.service import AuditLog
from tejido_duediligence.flags.service import FlagService
from tejido_duediligence.frameworks.schemas import Framework
from tejido_duediligence.frameworks.service import FrameworkCatalog
from tejido_duediligence.kit.actor import actor, utcnow
from tejido_duediligence.ratings import rules
from tejido_duediligence.ratings.events import (
    RATING_EXPIRED,
    RATING_PUBLISHED,
    RatingExpired,
    RatingPublished,
)
from tejido_duediligence.ratings.models import RatingRow
from tejido_duediligence.ratings.repository import RatingRepository
from tejido_duediligence.ratings.schemas import Freshness, Override, OverrideRequest, Rating

SOURCE = "tejido/duediligence"


class RatingNotFound(NotFound):
    code, title = "rating-not-found", "Rating not found"


class RatingService:
    def __init__(
        self,
        db: Database,
        catalog: FrameworkCatalog,
        flags: FlagService,
        audit: AuditLog,
        *,
        validity_days: int,
    ):
        self.db = db
        self.catalog = catalog
        self.flags = flags
        self.audit = audit
        self.validity_days = validity_days

    # -- writes ---------------------------------------------------------------------------------
    def finalize(
        self,
        session: Session,
        assessment: AssessmentRow,
        framework: Framework,
        answers: list[AnswerRow],
        evidence: list[EvidenceRow],
    ) -> str:
        """Runs in the transaction that finalizes the assessment: rating, event and audit commit together."""
        verified = {e.question_id for e in evidence if e.verified}
        result = rules.compute(
            framework,
            {a.question_id: rules.Answer(a.answer, a.value, a.question_id in verified) for a in answers},
        )
        now = utcnow()
        row = RatingRow(
            id=new_id(),
            assessment_id=assessment.id,
            organization_id=assessment.organization_id,
            assessment_kind=assessment.kind,
            framework=framework.ref,
            computed_band=result.overall.band,
            band=result.overall.band,
            score=result.overall.score,
            psea_band=result.psea.band if result.psea else None,
            confidence=result.confidence,
            result=result.model_dump(mode="json"),
            rated_at=now,
            rated_by=actor(),
            oldest_evidence_at=min((e.uploaded_at for e in evidence), default=None),
            valid_until=(now + timedelta(days=self.validity_days)).date(),
        )
        RatingRepository(session).add(row)
        self._publish(session, row)
        self.audit.append(
            session,
            "rating.finalized",
            f"organization/{row.organization_id}",
            {
                "rating_id": row.id,
                "assessment_id": row.assessment_id,
                "framework": row.framework,
                "band": row.band,
                "score": row.score,
                "psea_band": row.psea_band,
                "confidence": row.confidence,
            },
        )
        return row.id

    def override(self, rating_id: str, body: OverrideRequest) -> Rating:
        with self.db.session() as session:
            row = RatingRepository(session).get_for_update(rating_id)
            if row is None:
                raise RatingNotFound(f"rating {rating_id} does not exist")
            previous = row.band
            row.override_band = body.band
            row.override_justification = body.justification
            row.overridden_at = utcnow()
            row.overridden_by = actor()
            row.band = body.band
            # An override is a new judgement: the rating is current again from now on.
            row.rated_at = row.overridden_at
            row.version += 1
            RatingRepository(session).add(row)
            self._publish(session, row)
            self.audit.append(
                session,
                "rating.overridden",
                f"organization/{row.organization_id}",
                {
                    "rating_id": row.id,
                    "computed_band": row.computed_band,
                    "previous_band": previous,
                    "band": body.band,
                    "justification": body.justification,
                },
            )
            return self._view(row, row.overridden_at)

    def expire_due(self, now: datetime | None = None, batch: int = 200) -> int:
        """Mark ratings past their valid-until date expired; announce each organization's current one once.
        Returns how many expiries were announced."""
        now = now or utcnow()
        with self.db.session() as session:
            repo = RatingRepository(session)
            rows = repo.due(now.date(), batch)
            announced = 0
            for row in rows:
                row.expired, row.expired_at = True, now
                row.version += 1
                repo.add(row)
                if repo.newer_exists(row):
                    continue  # superseded by a newer rating: its expiry says nothing about the organization
                announced += 1
                payload = RatingExpired(
                    organization_id=row.organization_id,
                    rating_id=row.id,
                    assessment_id=row.assessment_id,
                    band=row.band,
                    valid_until=row.valid_until,
                    expired_at=now,
                )
                add_event(
                    session,
                    RATING_EXPIRED.envelope(
                        payload, source=SOURCE, subject=f"organization/{row.organization_id}"
                    ),
                )
            return announced

    def _publish(self, session: Session, row: RatingRow) -> None:
        if row.band is None:
            return  # nothing applicable was answered: there is no band to publish
        payload = RatingPublished(
            organization_id=row.organization_id,
            band=row.band,
            rated_at=row.rated_at,
            assessment_id=row.assessment_id,
            framework_version=row.framework,
            score=row.score,
            confidence=row.confidence,
            valid_until=row.valid_until,
            overridden=row.override_band is not None,
            red_flag=self.flags.is_blocked(session, row.organization_id),
            rating_id=row.id,
            computed_band=row.computed_band,
            psea_band=row.psea_band,
            assessment_kind=row.assessment_kind,
        )
        add_event(
            session,
            RATING_PUBLISHED.envelope(payload, source=SOURCE, subject=f"organization/{row.organization_id}"),
        )

    # -- reads ----------------------------------------------------------------------------------
    def get(self, rating_id: str, now: datetime | None = None) -> Rating:
        with self.db.read_session() as session:
            row = RatingRepository(session).get(rating_id)
        if row is None:
            raise RatingNotFound(f"rating {rating_id} does not exist")
        return self._view(row, now or utcnow())

    def of_assessment(self, assessment_id: str) -> Rating:
        with self.db.read_session() as session:
            row = RatingRepository(session).of_assessment(assessment_id)
        if row is None:
            raise RatingNotFound(f"assessment {assessment_id} has no rating (it is not finalized)")
        return self._view(row, utcnow())

    def rating_id_of(self, session: Session, assessment_id: str) -> str | None:
        row = RatingRepository(session).of_assessment(assessment_id)
        return row.id if row else None

    def explain(self, rating_id: str) -> rules.Explanation:
        with self.db.read_session() as session:
            row = RatingRepository(session).get(rating_id)
        if row is None:
            raise RatingNotFound(f"rating {rating_id} does not exist")
        return rules.explain(rules.RatingResult.model_validate(row.result))

    def search(self, org_id: str | None, due: bool | None, limit: int) -> list[Rating]:
        now = utcnow()
        with self.db.read_session() as session:
            rows = RatingRepository(session).search(org_id, due, now.date(), limit)
        return [self._view(r, now) for r in rows]

    @staticmethod
    def _view(row: RatingRow, now: datetime) -> Rating:
        override = None
        if row.override_band and row.override_justification and row.overridden_at and row.overridden_by:
            override = Override(
                band=row.override_band,
                justification=row.override_justification,
                at=row.overridden_at,
                by=row.overridden_by,
            )
        due = row.expired or row.valid_until < now.date()
        freshness = Freshness(
            rated_at=row.rated_at,
            valid_until=row.valid_until,
            expired=row.expired,
            due_for_reassessment=due,
            rating_age_days=(now - row.rated_at).days,
            oldest_evidence_age_days=(now - row.oldest_evidence_at).days if row.oldest_evidence_at else None,
        )
        return Rating(
            id=row.id,
            assessment_id=row.assessment_id,
            organization_id=row.organization_id,
            assessment_kind=row.assessment_kind,
            framework=row.framework,
            band=row.band,
            computed_band=row.computed_band,
            override=override,
            score=row.score,
            psea_band=row.psea_band,
            confidence=row.confidence,
            freshness=freshness,
            rated_by=row.rated_by,
            version=row.version,
            result=row.result,
        )

"""All SQL of assessments, answers, evidence and workflow steps."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session, col

from tejido_duediligence.assessments.models import AnswerRow, AssessmentRow, EvidenceRow, WorkflowStepRow


class AssessmentRepository:
    def __init__(self, session: Session):
        self.session = session

    def get(self, assessment_id: str) -> AssessmentRow | None:
        return self.session.get(AssessmentRow, assessment_id)

    def get_for_update(self, assessment_id: str) -> AssessmentRow | None:
        stmt = select(AssessmentRow).where(col(AssessmentRow.id) == assessment_id).with_for_update()
        return self.session.scalars(stmt).first()

    def add(self, *rows: AssessmentRow | WorkflowStepRow | AnswerRow | EvidenceRow) -> None:
        for row in rows:
            self.session.add(row)
        self.session.flush()

    def answers(self, assessment_id: str) -> list[AnswerRow]:
        stmt = select(AnswerRow).where(col(AnswerRow.assessment_id) == assessment_id)
        return list(self.session.scalars(stmt.order_by(col(AnswerRow.question_id))))

    def answer(self, assessment_id: str, question_id: str) -> AnswerRow | None:
        return self.session.get(AnswerRow, (assessment_id, question_id))

    def evidence(self, assessment_id: str) -> list[EvidenceRow]:
        stmt = select(EvidenceRow).where(col(EvidenceRow.assessment_id) == assessment_id)
        return list(self.session.scalars(stmt.order_by(col(EvidenceRow.id))))

    def evidence_item(self, evidence_id: str) -> EvidenceRow | None:
        return self.session.get(EvidenceRow, evidence_id)

    def steps(self, assessment_id: str) -> list[WorkflowStepRow]:
        stmt = select(WorkflowStepRow).where(col(WorkflowStepRow.assessment_id) == assessment_id)
        return list(self.session.scalars(stmt.order_by(col(WorkflowStepRow.seq))))

    def search(self, org_id: str | None, statuses: list[str], limit: int) -> list[AssessmentRow]:
        stmt = select(AssessmentRow)
        if org_id:
            stmt = stmt.where(col(AssessmentRow.organization_id) == org_id)
        if statuses:
            stmt = stmt.where(col(AssessmentRow.status).in_(statuses))
        return list(self.session.scalars(stmt.order_by(col(AssessmentRow.id).desc()).limit(limit)))

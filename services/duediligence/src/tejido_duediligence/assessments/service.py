"""Assessment rules: who may assess whom, answers on the framework's scale, evidence, the workflow."""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session

from tejido_common.db import Database
from tejido_common.ids import new_id
from tejido_common.problems import Conflict, NotFound, Unprocessable, field_error
from tejido_duediligence.assessments.evidence import check_file
from tejido_duediligence.assessments.models import AnswerRow, AssessmentRow, EvidenceRow, WorkflowStepRow
from tejido_duediligence.assessments.repository import AssessmentRepository
from tejido_duediligence.assessments.schemas import (
    Answer,
    AnswerPut,
    Assessment,
    AssessmentCreate,
    AssessmentSummary,
    Evidence,
    Step,
    Transition,
)
from tejido_duediligence.frameworks.schemas import Framework
from tejido_duediligence.frameworks.service import FrameworkCatalog
from tejido_duediligence.kit.actor import actor, utcnow
from tejido_duediligence.kit.storage import EvidenceStorage
from tejido_duediligence.organizations.service import OrganizationDirectory

# (session, assessment, framework, answers, evidence) → rating id; runs in the finalizing transaction.
Finalizer = Callable[[Session, AssessmentRow, Framework, list[AnswerRow], list[EvidenceRow]], str]

WORKFLOW: dict[str, set[str]] = {
    "draft": {"submitted"},
    "submitted": {"in_review", "draft"},
    "in_review": {"finalized", "draft"},
    "finalized": set(),
}
EDITABLE = {"draft", "in_review"}  # the organization answers in draft; a reviewer may correct in review


class AssessmentNotFound(NotFound):
    code, title = "assessment-not-found", "Assessment not found"


class QuestionNotFound(NotFound):
    code, title = "question-not-found", "Question not in this assessment's framework"


class EvidenceNotFound(NotFound):
    code, title = "evidence-not-found", "Evidence not found"


class InvalidTransition(Conflict):
    code, title = "invalid-transition", "This workflow step is not allowed"


class NotEditable(Conflict):
    code, title = "assessment-not-editable", "The assessment cannot be changed in its current status"


class AssessmentService:
    def __init__(
        self,
        db: Database,
        catalog: FrameworkCatalog,
        directory: OrganizationDirectory,
        storage: EvidenceStorage,
        *,
        evidence_max_bytes: int,
    ):
        self.db = db
        self.catalog = catalog
        self.directory = directory
        self.storage = storage
        self.evidence_max_bytes = evidence_max_bytes
        self.finalizer: Finalizer | None = None
        self.rating_of: Callable[[Session, str], str | None] = lambda _s, _a: None

    def create(self, body: AssessmentCreate) -> Assessment:
        framework = self.catalog.get(body.framework_id, body.framework_version)
        with self.db.session() as session:
            self.directory.require_assessable(session, body.organization_id)
            now = utcnow()
            row = AssessmentRow(
                id=new_id(),
                organization_id=body.organization_id,
                framework_id=framework.id,
                framework_version=framework.version,
                kind=body.kind,
                status="draft",
                version=1,
                created_at=now,
                created_by=actor(),
            )
            step = WorkflowStepRow(
                assessment_id=row.id, seq=1, from_status=None, to_status="draft", at=now, by=row.created_by
            )
            AssessmentRepository(session).add(row, step)
            return self._view(session, row)

    def get(self, assessment_id: str) -> Assessment:
        with self.db.read_session() as session:
            return self._view(session, self._get(session, assessment_id))

    def search(self, org_id: str | None, statuses: list[str], limit: int) -> list[AssessmentSummary]:
        with self.db.read_session() as session:
            rows = AssessmentRepository(session).search(org_id, statuses, limit)
            return [AssessmentSummary.model_validate(r, from_attributes=True) for r in rows]

    def framework_of(self, row: AssessmentRow) -> Framework:
        return self.catalog.get(row.framework_id, row.framework_version)

    def put_answer(self, assessment_id: str, question_id: str, body: AnswerPut) -> Assessment:
        with self.db.session() as session:
            repo = AssessmentRepository(session)
            row = self._editable(session, assessment_id)
            framework = self.framework_of(row)
            found = framework.question(question_id)
            if found is None:
                raise QuestionNotFound(f"question {question_id} is not in framework {framework.ref}")
            dimension, _question = found
            scale = framework.scales[dimension.rule]
            label = body.answer.strip().lower()
            if label not in scale:
                raise Unprocessable(
                    f"{body.answer!r} is not an answer on the {dimension.rule} scale",
                    errors=[field_error(["answer"], f"expected one of: {', '.join(scale)}")],
                )
            answer = repo.answer(row.id, question_id) or AnswerRow(
                assessment_id=row.id,
                question_id=question_id,
                answer="",
                value=0,
                answered_at=utcnow(),
                answered_by="",
            )
            answer.answer, answer.value, answer.comment = label, scale[label], body.comment
            answer.answered_at, answer.answered_by = utcnow(), actor()
            row.version += 1
            repo.add(answer, row)
            return self._view(session, row)

    def add_evidence(
        self,
        assessment_id: str,
        question_id: str,
        *,
        filename: str,
        content_type: str | None,
        data: bytes,
        description: str | None,
    ) -> Evidence:
        media = check_file(content_type, data, self.evidence_max_bytes)
        with self.db.session() as session:
            row = self._editable(session, assessment_id)
            if self.framework_of(row).question(question_id) is None:
                raise QuestionNotFound(f"question {question_id} is not in this assessment's framework")
            key, digest = self.storage.put(data)
            evidence = EvidenceRow(
                id=new_id(),
                assessment_id=row.id,
                question_id=question_id,
                filename=(filename or "evidence")[:255],
                content_type=media,
                size=len(data),
                sha256=digest,
                storage_key=key,
                description=description,
                uploaded_at=utcnow(),
                uploaded_by=actor(),
            )
            row.version += 1
            AssessmentRepository(session).add(evidence, row)
            return Evidence.model_validate(evidence, from_attributes=True)

    def evidence_file(self, assessment_id: str, evidence_id: str) -> tuple[Evidence, bytes]:
        with self.db.read_session() as session:
            item = AssessmentRepository(session).evidence_item(evidence_id)
            if item is None or item.assessment_id != assessment_id:
                raise EvidenceNotFound(f"evidence {evidence_id} is not part of assessment {assessment_id}")
        return Evidence.model_validate(item, from_attributes=True), self.storage.get(item.storage_key)

    def verify_evidence(self, assessment_id: str, evidence_id: str) -> Evidence:
        """A reviewer vouches for a file: verified evidence is what confidence counts."""
        with self.db.session() as session:
            repo = AssessmentRepository(session)
            row = self._get(session, assessment_id, for_update=True)
            if row.status not in ("submitted", "in_review"):
                raise NotEditable(
                    f"evidence is verified while the assessment is submitted or in review, not {row.status}"
                )
            item = repo.evidence_item(evidence_id)
            if item is None or item.assessment_id != assessment_id:
                raise EvidenceNotFound(f"evidence {evidence_id} is not part of assessment {assessment_id}")
            item.verified, item.verified_at, item.verified_by = True, utcnow(), actor()
            repo.add(item)
            return Evidence.model_validate(item, from_attributes=True)

    def transition(self, assessment_id: str, body: Transition) -> Assessment:
        with self.db.session() as session:
            repo = AssessmentRepository(session)
            row = self._get(session, assessment_id, for_update=True)
            if body.to not in WORKFLOW[row.status]:
                allowed = sorted(WORKFLOW[row.status]) or ["none"]
                raise InvalidTransition(
                    f"an assessment in {row.status} cannot move to {body.to} (allowed: {', '.join(allowed)})",
                    errors=[field_error(["to"], f"not allowed from {row.status}")],
                )
            if body.to == "draft" and not (body.reason or "").strip():
                raise Unprocessable(
                    "returning an assessment to draft needs a reason",
                    errors=[field_error(["reason"], "required when returning to draft")],
                )
            framework = self.framework_of(row)
            answers = repo.answers(row.id)
            if body.to in ("submitted", "finalized"):
                missing = sorted({q.id for _, q in framework.questions()} - {a.question_id for a in answers})
                if missing:
                    raise Unprocessable(
                        f"{len(missing)} question(s) unanswered",
                        errors=[field_error(["answers", q], "unanswered") for q in missing],
                    )
            steps = repo.steps(row.id)
            step = WorkflowStepRow(
                assessment_id=row.id,
                seq=len(steps) + 1,
                from_status=row.status,
                to_status=body.to,
                at=utcnow(),
                by=actor(),
                reason=body.reason,
            )
            row.status = body.to
            row.version += 1
            repo.add(row, step)
            if body.to == "finalized" and self.finalizer is not None:
                self.finalizer(session, row, framework, answers, repo.evidence(row.id))
            return self._view(session, row)

    # -- internals ------------------------------------------------------------------------------
    def _get(self, session: Session, assessment_id: str, *, for_update: bool = False) -> AssessmentRow:
        repo = AssessmentRepository(session)
        row = repo.get_for_update(assessment_id) if for_update else repo.get(assessment_id)
        if row is None:
            raise AssessmentNotFound(f"assessment {assessment_id} does not exist")
        return row

    def _editable(self, session: Session, assessment_id: str) -> AssessmentRow:
        row = self._get(session, assessment_id, for_update=True)
        if row.status not in EDITABLE:
            raise NotEditable(f"answers and evidence can change in draft or in review, not in {row.status}")
        return row

    def _view(self, session: Session, row: AssessmentRow) -> Assessment:
        repo = AssessmentRepository(session)
        evidence: dict[str, list[Evidence]] = {}
        for item in repo.evidence(row.id):
            evidence.setdefault(item.question_id, []).append(
                Evidence.model_validate(item, from_attributes=True)
            )
        answers = [
            Answer(
                question_id=a.question_id,
                answer=a.answer,
                value=a.value,
                comment=a.comment,
                answered_at=a.answered_at,
                answered_by=a.answered_by,
                evidence=evidence.get(a.question_id, []),
            )
            for a in repo.answers(row.id)
        ]
        answered = {a.question_id for a in answers}
        questions = [q for _, q in self.framework_of(row).questions()]
        return Assessment(
            **row.model_dump(),
            answers=answers,
            unanswered=[q.id for q in questions if q.id not in answered],
            missing_evidence=[q.id for q in questions if q.evidence_required and q.id not in evidence],
            workflow=[Step.model_validate(s, from_attributes=True) for s in repo.steps(row.id)],
            rating_id=self.rating_of(session, row.id),
        )

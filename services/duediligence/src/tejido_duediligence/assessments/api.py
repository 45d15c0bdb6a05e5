"""HTTP routes of assessments: create, answer, attach and verify evidence, move through the workflow."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, Request, Response, UploadFile, status
from fastapi.concurrency import run_in_threadpool

from tejido_common.http import problem_responses
from tejido_common.identity import ORG_EDITOR, current_principal, require_organization
from tejido_common.problems import Forbidden
from tejido_duediligence.assessments.schemas import (
    AnswerPut,
    Assessment,
    AssessmentCreate,
    AssessmentSummary,
    Evidence,
    Status,
    Transition,
)
from tejido_duediligence.assessments.service import AssessmentService

router = APIRouter(prefix="/v1/assessments", tags=["assessments"])
PROBLEMS = problem_responses(400, 404, 409, 413, 415, 422)


def get_service(request: Request) -> AssessmentService:
    service: AssessmentService = request.app.state.assessments
    return service


Service = Annotated[AssessmentService, Depends(get_service)]


# An org_editor (CSO staff) works only on self-assessments of its own organizations and cannot verify
# evidence or review: reviewer assessments and other organizations' drafts stay out of its reach.
def _editor() -> bool:
    return current_principal().role == ORG_EDITOR


def _in_scope(service: AssessmentService, assessment_id: str) -> None:
    assessment = service.get(assessment_id)
    require_organization(assessment.organization_id)
    if _editor() and assessment.kind != "self":
        raise Forbidden("an org_editor works on self-assessments only")


def _reviewers_only() -> None:
    if _editor():
        raise Forbidden("only reviewers verify evidence and review assessments")


@router.post("", status_code=status.HTTP_201_CREATED, response_model=Assessment, responses=PROBLEMS)
def create_assessment(body: AssessmentCreate, service: Service, response: Response) -> Assessment:
    """Start a self- or reviewer assessment of a known organization under a framework version (draft)."""
    require_organization(body.organization_id)
    if _editor() and body.kind != "self":
        raise Forbidden("an org_editor may start self-assessments only")
    assessment = service.create(body)
    response.headers["Location"] = f"/v1/assessments/{assessment.id}"
    return assessment


@router.get("", response_model=list[AssessmentSummary], responses=PROBLEMS)
def list_assessments(
    service: Service,
    organization_id: Annotated[str | None, Query(max_length=36)] = None,
    status_: Annotated[list[Status], Query(alias="status")] = [],  # noqa: B006
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[AssessmentSummary]:
    """Assessments, newest first (an org_editor names one of its organizations)."""
    if organization_id is not None:
        require_organization(organization_id)
    elif _editor():
        raise Forbidden("an org_editor lists the assessments of one of its organizations (organization_id)")
    found = service.search(organization_id, list(status_), limit)
    return [a for a in found if a.kind == "self"] if _editor() else found


@router.get("/{assessment_id}", response_model=Assessment, responses=PROBLEMS)
def get_assessment(assessment_id: str, service: Service) -> Assessment:
    """The assessment with its answers, evidence, unanswered questions and workflow steps (who/when)."""
    _in_scope(service, assessment_id)
    return service.get(assessment_id)


@router.put("/{assessment_id}/answers/{question_id}", response_model=Assessment, responses=PROBLEMS)
def put_answer(assessment_id: str, question_id: str, body: AnswerPut, service: Service) -> Assessment:
    """Answer one question on its dimension's scale (in draft, or in review by the reviewer)."""
    _in_scope(service, assessment_id)
    return service.put_answer(assessment_id, question_id, body)


@router.post(
    "/{assessment_id}/answers/{question_id}/evidence",
    status_code=status.HTTP_201_CREATED,
    response_model=Evidence,
    responses=PROBLEMS,
)
async def upload_evidence(
    assessment_id: str,
    question_id: str,
    service: Service,
    file: Annotated[UploadFile, File(description="PDF, PNG, JPEG, UTF-8 text/CSV, DOCX or XLSX")],
    description: Annotated[str | None, Form(max_length=2000)] = None,
) -> Evidence:
    """Attach a file to an answer; its SHA-256 is recorded. Size- and type-limited (413, 415)."""
    await run_in_threadpool(_in_scope, service, assessment_id)
    data = await file.read(service.evidence_max_bytes + 1)
    return await run_in_threadpool(
        service.add_evidence,
        assessment_id,
        question_id,
        filename=file.filename or "evidence",
        content_type=file.content_type,
        data=data,
        description=description,
    )


@router.get("/{assessment_id}/evidence/{evidence_id}", responses=PROBLEMS)
def download_evidence(assessment_id: str, evidence_id: str, service: Service) -> Response:
    _in_scope(service, assessment_id)
    meta, data = service.evidence_file(assessment_id, evidence_id)
    return Response(
        data,
        media_type=meta.content_type,
        headers={"Content-Disposition": "attachment", "X-Content-SHA256": meta.sha256},
    )


@router.post("/{assessment_id}/evidence/{evidence_id}:verify", response_model=Evidence, responses=PROBLEMS)
def verify_evidence(assessment_id: str, evidence_id: str, service: Service) -> Evidence:
    """A reviewer marks a file as verified (who/when recorded); confidence counts verified evidence."""
    _reviewers_only()
    _in_scope(service, assessment_id)
    return service.verify_evidence(assessment_id, evidence_id)


@router.post("/{assessment_id}:transition", response_model=Assessment, responses=PROBLEMS)
def transition(assessment_id: str, body: Transition, service: Service) -> Assessment:
    """draft → submitted → in_review → finalized (back to draft with a reason). Finalizing computes and
    publishes the rating. An org_editor only submits its self-assessment (or takes it back to draft)."""
    _in_scope(service, assessment_id)
    if _editor() and body.to not in ("draft", "submitted"):
        raise Forbidden("only reviewers review and finalize assessments")
    return service.transition(assessment_id, body)

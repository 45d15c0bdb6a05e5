"""HTTP routes of assessments: create, answer, attach and verify evidence, move through the workflow."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, Request, Response, UploadFile, status
from fastapi.concurrency import run_in_threadpool

from tejido_common.http import problem_responses
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


@router.post("", status_code=status.HTTP_201_CREATED, response_model=Assessment, responses=PROBLEMS)
def create_assessment(body: AssessmentCreate, service: Service, response: Response) -> Assessment:
    """Start a self- or reviewer assessment of a known organization under a framework version (draft)."""
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
    """Assessments, newest first."""
    return service.search(organization_id, list(status_), limit)


@router.get("/{assessment_id}", response_model=Assessment, responses=PROBLEMS)
def get_assessment(assessment_id: str, service: Service) -> Assessment:
    """The assessment with its answers, evidence, unanswered questions and workflow steps (who/when)."""
    return service.get(assessment_id)


@router.put("/{assessment_id}/answers/{question_id}", response_model=Assessment, responses=PROBLEMS)
def put_answer(assessment_id: str, question_id: str, body: AnswerPut, service: Service) -> Assessment:
    """Answer one question on its dimension's scale (in draft, or in review by the reviewer)."""
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
    meta, data = service.evidence_file(assessment_id, evidence_id)
    return Response(
        data,
        media_type=meta.content_type,
        headers={"Content-Disposition": "attachment", "X-Content-SHA256": meta.sha256},
    )


@router.post("/{assessment_id}/evidence/{evidence_id}:verify", response_model=Evidence, responses=PROBLEMS)
def verify_evidence(assessment_id: str, evidence_id: str, service: Service) -> Evidence:
    """A reviewer marks a file as verified (who/when recorded); confidence counts verified evidence."""
    return service.verify_evidence(assessment_id, evidence_id)


@router.post("/{assessment_id}:transition", response_model=Assessment, responses=PROBLEMS)
def transition(assessment_id: str, body: Transition, service: Service) -> Assessment:
    """draft → submitted → in_review → finalized (back to draft with a reason). Finalizing computes and
    publishes the rating."""
    return service.transition(assessment_id, body)

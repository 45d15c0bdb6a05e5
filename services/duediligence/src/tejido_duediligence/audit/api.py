"""HTTP routes of the audit log: read it, and verify the chain."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from tejido_duediligence.audit.schemas import AuditPage, Verification
from tejido_duediligence.audit.service import AuditLog

router = APIRouter(prefix="/v1/audit", tags=["audit"])


def get_audit(request: Request) -> AuditLog:
    audit: AuditLog = request.app.state.audit
    return audit


Audit = Annotated[AuditLog, Depends(get_audit)]


@router.get("", response_model=AuditPage)
def list_entries(
    audit: Audit,
    subject: Annotated[str | None, Query(max_length=200, description="e.g. organization/<id>")] = None,
    after: Annotated[int, Query(ge=0, le=2**53, description="next_after of the previous page")] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AuditPage:
    """Audit entries in order: finalized ratings, overrides, flag changes, adjudications."""
    return audit.page(subject, after, limit)


@router.get("/verify", response_model=Verification)
def verify(audit: Audit) -> Verification:
    """Recompute the whole chain and report the first broken link (``ok`` false) if any."""
    return audit.verify()

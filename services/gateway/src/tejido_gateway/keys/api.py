"""HTTP routes of API keys (admins only; the policy also says so) and of the caller's own identity."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status

from tejido_common.http import problem_responses
from tejido_common.identity import ADMIN, Principal, current_principal, require_role
from tejido_gateway.keys.models import ApiKeyRow
from tejido_gateway.keys.schemas import CreatedKey, Key, KeyCreate, KeyList, Me
from tejido_gateway.keys.service import KeyService

router = APIRouter(prefix="/v1", tags=["access"])
PROBLEMS = problem_responses(401, 403, 404, 422, 429)


def get_service(request: Request) -> KeyService:
    service: KeyService = request.app.state.keys
    return service


Service = Annotated[KeyService, Depends(get_service)]
Admin = Annotated[Principal, Depends(require_role(ADMIN))]


def _key(row: ApiKeyRow) -> Key:
    return Key.model_validate(row, from_attributes=True)


@router.post("/keys", status_code=status.HTTP_201_CREATED, response_model=CreatedKey, responses=PROBLEMS)
def create_key(body: KeyCreate, service: Service, admin: Admin, response: Response) -> CreatedKey:
    """Create an API key. The key is in this response only: store it now; only a digest is kept."""
    created = service.create(body.name, body.role, body.organizations, created_by=admin.actor)
    response.headers["Location"] = f"/v1/keys/{created.row.id}"
    return CreatedKey(**_key(created.row).model_dump(), key=created.key)


@router.get("/keys", response_model=KeyList, responses=PROBLEMS)
def list_keys(service: Service, admin: Admin) -> KeyList:
    """Every API key with its role, scope and last use (never the secret)."""
    return KeyList(items=[_key(row) for row in service.list()])


@router.get("/keys/{key_id}", response_model=Key, responses=PROBLEMS)
def get_key(key_id: str, service: Service, admin: Admin) -> Key:
    return _key(service.get(key_id))


@router.post("/keys/{key_id}:revoke", response_model=Key, responses=PROBLEMS)
def revoke_key(key_id: str, service: Service, admin: Admin) -> Key:
    """Revoke a key (idempotent): it is refused from now on (other gateway replicas within seconds)."""
    return _key(service.revoke(key_id))


@router.get("/me", response_model=Me, responses=PROBLEMS)
def me() -> Me:
    """Who the gateway takes the caller to be."""
    p = current_principal()
    return Me(id=p.id, kind=p.kind, role=p.role, organizations=list(p.organizations), name=p.name)

"""Who is calling: the principal the gateway authenticated, vouched for to services in a signed header.

The gateway is the only door. It authenticates the client (API key or JWT), then sends every upstream
request with ``X-Tejido-Principal: <payload>.<signature>``: the principal (id, kind, role, organization
scope) as base64url JSON, bound to the request's method and path and valid for a short time, signed with
HMAC-SHA256 under a secret only the gateway and the services share. A service's
:class:`InternalIdentityMiddleware` (installed by ``build_app``) refuses any other call with 401, so a
process that reaches a service's port directly gets nothing; the verified principal is then available to
handlers (:func:`current_principal`) and recorded as the actor of history and audit entries
(``tejido_common.context.current_actor``).

The secret: ``internal_secret`` in the service's settings (``TEJIDO_<SERVICE>_INTERNAL_SECRET``), else the
file ``<data_dir>/internal-secret``, created on first use. Processes sharing a data dir (``tejido up``,
tests) therefore agree; a service on another machine without the configured secret makes its own, and
then refuses everything the gateway sends: it fails closed, never open.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import os
import secrets
import time
from collections.abc import Callable, Generator, Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx
from starlette.types import ASGIApp, Receive, Scope, Send

from tejido_common.context import actor_var
from tejido_common.problems import Forbidden, Unauthorized, problem_response

PRINCIPAL_HEADER = "x-tejido-principal"
SECRET_FILE = "internal-secret"  # noqa: S105 - a file name, not a secret
MIN_SECRET_BYTES = 32
# Long enough for clock differences between hosts and a slow upload; short enough that a captured
# header is of little use (it is also bound to one method and path).
HEADER_TTL_SECONDS = 120

Kind = Literal["key", "user", "service", "anonymous"]

ADMIN = "admin"
OPERATOR = "operator"
ORG_EDITOR = "org_editor"
REVIEWER = "reviewer"
FUNDER = "funder"
ROLES: tuple[str, ...] = (ADMIN, OPERATOR, ORG_EDITOR, REVIEWER, FUNDER)
# Open paths of every service: probes and API documents carry no data.
PUBLIC_PATHS = frozenset({"/healthz", "/readyz", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"})


@dataclass(frozen=True)
class Principal:
    """An authenticated caller, or the anonymous one (``role`` None)."""

    id: str
    kind: Kind
    role: str | None = None
    # Organizations an ``org_editor`` (or a scoped key) may act for; empty means no scope restriction
    # for roles that are not scoped, and nothing at all for an org_editor.
    organizations: tuple[str, ...] = field(default=())
    name: str | None = None

    @property
    def authenticated(self) -> bool:
        return self.kind != "anonymous"

    @property
    def actor(self) -> str | None:
        """How history and audit name the caller, e.g. ``key:k_3f9a01b2c4d5`` or ``user:alice``."""
        return f"{self.kind}:{self.id}" if self.authenticated else None

    def has_role(self, *roles: str) -> bool:
        return self.role is not None and self.role in roles

    def may_act_for(self, organization_id: str) -> bool:
        """Whether this caller may change or read the restricted parts of ``organization_id``."""
        if self.role == ORG_EDITOR or self.organizations:
            return organization_id in self.organizations
        return self.authenticated

    def to_claims(self) -> dict[str, Any]:
        claims: dict[str, Any] = {"sub": self.id, "kind": self.kind}
        if self.role:
            claims["role"] = self.role
        if self.organizations:
            claims["orgs"] = list(self.organizations)
        if self.name:
            claims["name"] = self.name
        return claims

    @classmethod
    def from_claims(cls, claims: dict[str, Any]) -> Principal:
        kind = claims.get("kind")
        if kind not in ("key", "user", "service", "anonymous"):
            raise ValueError("unknown principal kind")
        orgs = claims.get("orgs") or []
        if not isinstance(orgs, list) or not all(isinstance(o, str) for o in orgs):
            raise ValueError("orgs must be a list of ids")
        role = claims.get("role")
        if role is not None and role not in ROLES:
            raise ValueError("unknown role")
        return cls(
            id=str(claims.get("sub", "")),
            kind=kind,
            role=role,
            organizations=tuple(orgs),
            name=claims.get("name"),
        )


ANONYMOUS = Principal(id="anonymous", kind="anonymous")
# What ``service_client`` signs as by default: tests call services as an administrator would.
TEST_ADMIN = Principal(id="test-admin", kind="service", role=ADMIN, name="test suite")

principal_var: ContextVar[Principal] = ContextVar("principal", default=ANONYMOUS)


def current_principal() -> Principal:
    """The caller of the request being handled (anonymous outside requests)."""
    return principal_var.get()


def require_role(*roles: str) -> Callable[[], Principal]:
    """A FastAPI dependency: 401 for anonymous callers, 403 unless the principal has one of ``roles``
    (admin always passes). ``Depends(require_role(OPERATOR, REVIEWER))``."""

    def dependency() -> Principal:
        principal = current_principal()
        if not principal.authenticated:
            raise Unauthorized("this resource needs an API key or a bearer token")
        if not principal.has_role(ADMIN, *roles):
            raise Forbidden(f"the role {principal.role!r} may not do this")
        return principal

    return dependency


def require_organization(organization_id: str) -> Principal:
    """Raise 401/403 unless the caller may act for ``organization_id`` (org_editors: their own only)."""
    principal = current_principal()
    if not principal.authenticated:
        raise Unauthorized("this resource needs an API key or a bearer token")
    if not principal.may_act_for(organization_id):
        raise Forbidden("this organization is outside the caller's scope")
    return principal


# -- the signed header -------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, payload: str) -> str:
    return _b64(hmac.new(secret, payload.encode("ascii"), hashlib.sha256).digest())


def sign_principal(
    principal: Principal, secret: bytes, method: str, path: str, *, now: float | None = None
) -> str:
    """The header value vouching for ``principal`` on one request (``path`` without the query)."""
    issued = int(now if now is not None else time.time())
    claims = {**principal.to_claims(), "m": method.upper(), "p": path, "exp": issued + HEADER_TTL_SECONDS}
    payload = _b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
    return f"{payload}.{_mac(secret, payload)}"


class InvalidIdentity(Exception):
    pass


def verify_principal(
    value: str, secret: bytes, method: str, path: str, *, now: float | None = None
) -> Principal:
    payload, _, signature = value.partition(".")
    if not payload or not signature or not hmac.compare_digest(_mac(secret, payload), signature):
        raise InvalidIdentity("bad signature")
    try:
        claims = json.loads(_unb64(payload))
        if not isinstance(claims, dict):
            raise ValueError("not an object")
        if claims.get("m") != method.upper() or claims.get("p") != path:
            raise InvalidIdentity("signed for another request")
        if int(claims.get("exp", 0)) < int(now if now is not None else time.time()):
            raise InvalidIdentity("expired")
        return Principal.from_claims(claims)
    except (ValueError, TypeError) as exc:
        raise InvalidIdentity(str(exc)) from exc


def load_internal_secret(settings: Any) -> bytes:
    """The shared signing secret for ``settings`` (a ``ServiceSettings``): configured, else the data dir's
    file, created atomically on first use (two processes starting together end up with the same one)."""
    configured = getattr(settings, "internal_secret", None)
    if configured is not None:
        raw = configured.get_secret_value().encode()
        if len(raw) < MIN_SECRET_BYTES:
            raise ValueError(f"internal_secret must be at least {MIN_SECRET_BYTES} characters")
        return bytes(raw)
    return ensure_secret_file(Path(settings.data_dir) / SECRET_FILE)


def ensure_secret_file(path: Path) -> bytes:
    with contextlib.suppress(FileNotFoundError):
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    candidate = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(secrets.token_urlsafe(48).encode())
    try:
        os.link(candidate, path)  # fails if another process got there first: theirs wins
    except FileExistsError:
        pass
    finally:
        candidate.unlink()
    return path.read_bytes().strip()


def _request_path(scope: Scope) -> str:
    raw = scope.get("raw_path")
    return raw.decode("latin-1") if raw else str(scope["path"])


class InternalIdentityMiddleware:
    """Refuses every call without a valid gateway signature (401), except the public probe/doc paths;
    binds the verified principal and its actor name for the request."""

    def __init__(self, app: ASGIApp, secret: bytes):
        self.app = app
        self.secret = secret

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in PUBLIC_PATHS:
            await self.app(scope, receive, send)
            return
        header = dict(scope["headers"]).get(PRINCIPAL_HEADER.encode(), b"").decode("latin-1")
        try:
            principal = verify_principal(header, self.secret, scope["method"], _request_path(scope))
        except InvalidIdentity:
            response = problem_response(
                401,
                "Authentication required",
                code="unauthorized",
                detail="services answer only requests relayed by the gateway",
                instance=scope["path"],
                headers={"WWW-Authenticate": 'Bearer realm="tejido"'},
            )
            await response(scope, receive, send)
            return
        principal_token = principal_var.set(principal)
        actor_token = actor_var.set(principal.actor)
        try:
            await self.app(scope, receive, send)
        finally:
            actor_var.reset(actor_token)
            principal_var.reset(principal_token)


class PrincipalAuth(httpx.Auth):
    """httpx authentication that vouches for ``principal`` on every request, as the gateway does."""

    def __init__(self, secret: bytes, principal: Principal = TEST_ADMIN):
        self.secret = secret
        self.principal = principal

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        path = request.url.raw_path.split(b"?", 1)[0].decode("latin-1")
        request.headers[PRINCIPAL_HEADER] = sign_principal(self.principal, self.secret, request.method, path)
        yield request


def scoped(role: str, organizations: Iterable[str] = (), *, id: str | None = None) -> Principal:
    """A principal for tests and tools, e.g. ``scoped(ORG_EDITOR, [org_id])``."""
    return Principal(id=id or f"test-{role}", kind="service", role=role, organizations=tuple(organizations))

"""The door of every ``/v1`` request, before routing: authenticate, rate-limit, authorize, check the
declared content type. The principal then travels on ``request.state`` to the proxy (which signs it for
the upstream) and in ``tejido_common.identity``'s context for the gateway's own routes."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from starlette.types import ASGIApp, Receive, Scope, Send

from tejido_common.context import actor_var
from tejido_common.identity import Principal, principal_var
from tejido_common.logging import get_logger
from tejido_common.middleware import drain_request_body
from tejido_common.problems import FieldError, field_error, problem_response
from tejido_gateway.access.policy import Decision, decide
from tejido_gateway.access.service import AuthenticationFailed, Authenticator
from tejido_gateway.protection.ratelimit import RateLimiter

log = get_logger(__name__)
Refuse = Callable[..., Awaitable[None]]
BEARER_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="tejido"'}
# Media types the API reads. "Simple" types a web page may send cross-site without a CORS preflight
# (text/plain, form posts) are refused, whatever ``?format=`` says.
ACCEPTED_MEDIA_TYPES = frozenset(
    {"application/json", "application/merge-patch+json", "text/csv", "application/x-ndjson"}
)
# File uploads (watch lists, evidence) are multipart forms: accepted on those routes only, and like
# every write only with credentials a browser never attaches on its own (bearer token or API key).
UPLOAD_ROUTES = re.compile(r"^/v1/(?:watchlists:import|assessments/[^/]+/answers/[^/]+/evidence)$")


class GuardMiddleware:
    def __init__(self, app: ASGIApp, authenticator: Authenticator, limiter: RateLimiter):
        self.app = app
        self.authenticator = authenticator
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        method: str = scope["method"]
        headers = dict(scope["headers"])
        address = scope["client"][0] if scope.get("client") else "unknown"

        async def refuse(
            status: int,
            title: str,
            code: str,
            detail: str,
            extra: dict[str, str],
            errors: list[FieldError] | None = None,
        ) -> None:
            response = problem_response(
                status, title, code=code, detail=detail, instance=path, headers=extra, errors=errors
            )
            # Refused from the headers alone: read a bounded rest of the body first, so the client
            # gets this answer rather than a reset connection (429 too: it carries Retry-After).
            await drain_request_body(scope, receive)
            await response(scope, receive, send)

        try:
            principal = await self.authenticator.authenticate(headers)
        except AuthenticationFailed as exc:
            # Guessing keys counts against the address, so a brute force is throttled too.
            if retry := self.limiter.hit(f"address:{address}", authenticated=False):
                await self._too_many(refuse, retry)
                return
            log.info("authentication failed", path=path, reason=str(exc), client=address)
            await refuse(
                401,
                "Authentication failed",
                "invalid-credentials",
                str(exc),
                BEARER_CHALLENGE,
                [field_error(["headers", "Authorization"], str(exc))],
            )
            return
        bucket = f"{principal.kind}:{principal.id}" if principal.authenticated else f"address:{address}"
        if retry := self.limiter.hit(bucket, authenticated=principal.authenticated):
            await self._too_many(refuse, retry)
            return
        decision = decide(principal, method, path)
        if decision is Decision.UNAUTHENTICATED:
            detail = f"{method} {path} needs an API key or a bearer token"
            await refuse(401, "Authentication required", "unauthorized", detail, BEARER_CHALLENGE)
            return
        if decision is Decision.FORBIDDEN:
            detail = f"the role {principal.role or '(none)'} may not {method} {path}"
            await refuse(403, "Not allowed", "forbidden", detail, {})
            return
        if method in ("POST", "PUT", "PATCH") and _has_body(headers):
            media = headers.get(b"content-type", b"").decode("latin-1").split(";")[0].strip().lower()
            upload = media == "multipart/form-data" and UPLOAD_ROUTES.match(path) is not None
            if media not in ACCEPTED_MEDIA_TYPES and not upload:
                detail = (
                    f"send one of {', '.join(sorted(ACCEPTED_MEDIA_TYPES))}, not {media or 'no content type'}"
                )
                errors = [field_error(["headers", "Content-Type"], detail)]
                await refuse(415, "Unsupported media type", "unsupported-media-type", detail, {}, errors)
                return
        scope.setdefault("state", {})["principal"] = principal
        await self._as(principal, scope, receive, send)

    async def _as(self, principal: Principal, scope: Scope, receive: Receive, send: Send) -> None:
        principal_token = principal_var.set(principal)
        actor_token = actor_var.set(principal.actor)
        try:
            await self.app(scope, receive, send)
        finally:
            actor_var.reset(actor_token)
            principal_var.reset(principal_token)

    @staticmethod
    async def _too_many(refuse: Refuse, retry: int) -> None:
        await refuse(
            429, "Too many requests", "rate-limited", f"retry in {retry} s", {"Retry-After": str(retry)}
        )


def _has_body(headers: dict[bytes, bytes]) -> bool:
    return headers.get(b"content-length", b"0") != b"0" or b"transfer-encoding" in headers

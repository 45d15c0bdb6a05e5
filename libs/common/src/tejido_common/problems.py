"""RFC 9457 problem documents: domain errors carry their status and are rendered in one place."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from tejido_common.context import current_correlation_id
from tejido_common.logging import get_logger

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://tejido.dev/problems/"
log = get_logger(__name__)


class FieldError(BaseModel):
    """One invalid field: a dotted path, a JSON pointer into the request, and the reason."""

    field: str
    pointer: str
    reason: str


class Problem(BaseModel):
    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldError] | None = None
    request_id: str | None = None


class DomainError(Exception):
    """Base of every error the service layer raises; subclasses fix status, type and title."""

    status: int = 400
    code: str = "bad-request"
    title: str = "Bad request"
    headers: dict[str, str] = {}

    def __init__(
        self, detail: str, *, errors: list[FieldError] | None = None, extra: dict[str, Any] | None = None
    ):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.extra = extra or {}


class NotFound(DomainError):
    status, code, title = 404, "not-found", "Resource not found"


class Conflict(DomainError):
    status, code, title = 409, "conflict", "Conflict with the current state"


class PreconditionFailed(DomainError):
    status, code, title = 412, "precondition-failed", "Precondition failed"


class Unprocessable(DomainError):
    status, code, title = 422, "validation-error", "Request is invalid"


class BadRequest(DomainError):
    status, code, title = 400, "bad-request", "Bad request"


class Unauthorized(DomainError):
    status, code, title = 401, "unauthorized", "Authentication required"
    # RFC 9110 §11.6.1: a 401 names the scheme the client should use.
    headers = {"WWW-Authenticate": 'Bearer realm="tejido"'}


class Forbidden(DomainError):
    status, code, title = 403, "forbidden", "Not allowed"


def field_error(loc: list[str | int] | tuple[str | int, ...], reason: str) -> FieldError:
    parts = [str(p) for p in loc]
    reason = reason.removeprefix("Value error, ")
    return FieldError(field=".".join(parts) or "body", pointer="#/" + "/".join(parts), reason=reason)


def problem_response(
    status: int,
    title: str,
    *,
    code: str | None = None,
    detail: str | None = None,
    instance: str | None = None,
    errors: list[FieldError] | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = Problem(
        type=PROBLEM_BASE + code if code else "about:blank",
        title=title,
        status=status,
        detail=detail,
        instance=instance,
        errors=errors,
        request_id=current_correlation_id(),
    ).model_dump(exclude_none=True)
    body.update(extra or {})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _validation_errors(exc: RequestValidationError) -> tuple[int, str, str, list[FieldError]]:
    errors: list[FieldError] = []
    malformed = False
    for err in exc.errors():
        loc = list(err.get("loc", ()))
        if loc and loc[0] == "body":
            loc = loc[1:]
        if err.get("type") == "json_invalid":
            malformed = True
            ctx = err.get("ctx") or {}
            errors.append(field_error([], f"malformed JSON: {ctx.get('error', err.get('msg'))}"))
            continue
        errors.append(field_error(loc, str(err.get("msg", "invalid value"))))
    if malformed:
        return 400, "malformed-json", "Request body is not valid JSON", errors
    return 422, "validation-error", "Request is invalid", errors


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        return problem_response(
            exc.status,
            exc.title,
            code=exc.code,
            detail=exc.detail,
            instance=request.url.path,
            errors=exc.errors,
            extra=exc.extra,
            headers=exc.headers or None,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        status, code, title, errors = _validation_errors(exc)
        fields = ", ".join(e.field for e in errors[:5])
        return problem_response(
            status,
            title,
            code=code,
            detail=f"{len(errors)} invalid field(s): {fields}" if status == 422 else errors[0].reason,
            instance=request.url.path,
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        titles = {404: "Resource not found", 405: "Method not allowed", 413: "Request body too large"}
        # FastAPI answers 400 when it cannot even parse the body (not UTF-8, JSON nested too deeply):
        # still name the field, like every other bad input.
        body_error = (
            [field_error([], "not UTF-8 JSON, or nested too deeply")] if exc.status_code == 400 else None
        )
        return problem_response(
            exc.status_code,
            titles.get(exc.status_code, str(exc.detail)),
            detail=str(exc.detail),
            instance=request.url.path,
            errors=body_error,
            headers=dict(exc.headers) if exc.headers else None,
        )

    @app.exception_handler(DataError)
    async def _data(request: Request, exc: DataError) -> JSONResponse:
        # The database refused a value the API let through (e.g. a NUL character on PostgreSQL).
        log.warning("database refused a value", path=request.url.path, error=str(exc.orig)[:200])
        return problem_response(
            422,
            "Request is invalid",
            code="validation-error",
            detail="a value contains characters or a size the database cannot store",
            instance=request.url.path,
            errors=[field_error([], "contains characters or a size the database cannot store")],
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", path=request.url.path)
        return problem_response(
            500, "Internal error", detail="An unexpected error occurred", instance=request.url.path
        )


def unprocessable_from(exc: Any, prefix: list[str | int] | None = None) -> Unprocessable:
    """Turn a pydantic ``ValidationError`` raised by the service layer into a 422 naming each field."""
    errors = [
        field_error([*(prefix or []), *err.get("loc", ())], str(err.get("msg"))) for err in exc.errors()
    ]
    fields = ", ".join(e.field for e in errors[:5])
    return Unprocessable(f"{len(errors)} invalid field(s): {fields}", errors=errors)

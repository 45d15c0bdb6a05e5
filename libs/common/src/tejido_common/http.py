"""Small HTTP conventions every service shares: problem responses in OpenAPI, ETags and If-Match."""

from __future__ import annotations

from typing import Annotated, Any, Protocol, TypeVar

from fastapi import Header, Response

from tejido_common.problems import Problem, Unprocessable, field_error


def problem_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` documenting RFC 9457 problem documents for these status codes."""
    return {code: {"model": Problem, "content": {"application/problem+json": {}}} for code in codes}


class Versioned(Protocol):
    @property
    def version(self) -> int: ...


V = TypeVar("V", bound=Versioned)
IfMatch = Annotated[
    str | None,
    Header(
        description='ETag of the version you read, e.g. W/"3" (or * for any version)',
        # Described in the schema so generated requests (schemathesis, client generators) send valid ones;
        # parse_if_match still answers a readable 422 for anything else.
        json_schema_extra={"pattern": r'^(\*|(W/)?"[0-9]{1,18}")$', "examples": ['W/"3"']},
    ),
]


def with_etag(response: Response, resource: V) -> V:
    """Versions are the ETags: a client sends one back in ``If-Match`` to avoid lost updates."""
    response.headers["ETag"] = f'W/"{resource.version}"'
    return resource


def parse_if_match(value: str | None) -> int | None:
    """The version an ``If-Match`` header asks for (None: no condition)."""
    if value is None or value.strip() == "*":
        return None
    raw = value.strip().removeprefix("W/").strip('"')
    if not raw.isdigit():
        raise Unprocessable(
            "If-Match must carry an ETag this API returned",
            errors=[field_error(["headers", "If-Match"], 'expected W/"<version>"')],
        )
    return int(raw)

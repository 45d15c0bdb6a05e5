"""Small HTTP conventions every service shares: problem responses in OpenAPI, ETags and If-Match."""

from __future__ import annotations

import re
from typing import Annotated, Any, Protocol, TypeVar

from fastapi import Header, Query, Response

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
        json_schema_extra={
            "pattern": r'^(\*|(W/)?"[0-9]{1,18}"( *, *(W/)?"[0-9]{1,18}")*)$',
            "examples": ['W/"3"', 'W/"3", W/"4"'],
        },
    ),
]


# A page's ``cursor`` query parameter. Documented only (a bad cursor stays a 400 naming the field, from
# the service that decodes it): base64url, as the previous page's ``next_cursor`` gives it.
Cursor = Annotated[
    str | None,
    Query(
        description="next_cursor of the previous page, unchanged",
        json_schema_extra={"pattern": r"^[A-Za-z0-9_-]+$"},
    ),
]


def with_etag(response: Response, resource: V) -> V:
    """Versions are the ETags: a client sends one back in ``If-Match`` to avoid lost updates."""
    response.headers["ETag"] = f'W/"{resource.version}"'
    return resource


# The versions an If-Match header accepts; None: no condition.
IfMatchVersions = frozenset[int] | None
_ETAG = re.compile(r'^\s*(?:W/)?"(\d{1,18})"\s*$')
_BARE_ETAG = re.compile(r"^\s*(?:W/)?(\d{1,18})\s*$")


def parse_if_match(value: str | None) -> IfMatchVersions:
    """The versions an ``If-Match`` header accepts (RFC 9110: a list of entity tags, any may match);
    None: no condition (absent or ``*``)."""
    if value is None or value.strip() == "*":
        return None
    versions = set()
    for tag in value.split(","):
        match = _ETAG.match(tag) or _BARE_ETAG.match(tag)
        if match is None:
            raise Unprocessable(
                "If-Match must carry ETags this API returned",
                errors=[field_error(["headers", "If-Match"], 'expected W/"<version>" (comma-separated)')],
            )
        versions.add(int(match.group(1)))
    return frozenset(versions)

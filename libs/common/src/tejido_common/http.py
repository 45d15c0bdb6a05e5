"""Small HTTP conventions every service shares: problem responses in OpenAPI, ETags and If-Match."""

from __future__ import annotations

from typing import Any

from fastapi import Response

from tejido_common.problems import Problem, Unprocessable, field_error


def problem_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` documenting RFC 9457 problem documents for these status codes."""
    return {code: {"model": Problem, "content": {"application/problem+json": {}}} for code in codes}


def set_etag(response: Response, version: int) -> None:
    """Versions are the ETags: a client sends one back in ``If-Match`` to avoid lost updates."""
    response.headers["ETag"] = f'W/"{version}"'


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

"""HTTP conventions of the registry's routes: opaque cursors and ``If-Match`` entity-tag lists."""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from tejido_common.problems import BadRequest, Unprocessable, field_error

CURSOR_FIELD: list[str | int] = ["query", "cursor"]
_ETAG = re.compile(r'^\s*(?:W/)?"(\d+)"\s*$')
_BARE_ETAG = re.compile(r"^\s*(?:W/)?(\d+)\s*$")


def bad_cursor(reason: str = "not a cursor this API returned") -> BadRequest:
    """A cursor the server did not write (tampered, truncated, or from another listing): 400, not 500."""
    return BadRequest("the cursor is not one this API returned", errors=[field_error(CURSOR_FIELD, reason)])


def encode_cursor(key: list[Any]) -> str:
    raw = json.dumps(key, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *, length: int) -> list[Any]:
    """The key a cursor carries, checked to be a list of ``length`` values (the shape this API writes)."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise bad_cursor("malformed cursor") from exc
    if not isinstance(value, list) or len(value) != length:
        raise bad_cursor()
    return value


def if_match_versions(value: str | None) -> frozenset[int] | None:
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

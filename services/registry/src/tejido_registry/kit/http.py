"""HTTP conventions of the registry's routes: opaque cursors (``If-Match`` lists: ``tejido_common.http``)."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from tejido_common.problems import BadRequest, field_error

CURSOR_FIELD: list[str | int] = ["query", "cursor"]


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

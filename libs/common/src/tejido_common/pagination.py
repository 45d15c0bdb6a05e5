"""Opaque keyset cursors: base64 of the last row's sort key, so pages stay stable under inserts."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from tejido_common.problems import Unprocessable, field_error


def encode_cursor(key: list[Any]) -> str:
    raw = json.dumps(key, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise Unprocessable(
            "the cursor is not one this API returned", errors=[field_error(["cursor"], "malformed cursor")]
        ) from exc
    if not isinstance(value, list):
        raise Unprocessable(
            "the cursor is not one this API returned", errors=[field_error(["cursor"], "malformed cursor")]
        )
    return value

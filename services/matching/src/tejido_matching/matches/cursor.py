"""Signed pagination cursors: the offset plus a digest of the query they belong to.

Ranking is recomputed per page, so a cursor is an offset; signing it (HMAC) makes a tampered or
foreign cursor a clear 400 rather than a silently different page."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any

from tejido_common.problems import BadRequest, field_error


class CursorCodec:
    def __init__(self, secret: bytes):
        self.secret = secret

    @staticmethod
    def query_digest(query: dict[str, Any]) -> str:
        return hashlib.sha256(json.dumps(query, sort_keys=True, default=str).encode()).hexdigest()[:16]

    def _sign(self, body: bytes) -> str:
        return hmac.new(self.secret, body, hashlib.sha256).hexdigest()[:32]

    def encode(self, offset: int, query: dict[str, Any]) -> str:
        body = json.dumps({"o": offset, "q": self.query_digest(query)}, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(body).decode().rstrip("=") + "." + self._sign(body)

    def decode(self, cursor: str, query: dict[str, Any]) -> int:
        def bad(reason: str) -> BadRequest:
            return BadRequest(
                "the cursor is not one this API returned for this query",
                errors=[field_error(["cursor"], reason)],
            )

        encoded, _, signature = cursor.partition(".")
        try:
            body = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        except (binascii.Error, ValueError) as exc:
            raise bad("malformed cursor") from exc
        if not signature or not hmac.compare_digest(signature, self._sign(body)):
            raise bad("cursor signature does not match")
        value = json.loads(body)
        if value.get("q") != self.query_digest(query):
            raise bad("cursor belongs to another query")
        offset = value.get("o")
        if not isinstance(offset, int) or offset < 0:
            raise bad("malformed cursor")
        return offset

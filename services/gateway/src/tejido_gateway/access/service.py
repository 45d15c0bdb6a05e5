"""Authentication: who presents which credentials. API keys (``tjd_…``) for integrations, JWT bearer
tokens for people; no credentials means the anonymous principal. Cookies are never credentials, so a
browser cannot be made to act for its user by another site."""

from __future__ import annotations

import asyncio

from tejido_common.identity import ANONYMOUS, Principal
from tejido_gateway.access.tokens import InvalidToken, TokenVerifier
from tejido_gateway.keys.service import InvalidKey, KeyService, looks_like_key


class AuthenticationFailed(Exception):
    """Credentials were presented and are not valid (401). The message is safe to show."""


def credentials_of(headers: dict[bytes, bytes]) -> str | None:
    """The presented secret: ``Authorization: Bearer …`` or ``X-API-Key``; raises for other schemes."""
    if api_key := headers.get(b"x-api-key"):
        return api_key.decode("latin-1").strip()
    authorization = headers.get(b"authorization")
    if authorization is None:
        return None
    scheme, _, value = authorization.decode("latin-1").strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise AuthenticationFailed("use 'Authorization: Bearer <API key or token>'")
    return value.strip()


class Authenticator:
    def __init__(self, keys: KeyService, tokens: TokenVerifier):
        self.keys = keys
        self.tokens = tokens

    async def authenticate(self, headers: dict[bytes, bytes]) -> Principal:
        presented = credentials_of(headers)
        if presented is None:
            return ANONYMOUS
        try:
            if looks_like_key(presented):
                cached = self.keys.cached(presented)
                if cached is not None:
                    return cached
                return await asyncio.to_thread(self.keys.authenticate, presented)
            return await asyncio.to_thread(self.tokens.verify, presented)
        except (InvalidKey, InvalidToken) as exc:
            raise AuthenticationFailed(str(exc)) from None

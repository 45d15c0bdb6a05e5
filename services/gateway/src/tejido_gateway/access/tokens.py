"""JWT bearer tokens for people: HS256 with a shared secret, or RS256/ES256 with keys from a JWKS.

The algorithms follow the configured key material, never the token's header, so an RS256 public key can
never be used as an HS256 secret. Issuer, audience, expiry and subject are always required.
"""

from __future__ import annotations

import json
from typing import Any

import jwt

from tejido_common.identity import ROLES, Principal
from tejido_gateway.settings import GatewaySettings

ASYMMETRIC = ["RS256", "ES256"]


class InvalidToken(Exception):
    """The message is safe to show to the client (never the token)."""


class TokenVerifier:
    def __init__(self, settings: GatewaySettings):
        self.settings = settings
        self.secret = settings.jwt_hs256_secret.get_secret_value() if settings.jwt_hs256_secret else None
        self.jwks: jwt.PyJWKSet | None = None
        if settings.jwt_jwks_file is not None:
            self.jwks = jwt.PyJWKSet.from_dict(json.loads(settings.jwt_jwks_file.read_text()))
        self.jwks_client = (
            jwt.PyJWKClient(settings.jwt_jwks_url, cache_keys=True, lifespan=300)
            if settings.jwt_jwks_url
            else None
        )

    @property
    def enabled(self) -> bool:
        return bool(self.secret or self.jwks or self.jwks_client)

    def _key(self, token: str, header: dict[str, Any]) -> tuple[Any, list[str]]:
        alg = header.get("alg")
        if alg == "HS256" and self.secret:
            return self.secret, ["HS256"]
        if alg in ASYMMETRIC and (self.jwks or self.jwks_client):
            if self.jwks is not None:
                kid = header.get("kid")
                matches = [k for k in self.jwks.keys if kid is None or k.key_id == kid]
                if not matches:
                    raise InvalidToken("token signed with an unknown key")
                return matches[0].key, ASYMMETRIC
            assert self.jwks_client is not None
            try:
                return self.jwks_client.get_signing_key_from_jwt(token).key, ASYMMETRIC
            except jwt.PyJWKClientError as exc:
                raise InvalidToken("token signed with an unknown key") from exc
        raise InvalidToken(f"tokens signed with {alg!r} are not accepted")

    def verify(self, token: str) -> Principal:
        """Blocking when a JWKS URL must be fetched (run it in a thread)."""
        if not self.enabled:
            raise InvalidToken("bearer tokens are not enabled on this gateway; use an API key")
        s = self.settings
        try:
            header = jwt.get_unverified_header(token)
            key, algorithms = self._key(token, header)
            claims = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                audience=s.jwt_audience,
                issuer=s.jwt_issuer,
                leeway=s.jwt_leeway_seconds,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise InvalidToken("token expired") from exc
        except jwt.InvalidSignatureError as exc:
            raise InvalidToken("token signature invalid") from exc
        except jwt.InvalidAudienceError as exc:
            raise InvalidToken("token audience not accepted") from exc
        except jwt.InvalidIssuerError as exc:
            raise InvalidToken("token issuer not accepted") from exc
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"invalid token: {type(exc).__name__}") from exc
        role = claims.get(s.jwt_role_claim)
        orgs = claims.get(s.jwt_organizations_claim) or []
        if not isinstance(orgs, list) or not all(isinstance(o, str) for o in orgs):
            raise InvalidToken(f"claim {s.jwt_organizations_claim!r} must be a list of organization ids")
        return Principal(
            id=str(claims["sub"])[:200],
            kind="user",
            role=role if role in ROLES else None,
            organizations=tuple(orgs),
            name=str(claims["name"])[:200] if isinstance(claims.get("name"), str) else None,
        )

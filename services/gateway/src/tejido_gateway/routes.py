"""The route table: which service owns each public resource. Clients only ever see ``/v1/<resource>``."""

from __future__ import annotations

ROUTES: dict[str, str] = {
    "organizations": "registry",
    "alliances": "registry",
    "matches": "matching",
    "match-runs": "matching",
    "assessments": "duediligence",
    "frameworks": "duediligence",
    "screening": "duediligence",
    "flags": "duediligence",
    "ratings": "duediligence",
    "watchlists": "duediligence",
    "audit": "duediligence",
    "indicators": "reporting",
    "observations": "reporting",
    "targets": "reporting",
    "reports": "reporting",
    # The gateway's own resources: API keys, the caller's identity, webhook subscriptions.
    "keys": "gateway",
    "me": "gateway",
    "webhooks": "gateway",
}

# How problem documents name a service that cannot be reached, in the user's terms.
SERVICE_LABELS: dict[str, str] = {
    "registry": "the organization registry",
    "matching": "the ally matching service",
    "duediligence": "the due diligence service",
    "reporting": "the impact reporting service",
    "gateway": "the gateway",
}

API_PREFIX = "/v1/"


def resource_of(path: str) -> str | None:
    """``/v1/organizations/abc:archive`` and ``/v1/organizations:import`` → ``organizations``."""
    if not path.startswith(API_PREFIX):
        return None
    segment = path[len(API_PREFIX) :].split("/", 1)[0].split(":", 1)[0]
    return segment or None


def service_for(path: str) -> str | None:
    """The owning service, or None. Dot segments are refused: httpx would resolve them when building the
    upstream URL, so ``/v1/organizations/../../x`` could otherwise reach an upstream's non-public paths."""
    if any(segment in (".", "..") for segment in path.split("/")):
        return None
    resource = resource_of(path)
    return ROUTES.get(resource) if resource else None

"""The route × role policy: which principal may call which ``/v1`` route, decided before anything is
forwarded. Services enforce their own data rules on top (an org_editor's matches, a reviewer's queue).

Rules are tried in order; the first whose method and path match decides. A route no rule names is open
to ``admin`` only, so a resource a service adds is closed until someone decides who may use it.
``scoped`` rules name the organization in the path (``org`` group): an ``org_editor`` passes only for
the organizations its key or token is scoped to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from tejido_common.identity import ADMIN, FUNDER, OPERATOR, ORG_EDITOR, REVIEWER, ROLES, Principal

PUBLIC = "anonymous"  # pseudo-role: callers without credentials
READ = frozenset({"GET", "HEAD", "OPTIONS"})
WRITE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ANY_METHOD = READ | WRITE
EVERYONE = frozenset({*ROLES})
STAFF = frozenset({ADMIN, OPERATOR})

_ID = r"[^/:]+"
_SECTION = r"(?:identity|where|purpose|capacity|cooperation)"


class Decision(Enum):
    ALLOW = "allow"
    UNAUTHENTICATED = "unauthenticated"  # 401: credentials would help
    FORBIDDEN = "forbidden"  # 403: this principal may not


@dataclass(frozen=True)
class Rule:
    methods: frozenset[str]
    path: re.Pattern[str]
    roles: frozenset[str]
    # The ``org`` group of ``path`` must be in an org_editor's scope.
    scoped: bool = False
    why: str = ""


def rule(
    methods: frozenset[str] | set[str], path: str, roles: frozenset[str] | set[str], *, scoped: bool = False
) -> Rule:
    return Rule(frozenset(methods), re.compile(f"^/v1/{path}$"), frozenset(roles) | {ADMIN}, scoped)


RULES: tuple[Rule, ...] = (
    # -- registry: organizations ---------------------------------------------------------------------
    # Restricted sections: key people (and documents) never leave the roles that vet or edit them.
    rule(
        READ,
        rf"organizations/(?P<org>{_ID})/(?:people|documents)",
        {OPERATOR, REVIEWER, ORG_EDITOR},
        scoped=True,
    ),
    rule(WRITE, rf"organizations/(?P<org>{_ID})/(?:people|documents)", {OPERATOR, ORG_EDITOR}, scoped=True),
    rule(READ, rf"organizations/(?P<org>{_ID})/history", {OPERATOR, REVIEWER, ORG_EDITOR}, scoped=True),
    # Published profile fields are public.
    rule(READ, r"organizations", {PUBLIC, *EVERYONE}),
    rule(READ, rf"organizations/{_ID}(?:/{_SECTION})?", {PUBLIC, *EVERYONE}),
    rule(READ, rf"organizations/{_ID}/alliances", EVERYONE),
    rule(READ, r"organizations:export", EVERYONE),
    rule({"POST"}, r"organizations(?::import)?", STAFF),
    rule({"POST"}, rf"organizations/{_ID}:archive", STAFF),
    rule(
        {"PATCH", "PUT"},
        rf"organizations/(?P<org>{_ID})(?:/{_SECTION})?",
        {OPERATOR, ORG_EDITOR},
        scoped=True,
    ),
    # -- registry: alliances (coordinated by operators) ------------------------------------------------
    rule(READ, r"alliances(?:[/:].*)?", EVERYONE),
    rule(WRITE, r"alliances(?:[/:].*)?", STAFF),
    # -- matching --------------------------------------------------------------------------------------
    # An org_editor asks for allies of its own organization: the matching service scopes the results.
    rule(ANY_METHOD, r"matches(?:[/:].*)?", {OPERATOR, ORG_EDITOR}),
    rule(ANY_METHOD, r"match-runs(?:[/:].*)?", STAFF),
    # -- due diligence ---------------------------------------------------------------------------------
    # Screening hits, watch lists, flags and the audit chain are restricted to reviewers.
    rule(ANY_METHOD, r"(?:screening|watchlists|flags|audit)(?:[/:].*)?", {REVIEWER}),
    # CSO staff answer their own self-assessment (the service scopes it to their organizations).
    rule(READ, r"assessments(?:[/:].*)?", {OPERATOR, REVIEWER, ORG_EDITOR}),
    rule(WRITE, r"assessments(?:[/:].*)?", {REVIEWER, ORG_EDITOR}),
    rule(READ, r"frameworks(?:[/:].*)?", EVERYONE),
    rule(WRITE, r"frameworks(?:[/:].*)?", {REVIEWER}),
    rule(READ, r"ratings(?:[/:].*)?", EVERYONE),
    rule(WRITE, r"ratings(?:[/:].*)?", {REVIEWER}),
    # -- reporting -------------------------------------------------------------------------------------
    rule(READ, r"(?:indicators|targets|reports|observations)(?:[/:].*)?", EVERYONE),
    # CSO staff report their own results (the service scopes observations to their organizations).
    rule(WRITE, r"observations(?:[/:].*)?", {OPERATOR, ORG_EDITOR}),
    rule(WRITE, r"(?:indicators|targets|reports)(?:[/:].*)?", STAFF),
    # -- the gateway's own resources ---------------------------------------------------------------------
    rule(READ, r"me", EVERYONE),
    rule(ANY_METHOD, r"keys(?:[/:].*)?", set()),
    # Funders and operators manage their own subscriptions (the gateway scopes them to their owner).
    rule(ANY_METHOD, r"webhooks(?:[/:].*)?", {OPERATOR, FUNDER}),
)


def find_rule(method: str, path: str) -> tuple[Rule | None, re.Match[str] | None]:
    for candidate in RULES:
        if method in candidate.methods and (match := candidate.path.match(path)):
            return candidate, match
    return None, None


def decide(principal: Principal, method: str, path: str) -> Decision:
    """Whether ``principal`` may call ``method path`` (``path`` as the client sent it, decoded)."""
    found, match = find_rule(method.upper(), path)
    roles = found.roles if found else frozenset({ADMIN})
    if PUBLIC in roles:
        return Decision.ALLOW  # what anyone may read, any caller may read (a token without a role too)
    if not principal.authenticated:
        return Decision.UNAUTHENTICATED
    if principal.role not in roles:
        return Decision.FORBIDDEN
    if found and found.scoped and match is not None and principal.role != ADMIN:
        org = match.group("org")
        if (principal.role == ORG_EDITOR or principal.organizations) and org not in principal.organizations:
            return Decision.FORBIDDEN
    return Decision.ALLOW

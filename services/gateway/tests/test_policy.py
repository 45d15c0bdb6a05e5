"""The route × role policy as a pure function (the end-to-end matrix is tests/test_authorization.py)."""

from __future__ import annotations

import pytest

from tejido_common.identity import ANONYMOUS, Principal, scoped
from tejido_gateway.access.policy import RULES, Decision, decide

NO_ROLE = Principal(id="bob", kind="user")


@pytest.mark.parametrize(
    "principal,method,path,expected",
    [
        (ANONYMOUS, "GET", "/v1/organizations/o1", Decision.ALLOW),
        (NO_ROLE, "GET", "/v1/organizations/o1", Decision.ALLOW),
        (NO_ROLE, "GET", "/v1/alliances", Decision.FORBIDDEN),
        (ANONYMOUS, "GET", "/v1/organizations/o1/people", Decision.UNAUTHENTICATED),
        (scoped("funder"), "GET", "/v1/organizations/o1/people", Decision.FORBIDDEN),
        (scoped("org_editor", ["o1"]), "PUT", "/v1/organizations/o1/people", Decision.ALLOW),
        (scoped("org_editor", ["o1"]), "PUT", "/v1/organizations/o2/people", Decision.FORBIDDEN),
        # A scoped key of another role is held to its scope too.
        (scoped("operator", ["o1"]), "PATCH", "/v1/organizations/o2", Decision.FORBIDDEN),
        (scoped("operator"), "PATCH", "/v1/organizations/o2", Decision.ALLOW),
        # Paths no rule names are admin-only; trailing slashes and odd suffixes do not slip through.
        (scoped("operator"), "GET", "/v1/organizations/o1/people/", Decision.FORBIDDEN),
        (scoped("operator"), "GET", "/v1/something-new", Decision.FORBIDDEN),
        (scoped("admin"), "GET", "/v1/something-new", Decision.ALLOW),
        (ANONYMOUS, "POST", "/v1/organizations:import", Decision.UNAUTHENTICATED),
    ],
)
def test_decisions(principal: Principal, method: str, path: str, expected: Decision) -> None:
    assert decide(principal, method, path) is expected


def test_admin_is_in_every_rule() -> None:
    assert all("admin" in rule.roles for rule in RULES)

"""The bulk CSV example of the OpenAPI document. It is real: a test imports it (for an organization
the registry announced under the example's id) and expects every row to be recorded."""

from __future__ import annotations

from typing import Any

EXAMPLE_ORGANIZATION_ID = "0193c1f5-6b0e-7c1a-9f00-5d7a1e2b3c4d"

IMPORT_CSV = (
    "organization_id,observation_key,revision,indicator,period,territory,value,numerator,denominator,"
    "currency,evidence_level,parts\r\n"
    f"{EXAMPLE_ORGANIZATION_ID},participants-2009-q2-cajeme,1,workshop_participants,2009-Q2,"
    "MX-SON:Cajeme,412,,,,documented,sex:female=250|sex:male=162\r\n"
    f"{EXAMPLE_ORGANIZATION_ID},actions-2009-navojoa,1,community_actions,2009,MX-SON:Navojoa,59,,,,"
    "self_declared,action_area:health=2|action_area:environment=8|action_area:income_generation=36"
    "|action_area:infrastructure=13\r\n"
    f"{EXAMPLE_ORGANIZATION_ID},women-leaders-2009,1,women_in_leadership_share,2009,MX-SON,,18,40,,"
    "verified,\r\n"
    f"{EXAMPLE_ORGANIZATION_ID},funds-2009-q3,2,funds_invested,2009-Q3,MX-SON,125000,,,MXN,documented,\r\n"
)

IMPORT_REQUEST_BODY: dict[str, Any] = {
    "content": {"text/csv": {"schema": {"type": "string"}, "example": IMPORT_CSV}},
    "required": True,
}

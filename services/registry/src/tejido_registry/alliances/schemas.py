"""API models of alliances, validated against the alliance taxonomy and ISO code lists.

The stored alliance (everything but its stage) is validated as a whole, so a merge patch is applied to
the stored document first and the merged document is validated again.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from tejido_common.taxonomy import check_code, taxonomy
from tejido_registry.kit.types import (
    CENT,
    Currency,
    FundingSource,
    Legitimacy,
    LongText,
    Money,
    Strict,
    Text,
    printable,
    unique,
)

NoControl = AfterValidator(printable)


ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60), NoControl]
OrgId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=36), NoControl]
IndicatorCode = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z][A-Za-z0-9_.:-]{0,79}$")
]
EvidenceLevel = Literal["self_declared", "documented", "verified"]


def _alliance_code(kind: str, key: str) -> Any:
    def check(value: str) -> str:
        return check_code(kind, value, taxonomy().alliance[key])

    return AfterValidator(check)


AllianceType = Annotated[str, _alliance_code("alliance type", "types")]
AllianceScope = Annotated[str, _alliance_code("alliance scope", "scopes")]
Modality = Annotated[str, _alliance_code("modality", "modalities")]
DevelopmentStrategy = Annotated[str, _alliance_code("development strategy", "development_strategies")]
PartyRole = Annotated[str, _alliance_code("party role", "party_roles")]
ContributionKind = Annotated[str, _alliance_code("contribution kind", "contribution_kinds")]
AgreementKind = Annotated[str, _alliance_code("agreement kind", "agreement_kinds")]

_PERIOD_PART = r"\d{4}(?:-(?:Q[1-4]|(?:0[1-9]|1[0-2])(?:-(?:0[1-9]|[12]\d|3[01]))?))?"
_PERIOD_RE = re.compile(rf"^({_PERIOD_PART})(?:/({_PERIOD_PART}))?$")


def _period(value: str) -> str:
    """A year (2008), quarter (2008-Q3), month (2009-04) or day, or an interval of two of them."""
    value = value.strip()
    match = _PERIOD_RE.match(value)
    if not match:
        raise ValueError(
            f"{value!r} is not a period: use YYYY, YYYY-Qn, YYYY-MM or YYYY-MM-DD, "
            "or start/end (e.g. 1993/1995)"
        )
    if match.group(2) and match.group(2) < match.group(1)[: len(match.group(2))]:
        raise ValueError(f"period {value!r} ends before it starts")
    return value


Period = Annotated[str, AfterValidator(_period)]


class Contribution(Strict):
    """What a party brings. Money always carries a currency: ``currency`` is required with ``amount``."""

    kind: ContributionKind
    amount: Decimal | None = Field(default=None, ge=0, max_digits=18, decimal_places=2)
    currency: Currency | None = Field(default=None, validate_default=True)
    description: LongText | None = None

    @field_validator("amount")
    @classmethod
    def _cents(cls, v: Decimal | None) -> Decimal | None:
        return v.quantize(CENT) if v is not None else None

    @field_validator("currency")
    @classmethod
    def _currency_with_amount(cls, v: str | None, info: ValidationInfo) -> str | None:
        if v is None and info.data.get("amount") is not None:
            raise ValueError("currency is required when amount is given (ISO 4217, e.g. USD)")
        return v


class PartyCreate(Strict):
    """A party: an existing, non-archived organization with its role in the alliance."""

    organization_id: OrgId
    role: PartyRole
    contribution: Contribution | None = None
    expected_benefit: LongText | None = None
    legitimacy_sought: list[Legitimacy] = Field(default_factory=list, max_length=5)

    @field_validator("legitimacy_sought")
    @classmethod
    def _dedupe(cls, v: list[str]) -> list[str]:
        return unique(v)


class Party(PartyCreate):
    added_at: datetime | None = Field(default=None, description="when the organization became a party")


class PartyPatch(Strict):
    """JSON merge patch of one party (its organization cannot change: remove it and add another)."""

    role: str | None = None
    contribution: dict[str, Any] | None = None
    expected_benefit: str | None = None
    legitimacy_sought: list[str] | None = None


class Agreement(Strict):
    kind: AgreementKind
    title: Text
    signatories: list[OrgId] = Field(
        default_factory=list, max_length=200, description="organization ids; each must be a party"
    )
    signed_on: date | None = None
    renewed_on: date | None = None
    description: LongText | None = None

    @field_validator("signatories")
    @classmethod
    def _dedupe(cls, v: list[str]) -> list[str]:
        return unique(v)

    @field_validator("renewed_on")
    @classmethod
    def _after_signing(cls, v: date | None, info: ValidationInfo) -> date | None:
        signed = info.data.get("signed_on")
        if v is not None and signed is not None and v < signed:
            raise ValueError("renewed_on is before signed_on")
        return v


class Project(Strict):
    """The joint project. Optional until the alliance enters *commitments*, which needs every field."""

    type: Text | None = None
    size: Text | None = Field(default=None, description='e.g. "40 houses"')
    cost: Money | None = None
    funding_sources: list[FundingSource] = Field(default_factory=list, max_length=20)
    expected_social_impact: LongText | None = None

    @field_validator("funding_sources")
    @classmethod
    def _dedupe(cls, v: list[str]) -> list[str]:
        return unique(v)


class Result(Strict):
    """A result of the alliance. Backed by indicator data when it has indicator_code, value and period."""

    indicator_code: IndicatorCode | None = None
    description: LongText | None = None
    value: Decimal | None = Field(default=None, max_digits=24, decimal_places=6)
    unit: ShortText | None = None
    period: Period | None = None
    evidence_level: EvidenceLevel = "self_declared"

    @model_validator(mode="after")
    def _something(self) -> Result:
        if self.indicator_code is None and self.description is None:
            raise ValueError("a result needs an indicator_code or a description")
        return self

    @property
    def backed_by_indicator(self) -> bool:
        return self.indicator_code is not None and self.value is not None and self.period is not None


class AllianceFields(Strict):
    """Everything an alliance holds except its stage (which only moves through transitions)."""

    name: Text
    purpose: LongText
    type: AllianceType | None = None
    scope: AllianceScope | None = None
    modality: Modality | None = None
    development_strategy: DevelopmentStrategy | None = None
    parties: list[Party] = Field(default_factory=list, max_length=200)
    agreements: list[Agreement] = Field(default_factory=list, max_length=200)
    project: Project | None = None
    results: list[Result] = Field(default_factory=list, max_length=500)


class AllianceCreate(Strict):
    """A new alliance starts in stage *objectives* with at least one party (usually the initiator)."""

    name: Text
    purpose: LongText
    type: AllianceType | None = None
    scope: AllianceScope | None = None
    modality: Modality | None = None
    development_strategy: DevelopmentStrategy | None = None
    parties: list[PartyCreate] = Field(min_length=1, max_length=200)
    agreements: list[Agreement] = Field(default_factory=list, max_length=200)
    project: Project | None = None
    results: list[Result] = Field(default_factory=list, max_length=500)


class AlliancePatch(Strict):
    """JSON merge patch (RFC 7396) of the non-stage fields: given fields replace the stored ones,
    objects (``project``) are merged, lists are replaced whole and null clears a field. Parties change
    through ``/parties``; the stage through ``:transition``."""

    name: str | None = None
    purpose: str | None = None
    type: str | None = None
    scope: str | None = None
    modality: str | None = None
    development_strategy: str | None = None
    agreements: list[dict[str, Any]] | None = None
    project: dict[str, Any] | None = None
    results: list[dict[str, Any]] | None = None


Stage = Literal[
    "objectives",
    "prospecting",
    "negotiation",
    "trial",
    "commitments",
    "established",
    "concluded",
    "dissolved",
]


class AllianceState(BaseModel):
    id: str
    version: int
    stage: Stage
    stage_changed_at: datetime
    created_at: datetime
    updated_at: datetime


class Alliance(AllianceFields, AllianceState):
    """An alliance as read: its state (id, version, stage and times) followed by its fields."""

    model_config = ConfigDict(extra="ignore")


class AlliancePage(BaseModel):
    items: list[Alliance]
    next_cursor: str | None = None
    limit: int


class TransitionRequest(Strict):
    to_stage: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
    reason: LongText | None = None


class StageChange(BaseModel):
    version: int = Field(description="the alliance version this change produced")
    from_stage: str | None = None
    to_stage: str
    reason: str | None = None
    changed_at: datetime
    actor: str | None = None
    correlation_id: str | None = None


class AllianceHistory(BaseModel):
    """Stage changes, oldest first (the first entry is the creation in *objectives*)."""

    alliance_id: str
    stage: str
    items: list[StageChange]


class OrganizationAlliance(BaseModel):
    """One alliance as listed on an organization's profile, with that organization's role in it."""

    id: str
    name: str
    stage: str
    type: str | None = None
    scope: str | None = None
    modality: str | None = None
    role: str


class OrganizationAlliances(BaseModel):
    organization_id: str
    items: list[OrganizationAlliance]
    next_cursor: str | None = None
    limit: int

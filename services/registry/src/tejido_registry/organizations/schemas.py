"""API models of the organization profile, validated against the taxonomies and ISO code lists.

Sections (identity, where, purpose) are validated as wholes, so a partial update is merged into the
stored section first and the merged section is validated again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from tejido_common.taxonomy import check_code, check_country, check_language, check_subdivision, taxonomy
from tejido_registry.kit.changes import Change
from tejido_registry.kit.types import (
    Acronym,
    FundingSource,
    IdentifierValue,
    Legitimacy,
    LongText,
    Money,
    Name,
    Strict,
    Text,
    UtcDateTime,
    code_of,
    unique,
)


def _actor_type(v: str) -> str:
    return check_code("actor type", v, taxonomy().actor_types)


def _cso_subtype(v: str) -> str:
    return check_code("CSO sub-type", v, taxonomy().cso_subtypes)


def _government_level(v: str) -> str:
    return check_code("government level", v, taxonomy().government_levels)


def _program_area(v: str) -> str:
    tax = taxonomy()
    if tax.program_area_category(v) is None:
        allowed = list(tax.program_categories) + list(tax.programs)
        return check_code("program area", v, allowed)
    return v


def _social_indicator(v: str) -> str:
    return check_code("social indicator", v, taxonomy().social_indicators)


def _population(v: str) -> str:
    return check_code("target population", v, taxonomy().target_populations)


def _recognition_level(v: str) -> str:
    return check_code("recognition level", v, taxonomy().recognition_levels)


# Documentation only (descriptions and examples: these types are also in the event schemas, where a
# pattern or an enum would be a new constraint on the contract). Validation stays with the validators.
ActorType = Annotated[str, AfterValidator(_actor_type), Field(examples=["cso"])]
RecognitionLevel = Annotated[str, AfterValidator(_recognition_level)]
CooperationKind = Annotated[str, code_of("cooperation kind", lambda t: t.cooperation_kinds)]
CsoSubtype = Annotated[str, AfterValidator(_cso_subtype)]
GovernmentLevel = Annotated[str, AfterValidator(_government_level)]
ProgramArea = Annotated[
    str,
    AfterValidator(_program_area),
    Field(description="program code (e.g. HE1) or its category (HE)", examples=["HE1"]),
]
SocialIndicator = Annotated[str, AfterValidator(_social_indicator), Field(examples=["quality_of_life"])]
Population = Annotated[str, AfterValidator(_population)]
Country = Annotated[
    str, AfterValidator(check_country), Field(description="ISO 3166-1 alpha-2", examples=["MX"])
]
Subdivision = Annotated[
    str,
    AfterValidator(check_subdivision),
    Field(description="ISO 3166-2, in the organization's country", examples=["MX-SON"]),
]
Language = Annotated[
    str, AfterValidator(check_language), Field(description="ISO 639-3 (639-1 accepted)", examples=["spa"])
]
Scope = Literal["local", "national", "international"]
IdentifierScheme = Annotated[
    str,
    BeforeValidator(lambda v: v.strip().upper() if isinstance(v, str) else v),
    StringConstraints(pattern=r"^[A-Z]{2}-[A-Z0-9_-]{2,40}$"),
]


class Section(Strict):
    pass


class Identifier(Section):
    """An org-id.guide style identifier, e.g. ``{"scheme": "MX-RFC", "id": "ABC010101XYZ"}``."""

    scheme: IdentifierScheme
    id: IdentifierValue


class Identity(Section):
    legal_name: Name
    aliases: list[Name] = Field(default_factory=list, max_length=50)
    acronym: Acronym | None = None
    identifiers: list[Identifier] = Field(default_factory=list, max_length=20)
    actor_type: ActorType
    cso_subtype: CsoSubtype | None = None
    government_level: GovernmentLevel | None = None
    legal_form: Text | None = None
    founding_year: int | None = Field(default=None, ge=1800)
    origin: LongText | None = None
    parent_organization_id: str | None = Field(default=None, max_length=36)

    @model_validator(mode="after")
    def _consistent(self) -> Identity:
        if self.founding_year is not None and self.founding_year > datetime.now(UTC).year:
            raise ValueError("founding_year is in the future")
        if self.cso_subtype and self.actor_type != "cso":
            raise ValueError("cso_subtype is only allowed when actor_type is 'cso'")
        if self.government_level and self.actor_type != "government":
            raise ValueError("government_level is only allowed when actor_type is 'government'")
        self.aliases = unique(self.aliases)
        keys = [(i.scheme, i.id) for i in self.identifiers]
        if len(set(keys)) != len(keys):
            raise ValueError("identifiers contain the same scheme and id twice")
        return self


class Coordinates(Section):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class Place(Section):
    """A place where the organization really works."""

    country: Country
    subdivision: Subdivision | None = None
    municipality: Text | None = None
    community: Text | None = None

    @field_validator("subdivision")
    @classmethod
    def _in_country(cls, value: str | None, info: ValidationInfo) -> str | None:
        country = info.data.get("country")
        if value and country and not value.startswith(country + "-"):
            raise ValueError(f"subdivision {value} is not in country {country}")
        return value


class Where(Section):
    country: Country
    subdivisions: list[Subdivision] = Field(default_factory=list, max_length=100)
    municipalities: list[Text] = Field(default_factory=list, max_length=200)
    coordinates: Coordinates | None = None
    areas_of_operation: list[Place] = Field(default_factory=list, max_length=500)
    scope: Scope | None = None
    languages: list[Language] = Field(default_factory=list, max_length=30)

    @field_validator("subdivisions")
    @classmethod
    def _in_country(cls, value: list[str], info: ValidationInfo) -> list[str]:
        country = info.data.get("country")
        foreign = [s for s in value if country and not s.startswith(country + "-")]
        if foreign:
            raise ValueError(f"subdivisions {', '.join(foreign)} are not in country {country}")
        return unique(value)

    @field_validator("languages")
    @classmethod
    def _dedupe_languages(cls, value: list[str]) -> list[str]:
        return unique(value)


class Purpose(Section):
    mission: LongText | None = None
    vision: LongText | None = None
    objectives: list[LongText] = Field(default_factory=list, max_length=50)
    program_areas: list[ProgramArea] = Field(default_factory=list, max_length=50)
    social_indicators: list[SocialIndicator] = Field(default_factory=list, max_length=10)
    target_populations: list[Population] = Field(default_factory=list, max_length=30)
    working_methods: list[Text] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _dedupe(self) -> Purpose:
        self.program_areas = unique(self.program_areas)
        self.social_indicators = unique(self.social_indicators)
        self.target_populations = unique(self.target_populations)
        return self


class FundingShare(Section):
    """Share of income by source type; shares need not add up to 100."""

    source: FundingSource
    share_percent: float | None = Field(default=None, ge=0, le=100)


class Resource(Section):
    kind: Literal["financial", "human", "technical", "intangible"]
    description: Text


class ProgramExperience(Section):
    program_area: ProgramArea
    years: int | None = Field(default=None, ge=0, le=200)
    programs_run: int | None = Field(default=None, ge=0)


class Recognition(Section):
    level: RecognitionLevel
    kind: Literal["award", "accreditation", "certification"]
    name: Text
    granted_by: Text | None = None
    year: int | None = Field(default=None, ge=1800, le=2200)


class Capacity(Section):
    staff: int | None = Field(default=None, ge=0)
    volunteers: int | None = Field(default=None, ge=0)
    annual_budget: Money | None = None
    budget_year: int | None = Field(default=None, ge=1900, le=2200)
    funding_mix: list[FundingShare] = Field(default_factory=list, max_length=20)
    resources: list[Resource] = Field(default_factory=list, max_length=100)
    years_of_experience: int | None = Field(default=None, ge=0, le=300)
    experience: list[ProgramExperience] = Field(default_factory=list, max_length=50)
    recognition: list[Recognition] = Field(default_factory=list, max_length=100)
    network_memberships: list[Text] = Field(default_factory=list, max_length=100)
    maturity_level: Literal["basic", "intermediate", "advanced"] | None = None


class CooperationItem(Section):
    """Something offered or needed: kind, description, program areas, places, amount, period."""

    kind: CooperationKind
    description: LongText | None = None
    program_areas: list[ProgramArea] = Field(default_factory=list, max_length=20)
    places: list[Place] = Field(default_factory=list, max_length=50)
    quantity: Text | None = None
    amount: Money | None = None
    period: Text | None = None


class PriorCooperation(Section):
    partner_name: Text
    organization_id: str | None = Field(default=None, max_length=36)
    description: LongText | None = None
    period: Text | None = None


class Swot(Section):
    strengths: list[Text] = Field(default_factory=list, max_length=50)
    weaknesses: list[Text] = Field(default_factory=list, max_length=50)
    opportunities: list[Text] = Field(default_factory=list, max_length=50)
    threats: list[Text] = Field(default_factory=list, max_length=50)
    assessed_on: date | None = None


class IntakeAnswers(Section):
    """The six intake questions of the sources."""

    objectives: LongText | None = None
    results_against_objectives: LongText | None = None
    goals_that_worked_and_did_not: LongText | None = None
    impact_of_programs: LongText | None = None
    worked_with_other_csos: bool | None = None
    willing_to_work_with_others: bool | None = None


class Cooperation(Section):
    offers: list[CooperationItem] = Field(default_factory=list, max_length=100)
    needs: list[CooperationItem] = Field(default_factory=list, max_length=100)
    willing_to_cooperate: bool | None = None
    prior_cooperation: list[PriorCooperation] = Field(default_factory=list, max_length=200)
    legitimacy_sought: list[Legitimacy] = Field(default_factory=list, max_length=5)
    swot: Swot | None = None
    intake: IntakeAnswers | None = None


PersonRole = Literal[
    "director",
    "board_member",
    "board_chair",
    "legal_representative",
    "treasurer",
    "founder",
    "staff",
    "other",
]


class Person(Section):
    """A key person (restricted: used for due-diligence screening, never shown publicly)."""

    name: Name
    role: PersonRole
    title: Text | None = None
    nationality: Country | None = None
    birth_year: int | None = Field(default=None, ge=1900, le=2100)
    since: date | None = None


class People(Section):
    people: list[Person] = Field(default_factory=list, max_length=200)


class Completeness(BaseModel):
    """Percent (0-100) of each section's expected fields that are filled, and their mean."""

    identity: int
    where: int
    purpose: int
    capacity: int
    cooperation: int
    people: int
    overall: int


# Public sections, in profile order; people are kept apart (restricted).
SECTIONS: dict[str, type[Section]] = {
    "identity": Identity,
    "where": Where,
    "purpose": Purpose,
    "capacity": Capacity,
    "cooperation": Cooperation,
}
Status = Literal["draft", "active", "archived"]


DD_BANDS = ("low", "medium", "significant", "high")


class DueDiligenceSummary(BaseModel):
    """The current band as last published by the due-diligence service."""

    band: str
    rated_at: datetime | None = None


class OrganizationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["draft", "active"] = "active"
    identity: Identity
    where: Where
    purpose: Purpose = Field(default_factory=Purpose)
    capacity: Capacity = Field(default_factory=Capacity)
    cooperation: Cooperation = Field(default_factory=Cooperation)
    people: list[Person] | None = Field(
        default=None, description="restricted; never returned by public reads"
    )


class OrganizationPatch(BaseModel):
    """JSON merge patch: each given section's given fields replace the stored ones; null clears a field."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["draft", "active"] | None = None
    identity: dict[str, Any] | None = None
    where: dict[str, Any] | None = None
    purpose: dict[str, Any] | None = None
    capacity: dict[str, Any] | None = None
    cooperation: dict[str, Any] | None = None


class Organization(BaseModel):
    id: str
    status: Status
    version: int
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None = None
    identity: Identity
    where: Where
    purpose: Purpose
    capacity: Capacity = Field(default_factory=Capacity)
    cooperation: Cooperation = Field(default_factory=Cooperation)
    completeness: Completeness | None = None
    due_diligence: DueDiligenceSummary | None = None


class SearchHit(Organization):
    match: str | None = Field(
        default=None,
        description="with q: why it matched (exact name, exact alias, exact acronym, words of the name, "
        "words of the alias, words in the mission or other texts)",
    )


class OrganizationPage(BaseModel):
    items: list[SearchHit]
    next_cursor: str | None = None
    limit: int


class OrganizationVersion(BaseModel):
    version: int
    action: str
    changed_at: datetime
    actor: str | None = None
    correlation_id: str | None = None
    changes: list[Change]


class OrganizationHistory(BaseModel):
    organization_id: str
    items: list[OrganizationVersion]
    next_cursor: str | None = None


class LikelyDuplicate(BaseModel):
    id: str
    legal_name: str
    matched_name: str
    score: float
    reason: str


SORTS = ("created", "name", "updated", "completeness")
# The configured page_size_max cannot appear in a static schema: the default is what it can promise.
LIMIT_DOC = (
    "page size; larger values are capped at the server's page_size_max (200 by default): "
    "the page's limit field is the size used"
)
TIME_DOC = "; a time without offset (or a bare date) is read as UTC"


def _sort(value: str | None) -> str | None:
    if value is not None and value.lstrip("-") not in SORTS:
        raise ValueError(f"expected one of {', '.join(SORTS)} (prefix - to reverse)")
    return value


def _upper(values: list[str]) -> list[str]:
    return [v.strip().upper() for v in values]


def _lower(values: list[str]) -> list[str]:
    return [v.strip().lower() for v in values]


def _each(check: Callable[[str], str]) -> AfterValidator:
    """A repeated filter checked value by value with a profile field's own check; an error names the
    parameter (not one repetition of it)."""
    return AfterValidator(lambda values: [check(v) for v in values])


def _kind(value: str) -> str:
    return check_code("cooperation kind", value, taxonomy().cooperation_kinds)


def _band(value: str) -> str:
    return check_code("band", value, list(DD_BANDS))


def _status(value: str) -> str:
    return check_code("status", value, ["draft", "active", "archived"])


Codes = list[str]


def _identifier(value: str | None) -> str | None:
    if value is not None:
        _, sep, ident = value.partition(":")
        if not sep or not ident.strip():
            raise ValueError("expected SCHEME:ID, e.g. MX-RFC:ABC010101XYZ")
    return value


class SearchQuery(BaseModel):
    """The query parameters of search and export, validated once with the profile's own field types
    (an unknown code is a 422 naming the parameter). Countries, subdivisions and languages are only
    normalized: an unknown one simply matches nothing."""

    q: str | None = Field(
        default=None,
        max_length=200,
        description="words in names, aliases, acronym or mission; without sort, results are ranked by "
        "relevance (exact name, alias or acronym first, then names starting with the words, then the "
        "rest) and each says why it matched (match)",
    )
    actor_type: Annotated[Codes, _each(_actor_type)] = Field(default=[], description="repeat for several")
    cso_subtype: Annotated[Codes, _each(_cso_subtype)] = []
    government_level: Annotated[Codes, _each(_government_level)] = []
    country: Annotated[list[str], AfterValidator(_upper)] = Field(
        default=[], description="ISO 3166-1 alpha-2"
    )
    subdivision: Annotated[list[str], AfterValidator(_upper)] = Field(
        default=[], description="ISO 3166-2, also matches areas of operation"
    )
    program_area: Annotated[Codes, _each(_program_area)] = Field(
        default=[], description="program code (HE1) or category (HE)"
    )
    social_indicator: Annotated[Codes, _each(_social_indicator)] = []
    population: Annotated[Codes, _each(_population)] = []
    language: Annotated[list[str], AfterValidator(_lower)] = Field(default=[], description="ISO 639-3")
    offer_kind: Annotated[Codes, _each(_kind)] = []
    need_kind: Annotated[Codes, _each(_kind)] = []
    willing_to_cooperate: bool | None = None
    completeness_min: int | None = Field(default=None, ge=0, le=100)
    dd_band: Annotated[Codes, _each(_band)] = Field(default=[], description="current due-diligence band")
    status: Annotated[Codes, _each(_status)] = Field(default=[], description="draft, active, archived")
    modified_since: UtcDateTime | None = Field(
        default=None,
        description="sync feed: changed at or after this time (includes archived)" + TIME_DOC,
    )
    identifier: Annotated[str | None, AfterValidator(_identifier)] = Field(
        default=None, description="SCHEME:ID"
    )
    sort: Annotated[str | None, AfterValidator(_sort)] = Field(
        default=None,
        description="created, name, updated or completeness; prefix - to reverse (default: relevance "
        "with q, created without)",
    )
    cursor: str | None = Field(
        default=None,
        description="next_cursor of the previous page, unchanged",
        # Documented only (a bad cursor stays a 400 naming the field): base64url, as next_cursor gives it.
        json_schema_extra={"pattern": r"^[A-Za-z0-9_-]+$"},
    )
    limit: int | None = Field(default=None, ge=1, le=1000, description=LIMIT_DOC)

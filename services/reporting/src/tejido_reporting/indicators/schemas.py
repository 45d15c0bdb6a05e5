"""The indicator definition as clients send and read it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from tejido_common.taxonomy import taxonomy

ValueType = Literal["count", "sum", "average", "percentage", "latest"]
Direction = Literal["higher_is_better", "lower_is_better"]
Aggregation = Literal["sum", "weighted_mean", "ratio_of_sums", "latest_then_sum"]
Code = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,59}$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
MONEY_UNIT = "currency"

# How each value type adds up across places and periods (never an average of percentages).
AGGREGATION_OF: dict[str, Aggregation] = {
    "count": "sum",
    "sum": "sum",
    "average": "weighted_mean",
    "percentage": "ratio_of_sums",
    "latest": "latest_then_sum",
}
STANDARD_DISAGGREGATIONS: dict[str, list[str]] = {
    "sex": ["female", "male", "other", "unknown"],
    "age_group": ["0-14", "15-24", "25-64", "65+"],
    "indigenous": ["yes", "no"],
}


class Names(BaseModel):
    model_config = ConfigDict(extra="forbid")
    es: Name
    en: Name


class Descriptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    es: Annotated[str, StringConstraints(max_length=2000)] | None = None
    en: Annotated[str, StringConstraints(max_length=2000)] | None = None


class IndicatorDefinition(BaseModel):
    """What defines an indicator. ``unit: "currency"`` makes it a money indicator: each observation then
    carries an ISO 4217 currency, and amounts in different currencies are never added together."""

    model_config = ConfigDict(extra="forbid")

    code: Code
    name: Names
    description: Descriptions | None = None
    unit: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
    value_type: ValueType
    direction: Direction = "higher_is_better"
    aggregation: Aggregation | None = Field(
        default=None, description="derived from value_type; if given it must agree with it"
    )
    disaggregations: dict[
        Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")],
        list[Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_+\-]{0,59}$")]],
    ] = Field(default_factory=dict, max_length=10)
    families: list[str] = Field(default_factory=list, max_length=4, description="social indicator families")
    program_areas: list[str] = Field(default_factory=list, max_length=50)
    sdg: Annotated[str, StringConstraints(pattern=r"^\d{1,2}(\.[0-9a-z]{1,2}){0,2}$")] | None = None
    iris: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}\d{4}$")] | None = None

    @field_validator("families")
    @classmethod
    def _families(cls, value: list[str]) -> list[str]:
        known = taxonomy().social_indicators
        for code in value:
            if code not in known:
                raise ValueError(f"{code!r} is not a social indicator family ({', '.join(known)})")
        return sorted(set(value))

    @field_validator("program_areas")
    @classmethod
    def _areas(cls, value: list[str]) -> list[str]:
        for code in value:
            if taxonomy().program_area_category(code) is None:
                raise ValueError(f"{code!r} is not a program area or category code")
        return sorted(set(value))

    @field_validator("disaggregations")
    @classmethod
    def _categories(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for dim, cats in value.items():
            if not cats or len(cats) > 50 or len(set(cats)) != len(cats):
                raise ValueError(f"{dim}: give 1 to 50 distinct categories")
        return value

    @field_validator("value_type")
    @classmethod
    def _value_type(cls, value: str, info: ValidationInfo) -> str:
        unit = info.data.get("unit")
        if unit == MONEY_UNIT and value not in ("sum", "latest"):
            raise ValueError("a money indicator (unit currency) is a sum or a latest (stock) value")
        if value == "percentage" and unit is not None and unit != "percent":
            raise ValueError("a percentage indicator has unit percent")
        return value

    @field_validator("aggregation")
    @classmethod
    def _aggregation(cls, value: str | None, info: ValidationInfo) -> str | None:
        value_type = info.data.get("value_type")
        if value is not None and value_type is not None and value != AGGREGATION_OF[value_type]:
            raise ValueError(f"a {value_type} indicator aggregates as {AGGREGATION_OF[value_type]}")
        return value

    @model_validator(mode="after")
    def _derive(self) -> IndicatorDefinition:
        self.aggregation = AGGREGATION_OF[self.value_type]
        return self

    @property
    def money(self) -> bool:
        return self.unit == MONEY_UNIT


class Indicator(IndicatorDefinition):
    version: int
    builtin: bool
    created_at: datetime
    in_use: bool = False


class IndicatorList(BaseModel):
    items: list[Indicator]


class IndicatorVersions(BaseModel):
    code: str
    versions: list[Indicator]

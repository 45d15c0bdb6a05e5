"""Field types shared by the organization and alliance models: text without control characters,
taxonomy codes, ISO codes and money (which always carries a currency)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, field_validator

from tejido_common.taxonomy import Taxonomy, check_code, check_currency, taxonomy

CENT = Decimal("0.01")


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def printable(value: str) -> str:
    """Control characters (NUL above all: PostgreSQL cannot store it) have no place in text fields."""
    if _CONTROL.search(value):
        raise ValueError("contains control characters")
    return value


Text = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300), AfterValidator(printable)
]
LongText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000), AfterValidator(printable)
]


def code_of(kind: str, values: Callable[[Taxonomy], Sequence[str]]) -> AfterValidator:
    """A validator accepting only the codes of one taxonomy list, naming the list when it refuses.
    The accepted codes are kept as a set per taxonomy (bulk imports check thousands of codes)."""
    known: dict[int, frozenset[str]] = {}

    def check(value: str) -> str:
        tax = taxonomy()
        allowed = known.get(id(tax))
        if allowed is None:
            allowed = known[id(tax)] = frozenset(values(tax))
        return value if value in allowed else check_code(kind, value, list(values(tax)))

    return AfterValidator(check)


FundingSource = Annotated[str, code_of("funding source", lambda t: t.funding_sources)]
Legitimacy = Annotated[str, code_of("legitimacy type", lambda t: t.legitimacy_types)]
Currency = Annotated[str, AfterValidator(check_currency)]


def unique(values: list[Any]) -> list[Any]:
    """The values in their first order, without repeats (also for unhashable values)."""
    seen: list[Any] = []
    for value in values:
        if value not in seen:
            seen.append(value)
    return seen


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Money(Strict):
    """An amount always carries its ISO 4217 currency."""

    amount: Decimal = Field(ge=0, max_digits=18, decimal_places=2)
    currency: Currency

    @field_validator("amount")
    @classmethod
    def _cents(cls, value: Decimal) -> Decimal:
        """Always two decimals, so the same amount is always written (and compared) the same way."""
        return value.quantize(CENT)


# Bidirectional overrides and zero-width characters make two names look alike (or a name read
# backwards) without being equal: never part of an organization's name, acronym or identifier.
_INVISIBLE = re.compile("[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


def visible(value: str) -> str:
    printable(value)
    if _INVISIBLE.search(value):
        raise ValueError("contains invisible (zero-width or bidirectional control) characters")
    return value


Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300), AfterValidator(visible)
]
Acronym = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40), AfterValidator(visible)
]
IdentifierValue = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), AfterValidator(visible)
]


def as_utc(value: datetime) -> datetime:
    """A time without offset is read as UTC; one that leaves the representable range once converted to
    UTC (``9999-12-31T23:59:59-05:00``) is refused instead of failing later."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("out of range once converted to UTC") from exc


UtcDateTime = Annotated[datetime, AfterValidator(as_utc)]

"""The reporting service's domain errors (rendered once by tejido_common.problems)."""

from __future__ import annotations

from tejido_common.problems import DomainError, FieldError, Unprocessable, field_error


class UnknownParty(Unprocessable):
    """An observation or target names an organization or alliance the registry never announced."""

    code, title = "unknown-reporter", "Unknown organization or alliance"


class NotInUseChange(DomainError):
    status, code, title = 409, "indicator-in-use", "Indicator definition in use"


def invalid(field: str, reason: str, detail: str | None = None) -> Unprocessable:
    return Unprocessable(
        detail or f"{field}: {reason}", errors=[field_error(tuple(field.split(".")), reason)]
    )


def errors_of(pairs: list[tuple[str, str]]) -> list[FieldError]:
    return [field_error(tuple(f.split(".")), r) for f, r in pairs]

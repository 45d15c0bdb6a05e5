"""The rules every observation passes, whichever way it comes (API, CSV row, event).

Pure functions over plain values (JSON-typed from the API and events, strings from CSV), so the bulk
path validates a row without building a model per row. Problems are ``(field, reason)`` pairs.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

import pycountry

from tejido_reporting.indicators.schemas import MONEY_UNIT, IndicatorDefinition
from tejido_reporting.kit.periods import PeriodError, month_of, parse_period
from tejido_reporting.kit.territory import TerritoryError, parse_territory

EVIDENCE_LEVELS = ("self_declared", "documented", "verified")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_KEY_RE = re.compile(r"^[^\x00-\x1f\x7f]{1,200}$")
NUMBER_FIELDS = ("value", "numerator", "denominator", "weight")
Problems = list[tuple[str, str]]


@dataclass(frozen=True)
class IndicatorInfo:
    code: str
    version: int
    definition: IndicatorDefinition


@dataclass
class BatchContext:
    """What validation needs to know about the world, loaded once per batch."""

    indicators: dict[str, IndicatorInfo]
    organization_status: dict[str, str]
    alliance_parties: dict[str, set[str]]


@dataclass(slots=True)
class Candidate:
    """A valid observation revision, ready to store."""

    organization_id: str
    observation_key: str
    revision: int
    indicator: IndicatorInfo
    alliance_id: str
    country: str
    subdivision: str
    municipality: str
    period_start: date
    period_end: date
    value: float | None
    numerator: float | None
    denominator: float | None
    weight: float | None
    currency: str
    evidence_level: str
    parts: list[dict[str, Any]] = field(default_factory=list)
    content_hash: str = ""

    @property
    def ident(self) -> str:
        return f"{self.organization_id}/{self.observation_key}"

    @property
    def month(self) -> int:
        return month_of(self.period_end)


@lru_cache(maxsize=512)
def valid_currency(code: str) -> bool:
    return len(code) == 3 and pycountry.currencies.get(alpha_3=code) is not None


def _number(raw: Any, name: str, problems: Problems) -> float | None:
    if isinstance(raw, str):
        text = raw.strip()
        if not text:
            return None
        try:
            value = float(text)
        except ValueError:
            problems.append((name, f"must be a number, not {raw[:40]!r}"))
            return None
    elif raw is None:
        return None
    elif isinstance(raw, bool) or not isinstance(raw, int | float):
        problems.append((name, "must be a number"))
        return None
    else:
        value = float(raw)
    if not math.isfinite(value) or abs(value) > 1e15:
        problems.append((name, "must be a finite number below 10^15 in size"))
        return None
    return value


def _date(raw: Any, name: str, problems: Problems) -> date | None:
    if isinstance(raw, date):
        return raw
    if raw is None or raw == "":
        return None
    day = _parse_day(str(raw).strip())
    if isinstance(day, str):
        problems.append((name, day))
        return None
    return day


@lru_cache(maxsize=8192)
def _parse_day(text: str) -> date | str:
    """A calendar date, or why the text is not one (a batch repeats the same few dates: cached)."""
    if not _DATE_RE.match(text):
        return "must be a calendar date YYYY-MM-DD (no time, no offset)"
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return "is not a real calendar date"
    if not 1900 <= day.year <= 2200:
        return "year must be between 1900 and 2200"
    return day


def _text(raw: Any) -> str:
    return raw.strip() if isinstance(raw, str) else ("" if raw is None else str(raw))


def _measure(
    definition: IndicatorDefinition, nums: dict[str, float | None], prefix: str, problems: Problems
) -> None:
    """The numbers a value type needs, and nothing else."""
    vt = definition.value_type
    needed = {
        "count": ("value",),
        "sum": ("value",),
        "latest": ("value",),
        "average": ("value", "weight"),
        "percentage": ("numerator", "denominator"),
    }[vt]
    for name in NUMBER_FIELDS:
        if name not in needed and nums.get(name) is not None:
            problems.append((prefix + name, f"not used by a {vt} indicator (give {' and '.join(needed)})"))
    value, weight = nums.get("value"), nums.get("weight")
    num, den = nums.get("numerator"), nums.get("denominator")
    if vt == "count" and value is not None and (value < 0 or value != int(value)):
        problems.append((prefix + "value", "a count is a whole number ≥ 0"))
    if vt == "average" and weight is not None and weight <= 0:
        problems.append((prefix + "weight", "must be greater than 0"))
    if vt == "percentage":
        if den is not None and den <= 0:
            problems.append((prefix + "denominator", "must be greater than 0"))
        if num is not None and num < 0:
            problems.append((prefix + "numerator", "must be ≥ 0"))
        if num is not None and den is not None and den > 0 and num > den:
            problems.append((prefix + "numerator", "cannot exceed the denominator (at most 100 %)"))
    if vt != "sum" and value is not None and value < 0 and vt != "count":
        problems.append((prefix + "value", "must be ≥ 0"))


def check(raw: Mapping[str, Any], ctx: BatchContext) -> Candidate | Problems:
    """Validate one observation; a :class:`Candidate` or the list of problems."""
    problems: Problems = []
    org_id = _text(raw.get("organization_id"))
    key = _text(raw.get("observation_key"))
    if not org_id or len(org_id) > 36:
        problems.append(("organization_id", "required, at most 36 characters"))
    elif org_id not in ctx.organization_status:
        problems.append(
            ("organization_id", "unknown organization: only organizations registered in the registry report")
        )
    elif ctx.organization_status[org_id] == "archived":
        problems.append(("organization_id", "the organization is archived"))
    if not _KEY_RE.match(key):
        problems.append(("observation_key", "required: 1 to 200 printable characters"))
    revision_raw = raw.get("revision", 1)
    revision = 1
    if revision_raw not in (None, ""):
        try:
            revision = int(str(revision_raw).strip()) if not isinstance(revision_raw, int) else revision_raw
            if isinstance(revision_raw, bool) or not 1 <= revision <= 1_000_000:
                raise ValueError
        except ValueError:
            problems.append(("revision", "must be a whole number from 1 to 1000000"))
    code = _text(raw.get("indicator"))
    info = ctx.indicators.get(code)
    if info is None:
        problems.append(("indicator", f"unknown indicator {code[:60]!r}" if code else "required"))

    # period: either a named period or two dates
    start = _date(raw.get("period_start"), "period_start", problems)
    end = _date(raw.get("period_end"), "period_end", problems)
    period = _text(raw.get("period"))
    if period:
        if start is not None or end is not None:
            problems.append(("period", "give either period or period_start/period_end"))
        else:
            try:
                months = parse_period(period)
                start, end = months.start, months.end
            except PeriodError as exc:
                problems.append(("period", str(exc)))
    elif start is None or end is None:
        if not any(f in ("period_start", "period_end") for f, _ in problems):
            problems.append(("period_end" if start else "period_start", "required (or give period)"))
    if start is not None and end is not None and start > end:
        problems.append(("period_end", "must not be before period_start"))

    territory = _text(raw.get("territory"))
    country = subdivision = municipality = ""
    try:
        place = parse_territory(territory)
        country, subdivision, municipality = place.country, place.subdivision, place.municipality
    except TerritoryError as exc:
        problems.append(("territory", str(exc) if territory else "required, e.g. MX-ZAC:Fresnillo"))

    alliance_id = _text(raw.get("alliance_id"))
    if alliance_id:
        parties = ctx.alliance_parties.get(alliance_id)
        if parties is None:
            problems.append(
                ("alliance_id", "unknown alliance: only alliances registered in the registry report")
            )
        elif org_id and org_id not in parties:
            problems.append(("alliance_id", "the organization is not a party of this alliance"))

    evidence = _text(raw.get("evidence_level")) or "self_declared"
    if evidence not in EVIDENCE_LEVELS:
        problems.append(("evidence_level", f"one of {', '.join(EVIDENCE_LEVELS)}"))

    nums = {name: _number(raw.get(name), name, problems) for name in NUMBER_FIELDS}
    currency = _text(raw.get("currency")).upper()
    unit = _text(raw.get("unit"))
    parts_raw = raw.get("parts") or []
    parts: list[dict[str, Any]] = []
    if info is not None:
        definition = info.definition
        if unit and unit != definition.unit:
            problems.append(("unit", f"{code} is measured in {definition.unit}, not {unit[:40]!r}"))
        if definition.unit == MONEY_UNIT:
            if not currency:
                problems.append(("currency", "required for a money indicator (ISO 4217, e.g. MXN)"))
            elif not valid_currency(currency):
                problems.append(("currency", f"{currency[:3]!r} is not an ISO 4217 currency code"))
        elif currency:
            problems.append(("currency", f"{code} is not a money indicator"))
        parts = _parts(parts_raw, definition, nums, problems)
        if nums.get("value") is None and definition.value_type in ("count", "sum", "latest") and parts:
            dims = {p["dimension"] for p in parts}
            if len(dims) == 1:
                # The parts of one dimension are the whole: the total is their sum.
                nums["value"] = sum(float(p["value"]) for p in parts)
        _measure(definition, nums, "", problems)
        needed = {"average": ("value", "weight"), "percentage": ("numerator", "denominator")}.get(
            definition.value_type, ("value",)
        )
        for name in needed:
            if nums.get(name) is None and not any(f == name for f, _ in problems):
                problems.append((name, f"required for a {definition.value_type} indicator"))
        if not problems:
            _parts_within_total(definition, nums, parts, problems)
    if problems or info is None or start is None or end is None:
        return problems
    candidate = Candidate(
        organization_id=org_id,
        observation_key=key,
        revision=revision,
        indicator=info,
        alliance_id=alliance_id,
        country=country,
        subdivision=subdivision,
        municipality=municipality,
        period_start=start,
        period_end=end,
        value=nums["value"],
        numerator=nums["numerator"],
        denominator=nums["denominator"],
        weight=nums["weight"],
        currency=currency,
        evidence_level=evidence,
        parts=parts,
    )
    candidate.content_hash = content_hash(candidate)
    return candidate


def _parts(
    raw: Any, definition: IndicatorDefinition, total: dict[str, float | None], problems: Problems
) -> list[dict[str, Any]]:
    if isinstance(raw, str):
        raw = parse_parts_text(raw, problems)
    if not isinstance(raw, list):
        problems.append(("parts", "must be a list of {dimension, category, value}"))
        return []
    if len(raw) > 200:
        problems.append(("parts", "at most 200 parts"))
        return []
    parts: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for i, part in enumerate(raw):
        prefix = f"parts.{i}."
        if not isinstance(part, Mapping):
            problems.append((f"parts.{i}", "must be an object"))
            continue
        dim, cat = _text(part.get("dimension")), _text(part.get("category"))
        allowed = definition.disaggregations.get(dim)
        if allowed is None:
            known = ", ".join(definition.disaggregations) or "none"
            problems.append(
                (
                    prefix + "dimension",
                    f"{definition.code} allows no {dim[:40]!r} disaggregation (allowed: {known})",
                )
            )
            continue
        if cat not in allowed:
            problems.append(
                (prefix + "category", f"{cat[:60]!r} is not a {dim} category ({', '.join(allowed)})")
            )
            continue
        if (dim, cat) in seen:
            problems.append((prefix + "category", f"{dim}={cat} given twice"))
            continue
        seen.add((dim, cat))
        nums = {name: _number(part.get(name), prefix + name, problems) for name in NUMBER_FIELDS}
        before = len(problems)
        _measure(definition, nums, prefix, problems)
        needed = {"average": ("value", "weight"), "percentage": ("numerator", "denominator")}.get(
            definition.value_type, ("value",)
        )
        for name in needed:
            if nums.get(name) is None:
                problems.append((prefix + name, f"required for a {definition.value_type} indicator"))
        if len(problems) == before:
            parts.append(
                {"dimension": dim, "category": cat, **{k: v for k, v in nums.items() if v is not None}}
            )
    return parts


def _parts_within_total(
    definition: IndicatorDefinition,
    total: dict[str, float | None],
    parts: list[dict[str, Any]],
    problems: Problems,
) -> None:
    """Parts may sum to less than the total (some unknown), never more — per dimension."""
    measures = {"average": ("weight",), "percentage": ("numerator", "denominator")}.get(
        definition.value_type, ("value",)
    )
    by_dim: dict[str, dict[str, float]] = {}
    first_index: dict[str, int] = {}
    for i, part in enumerate(parts):
        sums = by_dim.setdefault(part["dimension"], {})
        first_index.setdefault(part["dimension"], i)
        for name in measures:
            sums[name] = sums.get(name, 0.0) + float(part.get(name) or 0.0)
    for dim, sums in by_dim.items():
        for name in measures:
            whole = total.get(name) or 0.0
            if sums[name] > whole + 1e-9 * max(1.0, abs(whole)):
                problems.append(
                    (
                        f"parts.{first_index[dim]}.{name}",
                        f"the {dim} parts add up to {sums[name]:g}, more than the total {name} {whole:g}",
                    )
                )


def parse_parts_text(text: str, problems: Problems) -> list[dict[str, Any]]:
    """CSV form: ``sex:female=12|sex:male=10``; for percentages ``dim:cat=num/den``; averages
    ``dim:cat=value*weight``."""
    parts: list[dict[str, Any]] = []
    for i, item in enumerate(p for p in text.split("|") if p.strip()):
        label, sep, amount = item.partition("=")
        dim, sep2, cat = label.partition(":")
        if not sep or not sep2:
            problems.append((f"parts.{i}", "write parts as dimension:category=value, separated by |"))
            continue
        part: dict[str, Any] = {"dimension": dim.strip(), "category": cat.strip()}
        amount = amount.strip()
        if "/" in amount:
            part["numerator"], _, part["denominator"] = amount.partition("/")
        elif "*" in amount:
            part["value"], _, part["weight"] = amount.partition("*")
        else:
            part["value"] = amount
        parts.append(part)
    return parts


def content_hash(c: Candidate) -> str:
    """What makes two sends of one revision "the same": everything but the key, revision and channel
    (the text of each value joined by US characters; the stored hashes depend on this exact form)."""
    doc = (
        f"{c.indicator.code}\x1f{c.alliance_id}\x1f{c.country}\x1f{c.subdivision}\x1f{c.municipality}"
        f"\x1f{c.period_start}\x1f{c.period_end}\x1f{c.value}\x1f{c.numerator}\x1f{c.denominator}"
        f"\x1f{c.weight}\x1f{c.currency}\x1f{c.evidence_level}"
    )
    if c.parts:
        doc += json.dumps(sorted(c.parts, key=lambda p: (p["dimension"], p["category"])), sort_keys=True)
    return hashlib.sha256(doc.encode()).hexdigest()

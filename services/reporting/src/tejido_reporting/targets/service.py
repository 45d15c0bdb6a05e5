"""Targets and progress against them.

* counts, sums and money: *met* once actual ≥ target; *on track* while actual ≥ target × the share of
  the period elapsed; else *behind*;
* averages, percentages and stocks: *met* only once the period is over and the actual reaches the
  target; before that *on track* when the actual already reaches it (or, with a baseline, the straight
  line from baseline to target at the elapsed share), else *behind*;
* lower-is-better indicators compare the other way round;
* *no data* when nothing is in scope.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy.exc import IntegrityError

from tejido_common.db import Database
from tejido_common.ids import new_id
from tejido_common.problems import Conflict, NotFound
from tejido_reporting.aggregates.queries import AggregateQuery, Aggregator
from tejido_reporting.indicators.schemas import IndicatorDefinition
from tejido_reporting.kit.errors import UnknownParty, invalid
from tejido_reporting.kit.periods import MonthRange, PeriodError, elapsed_share, parse_period
from tejido_reporting.kit.territory import TerritoryError, parse_territory
from tejido_reporting.network.repository import NetworkRepository
from tejido_reporting.observations.validation import valid_currency
from tejido_reporting.targets.models import TargetRow
from tejido_reporting.targets.repository import TargetRepository
from tejido_reporting.targets.schemas import Baseline, Progress, Status, Target, TargetIn, TargetPatch

FLOWS = ("count", "sum")


def progress_status(
    definition: IndicatorDefinition,
    actual: float | None,
    target: float,
    baseline: float | None,
    share: float,
) -> Status:
    if actual is None:
        return "no_data"
    higher = definition.direction == "higher_is_better"

    def reaches(value: float, goal: float) -> bool:
        return value >= goal if higher else value <= goal

    if definition.value_type in FLOWS and higher:
        if reaches(actual, target):
            return "met"
        return "on_track" if reaches(actual, target * share) else "behind"
    over = share >= 1.0
    if reaches(actual, target):
        return "met" if over else "on_track"
    if not over and baseline is not None and reaches(actual, baseline + (target - baseline) * share):
        return "on_track"
    return "behind"


def _months(period: str) -> MonthRange:
    try:
        return parse_period(period)
    except PeriodError as exc:
        raise invalid("period", str(exc)) from exc


def _currency(definition: IndicatorDefinition, given: str | None) -> str:
    currency = (given or "").upper()
    if definition.money and not valid_currency(currency):
        raise invalid("currency", "a money target needs its ISO 4217 currency")
    if not definition.money and currency:
        raise invalid("currency", f"{definition.code} is not a money indicator")
    return currency


def _taken(indicator: str, scope_kind: str) -> Conflict:
    return Conflict(
        f"a target of {indicator} for this {scope_kind} and period already exists",
        errors=invalid("period", "already has a target").errors,
    )


class TargetService:
    def __init__(self, db: Database, aggregator: Aggregator):
        self.db = db
        self.aggregator = aggregator

    def create(self, body: TargetIn) -> Target:
        _version, definition = self.aggregator.definition(body.indicator)
        scopes = [
            (kind, value)
            for kind, value in (
                ("organization", body.organization_id),
                ("alliance", body.alliance_id),
                ("territory", body.territory),
            )
            if value
        ]
        if len(scopes) != 1:
            raise invalid("organization_id", "give exactly one of organization_id, alliance_id, territory")
        kind, scope_id = scopes[0]
        months = _months(body.period)
        currency = _currency(definition, body.currency)
        with self.db.session() as session:
            network = NetworkRepository(session)
            if kind == "territory":
                try:
                    scope_id = parse_territory(scope_id).label()
                except TerritoryError as exc:
                    raise invalid("territory", str(exc)) from exc
            elif kind == "organization" and scope_id not in network.organization_statuses([scope_id]):
                raise UnknownParty(
                    "unknown organization", errors=invalid("organization_id", "unknown organization").errors
                )
            elif kind == "alliance" and network.alliance(scope_id) is None:
                raise UnknownParty(
                    "unknown alliance", errors=invalid("alliance_id", "unknown alliance").errors
                )
            row = TargetRow(
                id=new_id(),
                indicator_code=body.indicator,
                scope_kind=kind,
                scope_id=scope_id,
                period=body.period,
                first_month=months.first,
                last_month=months.last,
                target_value=body.target,
                baseline_value=body.baseline.value if body.baseline else None,
                baseline_date=body.baseline.date if body.baseline else None,
                currency=currency,
                created_at=datetime.now(UTC),
            )
            try:
                TargetRepository(session).add(row)
            except IntegrityError as exc:
                raise _taken(body.indicator, kind) from exc
        return self._out(row, datetime.now(UTC).date())

    def update(self, target_id: str, patch: TargetPatch) -> Target:
        """Change a target's value, baseline, period or currency, checked as on creation."""
        given = patch.model_fields_set
        for name in ("period", "target"):
            if name in given and getattr(patch, name) is None:
                raise invalid(name, "cannot be null")
        with self.db.session() as session:
            repo = TargetRepository(session)
            row = repo.get(target_id)
            if row is None:
                raise NotFound(f"target {target_id} does not exist")
            _version, definition = self.aggregator.definition(row.indicator_code)
            if patch.period is not None:
                months = _months(patch.period)
                row.period, row.first_month, row.last_month = patch.period, months.first, months.last
            if patch.target is not None:
                row.target_value = patch.target
            if "baseline" in given:
                row.baseline_value = patch.baseline.value if patch.baseline else None
                row.baseline_date = patch.baseline.date if patch.baseline else None
            if "currency" in given:
                row.currency = _currency(definition, patch.currency)
            indicator, kind = row.indicator_code, row.scope_kind
            try:
                repo.flush()
            except IntegrityError as exc:
                raise _taken(indicator, kind) from exc
        return self._out(row, datetime.now(UTC).date())

    def delete(self, target_id: str) -> None:
        with self.db.session() as session:
            repo = TargetRepository(session)
            row = repo.get(target_id)
            if row is None:
                raise NotFound(f"target {target_id} does not exist")
            repo.delete(row)

    def get(self, target_id: str, as_of: date | None = None) -> Target:
        with self.db.read_session() as session:
            row = TargetRepository(session).get(target_id)
        if row is None:
            raise NotFound(f"target {target_id} does not exist")
        return self._out(row, as_of or datetime.now(UTC).date())

    def search(
        self, indicator: str | None, scope: str | None, scope_ids: list[str], as_of: date | None = None
    ) -> list[Target]:
        with self.db.read_session() as session:
            rows = TargetRepository(session).search(indicator, scope, scope_ids)
        today = as_of or datetime.now(UTC).date()
        return [self._out(row, today) for row in rows]

    def actual(self, row: TargetRow) -> float | None:
        months = MonthRange(row.first_month, row.last_month)
        query = AggregateQuery(indicator=row.indicator_code, months=months, currency=row.currency or None)
        if row.scope_kind == "organization":
            query.organization_ids = [row.scope_id]
        elif row.scope_kind == "alliance":
            query.alliance_ids = [row.scope_id]
        else:
            query.territory = parse_territory(row.scope_id)
        totals = self.aggregator.aggregate(query).totals
        return totals[0].value if totals else None

    def _out(self, row: TargetRow, today: date) -> Target:
        _version, definition = self.aggregator.definition(row.indicator_code)
        months = MonthRange(row.first_month, row.last_month)
        share = elapsed_share(months, today)
        actual = self.actual(row)
        status = progress_status(definition, actual, row.target_value, row.baseline_value, share)
        baseline = (
            Baseline(value=row.baseline_value, date=row.baseline_date)
            if row.baseline_value is not None
            else None
        )
        return Target(
            id=row.id,
            indicator=row.indicator_code,
            scope=row.scope_kind,
            scope_id=row.scope_id,
            period=row.period,
            period_start=months.start,
            period_end=months.end,
            target=row.target_value,
            baseline=baseline,
            currency=row.currency or None,
            created_at=row.created_at,
            progress=Progress(status=status, actual=actual, elapsed_share=round(share, 4), as_of=today),
        )

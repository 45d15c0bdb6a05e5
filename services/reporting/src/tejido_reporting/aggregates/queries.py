"""Aggregates over the rollups: the math of each value type, filters, grouping, currency.

* counts, sums, money: Σ value
* averages: Σ(value × weight) / Σ weight (a weighted mean, never a mean of means)
* percentages: 100 × Σ numerator / Σ denominator (never an average of percentages)
* stocks (latest): within each period, the latest value per organization and place (no carry-forward
  from earlier periods), then Σ
* money is grouped by currency; ``convert_to`` converts each year's amounts with the configured fixed
  rate of that year before adding them
* unfiltered aggregates read the totals; disaggregated parts are only read when a disaggregation is
  asked for, so parts are never counted on top of totals

Where each question is answered: flows without an organization or alliance in it from the per-place
month rollups; other flows from the per-organization month rollups; stocks per month from the month
rollups (each row is already the month's latest), per quarter, year or all time from the stock
rollups of that grain; only a month range that cuts a quarter or year (or a converted stock) ranks
month rows at query time. Grouped flows take their totals from the groups.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, func, literal, select
from sqlalchemy.sql.elements import ColumnElement

from tejido_common.db import Database
from tejido_common.problems import NotFound
from tejido_reporting.aggregates.models import PlaceRollupRow, RollupRow, StockRollupRow
from tejido_reporting.aggregates.schemas import Aggregate, AggregateRow
from tejido_reporting.indicators.repository import IndicatorRepository
from tejido_reporting.indicators.schemas import IndicatorDefinition
from tejido_reporting.indicators.service import definition_of
from tejido_reporting.kit.errors import invalid
from tejido_reporting.kit.periods import Granularity, MonthRange, bucket
from tejido_reporting.kit.territory import Territory
from tejido_reporting.network.repository import NetworkRepository

ROLLUPS = RollupRow.__table__  # type: ignore[attr-defined]
PLACES = PlaceRollupRow.__table__  # type: ignore[attr-defined]
STOCKS = StockRollupRow.__table__  # type: ignore[attr-defined]
R = ROLLUPS
GROUPS = (
    "period",
    "territory",
    "country",
    "subdivision",
    "municipality",
    "organization",
    "alliance",
    "category",
)
LEVELS = ("country", "subdivision", "municipality")
# Fixed yearly rates: {"2009": {"MXN": 0.074}} means 1 MXN = 0.074 units of the target currency.
Rates = dict[str, dict[str, dict[str, float]]]


@dataclass
class AggregateQuery:
    indicator: str
    group_by: Sequence[str] = ()
    period: Granularity = "quarter"
    territory_level: str | None = None
    months: MonthRange | None = None
    territory: Territory | None = None
    organization_ids: Sequence[str] = ()
    alliance_ids: Sequence[str] = ()
    program_areas: Sequence[str] = ()
    families: Sequence[str] = ()
    disaggregation: str | None = None  # "sex" or "sex:female"
    currency: str | None = None
    convert_to: str | None = None
    filters: dict[str, list[str] | str] = field(default_factory=dict)


def default_level(territory: Territory | None) -> str:
    if territory is None:
        return "subdivision"
    if territory.municipality or territory.subdivision:
        return "municipality"
    return "subdivision"


def _bucket_expr(granularity: Granularity, source: Any = None) -> ColumnElement[Any]:
    month: ColumnElement[Any] = (source if source is not None else R.c).month
    if granularity == "year":
        return month // 100
    if granularity == "quarter":
        return (month // 100) * 10 + ((month % 100) + 2) // 3
    return month


def _bucket_label(value: int, granularity: Granularity) -> str:
    if granularity == "quarter":
        return f"{value // 10}-Q{value % 10}"
    if granularity == "year":
        return str(value)
    return bucket(value, "month")


class Aggregator:
    def __init__(self, db: Database, rates: Rates | None = None):
        self.db = db
        self.rates = rates or {}

    def definition(self, code: str) -> tuple[int, IndicatorDefinition]:
        with self.db.read_session() as session:
            row = IndicatorRepository(session).latest(code)
        if row is None:
            raise NotFound(f"indicator {code} does not exist")
        return row.version, definition_of(row)

    def aggregate(self, q: AggregateQuery) -> Aggregate:
        version, definition = self.definition(q.indicator)
        for g in q.group_by:
            if g not in GROUPS:
                raise invalid("group_by", f"{g!r} is not a grouping ({', '.join(GROUPS)})")
        dim, cat = self._disaggregation(q, definition)
        if "category" in q.group_by and not dim:
            raise invalid("group_by", "grouping by category needs disaggregation=<dimension>")
        level = q.territory_level or default_level(q.territory)
        if level not in LEVELS:
            raise invalid("territory_level", f"one of {', '.join(LEVELS)}")
        if q.convert_to and not definition.money:
            raise invalid("convert_to", f"{q.indicator} is not a money indicator")
        if q.currency and not definition.money:
            raise invalid("currency", f"{q.indicator} is not a money indicator")
        rows, totals = self._rows_and_totals(q, definition, dim, cat, level)
        return Aggregate(
            indicator=q.indicator,
            indicator_version=version,
            name={"es": definition.name.es, "en": definition.name.en},
            unit=q.convert_to if (definition.money and q.convert_to) else definition.unit,
            value_type=definition.value_type,
            aggregation=str(definition.aggregation),
            group_by=list(q.group_by),
            period=q.period if "period" in q.group_by else None,
            filters=q.filters,
            converted_to=q.convert_to,
            rows=rows,
            totals=totals,
        )

    @staticmethod
    def _disaggregation(q: AggregateQuery, definition: IndicatorDefinition) -> tuple[str, str | None]:
        if not q.disaggregation:
            return "", None
        dim, _, cat = q.disaggregation.partition(":")
        allowed = definition.disaggregations.get(dim)
        if allowed is None:
            raise invalid("disaggregation", f"{q.indicator} has no {dim[:40]!r} disaggregation")
        if cat and cat not in allowed:
            raise invalid("disaggregation", f"{cat[:60]!r} is not a {dim} category ({', '.join(allowed)})")
        return dim, cat or None

    def _conditions(
        self, q: AggregateQuery, dim: str, cat: str | None, table: Any = ROLLUPS, *, months: bool = True
    ) -> list[ColumnElement[bool]]:
        c = table.c
        conds: list[ColumnElement[bool]] = [c.indicator_code == q.indicator, c.dimension == dim]
        if cat is not None:
            conds.append(c.category == cat)
        if months and q.months is not None:
            conds += [c.month >= q.months.first, c.month <= q.months.last]
        if q.territory is not None:
            conds.append(c.country == q.territory.country)
            if q.territory.subdivision:
                conds.append(c.subdivision == q.territory.subdivision)
            if q.territory.municipality:
                conds.append(c.municipality == q.territory.municipality)
        if q.organization_ids:
            conds.append(c.organization_id.in_(list(q.organization_ids)))
        if q.alliance_ids:
            conds.append(c.alliance_id.in_(list(q.alliance_ids)))
        if q.currency:
            conds.append(c.currency == q.currency)
        return conds

    def _facet_conditions(
        self, repo: NetworkRepository, q: AggregateQuery, table: Any = ROLLUPS
    ) -> list[ColumnElement[bool]]:
        org = table.c.organization_id
        conds: list[ColumnElement[bool]] = []
        if q.program_areas:
            categories = [c for c in q.program_areas if len(c) == 2]
            programs = [c for c in q.program_areas if len(c) != 2]
            subqueries = []
            if categories:
                subqueries.append(repo.organizations_with_facet("program_category", categories))
            if programs:
                subqueries.append(repo.organizations_with_facet("program_area", programs))
            conds.append(org.in_(subqueries[0].union(*subqueries[1:])))
        if q.families:
            conds.append(org.in_(repo.organizations_with_facet("social_indicator", list(q.families))))
        return conds

    @staticmethod
    def _keys(
        group_by: Sequence[str],
        level: str,
        granularity: Granularity,
        money: bool,
        convert: bool,
        source: Any,
        period: Any = None,
    ) -> list[tuple[str, Any]]:
        """(name, expression) of each grouping column over ``source`` (the rollups or a subquery);
        ``period``: the period column when the source is already bucketed."""
        cols: list[tuple[str, Any]] = []
        for g in group_by:
            if g == "period":
                cols.append(("period", period if period is not None else _bucket_expr(granularity, source)))
            elif g in ("territory", *LEVELS):
                depth = LEVELS.index(level if g == "territory" else g)
                for name in LEVELS[: depth + 1]:
                    if name not in [c[0] for c in cols]:
                        cols.append((name, source[name]))
            elif g == "organization":
                cols.append(("organization", source.organization_id))
            elif g == "alliance":
                cols.append(("alliance", source.alliance_id))
            elif g == "category":
                cols.append(("category", source.category))
        if money:
            cols.append(("_currency", source.currency))
            if convert:
                cols.append(("_year", source.month // 100))
        return cols

    @staticmethod
    def _by_place(q: AggregateQuery, group_by: Sequence[str]) -> bool:
        """Nothing in the question needs the organization or alliance of a row: the per-place rollups
        (summed over organizations when the observations arrived) answer it."""
        return not (
            q.organization_ids
            or q.alliance_ids
            or q.program_areas
            or q.families
            or "organization" in group_by
            or "alliance" in group_by
        )

    @staticmethod
    def _stock_grain(q: AggregateQuery, group_by: Sequence[str]) -> tuple[str, int, int] | None:
        """Where a stock's latest values per period are kept already: ``month`` (the month rows of
        ``rollups``) or a ``quarter``/``year``/``all`` grain of ``stock_rollups`` with its first and
        last bucket; None when the month range cuts a bucket (then month rows are ranked at query
        time)."""
        if "period" not in group_by:
            return ("all", 0, 0) if q.months is None and not q.convert_to else None
        grain: Granularity = q.period
        if grain == "month":
            return "month", 0, 0
        if q.convert_to:
            return None  # converting needs each value's year: the month rows keep it
        if q.months is None:
            return grain, 0, 99_999_999
        first, last = q.months.first, q.months.last
        if grain == "year":
            return (grain, first // 100, last // 100) if first % 100 == 1 and last % 100 == 12 else None
        if (first % 100) % 3 != 1 or (last % 100) % 3 != 0:
            return None
        return grain, (first // 100) * 10 + (first % 100 + 2) // 3, (last // 100) * 10 + (last % 100) // 3

    def _merged(
        self,
        q: AggregateQuery,
        definition: IndicatorDefinition,
        dim: str,
        cat: str | None,
        level: str,
        group_by: Sequence[str],
    ) -> tuple[int, dict[tuple[Any, ...], list[float]], dict[tuple[Any, ...], str | None]]:
        """(width of the group key, num/den/n per group, currency per group)."""
        money = definition.money
        convert = bool(q.convert_to)
        stock = definition.value_type == "latest"
        grain = self._stock_grain(q, group_by) if stock else None
        with self.db.read_session() as session:
            stmt: Select[Any]
            if grain is not None and grain[0] != "month":
                # a stock per quarter, year or all time: each key's latest is kept, Σ them
                t = STOCKS.c
                keys = self._keys(group_by, level, q.period, money, False, t, period=t.bucket)
                conds = self._conditions(q, dim, cat, STOCKS, months=False)
                conds += [t.grain == grain[0], t.bucket >= grain[1], t.bucket <= grain[2]]
                conds += self._facet_conditions(NetworkRepository(session), q, STOCKS)
                stmt = self._summed(keys, conds, STOCKS)
            else:
                # flows without organization or alliance in the question read the per-place rollups
                table = PLACES if not stock and self._by_place(q, group_by) else ROLLUPS

                def keys_over(source: Any) -> list[tuple[str, Any]]:
                    return self._keys(group_by, level, q.period, money, convert, source)

                keys = keys_over(table.c)
                conds = self._conditions(q, dim, cat, table)
                if table is ROLLUPS:
                    conds += self._facet_conditions(NetworkRepository(session), q)
                if stock and grain is None:
                    stmt = self._statement(keys_over, conds, "period" in group_by, q.period)
                else:
                    # flows add up; a stock's month rows already hold the latest of each month
                    stmt = self._summed(keys, conds, table)
            result = session.execute(stmt).all()
        width = len([k for k in keys if not k[0].startswith("_")])
        merged: dict[tuple[Any, ...], list[float]] = {}
        currency_of: dict[tuple[Any, ...], str | None] = {}
        for record in result:
            num, den, n = float(record[-3] or 0.0), float(record[-2] or 0.0), int(record[-1] or 0)
            group_key = tuple(record[:width])
            currency: str | None = None
            if money:
                currency = str(record[width])
                if q.convert_to:
                    rate = self._rate(int(record[width + 1]), currency, q.convert_to)
                    num, currency = num * rate, q.convert_to
                group_key = (*group_key, currency)
            acc = merged.get(group_key)
            if acc is None:
                merged[group_key] = [num, den, n]
            else:
                acc[0] += num
                acc[1] += den
                acc[2] += n
            currency_of[group_key] = currency
        return width, merged, currency_of

    @staticmethod
    def _summed(keys: list[tuple[str, Any]], conds: list[ColumnElement[bool]], table: Any) -> Select[Any]:
        t = table.c
        return (
            select(*[c.label(n) for n, c in keys], func.sum(t.num), func.sum(t.den), func.sum(t.n))
            .where(*conds)
            .group_by(*[c for _, c in keys])
        )

    def _rows(
        self,
        q: AggregateQuery,
        definition: IndicatorDefinition,
        dim: str,
        cat: str | None,
        level: str,
        group_by: Sequence[str],
    ) -> list[AggregateRow]:
        width, merged, currency_of = self._merged(q, definition, dim, cat, level, group_by)
        return self._finish(q, definition, group_by, level, width, merged, currency_of)

    def _rows_and_totals(
        self,
        q: AggregateQuery,
        definition: IndicatorDefinition,
        dim: str,
        cat: str | None,
        level: str,
    ) -> tuple[list[AggregateRow], list[AggregateRow]]:
        """The groups, and the whole selection. Flows add up, so the totals are the sum of the groups
        (per currency) and need no second query; a stock's total takes the latest value over the whole
        selection, which is not the sum of per-period latest values: it is asked for separately."""
        width, merged, currency_of = self._merged(q, definition, dim, cat, level, q.group_by)
        rows = self._finish(q, definition, q.group_by, level, width, merged, currency_of)
        if definition.value_type == "latest" or not q.group_by:
            return rows, self._rows(q, definition, dim, cat, level, ())
        sums: dict[tuple[Any, ...], list[float]] = {}
        currencies: dict[tuple[Any, ...], str | None] = {}
        for group_key, (num, den, n) in merged.items():
            currency = currency_of[group_key]
            key = (currency,) if definition.money else ()
            acc = sums.setdefault(key, [0.0, 0.0, 0.0])
            acc[0] += num
            acc[1] += den
            acc[2] += n
            currencies[key] = currency
        totals = self._finish(q, definition, (), level, 0, sums, currencies)
        return rows, totals

    def _finish(
        self,
        q: AggregateQuery,
        definition: IndicatorDefinition,
        group_by: Sequence[str],
        level: str,
        width: int,
        merged: dict[tuple[Any, ...], list[float]],
        currency_of: dict[tuple[Any, ...], str | None],
    ) -> list[AggregateRow]:
        names = [n for n, _ in self._keys(group_by, level, q.period, False, False, ROLLUPS.c)][:width]
        period_at = names.index("period") if "period" in names else -1
        labelled = []
        for group_key, (num, den, count) in merged.items():
            n = round(count)
            if n <= 0:
                continue  # everything here was superseded
            labels = [str(v) for v in group_key[:width]]
            if period_at >= 0:
                labels[period_at] = _bucket_label(int(group_key[period_at]), q.period)
            labelled.append((labels, group_key, num, den, n))
        # the order the groups always had: by the text of each key value (the currency last)
        labelled.sort(key=lambda item: tuple(str(v) for v in item[1]))
        return [
            self._row(definition, dict(zip(names, labels, strict=True)), num, den, n, currency_of[key])
            for labels, key, num, den, n in labelled
        ]

    @staticmethod
    def _statement(
        keys_over: Any, conds: list[ColumnElement[bool]], by_period: bool, granularity: Granularity
    ) -> Select[Any]:
        """Stocks over a month range that cuts a bucket (or converted): rank the month rows at query
        time — the latest row per organization and place within each period, then Σ."""
        bucket_col = _bucket_expr(granularity) if by_period else literal(0)
        ranked = (
            select(
                R,
                func.row_number()
                .over(
                    partition_by=[
                        R.c.organization_id,
                        R.c.alliance_id,
                        R.c.country,
                        R.c.subdivision,
                        R.c.municipality,
                        R.c.currency,
                        R.c.category,
                        bucket_col,
                    ],
                    order_by=[R.c.as_of.desc(), R.c.obs_id.desc()],
                )
                .label("rn"),
            )
            .where(*conds)
            .subquery()
        )
        sub_keys = keys_over(ranked.c)
        return (
            select(
                *[c.label(n) for n, c in sub_keys],
                func.sum(ranked.c.num),
                func.sum(ranked.c.den),
                func.sum(ranked.c.n),
            )
            .where(ranked.c.rn == 1)
            .group_by(*[c for _, c in sub_keys])
        )

    def _rate(self, year: int, currency: str, target: str) -> float:
        if currency == target:
            return 1.0
        rate = self.rates.get(target, {}).get(str(year), {}).get(currency)
        if rate is None:
            raise invalid(
                "convert_to",
                f"no fixed rate configured for {currency} → {target} in {year} (TEJIDO_REPORTING_FX_RATES)",
            )
        return rate

    @staticmethod
    def _row(
        definition: IndicatorDefinition,
        labels: dict[str, str],
        num: float,
        den: float,
        n: int,
        currency: str | None,
    ) -> AggregateRow:
        vt = definition.value_type
        if vt == "percentage":
            value = round(100.0 * num / den, 6) if den else None
            return AggregateRow.model_construct(
                group=labels, value=value, numerator=_clean(num), denominator=_clean(den), observations=n
            )
        if vt == "average":
            value = round(num / den, 6) if den else None
            return AggregateRow.model_construct(
                group=labels, value=value, numerator=_clean(num), denominator=_clean(den), observations=n
            )
        return AggregateRow.model_construct(
            group=labels, value=_clean(num), currency=currency, observations=n
        )


def _clean(value: float) -> float:
    """Sums of floats after corrections leave residues like 1e-13: round them away."""
    return round(value, 6) + 0.0

"""The rollups kept as observations arrive answer exactly what a scan of the observations in force
would: per place and month, quarter, year and all time, for flows and for stocks (the latest value per
organization and place within each period, then Σ), through corrections, late replays and parts."""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col

from tejido_reporting.aggregates.queries import AggregateQuery
from tejido_reporting.kit.periods import Granularity, MonthRange, bucket, parse_period
from tejido_reporting.kit.territory import parse_territory
from tejido_reporting.observations.models import ObservationRow

from .conftest import World

PLACES = ("MX-ZAC:Fresnillo", "MX-ZAC:Jerez", "MX-DUR:Lerdo", "MX-CHH")
STOCKS = ("catalysts_active", "communities_reached")  # with a breakdown by sex, and without
INDICATORS = ("houses_built", *STOCKS)
MONTHS = [(y, m) for y in (2009, 2010) for m in range(1, 13)]


def place_label(row: ObservationRow, level: str) -> str:
    if level == "subdivision":
        return row.subdivision
    return f"{row.subdivision}:{row.municipality}"


def scan(
    world: World,
    indicator: str,
    granularity: Granularity | None,
    level: str,
    months: MonthRange | None = None,
    category: str | None = None,
) -> dict[tuple[str, str], float]:
    """The answer from the observations in force, in plain Python (no rollups)."""
    with world.db.read_session() as session:
        stmt = select(ObservationRow).where(
            col(ObservationRow.indicator_code) == indicator, col(ObservationRow.in_force).is_(True)
        )
        rows = [r for r in session.scalars(stmt) if not months or months.first <= r.month <= months.last]
    stock = indicator in STOCKS

    def amount(row: ObservationRow) -> float:
        if category is None:
            return float(row.value or 0.0)
        return sum(float(p["value"]) for p in row.parts if p["category"] == category)

    def has(row: ObservationRow) -> bool:
        return category is None or any(p["category"] == category for p in row.parts)

    out: dict[tuple[str, str], float] = {}
    if not stock:
        for row in rows:
            if has(row):
                key = (place_label(row, level), bucket(row.month, granularity) if granularity else "")
                out[key] = out.get(key, 0.0) + amount(row)
        return out
    latest: dict[tuple[Any, ...], ObservationRow] = {}
    for row in rows:
        if not has(row):
            continue
        period = bucket(row.month, granularity) if granularity else ""
        who = (row.organization_id, row.alliance_id, row.country, row.subdivision, row.municipality, period)
        held = latest.get(who)
        if held is None or (row.period_end, row.id) > (held.period_end, held.id):
            latest[who] = row
    for (*_, period), row in latest.items():
        key = (place_label(row, level), period)
        out[key] = out.get(key, 0.0) + amount(row)
    return out


def answer(
    world: World, indicator: str, granularity: Granularity | None, level: str, **kw: Any
) -> tuple[dict[tuple[str, str], float], list[Any]]:
    group_by = ["territory", "period"] if granularity else ["territory"]
    result = world.aggregator.aggregate(
        AggregateQuery(
            indicator=indicator,
            group_by=group_by,
            period=granularity or "quarter",
            territory_level=level,
            territory=parse_territory("MX"),
            **kw,
        )
    )
    got = {}
    for row in result.rows:
        place = row.group["subdivision"] if level == "subdivision" else row.group["municipality"]
        place = place if level == "subdivision" else f"{row.group['subdivision']}:{place}"
        got[(place, row.group.get("period", ""))] = row.value
    return got, result.totals


def close(got: dict[tuple[str, str], float], want: dict[tuple[str, str], float]) -> None:
    assert got.keys() == want.keys()
    for key, value in want.items():
        assert got[key] == pytest.approx(value), key


def record_many(world: World, items: Iterable[dict[str, Any]]) -> None:
    for item in items:
        world.observations.record(item)


@pytest.fixture
def reported(world: World) -> World:
    """Two years of counts and stocks from three organizations in four places, then corrections that
    move values, places and months, and late replays of the corrected revisions."""
    rng = random.Random(7)
    orgs = [world.organization() for _ in range(3)]
    sent: list[dict[str, Any]] = []
    for n in range(120):
        year, month = rng.choice(MONTHS)
        day = rng.randint(1, 28)
        indicator = INDICATORS[n % 3]
        item: dict[str, Any] = {
            "organization_id": rng.choice(orgs),
            "observation_key": f"k{n}",
            "indicator": indicator,
            "period_start": f"{year}-{month:02d}-01",
            "period_end": f"{year}-{month:02d}-{day:02d}",
            "territory": rng.choice(PLACES),
            "value": rng.randint(60, 90),
        }
        if indicator == "catalysts_active":
            item["parts"] = parts(rng)
        sent.append(item)
    # one observation per key and batch: the bulk path (several rows per transaction) and the
    # single path both run through the same writer
    record_many(world, sent[:50])
    world.observations.import_csv(csv_of(sent[50:]))
    for item in sent[::4]:  # corrections: another value, place and month
        year, month = rng.choice(MONTHS)
        correction = {
            **item,
            "revision": 2,
            "value": rng.randint(60, 90),
            "territory": rng.choice(PLACES),
            "period_end": f"{year}-{month:02d}-15",
            "period_start": f"{year}-{month:02d}-01",
        }
        if "parts" in item:
            correction["parts"] = parts(rng)
        world.observations.record(correction)
    record_many(world, sent[::4])  # late replays of revision 1: kept, never counted
    return world


def parts(rng: random.Random) -> list[dict[str, Any]]:
    """Stock values with a breakdown by sex (so that every value in force has each part)."""
    female, male = rng.randint(0, 30), rng.randint(0, 30)
    return [
        {"dimension": "sex", "category": "female", "value": female},
        {"dimension": "sex", "category": "male", "value": male},
    ]


def csv_of(items: list[dict[str, Any]]) -> bytes:
    lines = ["organization_id,observation_key,indicator,period_start,period_end,territory,value,parts"]
    for i in items:
        parts = "|".join(f"{p['dimension']}:{p['category']}={p['value']}" for p in i.get("parts", []))
        lines.append(
            f"{i['organization_id']},{i['observation_key']},{i['indicator']},{i['period_start']},"
            f"{i['period_end']},{i['territory']},{i['value']},{parts}"
        )
    return ("\r\n".join(lines) + "\r\n").encode()


GRANULARITIES: tuple[Granularity | None, ...] = ("month", "quarter", "year", None)


def test_territory_by_period_equals_a_scan_of_the_observations_in_force(reported: World) -> None:
    for indicator in INDICATORS:
        # totals: flows add up; a stock's total is the latest ever per organization and place, summed
        whole = scan(reported, indicator, None, "subdivision")
        for level in ("municipality", "subdivision"):
            for granularity in GRANULARITIES:
                got, totals = answer(reported, indicator, granularity, level)
                close(got, scan(reported, indicator, granularity, level))
                assert [t.value for t in totals] == [pytest.approx(sum(whole.values()))]


def test_stock_parts_by_period_equal_a_scan(reported: World) -> None:
    for granularity in GRANULARITIES:
        got, _ = answer(
            reported, "catalysts_active", granularity, "municipality", disaggregation="sex:female"
        )
        close(got, scan(reported, "catalysts_active", granularity, "municipality", category="female"))


def test_period_ranges_aligned_or_not_with_the_buckets(reported: World) -> None:
    for first, last in (("2009-Q2", "2010-Q1"), ("2009-02", "2009-11"), ("2010", "2010")):
        months = MonthRange(parse_period(first).first, parse_period(last).last)
        for indicator in INDICATORS:
            for granularity in GRANULARITIES:
                got, totals = answer(reported, indicator, granularity, "municipality", months=months)
                close(got, scan(reported, indicator, granularity, "municipality", months=months))
                whole = scan(reported, indicator, None, "subdivision", months=months)
                assert [t.value for t in totals] == [pytest.approx(sum(whole.values()))]


def test_grouped_money_totals_stay_per_currency(world: World) -> None:
    """Grouped flows take their totals from the groups: per currency, converted per year."""
    org = world.organization()
    for key, period, territory, value, currency in (
        ("m1", "2009-Q1", "MX-ZAC", 1000, "MXN"),
        ("m2", "2010-Q2", "MX-DUR", 500, "MXN"),
        ("m3", "2009-Q3", "PE-ANC", 200, "PEN"),
    ):
        world.observations.record(
            {
                "organization_id": org,
                "observation_key": key,
                "indicator": "funds_invested",
                "period": period,
                "territory": territory,
                "value": value,
                "currency": currency,
            }
        )
    grouped = world.aggregator.aggregate(
        AggregateQuery(indicator="funds_invested", group_by=["subdivision", "period"], period="year")
    )
    assert {(t.currency, t.value, t.observations) for t in grouped.totals} == {
        ("MXN", 1500, 2),
        ("PEN", 200, 1),
    }
    converted = world.aggregator.aggregate(
        AggregateQuery(indicator="funds_invested", group_by=["country"], convert_to="USD")
    )
    assert [(t.currency, t.value) for t in converted.totals] == [
        ("USD", pytest.approx(1000 * 0.074 + 500 * 0.079 + 200 * 0.33))
    ]

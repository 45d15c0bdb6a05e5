"""Periods: months are the storage grain (``yyyymm`` integers); quarters and years are built from them.

A period in a query or a target is written ``2009``, ``2009-Q2`` or ``2009-05``; it covers whole months.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

Granularity = Literal["month", "quarter", "year"]
GRANULARITIES: tuple[Granularity, ...] = ("month", "quarter", "year")
_PERIOD_RE = re.compile(r"^(\d{4})(?:-(?:Q([1-4])|(\d{2})))?$")


class PeriodError(ValueError):
    pass


def month_of(day: date) -> int:
    return day.year * 100 + day.month


def first_day(month: int) -> date:
    return date(month // 100, month % 100, 1)


def last_day(month: int) -> date:
    year, mon = divmod(month, 100)
    return date(year, mon, calendar.monthrange(year, mon)[1])


@dataclass(frozen=True)
class MonthRange:
    first: int  # yyyymm, inclusive
    last: int  # yyyymm, inclusive

    @property
    def start(self) -> date:
        return first_day(self.first)

    @property
    def end(self) -> date:
        return last_day(self.last)


def parse_period(text: str) -> MonthRange:
    """``2009`` → Jan–Dec 2009, ``2009-Q2`` → Apr–Jun, ``2009-05`` → May."""
    match = _PERIOD_RE.match(text.strip())
    if not match:
        raise PeriodError("expected a year (2009), a quarter (2009-Q2) or a month (2009-05)")
    year = int(match.group(1))
    if year < 1900 or year > 2200:
        raise PeriodError("year must be between 1900 and 2200")
    if match.group(2):
        quarter = int(match.group(2))
        return MonthRange(year * 100 + quarter * 3 - 2, year * 100 + quarter * 3)
    if match.group(3):
        month = int(match.group(3))
        if not 1 <= month <= 12:
            raise PeriodError("month must be 01 to 12")
        return MonthRange(year * 100 + month, year * 100 + month)
    return MonthRange(year * 100 + 1, year * 100 + 12)


def bucket(month: int, granularity: Granularity) -> str:
    """The label of the month/quarter/year bucket a ``yyyymm`` month falls in."""
    year, mon = divmod(month, 100)
    if granularity == "year":
        return f"{year}"
    if granularity == "quarter":
        return f"{year}-Q{(mon - 1) // 3 + 1}"
    return f"{year}-{mon:02d}"


def bucket_range(label: str) -> MonthRange:
    return parse_period(label)


def elapsed_share(period: MonthRange, today: date) -> float:
    """How much of the period has passed on ``today`` (0 before it starts, 1 once it is over)."""
    if today < period.start:
        return 0.0
    if today > period.end:
        return 1.0
    total = (period.end - period.start).days + 1
    return ((today - period.start).days + 1) / total

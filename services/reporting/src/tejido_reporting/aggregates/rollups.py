"""Keeping rollups current as observations arrive (called inside the ingesting transaction).

Flows (counts, sums, money, averages, percentages) add up, so a new revision adds its contribution
and a superseded one subtracts its own: one ``INSERT … ON CONFLICT DO UPDATE SET num = num + …`` per
touched rollup row. Stocks keep the latest value instead: a newer observation replaces the row only if
it is later (conditional upsert); a correction or a disaggregated stock recomputes its month from the
in-force observations. The same newer-wins rule keeps each stock's latest value per quarter, year and
all time (``stock_rollups``); where a value can leave (corrections, parts), the batch ranks the month
rows of the keys it touched again, in three set-based statements.

Every write of a batch is one statement per table (SQLite ``executemany``, PostgreSQL ``COPY`` into a
staging table then ``INSERT … SELECT``), whatever the batch size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import and_, bindparam, delete, or_, select, text
from sqlmodel import Session, col

from tejido_reporting.aggregates.models import PlaceRollupRow, RollupRow
from tejido_reporting.kit.sql import insert_many, upsert_many
from tejido_reporting.observations.models import ObservationRow

# (indicator, organization, alliance, country, subdivision, municipality, month, currency)
BaseKey = tuple[str, str, str, str, str, str, int, str]
ROLLUP = RollupRow.__table__  # type: ignore[attr-defined]
PLACES = PlaceRollupRow.__table__  # type: ignore[attr-defined]
PLACE_COLUMNS = (
    "indicator_code", "dimension", "category", "month", "country", "subdivision", "municipality", "currency",
)  # fmt: skip
BASE_COLUMNS = (
    "indicator_code",
    "organization_id",
    "alliance_id",
    "country",
    "subdivision",
    "municipality",
    "month",
    "currency",
)
# (name, kind) of the rows the bulk upserts write, in tuple order
ROLLUP_COLUMNS = (
    *((name, "int" if name == "month" else "text") for name in BASE_COLUMNS),
    ("dimension", "text"), ("category", "text"), ("num", "float"), ("den", "float"), ("n", "int"),
    ("as_of", "int"), ("obs_id", "text"),
)  # fmt: skip
ROLLUP_KEY = (*BASE_COLUMNS, "dimension", "category")
PLACE_ROLLUP_COLUMNS = (
    *((name, "int" if name == "month" else "text") for name in PLACE_COLUMNS),
    ("num", "float"), ("den", "float"), ("n", "int"),
)  # fmt: skip


class Measured(Protocol):
    value: float | None
    numerator: float | None
    denominator: float | None
    weight: float | None
    parts: list[dict[str, Any]]


def _pair(value_type: str, m: Any) -> tuple[float, float]:
    """What adds up: (num, den) of a total or a part."""
    get = m.get if isinstance(m, dict) else lambda name: getattr(m, name)
    if value_type == "percentage":
        return float(get("numerator") or 0.0), float(get("denominator") or 0.0)
    if value_type == "average":
        weight = float(get("weight") or 0.0)
        return float(get("value") or 0.0) * weight, weight
    return float(get("value") or 0.0), 0.0


def contributions(value_type: str, m: Measured) -> list[tuple[str, str, float, float]]:
    """(dimension, category, num, den): the total under ``("", "")``, then each part."""
    out = [("", "", *_pair(value_type, m))]
    out += [(p["dimension"], p["category"], *_pair(value_type, p)) for p in m.parts]
    return out


def base_key(indicator: str, row: Any) -> BaseKey:
    return (
        indicator,
        row.organization_id,
        row.alliance_id,
        row.country,
        row.subdivision,
        row.municipality,
        row.month,
        row.currency,
    )


@dataclass
class RollupWriter:
    flows: dict[tuple[BaseKey, str, str], list[float]] = field(default_factory=dict)
    stock_upserts: list[dict[str, Any]] = field(default_factory=list)
    stock_recompute: set[BaseKey] = field(default_factory=set)
    # month keys of stocks whose quarter, year and all-time rows are recomputed from the month rows
    bucket_recompute: set[BaseKey] = field(default_factory=set)

    def add_flow(self, key: BaseKey, value_type: str, m: Measured, sign: int) -> None:
        for dim, cat, num, den in contributions(value_type, m):
            acc = self.flows.setdefault((key, dim, cat), [0.0, 0.0, 0])
            acc[0] += sign * num
            acc[1] += sign * den
            acc[2] += sign

    def add_stock(
        self, key: BaseKey, m: Measured, as_of: int, obs_id: str, *, simple: bool, disaggregated: bool = False
    ) -> None:
        """``simple``: a new in-force stock value without parts and no correction — a conditional upsert
        suffices; anything else recomputes the month from the observations."""
        if not simple or disaggregated:
            # parts of other values of the month may have gone: rank the month rows again
            self.bucket_recompute.add(key)
        if not simple:
            self.stock_recompute.add(key)
            return
        num, den = _pair("latest", m)
        self.stock_upserts.append(
            {
                **dict(zip(BASE_COLUMNS, key, strict=True)),
                "dimension": "",
                "category": "",
                "num": num,
                "den": den,
                "n": 1,
                "as_of": as_of,
                "obs_id": obs_id,
                "_disaggregated": disaggregated,
            }
        )

    def flush(self, session: Session) -> None:
        if self.flows:
            rows = [
                (*key, dim, cat, acc[0], acc[1], int(acc[2]), 0, "")
                for (key, dim, cat), acc in sorted(self.flows.items(), key=_order)
            ]
            upsert_many(
                session,
                "rollups",
                ROLLUP_COLUMNS,
                rows,
                ROLLUP_KEY,
                "num = t.num + excluded.num, den = t.den + excluded.den, n = t.n + excluded.n",
            )
            self._flush_places(session)
        if self.stock_upserts:
            self._upsert_stocks(session)
        for key in self.stock_recompute:
            recompute_stock(session, key)
        recompute_buckets(session, self.bucket_recompute)
        self.flows, self.stock_upserts, self.stock_recompute, self.bucket_recompute = {}, [], set(), set()

    def _flush_places(self, session: Session) -> None:
        by_place: dict[tuple[Any, ...], list[float]] = {}
        for (key, dim, cat), acc in self.flows.items():
            # key: indicator, organization, alliance, country, subdivision, municipality, month, currency
            place = (key[0], dim, cat, key[6], key[3], key[4], key[5], key[7])
            total = by_place.get(place)
            if total is None:
                by_place[place] = [acc[0], acc[1], acc[2]]
            else:
                total[0] += acc[0]
                total[1] += acc[1]
                total[2] += acc[2]
        rows = [(*place, t[0], t[1], int(t[2])) for place, t in sorted(by_place.items())]
        upsert_many(
            session,
            "rollups_by_place",
            PLACE_ROLLUP_COLUMNS,
            rows,
            PLACE_COLUMNS,
            "num = t.num + excluded.num, den = t.den + excluded.den, n = t.n + excluded.n",
        )

    def _upsert_stocks(self, session: Session) -> None:
        # Several values of one key in a batch: keep the latest before writing.
        latest: dict[tuple[Any, ...], dict[str, Any]] = {}
        for row in self.stock_upserts:
            k = tuple(row[c] for c in BASE_COLUMNS)
            held = latest.get(k)
            if held is None or (row["as_of"], row["obs_id"]) > (held["as_of"], held["obs_id"]):
                latest[k] = row
        disaggregated = [row for row in latest.values() if row["_disaggregated"]]
        rows = [
            (*k, "", "", row["num"], row["den"], row["n"], row["as_of"], row["obs_id"])
            for k, row in sorted(latest.items())
        ]
        upsert_many(
            session,
            "rollups",
            ROLLUP_COLUMNS,
            rows,
            ROLLUP_KEY,
            "num = excluded.num, den = excluded.den, as_of = excluded.as_of, obs_id = excluded.obs_id",
            where=NEWER,
        )
        # The same newer-wins rule per quarter, year and all time (the latest of the bucket is the
        # latest of its months' latest values); disaggregated keys are recomputed instead.
        buckets: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        for k, row in latest.items():
            if row["_disaggregated"]:
                continue
            for grain, bucket, _, _ in stock_buckets(row["month"])[1:]:
                bkey = (k[0], grain, bucket, *k[1:6], k[7])
                held_row = buckets.get(bkey)
                if held_row is None or (row["as_of"], row["obs_id"]) > (held_row[-2], held_row[-1]):
                    buckets[bkey] = (*bkey, "", "", row["num"], row["den"], 1, row["as_of"], row["obs_id"])
        upsert_many(
            session,
            "stock_rollups",
            STOCK_COLUMNS,
            [buckets[k] for k in sorted(buckets)],
            STOCK_KEY,
            "num = excluded.num, den = excluded.den, as_of = excluded.as_of, obs_id = excluded.obs_id",
            where=NEWER,
        )
        if disaggregated:
            # Parts of an older stock value of the same month no longer apply once a newer total exists.
            stale = delete(ROLLUP).where(
                *[ROLLUP.c[name] == bindparam(f"k_{name}") for name in BASE_COLUMNS],
                text("rollups.obs_id <> ''"),  # stock rows: their partial index finds the key's rows
                ROLLUP.c.dimension != "",
                or_(
                    ROLLUP.c.as_of < bindparam("k_as_of"),
                    and_(ROLLUP.c.as_of == bindparam("k_as_of"), ROLLUP.c.obs_id < bindparam("k_obs_id")),
                ),
            )
            session.connection().execute(
                stale,
                [
                    {f"k_{name}": row[name] for name in (*BASE_COLUMNS, "as_of", "obs_id")}
                    for row in disaggregated
                ],
            )


def _order(item: tuple[tuple[BaseKey, str, str], list[float]]) -> tuple[Any, ...]:
    """Concurrent batches upsert shared rows in one order (by key), so PostgreSQL never deadlocks them."""
    (key, dim, cat), _ = item
    return (key[0], dim, cat, key[6], key[1], key[2], key[3], key[4], key[5], key[7])


def _key_filter(key: BaseKey) -> list[Any]:
    """One stock key's month rows (``obs_id <> ''``: stock rows only, served by their partial index)."""
    return [
        *(getattr(RollupRow, name) == value for name, value in zip(BASE_COLUMNS, key, strict=True)),
        text("rollups.obs_id <> ''"),  # a literal: SQLite matches partial indexes on literals only
    ]


def recompute_stock(session: Session, key: BaseKey) -> None:
    """The month's rows of one stock key from its latest in-force observation."""
    session.execute(delete(RollupRow).where(*_key_filter(key)))
    o = ObservationRow
    stmt = (
        select(o)
        .where(
            col(o.indicator_code) == key[0],
            col(o.organization_id) == key[1],
            col(o.alliance_id) == key[2],
            col(o.country) == key[3],
            col(o.subdivision) == key[4],
            col(o.municipality) == key[5],
            col(o.month) == key[6],
            col(o.currency) == key[7],
            col(o.in_force).is_(True),
        )
        .order_by(col(o.period_end).desc(), col(o.id).desc())
        .limit(1)
    )
    latest = session.scalars(stmt).first()
    if latest is None:
        return
    as_of = int(latest.period_end.strftime("%Y%m%d"))
    fields: dict[str, Any] = dict(zip(BASE_COLUMNS, key, strict=True))
    session.add_all(
        RollupRow(
            **fields,
            dimension=dim,
            category=cat,
            num=num,
            den=den,
            n=1,
            as_of=as_of,
            obs_id=latest.id,
        )
        for dim, cat, num, den in contributions("latest", latest)
    )
    session.flush()


NEWER = "excluded.as_of > t.as_of OR (excluded.as_of = t.as_of AND excluded.obs_id > t.obs_id)"
# (indicator, grain, bucket, organization, alliance, country, subdivision, municipality, currency)
STOCK_BUCKET = (
    "indicator_code", "grain", "bucket", "organization_id", "alliance_id", "country", "subdivision",
    "municipality", "currency",
)  # fmt: skip
STOCK_KEY = (*STOCK_BUCKET, "dimension", "category")
STOCK_COLUMNS = (
    *((name, "int" if name == "bucket" else "text") for name in STOCK_BUCKET),
    ("dimension", "text"), ("category", "text"), ("num", "float"), ("den", "float"), ("n", "int"),
    ("as_of", "int"), ("obs_id", "text"),
)  # fmt: skip
TOUCHED = "stock_buckets_touched"
TOUCHED_COLUMNS = (*STOCK_COLUMNS[: len(STOCK_BUCKET)], ("first_month", "int"), ("last_month", "int"))
_BUCKET_LIST = ", ".join(STOCK_BUCKET)
# Per touched bucket of one organization's stock key: its latest month row per category (ties on a
# day go to the later observation) — what the aggregate query did over ``rollups`` at request time.
_RECOMPUTE = f"""
INSERT INTO stock_rollups ({_BUCKET_LIST}, dimension, category, num, den, n, as_of, obs_id)
SELECT {_BUCKET_LIST}, dimension, category, num, den, n, as_of, obs_id
FROM (
    SELECT t.grain, t.bucket, r.indicator_code, r.organization_id, r.alliance_id, r.country,
        r.subdivision, r.municipality, r.currency, r.dimension, r.category, r.num, r.den, r.n, r.as_of,
        r.obs_id,
        row_number() OVER (
            PARTITION BY t.grain, t.bucket, r.indicator_code, r.organization_id, r.alliance_id, r.country,
                r.subdivision, r.municipality, r.currency, r.dimension, r.category
            ORDER BY r.as_of DESC, r.obs_id DESC
        ) AS rn
    FROM {TOUCHED} t CROSS JOIN rollups r
    WHERE r.indicator_code = t.indicator_code AND r.organization_id = t.organization_id
        AND r.alliance_id = t.alliance_id AND r.country = t.country AND r.subdivision = t.subdivision
        AND r.municipality = t.municipality AND r.currency = t.currency
        AND r.month >= t.first_month AND r.month <= t.last_month AND r.obs_id <> ''
) ranked
WHERE rn = 1
ON CONFLICT ({", ".join(STOCK_KEY)}) DO UPDATE SET num = excluded.num, den = excluded.den, n = excluded.n,
    as_of = excluded.as_of, obs_id = excluded.obs_id
"""  # noqa: S608 - our own table names (a concurrent batch may have re-ranked the same key: it upserts)


def stock_buckets(month: int) -> list[tuple[str, int, int, int]]:
    """(grain, bucket, first month, last month) of each bucket a ``yyyymm`` month falls in (the
    month itself first; its rows are the month rows of ``rollups``)."""
    year, mon = divmod(month, 100)
    quarter = (mon + 2) // 3
    return [
        ("month", month, month, month),
        ("quarter", year * 10 + quarter, year * 100 + quarter * 3 - 2, year * 100 + quarter * 3),
        ("year", year, year * 100 + 1, year * 100 + 12),
        ("all", 0, 0, 999_999),
    ]


def recompute_buckets(session: Session, keys: set[BaseKey]) -> None:
    """Rank the month rows again for every quarter, year and all-time bucket of these stock keys
    (corrections, disaggregated values): three set-based statements per batch, reading only the
    months of the keys touched."""
    if not keys:
        return
    touched = sorted(
        {
            (key[0], grain, bucket, *key[1:6], key[7], first, last)
            for key in keys
            for grain, bucket, first, last in stock_buckets(key[6])[1:]
        }
    )
    connection = session.connection()
    connection.exec_driver_sql(
        f"CREATE TEMP TABLE IF NOT EXISTS {TOUCHED} (indicator_code VARCHAR(60), grain VARCHAR(8), "
        "bucket INTEGER, organization_id VARCHAR(36), alliance_id VARCHAR(36), country VARCHAR(2), "
        "subdivision VARCHAR(10), municipality VARCHAR(120), currency VARCHAR(3), first_month INTEGER, "
        "last_month INTEGER)"
    )
    connection.exec_driver_sql(f"DELETE FROM {TOUCHED}")  # noqa: S608
    insert_many(session, TOUCHED, TOUCHED_COLUMNS, touched)
    connection.exec_driver_sql(
        f"DELETE FROM stock_rollups WHERE ({_BUCKET_LIST}) IN "  # noqa: S608
        f"(SELECT {_BUCKET_LIST} FROM {TOUCHED})"
    )
    connection.exec_driver_sql(_RECOMPUTE)

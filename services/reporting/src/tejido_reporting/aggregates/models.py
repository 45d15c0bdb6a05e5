"""Rollups kept incrementally as observations arrive: one row per indicator × organization × alliance ×
place × month × currency × disaggregation category, so queries never scan observations.

``num``/``den`` are what adds up across rows: the value (den 0) for counts, sums and money;
value × weight / weight for averages; numerator / denominator for percentages. Stocks (``latest``)
keep the latest in-force value of the month per organization and place, with its ``as_of`` day
(``yyyymmdd``) and the observation id (ties on the same day go to the later observation)."""

from __future__ import annotations

from sqlalchemy import Column, Float, Index, Integer, String, text
from sqlmodel import Field, SQLModel


class RollupRow(SQLModel, table=True):
    __tablename__ = "rollups"
    __table_args__ = (
        # stock rows by place and month: the buckets a batch touches are recomputed from them
        Index(
            "ix_rollups_stock_place",
            "indicator_code",
            "country",
            "subdivision",
            "municipality",
            "month",
            sqlite_where=text("obs_id <> ''"),
            postgresql_where=text("obs_id <> ''"),
        ),
    )

    indicator_code: str = Field(sa_column=Column(String(60), primary_key=True))
    dimension: str = Field(sa_column=Column(String(40), primary_key=True))
    category: str = Field(sa_column=Column(String(60), primary_key=True))
    month: int = Field(sa_column=Column(Integer, primary_key=True))
    organization_id: str = Field(sa_column=Column(String(36), primary_key=True))
    alliance_id: str = Field(sa_column=Column(String(36), primary_key=True))
    country: str = Field(sa_column=Column(String(2), primary_key=True))
    subdivision: str = Field(sa_column=Column(String(10), primary_key=True))
    municipality: str = Field(sa_column=Column(String(120), primary_key=True))
    currency: str = Field(sa_column=Column(String(3), primary_key=True))
    num: float = Field(sa_column=Column(Float, nullable=False))
    den: float = Field(sa_column=Column(Float, nullable=False))
    n: int = Field(sa_column=Column(Integer, nullable=False))
    as_of: int = Field(sa_column=Column(Integer, nullable=False))
    # the observation whose value a stock row holds (time-ordered ids break ties on the same day)
    obs_id: str = Field(sa_column=Column(String(36), nullable=False))


class PlaceRollupRow(SQLModel, table=True):
    """Flows only, summed over organizations and alliances: what an aggregate without organization or
    alliance filters reads (several organizations report in one municipality, so it is much smaller)."""

    __tablename__ = "rollups_by_place"

    indicator_code: str = Field(sa_column=Column(String(60), primary_key=True))
    dimension: str = Field(sa_column=Column(String(40), primary_key=True))
    category: str = Field(sa_column=Column(String(60), primary_key=True))
    month: int = Field(sa_column=Column(Integer, primary_key=True))
    country: str = Field(sa_column=Column(String(2), primary_key=True))
    subdivision: str = Field(sa_column=Column(String(10), primary_key=True))
    municipality: str = Field(sa_column=Column(String(120), primary_key=True))
    currency: str = Field(sa_column=Column(String(3), primary_key=True))
    num: float = Field(sa_column=Column(Float, nullable=False))
    den: float = Field(sa_column=Column(Float, nullable=False))
    n: int = Field(sa_column=Column(Integer, nullable=False))


class StockPlaceRollupRow(SQLModel, table=True):
    """Stocks summed over organizations and alliances per place and period bucket: for each
    organization and place, its latest value within the bucket, then Σ. ``grain`` is ``month``
    (bucket ``yyyymm``), ``quarter`` (``yyyy*10+q``), ``year`` (``yyyy``) or ``all`` (bucket 0, the
    latest ever). Recomputed from the month rows of ``rollups`` for every bucket a batch touches."""

    __tablename__ = "stock_rollups_by_place"

    indicator_code: str = Field(sa_column=Column(String(60), primary_key=True))
    grain: str = Field(sa_column=Column(String(8), primary_key=True))
    bucket: int = Field(sa_column=Column(Integer, primary_key=True))
    country: str = Field(sa_column=Column(String(2), primary_key=True))
    subdivision: str = Field(sa_column=Column(String(10), primary_key=True))
    municipality: str = Field(sa_column=Column(String(120), primary_key=True))
    currency: str = Field(sa_column=Column(String(3), primary_key=True))
    dimension: str = Field(sa_column=Column(String(40), primary_key=True))
    category: str = Field(sa_column=Column(String(60), primary_key=True))
    num: float = Field(sa_column=Column(Float, nullable=False))
    den: float = Field(sa_column=Column(Float, nullable=False))
    n: int = Field(sa_column=Column(Integer, nullable=False))

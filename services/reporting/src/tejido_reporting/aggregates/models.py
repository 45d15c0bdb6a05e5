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
        # stock rows by key and month: a correction recomputes its month and buckets from them
        Index(
            "ix_rollups_stock_key",
            "indicator_code",
            "organization_id",
            "alliance_id",
            "country",
            "subdivision",
            "municipality",
            "currency",
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


class StockRollupRow(SQLModel, table=True):
    """Stocks per quarter, year and all time, as ``rollups`` keeps them per month: for each
    organization, alliance, place, currency and category the latest value within the bucket (its
    ``as_of`` day and observation id). ``grain`` is ``quarter`` (bucket ``yyyy*10+q``), ``year``
    (``yyyy``) or ``all`` (bucket 0). A new value replaces a bucket's row when it is later; a
    correction or a disaggregated value ranks the bucket's month rows again."""

    __tablename__ = "stock_rollups"

    indicator_code: str = Field(sa_column=Column(String(60), primary_key=True))
    grain: str = Field(sa_column=Column(String(8), primary_key=True))
    bucket: int = Field(sa_column=Column(Integer, primary_key=True))
    organization_id: str = Field(sa_column=Column(String(36), primary_key=True))
    alliance_id: str = Field(sa_column=Column(String(36), primary_key=True))
    country: str = Field(sa_column=Column(String(2), primary_key=True))
    subdivision: str = Field(sa_column=Column(String(10), primary_key=True))
    municipality: str = Field(sa_column=Column(String(120), primary_key=True))
    currency: str = Field(sa_column=Column(String(3), primary_key=True))
    dimension: str = Field(sa_column=Column(String(40), primary_key=True))
    category: str = Field(sa_column=Column(String(60), primary_key=True))
    num: float = Field(sa_column=Column(Float, nullable=False))
    den: float = Field(sa_column=Column(Float, nullable=False))
    n: int = Field(sa_column=Column(Integer, nullable=False))
    as_of: int = Field(sa_column=Column(Integer, nullable=False))
    obs_id: str = Field(sa_column=Column(String(36), nullable=False))

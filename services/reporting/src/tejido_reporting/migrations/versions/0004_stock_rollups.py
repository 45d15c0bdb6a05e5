"""Stock rollups per quarter, year and all time; leaner rollup tables.

* ``stock_rollups``: like the stock rows of ``rollups`` (the latest value of the month per
  organization, alliance, place, currency and category), per quarter, year and all time — what a
  territory × period aggregate of a stock sums instead of ranking every month row at query time.
* ``ix_rollups_stock_key``: a partial index over the stock rows of ``rollups`` by key and month, from
  which a corrected stock's month and buckets are recomputed.
* ``ix_rollups_indicator_dim_month`` goes: the primary key (indicator, dimension, category, month, …)
  already serves those reads, and every index is one more B-tree write per ingested observation.
* SQLite: ``rollups`` and ``rollups_by_place`` become ``WITHOUT ROWID`` tables (one B-tree keyed by
  the primary key instead of a table plus a primary-key index: half the writes per upsert).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

KEY = "indicator_code, dimension, category, month, organization_id, alliance_id, country, subdivision, municipality, currency"
BUCKET_KEY = (
    "indicator_code", "grain", "bucket", "organization_id", "alliance_id", "country", "subdivision",
    "municipality", "currency",
)  # fmt: skip
LENGTHS = {
    "indicator_code": 60, "grain": 8, "organization_id": 36, "alliance_id": 36, "country": 2,
    "subdivision": 10, "municipality": 120, "currency": 3,
}  # fmt: skip
PLACE_KEY = "indicator_code, dimension, category, month, country, subdivision, municipality, currency"
# (grain, bucket of a yyyymm month) as in aggregates/rollups.py: quarter = yyyy*10+q, year = yyyy, all = 0
GRAINS = (
    ("quarter", "(r.month / 100) * 10 + ((r.month % 100) + 2) / 3"),
    ("year", "r.month / 100"),
    ("all", "0"),
)


def _rebuild_without_rowid(table: str, columns: str, key: str) -> None:
    op.execute(f"CREATE TABLE {table}_new ({columns}, PRIMARY KEY ({key})) WITHOUT ROWID")
    op.execute(f"INSERT INTO {table}_new SELECT * FROM {table}")  # noqa: S608 - our own table names
    op.execute(f"DROP TABLE {table}")
    op.execute(f"ALTER TABLE {table}_new RENAME TO {table}")


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.drop_index("ix_rollups_indicator_dim_month", table_name="rollups")
    if sqlite:
        _rebuild_without_rowid(
            "rollups",
            "indicator_code VARCHAR(60) NOT NULL, dimension VARCHAR(40) NOT NULL, "
            "category VARCHAR(60) NOT NULL, month INTEGER NOT NULL, organization_id VARCHAR(36) NOT NULL, "
            "alliance_id VARCHAR(36) NOT NULL, country VARCHAR(2) NOT NULL, subdivision VARCHAR(10) NOT NULL, "
            "municipality VARCHAR(120) NOT NULL, currency VARCHAR(3) NOT NULL, num FLOAT NOT NULL, "
            "den FLOAT NOT NULL, n INTEGER NOT NULL, as_of INTEGER NOT NULL, obs_id VARCHAR(36) NOT NULL",
            KEY,
        )
        _rebuild_without_rowid(
            "rollups_by_place",
            "indicator_code VARCHAR(60) NOT NULL, dimension VARCHAR(40) NOT NULL, "
            "category VARCHAR(60) NOT NULL, month INTEGER NOT NULL, country VARCHAR(2) NOT NULL, "
            "subdivision VARCHAR(10) NOT NULL, municipality VARCHAR(120) NOT NULL, "
            "currency VARCHAR(3) NOT NULL, num FLOAT NOT NULL, den FLOAT NOT NULL, n INTEGER NOT NULL",
            PLACE_KEY,
        )
    op.create_index(
        "ix_rollups_stock_key",
        "rollups",
        ["indicator_code", *BUCKET_KEY[3:], "month"],
        sqlite_where=sa.text("obs_id <> ''"),
        postgresql_where=sa.text("obs_id <> ''"),
    )
    op.create_table(
        "stock_rollups",
        # bucket first and the category last: a batch replaces one key's bucket by key prefix
        *(
            sa.Column(name, sa.String(LENGTHS[name]), primary_key=True)
            for name in ("indicator_code", "grain")
        ),
        sa.Column("bucket", sa.Integer, primary_key=True),
        *(sa.Column(name, sa.String(LENGTHS[name]), primary_key=True) for name in BUCKET_KEY[3:]),
        sa.Column("dimension", sa.String(40), primary_key=True),
        sa.Column("category", sa.String(60), primary_key=True),
        sa.Column("num", sa.Float, nullable=False),
        sa.Column("den", sa.Float, nullable=False),
        sa.Column("n", sa.Integer, nullable=False),
        sa.Column("as_of", sa.Integer, nullable=False),
        sa.Column("obs_id", sa.String(36), nullable=False),
        sqlite_with_rowid=False,
    )
    # Stock rows kept before this table existed: rank them in once, per grain.
    for grain, bucket in GRAINS:
        op.execute(
            "INSERT INTO stock_rollups (indicator_code, grain, bucket, organization_id, alliance_id, country,"  # noqa: S608
            " subdivision, municipality, currency, dimension, category, num, den, n, as_of, obs_id)"
            f" SELECT indicator_code, '{grain}', bucket, organization_id, alliance_id, country, subdivision,"
            " municipality, currency, dimension, category, num, den, n, as_of, obs_id FROM ("
            f"  SELECT r.*, {bucket} AS bucket, row_number() OVER (PARTITION BY r.indicator_code,"
            "   r.dimension, r.category, r.organization_id, r.alliance_id, r.country, r.subdivision,"
            f"   r.municipality, r.currency, {bucket} ORDER BY r.as_of DESC, r.obs_id DESC) AS rn"
            "  FROM rollups r WHERE r.obs_id <> '') ranked WHERE rn = 1"
        )


def downgrade() -> None:
    op.drop_table("stock_rollups")
    op.drop_index("ix_rollups_stock_key", table_name="rollups")
    op.create_index("ix_rollups_indicator_dim_month", "rollups", ["indicator_code", "dimension", "month"])

"""Flow rollups summed over organizations and alliances, per place and month.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rollups_by_place",
        sa.Column("indicator_code", sa.String(60), primary_key=True),
        sa.Column("dimension", sa.String(40), primary_key=True),
        sa.Column("category", sa.String(60), primary_key=True),
        sa.Column("month", sa.Integer, primary_key=True),
        sa.Column("country", sa.String(2), primary_key=True),
        sa.Column("subdivision", sa.String(10), primary_key=True),
        sa.Column("municipality", sa.String(120), primary_key=True),
        sa.Column("currency", sa.String(3), primary_key=True),
        sa.Column("num", sa.Float, nullable=False),
        sa.Column("den", sa.Float, nullable=False),
        sa.Column("n", sa.Integer, nullable=False),
    )
    # Rollups kept before this table existed: sum them in once.
    op.execute(
        "INSERT INTO rollups_by_place (indicator_code, dimension, category, month, country, subdivision,"
        " municipality, currency, num, den, n)"
        " SELECT indicator_code, dimension, category, month, country, subdivision, municipality, currency,"
        " sum(num), sum(den), sum(n) FROM rollups WHERE obs_id = ''"
        " GROUP BY indicator_code, dimension, category, month, country, subdivision, municipality, currency"
    )


def downgrade() -> None:
    op.drop_table("rollups_by_place")

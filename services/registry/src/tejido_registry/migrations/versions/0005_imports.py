"""Import jobs: the durable report of every bulk import.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    json_doc = sa.JSON().with_variant(JSONB(), "postgresql")
    op.create_table(
        "organization_imports",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("format", sa.String(8), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("rows_committed", sa.Integer, nullable=False),
        sa.Column("report", json_doc, nullable=False),
        sa.Column("stopped_reason", sa.Text),
    )


def downgrade() -> None:
    op.drop_table("organization_imports")

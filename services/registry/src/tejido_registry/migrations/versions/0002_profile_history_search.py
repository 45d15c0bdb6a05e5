"""Whole profile: restricted people, completeness, due-diligence band, change history, names for
duplicate detection, and the indexes that search and the modified-since feed need.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

JsonDoc = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("organizations") as batch:
        batch.add_column(sa.Column("sort_name", sa.String(300), nullable=False, server_default=""))
        batch.add_column(sa.Column("completeness", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("willing_to_cooperate", sa.Boolean, nullable=True))
        batch.add_column(sa.Column("dd_band", sa.String(20), nullable=True))
        batch.add_column(sa.Column("dd_rated_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("people", JsonDoc, nullable=True))
    op.create_index("ix_organizations_updated", "organizations", ["updated_at", "id"])
    op.create_index("ix_organizations_sort_name", "organizations", ["sort_name", "id"])
    op.create_index("ix_organizations_completeness", "organizations", ["completeness", "id"])
    op.create_index("ix_organizations_dd_band", "organizations", ["dd_band"])
    op.create_table(
        "organization_versions",
        sa.Column("organization_id", sa.String(36), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(200), nullable=True),
        sa.Column("correlation_id", sa.String(128), nullable=True),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("changes", JsonDoc, nullable=False),
        sa.Column("snapshot", JsonDoc, nullable=False),
    )
    op.create_index(
        "ix_organization_versions_changed", "organization_versions", ["organization_id", "changed_at"]
    )
    op.create_table(
        "organization_names",
        sa.Column("organization_id", sa.String(36), primary_key=True),
        sa.Column("norm", sa.String(300), primary_key=True),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
    )
    op.create_index("ix_organization_names_country", "organization_names", ["country", "norm"])


def downgrade() -> None:
    op.drop_table("organization_names")
    op.drop_table("organization_versions")
    op.drop_index("ix_organizations_dd_band", "organizations")
    op.drop_index("ix_organizations_completeness", "organizations")
    op.drop_index("ix_organizations_sort_name", "organizations")
    op.drop_index("ix_organizations_updated", "organizations")
    with op.batch_alter_table("organizations") as batch:
        for column in (
            "people",
            "dd_rated_at",
            "dd_band",
            "willing_to_cooperate",
            "completeness",
            "sort_name",
        ):
            batch.drop_column(column)

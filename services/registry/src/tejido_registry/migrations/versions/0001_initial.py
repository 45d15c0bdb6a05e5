"""Messaging tables and the organization registry.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from tejido_common.migrations import create_messaging_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

JsonDoc = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    create_messaging_tables()
    op.create_table(
        "organizations",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("legal_name", sa.String(300), nullable=False),
        sa.Column("actor_type", sa.String(40), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("profile", JsonDoc, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_organizations_status_id", "organizations", ["status", "id"])
    op.create_index("ix_organizations_actor_type", "organizations", ["actor_type"])
    op.create_index("ix_organizations_country", "organizations", ["country"])
    op.create_table(
        "organization_facets",
        sa.Column("facet", sa.String(40), primary_key=True),
        sa.Column("value", sa.String(120), primary_key=True),
        sa.Column("organization_id", sa.String(36), primary_key=True),
    )
    op.create_index("ix_organization_facets_org", "organization_facets", ["organization_id"])
    op.create_table(
        "organization_identifiers",
        sa.Column("scheme", sa.String(60), primary_key=True),
        sa.Column("value", sa.String(100), primary_key=True),
        sa.Column("organization_id", sa.String(36), nullable=False),
    )
    op.create_index(
        "ix_organization_identifiers_organization_id", "organization_identifiers", ["organization_id"]
    )


def downgrade() -> None:
    op.drop_table("organization_identifiers")
    op.drop_table("organization_facets")
    op.drop_table("organizations")
    op.drop_table("processed_events")
    op.drop_table("outbox")

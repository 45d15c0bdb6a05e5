"""Alliances: the alliance document with its filter columns, current parties, and stage history.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

JsonDoc = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "alliances",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("stage", sa.String(20), nullable=False),
        sa.Column("type", sa.String(40), nullable=True),
        sa.Column("scope", sa.String(20), nullable=True),
        sa.Column("modality", sa.String(40), nullable=True),
        sa.Column("development_strategy", sa.String(40), nullable=True),
        sa.Column("doc", JsonDoc, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stage_changed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_alliances_stage_id", "alliances", ["stage", "id"])
    op.create_index("ix_alliances_type", "alliances", ["type"])
    op.create_index("ix_alliances_modality", "alliances", ["modality"])
    op.create_index("ix_alliances_scope", "alliances", ["scope"])
    op.create_table(
        "alliance_parties",
        sa.Column("alliance_id", sa.String(36), primary_key=True),
        sa.Column("organization_id", sa.String(36), primary_key=True),
        sa.Column("role", sa.String(40), nullable=False),
    )
    op.create_index("ix_alliance_parties_org", "alliance_parties", ["organization_id", "alliance_id"])
    op.create_table(
        "alliance_stage_changes",
        sa.Column("alliance_id", sa.String(36), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("from_stage", sa.String(20), nullable=True),
        sa.Column("to_stage", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(200), nullable=True),
        sa.Column("correlation_id", sa.String(128), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("alliance_stage_changes")
    op.drop_table("alliance_parties")
    op.drop_table("alliances")

"""Candidates read model, alliances and feedback.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from tejido_common.db import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "match_candidates",
        sa.Column("organization_id", sa.String(36), primary_key=True),
        sa.Column("profile", sa.JSON, nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("band", sa.String(20), nullable=True),
        sa.Column("band_confidence", sa.Float, nullable=True),
        sa.Column("rated_at", UTCDateTime(), nullable=True),
        sa.Column("rating_red_flag", sa.Boolean, nullable=False),
        sa.Column("flag_level", sa.String(20), nullable=True),
        sa.Column("flag_blocking", sa.Boolean, nullable=False),
        sa.Column("texts_hash", sa.String(64), nullable=True),
        sa.Column("embedded_hash", sa.String(64), nullable=True),
        sa.Column("embeddings", sa.LargeBinary, nullable=True),
        sa.Column("event_time", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_match_candidates_event_time", "match_candidates", ["event_time"])
    op.create_table(
        "match_alliances",
        sa.Column("alliance_id", sa.String(36), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("stage", sa.String(30), nullable=False),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("parties", sa.JSON, nullable=False),
        sa.Column("event_time", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "match_feedback",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("requester_id", sa.String(36), nullable=False),
        sa.Column("candidate_id", sa.String(36), nullable=False),
        sa.Column("verdict", sa.String(20), nullable=False),
        sa.Column("reason", sa.String(1000), nullable=True),
        sa.Column("mode", sa.String(20), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_match_feedback_requester", "match_feedback", ["requester_id", "candidate_id"])


def downgrade() -> None:
    op.drop_table("match_feedback")
    op.drop_table("match_alliances")
    op.drop_table("match_candidates")

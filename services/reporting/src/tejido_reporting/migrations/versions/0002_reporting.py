"""Network read model, indicator catalog, targets, observations and rollups.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "network_organizations",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("actor_type", sa.String(40)),
        sa.Column("country", sa.String(2)),
        sa.Column("subdivisions", sa.JSON, nullable=False),
        sa.Column("identifiers", sa.JSON, nullable=False),
        sa.Column("created_at", TZ),
    )
    op.create_table(
        "network_ratings",
        sa.Column("organization_id", sa.String(36), primary_key=True),
        sa.Column("band", sa.String(20), nullable=False),
        sa.Column("rated_at", TZ, nullable=False),
    )
    op.create_table(
        "network_organization_facets",
        sa.Column("organization_id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(20), primary_key=True),
        sa.Column("code", sa.String(60), primary_key=True),
    )
    op.create_index(
        "ix_network_facets_kind_code", "network_organization_facets", ["kind", "code", "organization_id"]
    )
    op.create_table(
        "network_alliances",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("purpose", sa.Text),
        sa.Column("stage", sa.String(20), nullable=False),
        sa.Column("type", sa.String(40)),
        sa.Column("scope", sa.String(20)),
        sa.Column("modality", sa.String(40)),
        sa.Column("development_strategy", sa.String(40)),
        sa.Column("legitimacy", sa.JSON, nullable=False),
        sa.Column("parties", sa.JSON, nullable=False),
        sa.Column("created_at", TZ),
        sa.Column("stage_changed_at", TZ),
    )
    op.create_table(
        "network_alliance_parties",
        sa.Column("alliance_id", sa.String(36), primary_key=True),
        sa.Column("organization_id", sa.String(36), primary_key=True),
        sa.Column("role", sa.String(40), nullable=False),
    )
    op.create_table(
        "indicators",
        sa.Column("code", sa.String(60), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("doc", sa.JSON, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("builtin", sa.Boolean, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("note", sa.Text),
    )
    op.create_table(
        "targets",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("indicator_code", sa.String(60), nullable=False),
        sa.Column("scope_kind", sa.String(20), nullable=False),
        sa.Column("scope_id", sa.String(200), nullable=False),
        sa.Column("period", sa.String(20), nullable=False),
        sa.Column("first_month", sa.Integer, nullable=False),
        sa.Column("last_month", sa.Integer, nullable=False),
        sa.Column("target_value", sa.Float, nullable=False),
        sa.Column("baseline_value", sa.Float),
        sa.Column("baseline_date", sa.Date),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_index(
        "ux_targets_scope_period",
        "targets",
        ["indicator_code", "scope_kind", "scope_id", "first_month", "last_month", "currency"],
        unique=True,
    )
    op.create_table(
        "observations",
        sa.Column(
            "seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True
        ),
        sa.Column("id", sa.String(36), nullable=False, unique=True),
        sa.Column("ident", sa.String(240), nullable=False),
        sa.Column("organization_id", sa.String(36), nullable=False),
        sa.Column("observation_key", sa.String(200), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("in_force", sa.Boolean, nullable=False),
        sa.Column("indicator_code", sa.String(60), nullable=False),
        sa.Column("indicator_version", sa.Integer, nullable=False),
        sa.Column("alliance_id", sa.String(36), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("subdivision", sa.String(10), nullable=False),
        sa.Column("municipality", sa.String(120), nullable=False),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("period_end", sa.Date, nullable=False),
        sa.Column("month", sa.Integer, nullable=False),
        sa.Column("value", sa.Float),
        sa.Column("numerator", sa.Float),
        sa.Column("denominator", sa.Float),
        sa.Column("weight", sa.Float),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("evidence_level", sa.String(20), nullable=False),
        sa.Column("parts", sa.JSON, nullable=False),
        sa.Column("source", sa.String(10), nullable=False),
        sa.Column("recorded_at", TZ, nullable=False),
    )
    op.create_index("ux_observations_ident_revision", "observations", ["ident", "revision"], unique=True)
    op.create_index("ix_observations_indicator_month", "observations", ["indicator_code", "month"])
    op.create_table(
        "rollups",
        sa.Column("indicator_code", sa.String(60), primary_key=True),
        sa.Column("dimension", sa.String(40), primary_key=True),
        sa.Column("category", sa.String(60), primary_key=True),
        sa.Column("month", sa.Integer, primary_key=True),
        sa.Column("organization_id", sa.String(36), primary_key=True),
        sa.Column("alliance_id", sa.String(36), primary_key=True),
        sa.Column("country", sa.String(2), primary_key=True),
        sa.Column("subdivision", sa.String(10), primary_key=True),
        sa.Column("municipality", sa.String(120), primary_key=True),
        sa.Column("currency", sa.String(3), primary_key=True),
        sa.Column("num", sa.Float, nullable=False),
        sa.Column("den", sa.Float, nullable=False),
        sa.Column("n", sa.Integer, nullable=False),
        sa.Column("as_of", sa.Integer, nullable=False),
        sa.Column("obs_id", sa.String(36), nullable=False),
    )
    op.create_index("ix_rollups_indicator_dim_month", "rollups", ["indicator_code", "dimension", "month"])


def downgrade() -> None:
    for table in (
        "rollups",
        "observations",
        "targets",
        "indicators",
        "network_alliance_parties",
        "network_alliances",
        "network_organization_facets",
        "network_ratings",
        "network_organizations",
    ):
        op.drop_table(table)

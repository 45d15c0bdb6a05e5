"""A covering index for searches: the filter and sort columns of an organization, so a search page's
ids are found without reading the (large) profile documents.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

COLUMNS = [
    "country",
    "actor_type",
    "status",
    "id",
    "sort_name",
    "updated_at",
    "completeness",
    "willing_to_cooperate",
    "dd_band",
]


def upgrade() -> None:
    op.create_index("ix_organizations_search", "organizations", COLUMNS)


def downgrade() -> None:
    op.drop_index("ix_organizations_search", "organizations")

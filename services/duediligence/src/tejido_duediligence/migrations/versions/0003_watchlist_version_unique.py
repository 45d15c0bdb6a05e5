"""One version number per list: two loads of the same list at once cannot both become version N.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_watchlist_versions_list", table_name="watchlist_versions")
    op.create_index("ix_watchlist_versions_list", "watchlist_versions", ["list_id", "seq"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_watchlist_versions_list", table_name="watchlist_versions")
    op.create_index("ix_watchlist_versions_list", "watchlist_versions", ["list_id", "seq"])

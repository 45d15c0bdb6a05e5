"""When the due-diligence flag state was last changed (orders flag events).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from tejido_common.db import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("match_candidates", sa.Column("flag_changed_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column("match_candidates", "flag_changed_at")

"""Organizations of a country in name order (with the status a listing checks), so that a search in a
country sorted by name, or ranked by relevance for a frequent word, reads the page's rows in order
and stops at its end instead of sorting every organization of the country.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_organizations_country_name", "organizations", ["country", "sort_name", "id", "status"]
    )


def downgrade() -> None:
    op.drop_index("ix_organizations_country_name", "organizations")

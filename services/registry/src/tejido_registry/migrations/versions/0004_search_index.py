"""Indexes for searches: the filter and sort columns of an organization (so a search page's ids are
found without reading the large profile documents), and facet probes by organization.

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
    # Probing "does this organization have facet f with a value in range r" (search words) must seek
    # the organization first: the primary key would walk every organization that has that word.
    op.drop_index("ix_organization_facets_org", "organization_facets")
    op.create_index(
        "ix_organization_facets_probe", "organization_facets", ["organization_id", "facet", "value"]
    )


def downgrade() -> None:
    op.drop_index("ix_organization_facets_probe", "organization_facets")
    op.create_index("ix_organization_facets_org", "organization_facets", ["organization_id"])
    op.drop_index("ix_organizations_search", "organizations")

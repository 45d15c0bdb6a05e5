"""All SQL of the organizations read model."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session, col

from tejido_duediligence.organizations.models import KeyPeopleRow, OrganizationRow


class OrganizationRepository:
    def __init__(self, session: Session):
        self.session = session

    def get(self, org_id: str) -> OrganizationRow | None:
        return self.session.get(OrganizationRow, org_id)

    def people(self, org_id: str) -> KeyPeopleRow | None:
        return self.session.get(KeyPeopleRow, org_id)

    def save(self, row: OrganizationRow | KeyPeopleRow) -> None:
        self.session.add(row)
        self.session.flush()

    def active_ids(self) -> list[str]:
        stmt = select(col(OrganizationRow.id)).where(col(OrganizationRow.status) != "archived")
        return list(self.session.scalars(stmt.order_by(col(OrganizationRow.id))))

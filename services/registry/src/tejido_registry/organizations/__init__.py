"""Organizations and their profiles: the source of truth for who is out there.

``install_organizations(app, runtime, settings)`` adds the routes (bulk first: ``:import`` and
``imports/…`` must win over ``/{org_id}``), the due-diligence consumer, and puts the
:class:`OrganizationService` on ``app.state.organizations``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tejido_common.consumer import ConsumerSpec
from tejido_registry.organizations.api import router
from tejido_registry.organizations.bulk.api import bulk_router
from tejido_registry.organizations.handlers import HANDLERS
from tejido_registry.organizations.queries import OrganizationQueries
from tejido_registry.organizations.service import OrganizationService

if TYPE_CHECKING:
    from fastapi import FastAPI

    from tejido_common.runtime import ServiceRuntime
    from tejido_registry.settings import RegistrySettings


def install_organizations(
    app: FastAPI, runtime: ServiceRuntime, settings: RegistrySettings
) -> OrganizationService:
    service = OrganizationService(runtime.db, duplicate_threshold=settings.duplicate_name_threshold)
    app.state.organizations = service
    app.state.organization_queries = OrganizationQueries(
        runtime.db, page_size_default=settings.page_size_default, page_size_max=settings.page_size_max
    )
    # The current due-diligence band is shown on profiles: kept from the rating events.
    runtime.add_consumer(
        ConsumerSpec(
            name="registry", stream="DUEDILIGENCE", filter_subject="duediligence.>", handlers=HANDLERS
        )
    )
    app.include_router(bulk_router)
    app.include_router(router)
    return service


__all__ = ["OrganizationQueries", "OrganizationService", "install_organizations"]

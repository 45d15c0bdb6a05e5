"""Alliances among organizations: parties, stage with history, agreements, project and results.

``install_alliances(app, db, settings)`` adds the routes to the registry app and puts the
:class:`AllianceService` on ``app.state.alliances``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tejido_registry.alliances.api import organization_router, router
from tejido_registry.alliances.service import AllianceService

if TYPE_CHECKING:
    from fastapi import FastAPI

    from tejido_common.db import Database
    from tejido_registry.settings import RegistrySettings


def install_alliances(app: FastAPI, db: Database, settings: RegistrySettings) -> AllianceService:
    service = AllianceService(
        db, page_size_default=settings.page_size_default, page_size_max=settings.page_size_max
    )
    app.state.alliances = service
    app.include_router(router)
    app.include_router(organization_router)
    return service


__all__ = ["AllianceService", "install_alliances"]

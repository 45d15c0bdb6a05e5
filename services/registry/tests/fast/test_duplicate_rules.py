"""Likely-duplicate detection through the service, on the database only."""

from __future__ import annotations

import pytest

from tejido_registry.organizations.schemas import OrganizationCreate
from tejido_registry.organizations.service import LikelyDuplicates, OrganizationService
from tejido_registry.testing import org_body


def register(service: OrganizationService, name: str, **sections: object) -> str:
    return service.create(OrganizationCreate.model_validate(org_body(name, **sections))).id


def test_spelling_variants_in_the_same_country_are_likely_duplicates(service: OrganizationService) -> None:
    first = register(service, "J'Pas Joloviletik")
    with pytest.raises(LikelyDuplicates) as info:
        register(service, "J´pas Joliviletik")
    assert [d.id for d in info.value.duplicates] == [first]
    register(service, "J'Pas Joloviletik", where={"country": "PE", "subdivisions": []})  # other country


def test_a_differing_number_or_short_word_is_not_a_duplicate(service: OrganizationService) -> None:
    register(service, "Beta Asociación 4")
    register(service, "Zeta Asociación 4")
    register(service, "Beta Asociación 5")


def test_an_alias_matching_a_name_is_a_likely_duplicate(service: OrganizationService) -> None:
    register(service, "Grupo Conciencia", identity={"aliases": ["Consciousness Group"]})
    with pytest.raises(LikelyDuplicates):
        register(service, "Consciousness Group")

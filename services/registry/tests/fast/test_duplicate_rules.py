"""Likely-duplicate detection through the service, on the database only."""

from __future__ import annotations

from collections.abc import Iterator

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


def test_bulk_imports_hand_their_names_on_but_never_past_another_write(service: OrganizationService) -> None:
    """The names index a finished import kept current goes to the next import, unless anything else
    wrote organizations meanwhile: a later registration or archival is always seen."""
    import json

    from tejido_registry.organizations.bulk.importer import BulkImporter, ImportReport

    def run(*names: str, meanwhile: str | None = None) -> ImportReport:
        def lines() -> Iterator[str]:
            for name in names:
                yield json.dumps(org_body(name)) + "\n"
                if meanwhile:
                    register(service, meanwhile)  # another writer, while the import reads its file

        importer = BulkImporter(service, "jsonl")
        importer.start()
        return importer.run(lines())

    first = BulkImporter(service, "jsonl")
    first.start()
    assert first.run([json.dumps(org_body("Fundación Xochiquetzal Nahui")) + "\n"]).created == 1
    assert service.checkout_duplicate_index()[0] is first.dup_index  # kept for the next import
    assert service.checkout_duplicate_index()[0] is not first.dup_index  # by one import at a time

    assert run("Red Cuauhtli Mixtli").created == 1
    other = register(service, "Colectivo Itzel Ollin")  # not through an import
    seen = run("Colectivo Itzeel Olin")  # the kept index is not used: the other one is seen
    assert seen.failed == 1 and other in seen.errors[0].reason

    assert run("Grupo Tonatiuh Yoltic", meanwhile="Colectivo Tlanextli Ameyal").created == 1
    late = run("Colectivo Tlanextli Amehyal")  # written during the previous import: seen
    assert late.created == 0 and late.errors[0].reason.startswith("likely duplicate")

    archived = register(service, "Unión Citlali Quiahuitl")
    run("Grupo Yaretzi Coatl")  # the index is kept again
    service.archive(archived)
    again = run("Unión Citlali Quiahuitl")  # an archived organization's name is free again
    assert again.created == 1 and again.failed == 0


def test_close_words_added_after_a_lookup_are_still_found() -> None:
    """A word's close words are remembered and only the vocabulary added since is compared: a name
    registered after a lookup, with a spelling variant of the word, is a candidate next time."""
    from tejido_registry.organizations.duplicates import _CountryNames

    names = _CountryNames()
    names.add("nahui xochiquetzal", "a", "Xochiquetzal Nahui")
    assert set(names.candidates("xochiquetzal yoltic")) == {0}
    names.add("ollin xochiquetzali", "b", "Xochiquetzali Ollin")  # close to "xochiquetzal"
    names.add("tonatiuh xinachtli", "c", "Xinachtli Tonatiuh")  # same first letter, not close
    assert set(names.candidates("xochiquetzal yoltic")) == {0, 1}
    assert names.similar_words("xochiquetzal") == ["xochiquetzal", "xochiquetzali"]

"""The flat CSV form, both ways: formula cells neutralized losslessly, list separators escaped."""

from __future__ import annotations

import pytest

from tejido_registry.organizations.bulk.tabular import (
    neutralize,
    record_from_row,
    restore,
    row_from_organization,
)

TRICKY = [
    "=1+1",
    "+SUM(A1)",
    "-2+3",
    "@cmd",
    "\tTab",
    "\rCR",
    "'=quoted",
    "''+twice",
    "'plain apostrophe",
    "-33.4",
    "Normal",
    "",
]


@pytest.mark.parametrize("value", TRICKY)
def test_neutralize_then_restore_is_the_identity(value: str) -> None:
    cell = neutralize(value)
    assert restore(cell) == value
    assert not cell or cell[0] not in "=+-@\t\r" or cell == "-33.4"


@pytest.mark.parametrize(
    ("aliases", "cell"),
    [
        (["Alpha | Beta", "Gamma"], "Alpha \\| Beta|Gamma"),
        (["Back\\slash"], "Back\\\\slash"),
        (["Ends with \\"], "Ends with \\\\"),
        (["\\|"], "\\\\\\|"),
    ],
)
def test_list_items_escape_the_separator(aliases: list[str], cell: str) -> None:
    org = {"identity": {"legal_name": "X", "aliases": aliases}}
    row = row_from_organization(org)
    assert row["aliases"] == cell
    assert record_from_row(row)["identity"]["aliases"] == aliases


def test_hand_written_backslashes_are_kept() -> None:
    record = record_from_row({"legal_name": "X", "aliases": "C:\\datos|Otro"})
    assert record["identity"]["aliases"] == ["C:\\datos", "Otro"]


def test_areas_and_identifiers_keep_separators_inside_values() -> None:
    org = {
        "identity": {"legal_name": "X", "identifiers": [{"scheme": "XX-TEST", "id": "A|B"}]},
        "where": {"country": "EC", "areas_of_operation": [{"country": "EC", "municipality": "Quito|Norte"}]},
    }
    record = record_from_row(row_from_organization(org))
    assert record["identity"]["identifiers"] == [{"scheme": "XX-TEST", "id": "A|B"}]
    assert record["where"]["areas_of_operation"] == [{"country": "EC", "municipality": "Quito|Norte"}]


def test_statistics_are_refreshed_after_imports_that_change_the_registry_much() -> None:
    from tejido_registry.organizations.bulk.importer import needs_analyze

    assert needs_analyze(10_000, 0) and needs_analyze(10_000, 50_000)
    assert not needs_analyze(999, 0)  # small imports never
    assert not needs_analyze(10_000, 90_000)  # a ninth more: close enough (PostgreSQL: seconds saved)

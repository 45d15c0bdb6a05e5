"""The OpenAPI examples of the bulk and export routes are real: the CSV example is a file the service
accepts, every row recorded (its community actions are the sources' 2 + 8 + 36 + 13 = 59); the IATI
example validates against the official 2.03 schema."""

from __future__ import annotations

from pathlib import Path

from tejido_reporting.app import create_app
from tejido_reporting.exports import examples as export_examples
from tejido_reporting.exports import iati
from tejido_reporting.observations import examples
from tejido_reporting.settings import ReportingSettings

from .conftest import World


def test_the_csv_example_records_every_row(world: World) -> None:
    world.organization(examples.EXAMPLE_ORGANIZATION_ID)
    report = world.observations.import_csv(examples.IMPORT_CSV.encode())
    assert (report.rows, report.recorded, report.failed) == (4, 4, 0), report.errors
    again = world.observations.import_csv(examples.IMPORT_CSV.encode())
    assert (again.replayed, again.recorded) == (4, 0)


def test_the_example_is_in_the_openapi_document(tmp_path: Path) -> None:
    paths = create_app(ReportingSettings(data_dir=tmp_path)).openapi()["paths"]
    content = paths["/v1/observations:import"]["post"]["requestBody"]["content"]
    assert content["text/csv"]["example"] == examples.IMPORT_CSV


def test_the_iati_example_validates_against_the_official_schema(tmp_path: Path) -> None:
    assert iati.validate(export_examples.IATI_XML.encode()) == []
    paths = create_app(ReportingSettings(data_dir=tmp_path)).openapi()["paths"]
    media = paths["/v1/reports/alliances/{alliance_id}/iati"]["get"]["responses"]["200"]["content"]
    assert media["application/xml"]["example"] == export_examples.IATI_XML

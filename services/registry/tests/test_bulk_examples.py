"""The bulk routes' OpenAPI examples are bodies the API accepts: each import example creates every
row, and the export example is what exporting the CSV example really starts with."""

from __future__ import annotations

from typing import Any

from tejido_registry.app import create_app
from tejido_registry.organizations.bulk import examples
from tejido_registry.testing import RunningRegistry


def post(registry: RunningRegistry, body: str, content_type: str) -> dict[str, Any]:
    r = registry.client.post(
        "/v1/organizations:import", content=body.encode(), headers={"content-type": content_type}
    )
    assert r.status_code == 200, r.text
    report: dict[str, Any] = r.json()
    return report


def test_the_csv_example_imports_every_row_and_exports_as_documented(registry: RunningRegistry) -> None:
    report = post(registry, examples.IMPORT_CSV, "text/csv")
    assert (report["created"], report["failed"], report["warnings"]) == (2, 0, []), report
    exported = registry.client.get("/v1/organizations:export", params={"format": "csv", "q": "Microcrédito"})
    assert exported.status_code == 200, exported.text
    assert exported.text == examples.EXPORT_CSV


def test_the_ndjson_example_imports_every_row(registry: RunningRegistry) -> None:
    report = post(registry, examples.IMPORT_NDJSON, "application/x-ndjson")
    assert (report["created"], report["failed"], report["warnings"]) == (2, 0, []), report
    again = post(registry, examples.IMPORT_NDJSON, "application/x-ndjson")
    assert again["unchanged"] == 2


def test_the_examples_are_in_the_openapi_document(registry: RunningRegistry) -> None:
    paths = create_app(registry.settings).openapi()["paths"]
    content = paths["/v1/organizations:import"]["post"]["requestBody"]["content"]
    assert content["text/csv"]["example"] == examples.IMPORT_CSV
    assert content["application/x-ndjson"]["example"] == examples.IMPORT_NDJSON
    exported = paths["/v1/organizations:export"]["get"]["responses"]["200"]["content"]
    assert exported["text/csv"]["example"] == examples.EXPORT_CSV

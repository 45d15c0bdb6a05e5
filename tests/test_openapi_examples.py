"""The combined OpenAPI document, as the gateway serves it, built from every service's real app: every
operation's request body and response has an example, and every example is valid against its schema,
so a client generator (or a person) starts from requests the API accepts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tejido_gateway.examples import structured
from tejido_gateway.openapi import merge_openapi

METHODS = ("get", "put", "post", "patch", "delete")
# Bodies the builder cannot make up: charts and the HTML report (their routes describe them in
# prose). The CSV, JSON Lines and IATI XML bodies carry examples of their own, each tested where it is
# defined (imported into a running service, or validated against the IATI schema).
UNSTRUCTURED = {"image/svg+xml", "image/png", "text/html"}


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from tejido_duediligence.app import create_app as duediligence
    from tejido_duediligence.settings import DuediligenceSettings
    from tejido_gateway.app import create_app as gateway
    from tejido_gateway.app import own_openapi
    from tejido_gateway.settings import GatewaySettings
    from tejido_matching.app import create_app as matching
    from tejido_matching.settings import MatchingSettings
    from tejido_registry.app import create_app as registry
    from tejido_registry.settings import RegistrySettings
    from tejido_reporting.app import create_app as reporting
    from tejido_reporting.settings import ReportingSettings

    data: Path = tmp_path_factory.mktemp("openapi")
    docs = {
        "registry": registry(RegistrySettings(data_dir=data)).openapi(),
        "matching": matching(MatchingSettings(data_dir=data)).openapi(),
        "duediligence": duediligence(DuediligenceSettings(data_dir=data)).openapi(),
        "reporting": reporting(ReportingSettings(data_dir=data)).openapi(),
        "gateway": own_openapi(gateway(GatewaySettings(data_dir=data))),
    }
    return merge_openapi(docs)


def bodies(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(operation, media type, media type object) of every request body and success response."""
    for path, item in doc["paths"].items():
        for method in METHODS:
            operation = item.get(method)
            if not isinstance(operation, dict):
                continue
            if body := operation.get("requestBody"):
                for media_type, media in body.get("content", {}).items():
                    yield f"{method.upper()} {path} request", media_type, media
            for code, response in operation.get("responses", {}).items():
                if code.startswith("2"):
                    for media_type, media in (response.get("content") or {}).items():
                        yield f"{method.upper()} {path} {code}", media_type, media


def test_every_operation_has_examples(document: dict[str, Any]) -> None:
    seen = list(bodies(document))
    assert len({where.rsplit(" ", 1)[0] for where, _, _ in seen}) >= 90  # the real platform, every service
    missing = [
        f"{where} {media_type}"
        for where, media_type, media in seen
        if "example" not in media and "examples" not in media and media_type not in UNSTRUCTURED
    ]
    assert missing == []
    with_examples = {media_type for _, media_type, media in seen if "example" in media}
    assert {"text/csv", "application/x-ndjson", "application/xml"} <= with_examples
    unknown = {media_type for _, media_type, _ in seen if not structured(media_type)} - with_examples
    assert unknown <= UNSTRUCTURED  # a new kind of body: document an example for it, or say why not here


def test_every_example_is_valid_against_its_schema(document: dict[str, Any]) -> None:
    registry: Registry[Any] = Registry().with_resource(
        "urn:tejido", Resource.from_contents(document, default_specification=DRAFT202012)
    )
    invalid = []
    for where, media_type, media in bodies(document):
        if "example" not in media or "schema" not in media:
            continue
        schema = rebase(media["schema"])
        validator = jsonschema.Draft202012Validator(schema, registry=registry)
        errors = sorted(validator.iter_errors(media["example"]), key=lambda e: list(e.path))
        invalid += [
            f"{where} {media_type}: {'/'.join(map(str, e.path))}: {e.message[:120]}" for e in errors[:3]
        ]
    assert invalid == []


def test_cursor_and_if_match_formats_are_described(document: dict[str, Any]) -> None:
    described = []
    for path, item in document["paths"].items():
        for method in METHODS:
            for parameter in (item.get(method) or {}).get("parameters", []):
                if parameter["name"].lower() in ("cursor", "if-match"):
                    schema = parameter.get("schema", {})
                    text = parameter.get("description") or schema.get("description")
                    patterns = [s.get("pattern") for s in [schema, *schema.get("anyOf", [])]]
                    described.append(
                        (f"{method.upper()} {path} {parameter['name']}", bool(text), any(patterns))
                    )
    assert len(described) >= 20
    assert [d for d in described if not (d[1] and d[2])] == []


def rebase(node: Any) -> Any:
    """``#/components/…`` references made absolute against the registry's copy of the document."""
    if isinstance(node, dict):
        return {
            k: ("urn:tejido" + v if k == "$ref" and v.startswith("#/") else rebase(v))
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [rebase(v) for v in node]
    return node

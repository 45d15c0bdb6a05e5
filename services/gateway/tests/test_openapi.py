"""The merged OpenAPI document and the docs page."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx

from tejido_gateway.openapi import merge_openapi


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


def resolve(doc: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = doc
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def test_combined_document_from_live_upstreams(
    gateway: Callable[..., str], client: httpx.Client, dead_url: str
) -> None:
    gw = gateway(reporting_url=dead_url)
    response = client.get(gw + "/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    assert doc["openapi"].startswith("3.")
    assert doc["x-tejido-unavailable"] == ["reporting"]

    # Paths of two upstreams and the gateway's own, and only the /v1 paths the route table gives each.
    assert set(doc["paths"]) == {
        "/v1/keys",
        "/v1/keys/{key_id}",
        "/v1/keys/{key_id}:revoke",
        "/v1/me",
        "/v1/webhooks",
        "/v1/webhooks/{subscription_id}",
        "/v1/webhooks/{subscription_id}:enable",
        "/v1/webhooks/{subscription_id}/deliveries",
        "/v1/webhooks/{subscription_id}/deliveries/{delivery_id}:replay",
        "/v1/alliances",
        "/v1/alliances/{item_id}",
        "/v1/alliances/{item_id}/shared",
        "/v1/frameworks",
        "/v1/frameworks/{item_id}",
        "/v1/frameworks/{item_id}/shared",
    } | {path for path in doc["paths"] if path.startswith("/v1/matches")}  # the real matching service
    assert "/v1/matches" in doc["paths"]
    schemas = doc["components"]["schemas"]
    # Item differs between the two services: both prefixed. Page is identical text but points at Item,
    # so it is split as well. Shared is identical everywhere: one copy, no prefix.
    assert {"registry.Item", "duediligence.Item", "registry.Page", "duediligence.Page", "Shared"} <= set(
        schemas
    )
    assert not {"Item", "Page", "InternalOnly"} & set(schemas)
    assert "name" in schemas["registry.Item"]["properties"]
    assert "version" in schemas["duediligence.Item"]["properties"]
    page_item = schemas["duediligence.Page"]["properties"]["items"]["items"]["$ref"]
    assert page_item == "#/components/schemas/duediligence.Item"
    all_refs = list(refs(doc))
    assert all_refs
    for ref in all_refs:
        resolve(doc, ref)  # every $ref points at something that exists

    ok = doc["paths"]["/v1/frameworks/{item_id}"]["get"]["responses"]["200"]
    assert ok["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/duediligence.Item"
    assert {t["name"] for t in doc["tags"]} >= {"alliances", "frameworks"}
    # How to authenticate, and the gateway's own refusals, on every operation.
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert {"401", "403", "429"} <= set(doc["paths"]["/v1/alliances"]["get"]["responses"])
    assert doc["paths"]["/v1/alliances"]["get"]["tags"] == ["alliances"]


def test_docs_page_and_no_default_fastapi_docs(gateway: Callable[..., str], client: httpx.Client) -> None:
    gw = gateway()
    docs = client.get(gw + "/docs")
    assert docs.status_code == 200
    assert docs.headers["content-type"].startswith("text/html")
    assert "swagger-ui" in docs.text
    assert "/openapi.json" in docs.text
    assert client.get(gw + "/redoc").status_code == 404
    # With every upstream up nothing is listed as unavailable (the reporting double has no /v1 routes).
    doc = client.get(gw + "/openapi.json").json()
    assert doc["x-tejido-unavailable"] == []
    assert "/v1/alliances" in doc["paths"]


def test_merge_keeps_identical_components_and_dedupes_operation_ids() -> None:
    problem = {"type": "object", "properties": {"title": {"type": "string"}}}

    def doc(path: str) -> dict[str, Any]:
        ref = {"$ref": "#/components/schemas/Problem"}
        responses = {"404": {"content": {"application/problem+json": {"schema": ref}}}}
        return {
            "paths": {path: {"get": {"operationId": "get_one", "responses": responses}}},
            "components": {"schemas": {"Problem": problem, "Unused": {"type": "string"}}},
        }

    merged = merge_openapi({"registry": doc("/v1/organizations"), "reporting": doc("/v1/reports")})
    assert merged["components"]["schemas"] == {"Problem": problem}
    ids = [merged["paths"][p]["get"]["operationId"] for p in ("/v1/organizations", "/v1/reports")]
    assert ids == ["get_one", "reporting.get_one"]
    assert merged["x-tejido-unavailable"] == []

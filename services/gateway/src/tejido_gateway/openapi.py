"""One OpenAPI document for the whole platform, merged from every upstream's own ``/openapi.json``."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import httpx

from tejido_common.logging import get_logger
from tejido_gateway.examples import with_examples
from tejido_gateway.proxy import Gateway
from tejido_gateway.routes import service_for

log = get_logger(__name__)

COMPONENT_REF = "#/components/"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
UNAVAILABLE = "x-tejido-unavailable"

Key = tuple[str, str]  # (components section, name), e.g. ("schemas", "Organization")


def _refs(node: Any) -> Iterator[Key]:
    """Every component ``node`` references, at any depth."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(COMPONENT_REF):
            section, _, name = ref[len(COMPONENT_REF) :].partition("/")
            yield section, name
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _used_components(paths: dict[str, Any], components: dict[str, Any]) -> dict[Key, Any]:
    """The components ``paths`` need, directly or through other components (so internal endpoints'
    schemas stay out). Security schemes are referenced by name, not ``$ref``: all are kept."""
    used: dict[Key, Any] = {
        ("securitySchemes", n): d for n, d in components.get("securitySchemes", {}).items()
    }
    pending = list(_refs(paths))
    while pending:
        key = pending.pop()
        definition = components.get(key[0], {}).get(key[1])
        if key in used or definition is None:
            continue
        used[key] = definition
        pending.extend(_refs(definition))
    return used


def _rewrite(node: Any, renames: Mapping[str, str]) -> Any:
    if isinstance(node, dict):
        return {
            k: renames.get(v, v) if k == "$ref" and isinstance(v, str) else _rewrite(v, renames)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rewrite(item, renames) for item in node]
    return node


def _clashes(selected: Mapping[str, dict[Key, Any]]) -> set[Key]:
    """Component names that two services define differently. A name they define identically is still a
    clash if it refers to a clashing one: once split, each service's copy points at its own variant."""
    variants: dict[Key, list[Any]] = defaultdict(list)
    owners: dict[Key, int] = defaultdict(int)
    for used in selected.values():
        for key, definition in used.items():
            owners[key] += 1
            if definition not in variants[key]:
                variants[key].append(definition)
    clashes = {key for key, defs in variants.items() if len(defs) > 1}
    grew = True
    while grew:
        shared = [k for k in variants if k not in clashes and owners[k] > 1]
        spread = {k for k in shared if any(ref in clashes for ref in _refs(variants[k][0]))}
        clashes |= spread
        grew = bool(spread)
    return clashes


def merge_openapi(
    docs: Mapping[str, dict[str, Any]],
    unavailable: Sequence[str] = (),
    *,
    title: str = "Tejido API",
    version: str = "1",
) -> dict[str, Any]:
    """Merge upstream documents (service name → document) into one.

    Only the ``/v1`` paths the route table gives to each service are kept. A component defined
    differently by two services becomes ``<service>.<Name>`` in both, with every ``$ref`` rewritten.
    """
    paths_of = {
        service: {p: item for p, item in (doc.get("paths") or {}).items() if service_for(p) == service}
        for service, doc in docs.items()
    }
    selected = {s: _used_components(paths_of[s], docs[s].get("components") or {}) for s in docs}
    clashes = _clashes(selected)

    paths: dict[str, Any] = {}
    components: dict[str, dict[str, Any]] = defaultdict(dict)
    tags: dict[str, Any] = {}
    operation_ids: set[str] = set()
    for service, used in selected.items():
        renamed = {key: f"{service}.{key[1]}" if key in clashes else key[1] for key in used}
        renames = {
            f"{COMPONENT_REF}{s}/{n}": f"{COMPONENT_REF}{s}/{renamed[(s, n)]}"
            for (s, n) in used
            if (s, n) in clashes
        }
        for key, definition in used.items():
            components[key[0]][renamed[key]] = _rewrite(definition, renames)
        for path, item in paths_of[service].items():
            item = _rewrite(item, renames)
            # Operation ids must be unique across the document: a repeated one gets the service prefix.
            for operation in (item.get(m) for m in HTTP_METHODS):
                if isinstance(operation, dict) and "operationId" in operation:
                    if operation["operationId"] in operation_ids:
                        operation["operationId"] = f"{service}.{operation['operationId']}"
                    operation_ids.add(operation["operationId"])
            paths[path] = item
        for tag in docs[service].get("tags") or []:
            tags.setdefault(tag["name"], tag)

    merged: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": dict(sorted(paths.items())),
    }
    if components:
        merged["components"] = {s: dict(sorted(items.items())) for s, items in sorted(components.items())}
    if tags:
        merged["tags"] = list(tags.values())
    merged[UNAVAILABLE] = sorted(unavailable)
    return with_examples(with_security(merged))


PROBLEM_SCHEMA = {"$ref": "#/components/schemas/Problem"}
# What the gateway itself may answer on any /v1 route, before the upstream is asked.
GATEWAY_RESPONSES = {
    "401": "Missing, unknown, revoked or expired credentials (anonymous callers of non-public routes)",
    "403": "The caller's role or organization scope does not allow this",
    "415": "The body's Content-Type is not one the API reads",
    "429": "Rate limit exceeded; see Retry-After",
}


def with_security(doc: dict[str, Any]) -> dict[str, Any]:
    """Declare how to authenticate, and the gateway's own refusals on every operation."""
    components = doc.setdefault("components", {})
    components.setdefault("securitySchemes", {})["bearer"] = {
        "type": "http",
        "scheme": "bearer",
        "description": "An API key (tjd_…) or a JWT issued for this API",
    }
    schemas = components.setdefault("schemas", {})
    problem_ref = PROBLEM_SCHEMA
    if "Problem" not in schemas:
        schemas["Problem"] = {"type": "object", "required": ["title", "status"], "additionalProperties": True}
    # Anonymous access is allowed where the policy says so; elsewhere the bearer scheme applies.
    doc["security"] = [{"bearer": []}, {}]
    for item in doc.get("paths", {}).values():
        for method in HTTP_METHODS:
            operation = item.get(method)
            if not isinstance(operation, dict):
                continue
            responses = operation.setdefault("responses", {})
            for code, description in GATEWAY_RESPONSES.items():
                responses.setdefault(
                    code,
                    {
                        "description": description,
                        "content": {"application/problem+json": {"schema": problem_ref}},
                    },
                )
    return doc


class OpenAPIAggregator:
    """Fetches every upstream's document with the gateway's client and serves the merge for a short TTL.
    A document missing an upstream is not cached, so it fills in as soon as that upstream is back."""

    def __init__(self, gateway: Gateway, ttl: float, own: Callable[[], dict[str, Any]] | None = None):
        self.gateway = gateway
        self.ttl = ttl
        self.own = own  # the gateway's own routes, merged like an upstream's
        self._cached: tuple[float, dict[str, Any]] | None = None
        self._lock = asyncio.Lock()  # one refresh at a time; concurrent callers reuse its result

    async def document(self) -> dict[str, Any]:
        async with self._lock:
            if self._cached and time.monotonic() - self._cached[0] < self.ttl:
                return self._cached[1]
            services = list(self.gateway.upstreams)
            fetched = await asyncio.gather(*(self._fetch(s) for s in services))
            docs = {s: doc for s, doc in zip(services, fetched, strict=True) if doc is not None}
            if self.own is not None:
                docs["gateway"] = self.own()
            unavailable = [s for s in services if s not in docs]
            merged = merge_openapi(docs, unavailable)
            if not unavailable:
                self._cached = (time.monotonic(), merged)
            return merged

    async def _fetch(self, service: str) -> dict[str, Any] | None:
        try:
            response = await self.gateway.client.get(f"{self.gateway.upstreams[service]}/openapi.json")
            response.raise_for_status()
            doc = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("upstream openapi unavailable", service=service, error=str(exc) or type(exc).__name__)
            return None
        return doc if isinstance(doc, dict) else None

"""Examples for every request body and response of the combined OpenAPI document.

A media type whose schema (or the media type itself) carries an ``example`` keeps it: services document
their own where a generic one would say little. The others get one built from the schema: the examples,
defaults, enum values and formats the services declare on their fields, required properties only plus
every optional one that declares an example. ``tests`` validate each example against its schema, so a
field whose format the builder cannot guess (a ``pattern`` without an example) shows up there, and gets an
example where it is declared.
"""

from __future__ import annotations

from typing import Any

# Values for string formats (JSON Schema / OpenAPI), valid by construction.
FORMATS: dict[str, str] = {
    "date-time": "2026-03-02T15:04:05Z",
    "date": "2026-03-02",
    "time": "15:04:05Z",
    "email": "contacto@example.org",
    "uri": "https://example.org/",
    "url": "https://example.org/",
    "uuid": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "duration": "P1D",
    "ipv4": "192.0.2.10",
    "binary": "",
    "password": "********",
}
MAX_DEPTH = 8
MISSING: Any = object()


class ExampleBuilder:
    def __init__(self, components: dict[str, Any]):
        self.schemas = components.get("schemas", {})

    def _resolve(self, schema: Any) -> Any:
        while isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
            schema = self.schemas.get(schema["$ref"].rsplit("/", 1)[-1], {})
        return schema

    def declared(self, schema: Any) -> Any:
        """An example the schema itself declares (after ``$ref``), or ``MISSING``."""
        schema = self._resolve(schema)
        if not isinstance(schema, dict):
            return MISSING
        if "example" in schema:
            return schema["example"]
        examples = schema.get("examples")
        if isinstance(examples, list) and examples:
            return examples[0]
        return MISSING

    def build(self, schema: Any, depth: int = 0) -> Any:
        schema = self._resolve(schema)
        if not isinstance(schema, dict) or depth > MAX_DEPTH:
            return None
        if (given := self.declared(schema)) is not MISSING:
            return given
        if "const" in schema:
            return schema["const"]
        if schema.get("default") is not None:
            return schema["default"]
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            return schema["enum"][0]
        for key in ("anyOf", "oneOf"):
            if isinstance(schema.get(key), list):
                branches = [b for b in schema[key] if self._resolve(b).get("type") != "null"]
                return self.build(branches[0], depth + 1) if branches else None
        if isinstance(schema.get("allOf"), list):
            merged: dict[str, Any] = {}
            for part in schema["allOf"]:
                value = self.build(part, depth + 1)
                if isinstance(value, dict):
                    merged.update(value)
            return merged
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), None)
        if kind == "object" or "properties" in schema:
            return self._object(schema, depth)
        if kind == "array":
            item = self.build(schema.get("items", {}), depth + 1)
            return [item] * max(1, int(schema.get("minItems", 1)))
        if kind == "string":
            return self._string(schema)
        if kind in ("integer", "number"):
            return self._number(schema, int if kind == "integer" else float)
        if kind == "boolean":
            return True
        return {}

    def _object(self, schema: dict[str, Any], depth: int) -> dict[str, Any]:
        required = set(schema.get("required", []))
        result: dict[str, Any] = {}
        for name, prop in (schema.get("properties") or {}).items():
            if name in required or self.declared(prop) is not MISSING:
                result[name] = self.build(prop, depth + 1)
        return result

    @staticmethod
    def _number(schema: dict[str, Any], kind: type[int] | type[float]) -> int | float:
        low = schema.get("minimum")
        if low is None and "exclusiveMinimum" in schema:
            low = schema["exclusiveMinimum"] + 1
        value = 1 if low is None else low
        if "maximum" in schema:
            value = min(value, schema["maximum"])
        return kind(value)

    @staticmethod
    def _string(schema: dict[str, Any]) -> str:
        if (fmt := schema.get("format")) in FORMATS:
            return FORMATS[fmt]
        minimum = int(schema.get("minLength", 1))
        maximum = int(schema.get("maxLength", max(minimum, 7)))
        text = "example"[: max(minimum, min(maximum, 7))]
        return text + "x" * (minimum - len(text))


def with_examples(doc: dict[str, Any]) -> dict[str, Any]:
    """Give every JSON request body and response without an example one (``example`` on the media
    type; the schema is left as its service wrote it)."""
    builder = ExampleBuilder(doc.get("components") or {})
    for item in (doc.get("paths") or {}).values():
        for operation in item.values():
            if not isinstance(operation, dict):
                continue
            bodies = [operation.get("requestBody") or {}]
            bodies += [r for code, r in (operation.get("responses") or {}).items() if code.startswith("2")]
            for body in bodies:
                for media_type, media in (body.get("content") or {}).items():
                    if not structured(media_type) or "example" in media or "examples" in media:
                        continue
                    example = builder.declared(media.get("schema", {}))
                    media["example"] = (
                        example if example is not MISSING else builder.build(media.get("schema", {}))
                    )
    return doc


def structured(media_type: str) -> bool:
    """Media types whose schema describes the whole body (JSON, forms): an example can be built."""
    return media_type in ("application/json", "multipart/form-data") or media_type.endswith("+json")

"""Field-level differences between two JSON documents, for history and ``changed_fields``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

_EMPTY: tuple[Any, ...] = (None, [], {})


class Change(BaseModel):
    field: str
    old: Any = None
    new: Any = None


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: objects merge key by key at every depth, null removes a key, anything
    else (lists included) replaces the target value."""
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged


def flatten(value: Any, prefix: str = "", out: dict[str, Any] | None = None) -> dict[str, Any]:
    """Dotted paths to leaf values; objects are walked, lists are kept whole."""
    out = {} if out is None else out
    if isinstance(value, dict) and value:
        for key, inner in value.items():
            flatten(inner, f"{prefix}.{key}" if prefix else key, out)
    else:
        out[prefix] = value
    return out


def diff(before: dict[str, Any], after: dict[str, Any]) -> list[Change]:
    """Each path whose value differs, with old and new value (absent, null and empty count as equal)."""
    old, new = flatten(before), flatten(after)
    return [
        Change(field=path, old=old.get(path), new=new.get(path))
        for path in sorted(set(old) | set(new))
        if old.get(path) != new.get(path) and not (old.get(path) in _EMPTY and new.get(path) in _EMPTY)
    ]

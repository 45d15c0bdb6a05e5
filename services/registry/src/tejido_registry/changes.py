"""Field-level differences between two JSON documents, for history and ``changed_fields``."""

from __future__ import annotations

from typing import Any

from tejido_registry.schemas import Change

_EMPTY: tuple[Any, ...] = (None, [], {})


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

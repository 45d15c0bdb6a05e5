"""The flat CSV form of an organization profile (spreadsheets), both ways.

Lists are separated by ``|``; a ``|`` or ``\\`` inside a value is written ``\\|`` or ``\\\\`` (any
other backslash is taken as it is); identifiers are ``SCHEME:ID``; areas of operation are
``COUNTRY:SUBDIVISION:MUNICIPALITY`` (trailing parts optional); funding mix is ``source:percent``.
An empty cell means "not given". Key people are never part of this form.

Cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, tab or CR)
are exported with a leading ``'`` (OWASP's advice; plain numbers such as ``-33.4`` stay as they are);
a cell made of ``'`` followed by such a character loses its first ``'`` on import, so the round trip
is the identity.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

LIST_SEP = "|"
# One list item: escaped characters (\\| or \\\\), any other backslash, anything but the separator.
_ITEM = re.compile(r"(?:\\[|\\]|\\(?![|\\])|[^|\\])*")
_UNESCAPE = re.compile(r"\\([|\\])")
_FORMULA = re.compile(r"'*[=+\-@\t\r]")
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][+-]?\d+)?")


def _items(cell: str) -> Iterable[str]:
    # (finditer also yields empty matches next to separators: empty items are dropped by _split)
    return (_UNESCAPE.sub(r"\1", match.group()) for match in _ITEM.finditer(cell))


def _split(cell: str) -> list[str]:
    # Most cells hold no backslash: a plain split is exact for them and much cheaper.
    parts = cell.split(LIST_SEP) if "\\" not in cell else _items(cell)
    return [stripped for part in parts if (stripped := part.strip())]


def _escape_item(value: str) -> str:
    return value.replace("\\", "\\\\").replace(LIST_SEP, "\\" + LIST_SEP)


def neutralize(cell: str) -> str:
    """A cell a spreadsheet would not run as a formula (see the module docstring)."""
    if _FORMULA.match(cell) and not _NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


def restore(cell: str) -> str:
    """The exact value :func:`neutralize` was given."""
    if cell.startswith("'") and _FORMULA.match(cell, 1):
        return cell[1:]
    return cell


def _bool(cell: str) -> bool | str:
    value = cell.strip().lower()
    if value in ("true", "yes", "y", "1", "si", "sí", "t"):
        return True
    if value in ("false", "no", "n", "0", "f"):
        return False
    return cell  # left for validation to reject with a clear message


def _identifiers(cell: str) -> list[dict[str, str] | str]:
    out: list[dict[str, str] | str] = []
    for part in _split(cell):
        scheme, sep, value = part.partition(":")
        out.append({"scheme": scheme, "id": value} if sep else part)
    return out


def _places(cell: str) -> list[dict[str, str]]:
    out = []
    for part in _split(cell):
        bits = [b.strip() for b in part.split(":")]
        place = {"country": bits[0]}
        if len(bits) > 1 and bits[1]:
            place["subdivision"] = bits[1]
        if len(bits) > 2 and bits[2]:
            place["municipality"] = ":".join(bits[2:])
        out.append(place)
    return out


def _funding(cell: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for part in _split(cell):
        source, sep, share = part.partition(":")
        out.append({"source": source.strip(), **({"share_percent": share.strip()} if sep else {})})
    return out


def _kinds(cell: str) -> list[dict[str, str]]:
    return [{"kind": kind} for kind in _split(cell)]


@dataclass(frozen=True)
class Column:
    name: str
    path: tuple[str, ...]  # where the value lands in the nested profile
    parse: Callable[[str], Any] = str.strip
    render: Callable[[Any], str] | None = None


def _join(values: Any) -> str:
    return LIST_SEP.join(_escape_item(str(v)) for v in values or [])


COLUMNS: list[Column] = [
    Column("status", ("status",)),
    Column("legal_name", ("identity", "legal_name")),
    Column("aliases", ("identity", "aliases"), _split, _join),
    Column("acronym", ("identity", "acronym")),
    Column(
        "identifiers",
        ("identity", "identifiers"),
        _identifiers,
        lambda v: _join(f"{i['scheme']}:{i['id']}" for i in v or []),
    ),
    Column("actor_type", ("identity", "actor_type")),
    Column("cso_subtype", ("identity", "cso_subtype")),
    Column("government_level", ("identity", "government_level")),
    Column("legal_form", ("identity", "legal_form")),
    Column("founding_year", ("identity", "founding_year")),
    Column("country", ("where", "country")),
    Column("subdivisions", ("where", "subdivisions"), _split, _join),
    Column("municipalities", ("where", "municipalities"), _split, _join),
    Column("latitude", ("where", "coordinates", "lat")),
    Column("longitude", ("where", "coordinates", "lon")),
    Column(
        "areas_of_operation",
        ("where", "areas_of_operation"),
        _places,
        lambda v: _join(
            ":".join(
                p for p in (a["country"], a.get("subdivision") or "", a.get("municipality") or "")
            ).rstrip(":")
            for a in v or []
        ),
    ),
    Column("scope", ("where", "scope")),
    Column("languages", ("where", "languages"), _split, _join),
    Column("mission", ("purpose", "mission")),
    Column("vision", ("purpose", "vision")),
    Column("objectives", ("purpose", "objectives"), _split, _join),
    Column("program_areas", ("purpose", "program_areas"), _split, _join),
    Column("social_indicators", ("purpose", "social_indicators"), _split, _join),
    Column("target_populations", ("purpose", "target_populations"), _split, _join),
    Column("working_methods", ("purpose", "working_methods"), _split, _join),
    Column("staff", ("capacity", "staff")),
    Column("volunteers", ("capacity", "volunteers")),
    Column("annual_budget_amount", ("capacity", "annual_budget", "amount")),
    Column("annual_budget_currency", ("capacity", "annual_budget", "currency")),
    Column(
        "funding_mix",
        ("capacity", "funding_mix"),
        _funding,
        lambda v: _join(
            f"{f['source']}:{f['share_percent']:g}" if f.get("share_percent") is not None else f["source"]
            for f in v or []
        ),
    ),
    Column("network_memberships", ("capacity", "network_memberships"), _split, _join),
    Column("offers", ("cooperation", "offers"), _kinds, lambda v: _join(i["kind"] for i in v or [])),
    Column("needs", ("cooperation", "needs"), _kinds, lambda v: _join(i["kind"] for i in v or [])),
    Column("willing_to_cooperate", ("cooperation", "willing_to_cooperate"), _bool),
    Column("legitimacy_sought", ("cooperation", "legitimacy_sought"), _split, _join),
]
BY_NAME = {c.name: c for c in COLUMNS}
BY_PATH = {c.path: c.name for c in COLUMNS}
HEADER = [c.name for c in COLUMNS]


def record_from_row(row: dict[str, str]) -> dict[str, Any]:
    """A CSV row (header → cell) as a nested profile with only the non-empty cells. The required
    sections are always present, so a missing value is reported by its column (e.g. ``country``)."""
    record: dict[str, Any] = {"identity": {}, "where": {}}
    for name, cell in row.items():
        column = BY_NAME.get(name)
        if column is None or cell is None or not str(cell).strip():
            continue
        node = record
        for key in column.path[:-1]:
            node = node.setdefault(key, {})
        node[column.path[-1]] = column.parse(restore(str(cell)))
    return record


def column_for(loc: tuple[str | int, ...]) -> str:
    """The CSV column a validation error location refers to (falls back to the dotted path)."""
    parts = tuple(str(p) for p in loc)
    for length in range(len(parts), 0, -1):
        name = BY_PATH.get(parts[:length])
        if name:
            return name
    return ".".join(parts)


def row_from_organization(data: dict[str, Any]) -> dict[str, str]:
    """An organization (as served: JSON-ready data) as one CSV row."""
    row: dict[str, str] = {}
    for column in COLUMNS:
        value: Any = data
        for key in column.path:
            value = value.get(key) if isinstance(value, dict) else None
        if column.render is not None:
            row[column.name] = neutralize(column.render(value))
        else:
            row[column.name] = "" if value is None else neutralize(str(value))
    return row

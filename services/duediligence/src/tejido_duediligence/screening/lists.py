"""Watch-list files → entries: the UN Security Council consolidated list XML and a plain CSV
(``name, aliases, kind, country, list_id`` and an optional ``ref``). Bad records are reported one by
one (record number, field, reason) and the valid ones kept; an unreadable file is one error on ``file``."""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import Element

import pycountry
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from tejido_duediligence.screening.normalize import person_tokens

UN_LIST_ID = "un-sc"
ALIAS_QUALITY = {
    "good": "good",
    "low": "low",
    "a.k.a.": "good",
    "f.k.a.": "good",
    "aka": "good",
    "fka": "good",
}
KINDS = {"person": "person", "individual": "person", "organization": "organization", "entity": "organization"}
CSV_COLUMNS = ("name", "aliases", "kind", "country", "list_id")


class ListFileError(ValueError):
    """The file as a whole cannot be read (not XML, not the UN format, not UTF-8 CSV …)."""


@dataclass
class ParsedName:
    text: str
    quality: str = "primary"
    given: list[str] = field(default_factory=list)


@dataclass
class ParsedEntry:
    list_id: str
    ref: str
    kind: str
    name: str
    names: list[ParsedName]
    countries: list[str]
    details: dict[str, Any]


@dataclass
class RowError:
    row: int
    field: str
    reason: str


@dataclass
class ParsedFile:
    format: str
    entries: list[ParsedEntry]
    errors: list[RowError]
    generated_at: str | None = None


def country_code(value: str | None) -> str | None:
    """ISO 3166-1 alpha-2 for a code or an English country name; None when unknown."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        return str(pycountry.countries.lookup(text).alpha_2)
    except LookupError:
        return None


def _text(node: Element | None, path: str) -> str:
    found = node.find(path) if node is not None else None
    return " ".join((found.text or "").split()) if found is not None and found.text else ""


def _values(node: Element, path: str) -> list[str]:
    return [" ".join(v.text.split()) for v in node.findall(path) if v.text and v.text.strip()]


def parse_un_xml(data: bytes, list_id: str = UN_LIST_ID) -> ParsedFile:
    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (ParseError, DefusedXmlException) as exc:
        raise ListFileError(f"not a readable XML document: {exc}") from None
    if root.tag != "CONSOLIDATED_LIST":
        raise ListFileError(
            f"root element is {root.tag}, expected CONSOLIDATED_LIST (UN SC consolidated list)"
        )
    entries: list[ParsedEntry] = []
    errors: list[RowError] = []
    row = 0
    for kind, path, alias_tag, address_tag in (
        ("person", "INDIVIDUALS/INDIVIDUAL", "INDIVIDUAL_ALIAS", "INDIVIDUAL_ADDRESS"),
        ("organization", "ENTITIES/ENTITY", "ENTITY_ALIAS", "ENTITY_ADDRESS"),
    ):
        for record in root.findall(path):
            row += 1
            ref = _text(record, "REFERENCE_NUMBER") or _text(record, "DATAID")
            parts = [_text(record, p) for p in ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME")]
            name = " ".join(p for p in parts if p)
            if not ref:
                errors.append(
                    RowError(row, "REFERENCE_NUMBER", "missing: every record needs a reference number")
                )
                continue
            if not name:
                errors.append(RowError(row, "FIRST_NAME", f"record {ref} has no name"))
                continue
            given = person_tokens(parts[0]) if kind == "person" and any(parts[1:]) else []
            names = [ParsedName(name, "primary", given)]
            for alias in record.findall(alias_tag):
                alias_name = _text(alias, "ALIAS_NAME")
                if alias_name:
                    quality = ALIAS_QUALITY.get(_text(alias, "QUALITY").lower(), "good")
                    names.append(ParsedName(alias_name, quality))
            address_countries = [_text(a, "COUNTRY") for a in record.findall(address_tag)]
            nationality = _values(record, "NATIONALITY/VALUE")
            if kind == "person":
                raw_countries = nationality + address_countries
            else:
                raw_countries = address_countries
            countries = sorted({c for c in (country_code(r) for r in raw_countries) if c})
            entries.append(
                ParsedEntry(
                    list_id=list_id,
                    ref=ref,
                    kind=kind,
                    name=name,
                    names=names,
                    countries=countries,
                    details={
                        "un_list_type": _text(record, "UN_LIST_TYPE") or None,
                        "listed_on": _text(record, "LISTED_ON") or None,
                        "nationality": nationality,
                        "addresses": [
                            {
                                k.lower(): _text(a, k)
                                for k in ("STREET", "CITY", "STATE_PROVINCE", "COUNTRY")
                                if _text(a, k)
                            }
                            for a in record.findall(address_tag)
                        ],
                        "comments": _text(record, "COMMENTS1") or None,
                    },
                )
            )
    return ParsedFile("un-xml", entries, errors, root.get("dateGenerated"))


def parse_csv(data: bytes) -> ParsedFile:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ListFileError(f"CSV must be UTF-8 (byte {exc.start} is not)") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        raise ListFileError(f"CSV header lacks column(s): {', '.join(missing)}")
    reader.fieldnames = header
    entries: list[ParsedEntry] = []
    errors: list[RowError] = []
    for row, raw in enumerate(reader, start=2):  # row 1 is the header
        values = {k: (v or "").strip() for k, v in raw.items() if isinstance(k, str)}
        name, list_id = values.get("name", ""), values.get("list_id", "")
        kind = KINDS.get(values.get("kind", "").lower())
        problems = []
        if not name:
            problems.append(RowError(row, "name", "missing"))
        if kind is None:
            problems.append(RowError(row, "kind", "expected person or organization"))
        if not list_id or len(list_id) > 60:
            problems.append(RowError(row, "list_id", "missing or longer than 60 characters"))
        countries: list[str] = []
        for raw_country in filter(None, (c.strip() for c in values.get("country", "").split("|"))):
            code = country_code(raw_country)
            if code is None:
                problems.append(RowError(row, "country", f"{raw_country!r} is not an ISO 3166-1 country"))
            else:
                countries.append(code)
        if problems:
            errors.extend(problems)
            continue
        aliases = [a.strip() for a in values.get("aliases", "").split("|") if a.strip()]
        ref = values.get("ref") or hashlib.sha256(f"{kind}:{name}".encode()).hexdigest()[:16]
        entries.append(
            ParsedEntry(
                list_id=list_id,
                ref=ref[:100],
                kind=str(kind),
                name=name[:500],
                names=[ParsedName(name[:500]), *(ParsedName(a[:500], "good") for a in aliases)],
                countries=sorted(set(countries)),
                details={},
            )
        )
    return ParsedFile("csv", entries, errors)


def sniff_format(filename: str | None, content_type: str | None, data: bytes) -> str:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    name = (filename or "").lower()
    if media in ("application/xml", "text/xml") or name.endswith(".xml") or data.lstrip()[:1] == b"<":
        return "un-xml"
    return "csv"

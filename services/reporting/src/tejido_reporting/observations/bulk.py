"""Parsing a CSV of observations: BOM, CRLF/CR/LF line endings, comma or semicolon, per-row errors.

Rows are numbered as a spreadsheet user counts them: the header is row 0, the first data row is 1.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from tejido_reporting.kit.errors import invalid

COLUMNS = (
    "organization_id",
    "observation_key",
    "revision",
    "indicator",
    "period",
    "period_start",
    "period_end",
    "territory",
    "alliance_id",
    "value",
    "numerator",
    "denominator",
    "weight",
    "currency",
    "unit",
    "evidence_level",
    "parts",
)
REQUIRED = ("organization_id", "observation_key", "indicator", "territory")
MAX_FIELD = 10_000


@dataclass(slots=True)
class ParsedRow:
    number: int
    record: dict[str, Any] | None
    error: tuple[str, str] | None = None


def decode(body: bytes) -> str:
    """UTF-8 (a BOM is dropped). Bytes that are not UTF-8 are kept as surrogates so that only the rows
    holding them fail, not the whole file."""
    return body.decode("utf-8-sig", errors="surrogateescape")


def parse(text: str) -> tuple[list[str], Iterator[ParsedRow]]:
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except (StopIteration, csv.Error) as exc:
        raise invalid("body", "the CSV has no header row", "empty or unreadable CSV") from exc
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        raise invalid(
            "body",
            f"unknown column(s) {', '.join(repr(h[:40]) for h in unknown[:5])}; "
            f"columns are {', '.join(COLUMNS)}",
        )
    missing = [h for h in REQUIRED if h not in header]
    if missing:
        raise invalid("body", f"missing column(s) {', '.join(missing)}")
    if len(set(header)) != len(header):
        raise invalid("body", "a column appears twice in the header")
    suspicious = "\x00" in text or not _encodable(text)
    return header, _rows(reader, header, suspicious)


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _rows(reader: Any, header: list[str], suspicious: bool) -> Iterator[ParsedRow]:
    number = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            number += 1
            yield ParsedRow(number, None, ("row", f"unreadable CSV row: {exc}"))
            continue
        number += 1
        if not cells or all(not c.strip() for c in cells):
            number -= 1  # blank lines (e.g. a trailing newline) are not rows
            continue
        if len(cells) > len(header):
            yield ParsedRow(number, None, ("row", f"{len(cells)} cells for {len(header)} columns"))
            continue
        if suspicious:
            bad = next(
                (h for h, c in zip(header, cells, strict=False) if _undecodable(c) or "\x00" in c), None
            )
            if bad is not None:
                yield ParsedRow(number, None, (bad, "not valid UTF-8 text (save the file as CSV UTF-8)"))
                continue
        if max(map(len, cells)) > MAX_FIELD:
            too_long = next(h for h, c in zip(header, cells, strict=False) if len(c) > MAX_FIELD)
            yield ParsedRow(number, None, (too_long, f"longer than {MAX_FIELD} characters"))
            continue
        yield ParsedRow(number, dict(zip(header, cells, strict=False)))


def _undecodable(text: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in text)

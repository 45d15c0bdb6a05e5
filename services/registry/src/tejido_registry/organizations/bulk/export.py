"""Export of organizations as CSV (the tabular form) or JSON Lines (the public profile), streamed."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import Literal

from tejido_registry.organizations.bulk.tabular import HEADER, row_from_organization
from tejido_registry.organizations.queries import OrganizationQueries
from tejido_registry.organizations.schemas import SearchQuery

Format = Literal["csv", "jsonl"]


def export_rows(queries: OrganizationQueries, params: SearchQuery, fmt: Format) -> Iterator[str]:
    """Stream the organizations matching ``params`` page by page (never key people)."""
    if fmt == "csv":
        yield _csv_line(HEADER)
    params = params.model_copy(update={"limit": queries.page_size_max})
    while True:
        page = queries.search(params)
        for org in page["items"]:
            if fmt == "csv":
                row = row_from_organization(org)
                yield _csv_line([row[h] for h in HEADER])
            else:
                yield json.dumps(org, ensure_ascii=False) + "\n"
        if not page["next_cursor"]:
            return
        params = params.model_copy(update={"cursor": page["next_cursor"]})


class _Line:
    def __init__(self) -> None:
        self.value = ""

    def write(self, text: str) -> None:
        self.value += text


def _csv_line(cells: list[str]) -> str:
    out = _Line()
    csv.writer(out).writerow(cells)
    return out.value

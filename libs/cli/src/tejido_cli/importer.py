"""`tejido import FILE`: stream a CSV or JSON Lines file to the bulk import, with a progress bar."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn, TransferSpeedColumn
from rich.table import Table

IMPORT_PATH = "/v1/organizations:import"
CHUNK = 64 * 1024
FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl"}
MEDIA = {"csv": "text/csv", "jsonl": "application/x-ndjson"}
SHOWN_ERRORS = 20


class ImportFailed(Exception):
    """The import as a whole was refused or could not be sent (not per-row errors)."""


def format_of(path: Path, explicit: str | None) -> str:
    fmt = explicit or FORMATS.get(path.suffix.lower())
    if fmt not in MEDIA:
        raise ImportFailed(f"cannot tell the format of {path.name}: use --format csv or --format jsonl")
    return fmt


def import_file(
    path: Path,
    base_url: str,
    *,
    fmt: str | None = None,
    allow_duplicates: bool = False,
    console: Console,
    timeout: float = 3600.0,
    api_key: str | None = None,
) -> dict[str, Any]:
    """Upload ``path`` as it is read (nothing is loaded whole into memory) and return the report."""
    if not path.is_file():
        raise ImportFailed(f"{path} is not a file")
    fmt = format_of(path, fmt)
    size = path.stat().st_size
    columns = (
        *Progress.get_default_columns()[:1],
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(f"importing {escape(path.name)}", total=size)

        def chunks() -> Iterator[bytes]:
            with path.open("rb") as handle:
                while chunk := handle.read(CHUNK):
                    progress.advance(task, len(chunk))
                    yield chunk
            progress.update(task, description="waiting for the last rows to be saved")

        try:
            response = httpx.post(
                base_url.rstrip("/") + IMPORT_PATH,
                content=chunks(),
                headers={"Content-Type": MEDIA[fmt]}
                | ({"Authorization": f"Bearer {api_key}"} if api_key else {}),
                params={"allow_duplicates": "true"} if allow_duplicates else None,
                timeout=httpx.Timeout(timeout, connect=10.0),
            )
        except httpx.HTTPError as exc:
            raise ImportFailed(f"could not reach {base_url}: {exc}") from exc
    if response.status_code != 200:
        try:
            problem = response.json()
            detail = problem.get("detail") or problem.get("title")
            fields = "; ".join(f"{e['field']}: {e['reason']}" for e in problem.get("errors", []))
        except (ValueError, AttributeError):
            detail, fields = response.text[:300], ""
        raise ImportFailed(f"HTTP {response.status_code}: {detail}" + (f" ({fields})" if fields else ""))
    report: dict[str, Any] = response.json()
    return report


def print_report(report: dict[str, Any], console: Console, report_path: Path | None = None) -> None:
    summary = Table(show_header=False, box=None)
    for key in ("total", "created", "updated", "unchanged", "failed"):
        summary.add_row(key, str(report.get(key, 0)))
    console.print(summary)
    for warning in report.get("warnings", []):
        console.print(f"[yellow]warning:[/] {escape(warning)}")
    errors = report.get("errors", [])
    if errors:
        table = Table("row", "field", "reason", title="rows not imported")
        for error in errors[:SHOWN_ERRORS]:
            table.add_row(str(error["row"]), escape(error["field"]), escape(error["reason"]))
        console.print(table)
        if len(errors) > SHOWN_ERRORS and report_path is None:
            console.print(f"… and {len(errors) - SHOWN_ERRORS} more: use --report FILE to keep them all")
    if report_path is not None:
        report_path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        console.print(f"full report written to {escape(str(report_path))}")

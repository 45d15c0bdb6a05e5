"""Demo observations (``demo/observations.csv``): figures the source documents report, recorded through
reporting's bulk import so the network statistics and the collective-impact report show them.

The file names organizations by their demo slug; each is replaced by the id the registry gave it.
Reporting learns organizations from the registry's events, so right after the demo organizations are
imported it may not know them yet: rows refused for an unknown organization are sent again until a
deadline. Observation keys make a repeat harmless (recorded once, then ``replayed``)."""

from __future__ import annotations

import csv
import io
import time
from importlib import resources

import httpx

OBSERVATIONS_IMPORT_PATH = "/v1/observations:import"
UNKNOWN_ORGANIZATION = "unknown organization"


class DemoObservationError(RuntimeError):
    """Reporting refused a demo observation (or never learned its organization)."""


def demo_observation_rows() -> list[dict[str, str]]:
    text = resources.files("tejido_cli").joinpath("demo/observations.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def demo_observation_slugs() -> set[str]:
    return {row["organization_id"] for row in demo_observation_rows()}


def _csv_for(org_ids_by_slug: dict[str, str]) -> bytes:
    rows = demo_observation_rows()
    missing = sorted({r["organization_id"] for r in rows} - org_ids_by_slug.keys())
    if missing:
        raise DemoObservationError(f"demo organizations not registered: {', '.join(missing)}")
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({**row, "organization_id": org_ids_by_slug[row["organization_id"]]})
    return out.getvalue().encode("utf-8")


def load_demo_observations(
    client: httpx.Client, org_ids_by_slug: dict[str, str], *, deadline_seconds: float = 60.0
) -> int:
    """Record the demo observations; returns how many rows are committed (new or already there)."""
    body = _csv_for(org_ids_by_slug)
    deadline = time.monotonic() + deadline_seconds
    while True:
        response = client.post(OBSERVATIONS_IMPORT_PATH, content=body, headers={"Content-Type": "text/csv"})
        if response.status_code != 200:
            raise DemoObservationError(f"HTTP {response.status_code}: {response.text[:300]}")
        report = response.json()
        errors = report["errors"]
        if not errors:
            return int(report["committed"])
        waiting = all(UNKNOWN_ORGANIZATION in e["reason"] for e in errors)
        if not waiting or time.monotonic() > deadline:
            raise DemoObservationError(
                "; ".join(f"row {e['row']}: {e['field']}: {e['reason']}" for e in errors[:5])
            )
        time.sleep(0.5)  # reporting has not applied the registry's events yet

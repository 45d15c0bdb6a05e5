"""Demo alliances (``demo/alliances.json``), created through the public API.

Each alliance is created in stage *objectives* with all its parties and data, then moved stage by
stage to the stage the file gives, so every gate is passed with the data from the sources. Loading is
idempotent: an alliance whose name already exists for the same parties is not created again (if an
earlier run stopped half way, its remaining stage changes are made).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from importlib import resources
from typing import Any

import httpx

ALLIANCES_PATH = "/v1/alliances"
ORGANIZATIONS_PATH = "/v1/organizations"
DEMO_SCHEME = "XX-TEJIDODEMO"
# Forward stage order; the optional trial is only visited by alliances whose stage is trial.
PATH = ("objectives", "prospecting", "negotiation", "trial", "commitments", "established", "concluded")


class DemoAllianceError(RuntimeError):
    """The API refused a demo alliance or one of its stage changes."""


def demo_alliances() -> list[dict[str, Any]]:
    text = resources.files("tejido_cli").joinpath("demo/alliances.json").read_text(encoding="utf-8")
    items: list[dict[str, Any]] = json.loads(text)["alliances"]
    return items


def slugs_of(item: dict[str, Any]) -> set[str]:
    """Every organization slug an alliance of the file refers to (parties and signatories)."""
    body = item["alliance"]
    slugs = {p["organization"] for p in body["parties"]}
    for agreement in body.get("agreements", []):
        slugs.update(agreement.get("signatories", []))
    return slugs


def stage_path(target: str) -> list[str]:
    """The stages to move through after *objectives* to reach ``target``."""
    if target not in PATH:
        raise ValueError(f"demo alliances cannot be loaded into stage {target!r}")
    stages = [s for s in PATH[1 : PATH.index(target) + 1] if s != "trial" or target == "trial"]
    return stages


def request_body(item: dict[str, Any], org_ids_by_slug: dict[str, str]) -> dict[str, Any]:
    """The ``POST /v1/alliances`` body: slugs replaced by organization ids."""
    body: dict[str, Any] = copy.deepcopy(item["alliance"])
    for party in body["parties"]:
        party["organization_id"] = org_ids_by_slug[party.pop("organization")]
    for agreement in body.get("agreements", []):
        agreement["signatories"] = [org_ids_by_slug[s] for s in agreement.get("signatories", [])]
    return body


def _check(response: httpx.Response, what: str) -> dict[str, Any]:
    if response.is_success:
        data: dict[str, Any] = response.json()
        return data
    raise DemoAllianceError(f"{what}: HTTP {response.status_code}: {response.text[:500]}")


def _existing(client: httpx.Client, name: str, party_ids: set[str]) -> dict[str, Any] | None:
    """An alliance with this name and exactly these parties, if one exists."""
    first = sorted(party_ids)[0]
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"organization_id": first, "limit": 200}
        if cursor:
            params["cursor"] = cursor
        page = _check(client.get(ALLIANCES_PATH, params=params), f"listing the alliances of {first}")
        for alliance in page["items"]:
            ids = {p["organization_id"] for p in alliance["parties"]}
            if alliance["name"] == name and ids == party_ids:
                found: dict[str, Any] = alliance
                return found
        cursor = page.get("next_cursor")
        if not cursor:
            return None


def _walk(client: httpx.Client, alliance: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    path = stage_path(item["stage"])
    current = alliance["stage"]
    if current == item["stage"]:
        return alliance
    if current == "objectives":
        remaining = path
    elif current in path:
        remaining = path[path.index(current) + 1 :]
    else:  # moved elsewhere by someone (e.g. dissolved): leave it as it is
        return alliance
    reasons: dict[str, str] = item.get("reasons", {})
    for stage in remaining:
        body = {"to_stage": stage, "reason": reasons.get(stage, "demo data")}
        alliance = _check(
            client.post(f"{ALLIANCES_PATH}/{alliance['id']}:transition", json=body),
            f"moving {item['alliance']['name']!r} to {stage}",
        )
    return alliance


def load_demo_alliances(client: httpx.Client, org_ids_by_slug: dict[str, str]) -> int:
    """Create the demo alliances whose organizations are all in ``org_ids_by_slug``; returns how many
    were created (existing ones are skipped, or finished if an earlier run stopped half way).

    ``client`` talks to the gateway (or the registry); ``org_ids_by_slug`` maps the slug of each demo
    organization's ``XX-TEJIDODEMO`` identifier to its id (see :func:`demo_org_ids_by_slug`).
    Raises :class:`DemoAllianceError` when the API refuses a request.
    """
    created = 0
    for item in demo_alliances():
        if not slugs_of(item) <= set(org_ids_by_slug):
            continue  # an organization of this alliance was not loaded
        body = request_body(item, org_ids_by_slug)
        party_ids = {p["organization_id"] for p in body["parties"]}
        alliance = _existing(client, body["name"], party_ids)
        if alliance is None:
            alliance = _check(client.post(ALLIANCES_PATH, json=body), f"creating {body['name']!r}")
            created += 1
        _walk(client, alliance, item)
    return created


def demo_org_ids_by_slug(client: httpx.Client, slugs: Iterable[str] | None = None) -> dict[str, str]:
    """Look up the ids of demo organizations by their ``XX-TEJIDODEMO`` identifier (the slugs the
    demo alliances need, by default); slugs that are not registered are left out."""
    wanted = sorted(slugs if slugs is not None else set().union(*(slugs_of(i) for i in demo_alliances())))
    found: dict[str, str] = {}
    for slug in wanted:
        response = client.get(ORGANIZATIONS_PATH, params={"identifier": f"{DEMO_SCHEME}:{slug}", "limit": 1})
        items = _check(response, f"looking up demo organization {slug}")["items"]
        if items:
            found[slug] = str(items[0]["id"])
    return found

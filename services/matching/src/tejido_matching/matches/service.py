"""Rules of the matches API: validate, resolve the page, ask a worker, shape the answer."""

from __future__ import annotations

from typing import Any

from tejido_common.db import Database
from tejido_common.problems import DomainError, NotFound, Unprocessable, field_error
from tejido_common.taxonomy import check_country, check_language, check_subdivision, taxonomy
from tejido_matching.feedback import repository as feedback_repository
from tejido_matching.matches.cursor import CursorCodec
from tejido_matching.matches.schemas import MatchPage, SearchRequest
from tejido_matching.workers.client import RankingClient


def language_of(accept_language: str | None) -> str:
    """Spanish if the client prefers it (``es``, ``es-MX`` …) over English; English otherwise."""
    best, best_q = "en", -1.0
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        lang = tag.strip().lower()[:2]
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if lang in ("es", "en") and q > best_q:
            best, best_q = lang, q
    return best


def _check_codes(field: str, values: list[str], check: Any) -> list[str]:
    out = []
    for i, v in enumerate(values):
        try:
            out.append(check(v))
        except ValueError as exc:
            raise Unprocessable(f"invalid {field}", errors=[field_error([field, i], str(exc))]) from exc
    return out


def _check_actor(v: str) -> str:
    if v not in taxonomy().actor_types:
        raise ValueError(f"unknown actor type {v!r}")
    return v


def _check_area(v: str) -> str:
    if taxonomy().program_area_category(v) is None:
        raise ValueError(f"unknown program area {v!r}")
    return v


def build_filters(
    actor_type: list[str],
    country: list[str],
    subdivision: list[str],
    program_area: list[str],
    language: list[str],
) -> dict[str, list[str]]:
    return {
        "actor_types": _check_codes("actor_type", actor_type, _check_actor),
        "countries": _check_codes("country", country, check_country),
        "subdivisions": _check_codes("subdivision", subdivision, check_subdivision),
        "program_areas": _check_codes("program_area", program_area, _check_area),
        "languages": _check_codes("language", language, check_language),
    }


class MatchService:
    def __init__(
        self, db: Database, client: RankingClient, cursors: CursorCodec, page_default: int, page_max: int
    ):
        self.db, self.client, self.cursors = db, client, cursors
        self.page_default, self.page_max = page_default, page_max

    def _limit(self, limit: int | None) -> int:
        if limit is None:
            return self.page_default
        if limit > self.page_max:
            raise Unprocessable(
                "limit too large", errors=[field_error(["limit"], f"at most {self.page_max}")]
            )
        return limit

    async def _ask(
        self, request: dict[str, Any], query: dict[str, Any], cursor: str | None, limit: int
    ) -> dict[str, Any]:
        offset = self.cursors.decode(cursor, query) if cursor else 0
        answer = await self.client.rank({**request, "offset": offset, "limit": limit})
        error = answer.get("error")
        if error:
            status, field = int(error["status"]), error.get("field")
            errors = [field_error([field], error["detail"])] if field else None
            if status == 404:
                raise NotFound(error["detail"], errors=errors)
            if status == 422:
                raise Unprocessable(error["detail"], errors=errors)
            raise DomainError(error["detail"])
        end = offset + len(answer["items"])
        answer["next_cursor"] = self.cursors.encode(end, query) if end < answer["total"] else None
        return answer

    async def for_requester(
        self,
        *,
        organization_id: str | None,
        alliance_id: str | None,
        mode: str,
        limit: int | None,
        cursor: str | None,
        include_blocked: bool,
        filters: dict[str, list[str]],
        lang: str,
    ) -> MatchPage:
        if bool(organization_id) == bool(alliance_id):
            raise Unprocessable(
                "give exactly one of organization_id or alliance_id",
                errors=[
                    field_error(["organization_id"], "give exactly one of organization_id or alliance_id")
                ],
            )
        if alliance_id and mode != "alliance":
            raise Unprocessable(
                "alliance_id needs mode=alliance", errors=[field_error(["mode"], "use mode=alliance")]
            )
        if organization_id and mode == "alliance":
            raise Unprocessable(
                "mode=alliance needs alliance_id", errors=[field_error(["alliance_id"], "required")]
            )
        requester = organization_id or str(alliance_id)
        excluded = feedback_repository.dismissed_by(self.db, requester)
        query = {
            "organization_id": organization_id,
            "alliance_id": alliance_id,
            "mode": mode,
            "include_blocked": include_blocked,
            "filters": filters,
        }
        size = self._limit(limit)
        request = {**query, "exclude_ids": sorted(excluded), "lang": lang}
        answer = await self._ask(request, query, cursor, size)
        return MatchPage(
            mode=mode,
            total=answer["total"],
            items=answer["items"],
            next_cursor=answer["next_cursor"],
            served_by=answer.get("worker"),
        )

    async def search(self, body: SearchRequest, lang: str) -> MatchPage:
        filters = build_filters(body.actor_type, [], [], body.program_area, body.language)
        query = {
            "need": body.need,
            "places": body.place.codes() if body.place else [],
            "mode": "complementary",
            "include_blocked": body.include_blocked,
            "filters": filters,
        }
        size = self._limit(body.limit)
        answer = await self._ask({**query, "lang": lang}, query, body.cursor, size)
        return MatchPage(
            mode="search",
            total=answer["total"],
            items=answer["items"],
            next_cursor=answer["next_cursor"],
            served_by=answer.get("worker"),
        )

"""The matching engine: an in-memory candidate index kept current from events, answering rank
requests. Workers own one each; the request/response shapes are plain dicts (they travel over NATS).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import numpy as np

from tejido_common.events import Envelope
from tejido_matching.candidates import handlers
from tejido_matching.candidates.models import AllianceRecord, Candidate
from tejido_matching.kit.profiles import Profile
from tejido_matching.ranking.explanations import Explainer, Lang
from tejido_matching.ranking.index import CandidateIndex
from tejido_matching.ranking.scoring import Filters, RankQuery, coalition_sectors_of, rank
from tejido_matching.ranking.weights import Mode
from tejido_matching.text.embeddings import TextEmbedder
from tejido_matching.text.profile_texts import profile_texts

# Stages in which an alliance still looks for partners (mode "alliance").
PROSPECTING_STAGES = frozenset({"objectives", "prospecting", "negotiation", "trial"})


class RankError(Exception):
    """A request the engine cannot answer: carries the HTTP status and the field at fault."""

    def __init__(self, status: int, field: str, detail: str):
        super().__init__(detail)
        self.status, self.field, self.detail = status, field, detail


class MatchingEngine:
    def __init__(
        self,
        weights: dict[str, dict[str, float]],
        embedder: TextEmbedder | None,
        on_profile_change: Callable[[str, str], None] | None = None,
    ):
        self.index = CandidateIndex()
        self.weights = weights
        self.embedder = embedder
        # Called with (organization id, texts hash) when a profile's texts need (re-)embedding.
        self.on_profile_change = on_profile_change
        self.lock = threading.RLock()
        self.high_water: datetime | None = None
        self.last_change = time.monotonic()

    # -- state ---------------------------------------------------------------------------------
    def load(self, candidates: list[Candidate] | Any, alliances: list[AllianceRecord]) -> None:
        """Restore from the snapshot (the matching database's read model)."""
        with self.lock:
            for record in candidates:
                vectors = None
                if record.embeddings is not None and record.embedded_hash == record.texts_hash:
                    vectors = np.frombuffer(record.embeddings, dtype=np.float32).copy()
                self.index.upsert(record, vectors)
                self._note(record.event_time)
                if vectors is None and record.texts_hash and self.on_profile_change:
                    self.on_profile_change(record.organization_id, record.texts_hash)
            for alliance in alliances:
                self.index.set_alliance(alliance)
                self._note(alliance.event_time)

    def _note(self, when: datetime) -> None:
        if self.high_water is None or when > self.high_water:
            self.high_water = when

    def apply(self, envelope: Envelope) -> bool:
        """Apply one event (idempotent, order-tolerant by version). True when the model changed."""
        with self.lock:
            changed = self._apply(envelope)
            if changed:
                self._note(envelope.time)
                self.last_change = time.monotonic()
            return changed

    def _apply(self, envelope: Envelope) -> bool:
        t = envelope.type
        if t in handlers.ORGANIZATION_EVENTS:
            org = str(envelope.data["organization"]["id"])
            current = self._copy(org)
            old_hash = current.texts_hash if current else None
            record = handlers.apply_organization(current, envelope)
            if record is None:
                return False
            self.index.upsert(record)
            if record.texts_hash != old_hash and record.texts_hash and self.on_profile_change:
                self.on_profile_change(org, record.texts_hash)
            return True
        if t in handlers.DUEDILIGENCE_HANDLERS:
            apply = handlers.apply_flag if t == "duediligence.flag.changed.v1" else handlers.apply_rating
            record = apply(self._copy(str(envelope.data["organization_id"])), envelope)
            if record is None:
                return False
            self.index.upsert(record)
            return True
        if t.startswith("registry.alliance."):
            alliance = handlers.apply_alliance(
                self.index.alliances.get(str(envelope.data["alliance"]["id"])), envelope
            )
            if alliance is None:
                return False
            self.index.set_alliance(alliance)
            return True
        return False

    def _copy(self, organization_id: str) -> Candidate | None:
        row = self.index.row_of.get(organization_id)
        record = self.index.records[row] if row is not None else None
        return record.model_copy() if record is not None else None

    def set_embeddings(self, organization_id: str, texts_hash: str, vectors: np.ndarray) -> None:
        with self.lock:
            row = self.index.row_of.get(organization_id)
            record = self.index.records[row] if row is not None else None
            if record is None or record.texts_hash != texts_hash:
                return  # the texts changed meanwhile: the newer ones are queued
            record.embedded_hash = texts_hash
            self.index.set_embeddings(organization_id, vectors)

    # -- requests ------------------------------------------------------------------------------
    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        try:
            with self.lock:
                return self._handle(request)
        except RankError as exc:
            return {"error": {"status": exc.status, "field": exc.field, "detail": exc.detail}}

    def _requester_embeddings(self, organization_ids: list[str], profile: Profile) -> np.ndarray | None:
        if len(organization_ids) == 1:
            stored = self.index.embeddings_of(organization_ids[0])
            if stored is not None:
                return stored
        if self.embedder is None:
            return None
        # Not embedded yet (just registered) or an alliance: embed its texts now (query cache).
        texts = profile_texts(profile)
        return np.stack([self.embedder.embed_query(t) for t in texts.as_list()])

    def _handle(self, req: dict[str, Any]) -> dict[str, Any]:
        mode: Mode = req.get("mode", "complementary")
        lang: Lang = req.get("lang", "en")
        filters = Filters(**req.get("filters", {}))
        target_places: set[str] = set()
        need_text = None
        if req.get("need") is not None:
            need_text = str(req["need"])
            requester = Profile(id="search")
            requester_ids: list[str] = []
            emb = None
            if self.embedder is not None:
                vector = self.embedder.embed_query(need_text)
                emb = np.stack([vector, np.zeros_like(vector), vector])
            target_places = set(req.get("places") or [])
            sectors: set[str] = set()
        elif req.get("alliance_id"):
            alliance = self.index.alliances.get(req["alliance_id"])
            if alliance is None:
                raise RankError(
                    404, "alliance_id", f"no alliance {req['alliance_id']} in the matching read model"
                )
            requester_ids = [p["organization_id"] for p in alliance.parties]
            parties = [p for p in (self.index.profile_of(o) for o in requester_ids) if p is not None]
            if not parties:
                raise RankError(422, "alliance_id", "the alliance has no parties with a known profile")
            requester = merge_parties(parties)
            emb = self._requester_embeddings(requester_ids, requester)
            sectors = coalition_sectors_of(parties)
        else:
            org = str(req.get("organization_id"))
            profile = self.index.profile_of(org)
            if profile is None:
                raise RankError(404, "organization_id", f"no organization {org} in the matching read model")
            requester, requester_ids = profile, [org]
            emb = self._requester_embeddings(requester_ids, profile)
            sectors = coalition_sectors_of([profile])
            if mode == "local_partner":
                target_places = (profile.wanted_places() | set(req.get("places") or [])) - {
                    p for p in profile.places() if "-" in p
                }
        q = RankQuery(
            requester=requester,
            requester_ids=set(requester_ids),
            mode=mode,
            embeddings=emb,
            need_text=need_text,
            target_places=target_places,
            coalition_sectors=sectors,
            include_blocked=bool(req.get("include_blocked", False)),
            exclude_ids=set(req.get("exclude_ids", [])),
            filters=filters,
            diversity=bool(req.get("diversity", True)),
        )
        weights = self.weights[mode]
        offset, limit = int(req.get("offset", 0)), int(req.get("limit", 20))
        ranked = rank(self.index, q, weights, depth=offset + limit)
        items = []
        explainer = Explainer(self.index, q, lang)
        names = list(ranked.values)
        factors = [weights[f] for f in names]
        columns = [ranked.values[f].tolist() for f in names]  # Python floats, once per page
        for pos in range(offset, min(offset + limit, len(ranked.rows))):
            row = int(ranked.rows[pos])
            values = [column[pos] for column in columns]
            # Rounded contributions; the score is their sum, so they add up to it exactly.
            rounded = [round(w * v, 6) for w, v in zip(factors, values, strict=True)]
            contributions = dict(zip(names, rounded, strict=True))
            score = round(sum(rounded), 6)
            items.append(
                self._item(row, pos, score, contributions, dict(zip(names, values, strict=True)), explainer)
            )
        return {"total": ranked.total, "items": items}

    def _item(
        self,
        row: int,
        pos: int,
        score: float,
        contributions: dict[str, float],
        values: dict[str, float],
        explainer: Explainer,
    ) -> dict[str, Any]:
        profile = self.index.profiles[row]
        record = self.index.records[row]
        assert profile is not None and record is not None
        reasons = list(self.index.reasons[row])
        return {
            "candidate": {
                "id": profile.id,
                "name": profile.name,
                "actor_type": profile.identity.actor_type,
                "country": profile.where.country,
                "subdivisions": profile.where.subdivisions,
                "band": record.band,
                "blocked": bool(reasons),
                "blocked_reasons": reasons,
            },
            "rank": pos + 1,
            "score": score,
            "contributions": contributions,
            "features": {f: round(v, 6) for f, v in values.items()},
            "evidence": explainer.explain(row, values),
        }


def merge_parties(parties: list[Profile]) -> Profile:
    """An alliance as one requester: what any party needs and no party offers; everything they share."""
    offered = {o.kind for p in parties for o in p.cooperation.offers}
    data: dict[str, Any] = {
        "id": "alliance",
        "identity": {
            "legal_name": " + ".join(p.name for p in parties),
            "actor_type": parties[0].identity.actor_type,
        },
        "where": {
            "country": parties[0].where.country,
            "subdivisions": sorted({s for p in parties for s in p.where.subdivisions}),
            "languages": sorted({lang for p in parties for lang in p.where.languages}),
            "areas_of_operation": [a.model_dump() for p in parties for a in p.where.areas_of_operation],
        },
        "purpose": {
            "mission": " ".join(p.purpose.mission or "" for p in parties).strip() or None,
            "program_areas": sorted({a for p in parties for a in p.purpose.program_areas}),
            "social_indicators": sorted({a for p in parties for a in p.purpose.social_indicators}),
            "target_populations": sorted({a for p in parties for a in p.purpose.target_populations}),
            "working_methods": sorted({a for p in parties for a in p.purpose.working_methods}),
        },
        "cooperation": {
            "offers": [o.model_dump() for p in parties for o in p.cooperation.offers],
            "needs": [n.model_dump() for p in parties for n in p.cooperation.needs if n.kind not in offered],
            "legitimacy_sought": sorted({t for p in parties for t in p.cooperation.legitimacy_sought}),
        },
    }
    return Profile.model_validate(data)

"""Filters, features and the weighted score, vectorized over every candidate left by the filters."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from tejido_common.taxonomy import taxonomy
from tejido_matching.kit.profiles import SECTOR_OF_ACTOR, Profile
from tejido_matching.ranking.diversity import mmr_order
from tejido_matching.ranking.index import SECTORS, CandidateIndex, haversine_km, norm_method, order_weights
from tejido_matching.ranking.weights import FEATURES, Mode
from tejido_matching.text.embeddings import rescale_cosine

F32 = npt.NDArray[np.float32]
# The reverse direction of complementarity never falls below this: a partner that gives what we need
# but needs nothing we offer still counts, yet ranks below a mutual fit (harmonic mean).
REVERSE_FLOOR = 0.25
KIND_SHARE = 0.7  # complementarity: kinds of offers/needs; the rest is their texts' similarity
SEARCH_BM25_SHARE = 0.4  # free-text need: BM25 next to the embedding similarity
DIVERSITY_TOP = 30


@dataclass
class Filters:
    actor_types: list[str] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)
    subdivisions: list[str] = field(default_factory=list)
    program_areas: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)


@dataclass
class RankQuery:
    """``requester`` is an organization's profile, an alliance's parties merged, or a free-text need."""

    requester: Profile
    requester_ids: set[str]
    mode: Mode
    embeddings: F32 | None  # (3, 512): purpose, gives, lacks
    need_text: str | None = None  # free-text need (search)
    target_places: set[str] = field(default_factory=set)
    coalition_sectors: set[str] = field(default_factory=set)
    include_blocked: bool = False
    exclude_ids: set[str] = field(default_factory=set)
    filters: Filters = field(default_factory=Filters)
    diversity: bool = True


@dataclass
class Ranked:
    rows: npt.NDArray[np.int64]  # candidate rows in final order
    values: dict[str, F32]  # feature → value in [0, 1], aligned with rows
    scores: F32  # aligned with rows


def candidate_mask(index: CandidateIndex, q: RankQuery) -> npt.NDArray[np.bool_]:
    n = index.size
    mask = index.rankable[:n] & index.willing[:n]
    if not q.include_blocked:
        mask &= ~index.blocked[:n]
    for org in q.requester_ids | q.exclude_ids:
        row = index.row_of.get(org)
        if row is not None:
            mask[row] = False
    f = q.filters
    if f.actor_types:
        mask &= index.rows_with("actor_types", f.actor_types)
    if f.countries:
        mask &= index.rows_with("places", f.countries)
    if f.subdivisions:
        mask &= index.rows_with("places", f.subdivisions)
    if f.program_areas:
        tax = taxonomy()
        any_area = np.zeros(n, dtype=np.bool_)
        for code in f.program_areas:
            if code in index.vocab["programs"].col:
                any_area |= index.programs[:n, index.vocab["programs"].col[code]] > 0
            elif code in tax.program_categories:
                any_area |= index.categories[:n, index.vocab["categories"].col[code]] > 0
        mask &= any_area
    if f.languages:
        mask &= index.rows_with("languages", f.languages)
    return mask


def _cos(index: CandidateIndex, rows: npt.NDArray[np.int64], slot: int, vector: F32 | None) -> F32:
    if vector is None or not np.any(vector):
        return np.zeros(len(rows), dtype=np.float32)
    # Over all rows the product is contiguous and beats gathering the rows first, unless the filters
    # or the candidate stage left few of them.
    if len(rows) * 4 < index.size:
        sims = index.vectors(slot)[rows] @ vector
    else:
        sims = (index.vectors(slot) @ vector)[rows]
    sims[~index.has_emb[rows]] = 0.0
    return rescale_cosine(sims)


def complementarity(index: CandidateIndex, rows: npt.NDArray[np.int64], q: CandidateQuery) -> F32:
    r, emb = q.requester, q.embeddings
    kinds = index.vocab["kinds"].col
    if q.need_text is not None:
        text = _cos(index, rows, 1, emb[2] if emb is not None else None)
        bm25 = index.bm25.scores(q.need_text, index.size)[rows]
        return ((1 - SEARCH_BM25_SHARE) * text + SEARCH_BM25_SHARE * bm25).astype(np.float32)
    # What the candidate gives that the requester lacks: principal (first-listed) needs weigh most.
    needs = [n for n in r.cooperation.needs if n.kind in kinds]
    want = np.zeros(len(kinds), dtype=np.float32)
    for n, w in zip(needs, order_weights(len(needs)), strict=True):
        want[kinds[n.kind]] = max(want[kinds[n.kind]], w)
    has_lacks = emb is not None and bool(np.any(emb[2]))
    text_in = _cos(index, rows, 1, emb[2] if emb is not None else None)
    if want.sum() > 0:
        kind_in = index.offer_kinds[rows] @ (want / want.sum())
        given = KIND_SHARE * kind_in + (1 - KIND_SHARE) * text_in if has_lacks else kind_in
    else:
        given = text_in
    # What the requester gives that the candidate lacks.
    offered = np.zeros(len(kinds), dtype=np.float32)
    for o in r.cooperation.offers:
        if o.kind in kinds:
            offered[kinds[o.kind]] = 1.0
    kind_out = index.need_kinds[rows] @ offered
    text_out = _cos(index, rows, 2, emb[1] if emb is not None else None)
    received = np.where(index.has_needs[rows], KIND_SHARE * kind_out + (1 - KIND_SHARE) * text_out, text_out)
    received = np.maximum(received, REVERSE_FLOOR)
    total = given + received
    return np.where(total > 0, 2 * given * received / np.where(total > 0, total, 1), 0).astype(np.float32)


def objective_fit(index: CandidateIndex, rows: npt.NDArray[np.int64], q: CandidateQuery) -> F32:
    r = q.requester
    v = index.vocab
    text = _cos(index, rows, 0, q.embeddings[0] if q.embeddings is not None else None)
    if q.need_text is not None:
        return text
    # Program areas: full credit for the same code, half for another code of the same category.
    per_area = []
    for code in r.purpose.program_areas:
        cat = taxonomy().program_area_category(code)
        exact = index.programs[rows, v["programs"].col[code]] if code in v["programs"].col else 0.0
        same_cat = index.categories[rows, v["categories"].col[cat]] if cat in v["categories"].col else 0.0
        if code in v["categories"].col:  # a category code: any program in it counts fully
            exact = same_cat
        per_area.append(np.maximum(exact, 0.5 * same_cat))
    areas = np.mean(per_area, axis=0) if per_area else np.zeros(len(rows), dtype=np.float32)
    wanted = [v["indicators"].col[c] for c in r.purpose.social_indicators if c in v["indicators"].col]
    indicators = index.indicators[rows][:, wanted].mean(axis=1) if wanted else np.zeros(len(rows))
    return (0.4 * areas + 0.2 * indicators + 0.4 * text).astype(np.float32)


def territory(index: CandidateIndex, rows: npt.NDArray[np.int64], q: CandidateQuery) -> F32:
    r = q.requester
    if q.target_places:
        targets = q.target_places
    else:
        targets = r.places() | r.wanted_places()
    subdivisions = {c for c in targets if "-" in c}
    countries = {c for c in targets if "-" not in c} | {c.split("-")[0] for c in subdivisions}
    at_sub = index.rows_with("places", subdivisions)[rows]
    at_country = index.rows_with("places", countries)[rows]
    value = np.where(at_sub, 1.0, np.where(at_country, 0.5, 0.0)).astype(np.float32)
    coords = r.where.coordinates
    if coords is not None and not q.target_places:
        km = haversine_km(coords.lat, coords.lon, index.lat[rows], index.lon[rows])
        near = np.nan_to_num(np.clip(1 - km / 300.0, 0, 1), nan=0.0)
        value = np.maximum(value, near.astype(np.float32))
    return value


def populations_methods(index: CandidateIndex, rows: npt.NDArray[np.int64], q: CandidateQuery) -> F32:
    r = q.requester
    cols = [
        index.vocab["populations"].col[c]
        for c in r.purpose.target_populations
        if c in index.vocab["populations"].col
    ]
    pops = index.populations[rows][:, cols].mean(axis=1) if cols else None
    methods_wanted = {norm_method(m) for m in r.purpose.working_methods}
    methods = None
    if methods_wanted:
        hits = np.zeros(len(rows), dtype=np.float32)
        for m in methods_wanted:
            hits += index.rows_with("methods", {m})[rows]
        methods = hits / len(methods_wanted)
    if pops is not None and methods is not None:
        return (0.7 * pops + 0.3 * methods).astype(np.float32)
    if pops is not None:
        return pops.astype(np.float32)
    if methods is not None:
        return methods.astype(np.float32)
    return np.zeros(len(rows), dtype=np.float32)


def language(index: CandidateIndex, rows: npt.NDArray[np.int64], q: CandidateQuery) -> F32:
    langs = q.requester.where.languages
    if not langs:
        return np.zeros(len(rows), dtype=np.float32)
    return index.rows_with("languages", langs)[rows].astype(np.float32)


def sector_diversity(index: CandidateIndex, rows: npt.NDArray[np.int64], q: CandidateQuery) -> F32:
    present = {SECTORS.index(s) for s in q.coalition_sectors}
    if not present:
        return np.zeros(len(rows), dtype=np.float32)
    return (~np.isin(index.sector[rows], list(present))).astype(np.float32)


def legitimacy_fit(index: CandidateIndex, rows: npt.NDArray[np.int64], q: CandidateQuery) -> F32:
    cols = [
        index.vocab["legitimacy"].col[c]
        for c in q.requester.cooperation.legitimacy_sought
        if c in index.vocab["legitimacy"].col
    ]
    if not cols:
        return np.zeros(len(rows), dtype=np.float32)
    return index.lend[rows][:, cols].mean(axis=1).astype(np.float32)


def trust(index: CandidateIndex, rows: npt.NDArray[np.int64], q: CandidateQuery) -> F32:
    conf = index.band_conf[rows]
    band = index.band_score[rows] * conf + 0.5 * (1 - conf)  # unknown or unverified: neutral
    shared = np.zeros(len(rows), dtype=np.float32)
    mine: set[str] = set()
    for org in q.requester_ids:
        mine |= index.partners.get(org, set())
    if mine:
        for i, row in enumerate(rows):
            if index.partners.get(index.ids[row], set()) & mine:
                shared[i] = 1.0
    return (0.5 * band + 0.3 * index.track[rows] + 0.2 * shared).astype(np.float32)


CandidateQuery = RankQuery
FEATURE_FUNCTIONS = {
    "complementarity": complementarity,
    "objective_fit": objective_fit,
    "territory": territory,
    "populations_methods": populations_methods,
    "language": language,
    "sector_diversity": sector_diversity,
    "legitimacy_fit": legitimacy_fit,
    "trust": trust,
}


STAGE_MIN_KEPT = 1_000


def candidate_stage(
    index: CandidateIndex, q: RankQuery, rows: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """Beyond ``exact_limit`` candidates, score only those likely to reach the top: an offer of a kind
    the requester needs (2 points, complementarity weighs most) plus a shared place or program
    category (1 point each; free text: a BM25 hit counts 2), keeping those with 3 points or more —
    or 2 when that leaves fewer than ``STAGE_MIN_KEPT``. Recall against exact scoring: ``bench/``."""
    r = q.requester
    hits = np.zeros(len(rows), dtype=np.int8)
    kinds = index.vocab["kinds"].col
    wanted = [kinds[n.kind] for n in r.cooperation.needs if n.kind in kinds]
    if wanted:
        hits += 2 * index.offer_kinds[rows][:, wanted].any(axis=1)
    places = q.target_places or (r.places() | r.wanted_places())
    subdivisions = {p for p in places if "-" in p}
    hits += index.rows_with("places", subdivisions or places)[rows]
    cats = index.vocab["categories"].col
    wanted_cats = [
        cats[c] for c in {taxonomy().program_area_category(a) for a in r.purpose.program_areas} if c in cats
    ]
    if wanted_cats:
        hits += index.categories[rows][:, wanted_cats].any(axis=1)
    if q.need_text is not None:
        hits += 2 * (index.bm25.scores(q.need_text, index.size)[rows] > 0)
    kept = rows[hits >= 3]
    return kept if len(kept) >= STAGE_MIN_KEPT else rows[hits >= 2]


def coalition_sectors_of(profiles: list[Profile]) -> set[str]:
    return {SECTOR_OF_ACTOR.get(p.identity.actor_type, "civil") for p in profiles}


def rank(index: CandidateIndex, q: RankQuery, weights: dict[str, float], depth: int | None = None) -> Ranked:
    """Every candidate left by the filters, best first; only the first ``depth`` are fully ordered
    (the page and the diversity window need no more), the rest follow in no particular order."""
    rows = np.flatnonzero(candidate_mask(index, q)).astype(np.int64)
    if len(rows) > index.exact_limit:
        rows = candidate_stage(index, q, rows)
    values = {}
    scores = np.zeros(len(rows), dtype=np.float32)
    for name in FEATURES:
        w = weights.get(name, 0.0)
        if w <= 0:
            values[name] = np.zeros(len(rows), dtype=np.float32)
            continue
        values[name] = np.clip(FEATURE_FUNCTIONS[name](index, rows, q), 0.0, 1.0).astype(np.float32)
        scores += np.float32(w) * values[name]
    # Stable order: score descending, then organization id, so pages do not shuffle between calls.
    head = np.arange(len(rows))
    if depth is not None and len(rows) > depth + DIVERSITY_TOP:
        head = np.argpartition(-scores, depth + DIVERSITY_TOP)[: depth + DIVERSITY_TOP]
    order = head[np.lexsort((index.tiebreak[rows[head]], -scores[head]))]
    if len(head) < len(rows):
        rest = np.setdiff1d(np.arange(len(rows)), head, assume_unique=True)
        order = np.concatenate([order, rest])
    if q.diversity and len(order) > 1:
        order = mmr_order(index, rows, scores, order, top=DIVERSITY_TOP)
    return Ranked(rows=rows[order], values={k: v[order] for k, v in values.items()}, scores=scores[order])

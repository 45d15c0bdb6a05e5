"""Filters, features and the weighted score, vectorized over every candidate left by the filters."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from tejido_common.taxonomy import taxonomy
from tejido_matching.kit.profiles import SECTOR_OF_ACTOR, Profile
from tejido_matching.ranking.diversity import mmr_order
from tejido_matching.ranking.geo import haversine_km, norm_method
from tejido_matching.ranking.index import SECTORS, CandidateIndex, order_weights
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
    rows: npt.NDArray[np.int64]  # the best candidate rows in final order
    values: dict[str, F32]  # feature → value in [0, 1], aligned with rows
    scores: F32  # aligned with rows
    total: int  # every candidate left by the filters (and the candidate stage)


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
                any_area |= index.any_of("programs", [index.vocab["programs"].col[code]])
            elif code in tax.program_categories:
                any_area |= index.any_of("categories", [index.vocab["categories"].col[code]])
        mask &= any_area
    if f.languages:
        mask &= index.rows_with("languages", f.languages)
    result: npt.NDArray[np.bool_] = mask
    return result


class Scorer:
    """One request's features over ``rows`` (the candidates left by the filters).

    Everything but text similarity is cheap (small 0/1 matrices, inverted lists) and is computed for
    every row first. Text similarity reads three 512-wide float32 vectors per candidate — the memory
    traffic that dominates a ranking — so it is computed only for the rows that can still reach the
    top: a feature is monotone in its text similarities (each in [0, 1]), so the score with every
    similarity at 0 is a lower bound and with every similarity at 1 an upper bound, and a row whose
    upper bound is below the k-th best lower bound cannot be in the top k (exact, not approximate).
    """

    # The requester's vector compared with each candidate slot: purpose ↔ purpose, what it lacks ↔
    # what the candidate gives, what it gives ↔ what the candidate lacks.
    QUERY_OF_SLOT = (0, 2, 1)

    def __init__(self, index: CandidateIndex, rows: npt.NDArray[np.int64], q: RankQuery):
        self.index, self.rows, self.q = index, rows, q
        # Over most rows, one product over the whole (contiguous) column beats gathering the rows.
        self.dense = len(rows) * 4 >= index.size

    def subset(self, keep: npt.NDArray[np.int64]) -> None:
        self.rows = self.rows[keep]
        self.dense = len(self.rows) * 4 >= self.index.size

    def matvec(self, matrix: F32, vector: F32) -> F32:
        if self.dense:
            return (matrix[: self.index.size] @ vector)[self.rows]
        return np.take(matrix, self.rows, axis=0) @ vector

    def product(self, name: str, vector: F32, exact_sums: bool = False) -> F32:
        """A posted 0/1 matrix times a request's vector, over the rows (see ``CandidateIndex.product``)."""
        return self.index.product(name, vector, exact_sums)[self.rows]

    def count_of(self, name: str, cols: list[int]) -> F32:
        """How many of ``cols`` each row has (0/1 columns: exact counts)."""
        pick = np.bincount(cols, minlength=getattr(self.index, name).shape[1]).astype(np.float32)
        return self.product(name, pick, exact_sums=True)

    def mask(self, kind: str, codes: set[str] | list[str]) -> npt.NDArray[np.bool_]:
        return self.index.rows_with(kind, codes)[self.rows]

    def query_vector(self, slot: int) -> F32 | None:
        emb = self.q.embeddings
        if emb is None:
            return None
        vector = emb[self.QUERY_OF_SLOT[slot]]
        return vector if np.any(vector) else None

    def text(self, slot: int) -> F32:
        """Rescaled cosine of one text slot (0 for rows not embedded yet, or no query vector)."""
        vector = self.query_vector(slot)
        if vector is None:
            return np.zeros(len(self.rows), dtype=np.float32)
        sims = self.matvec(self.index.slot_vectors[slot], vector)
        sims[~self.index.has_emb[self.rows]] = 0.0
        return rescale_cosine(sims)

    def text_bound(self, slot: int) -> F32:
        """The highest the rescaled cosine of a slot can be: 1 where it can be anything."""
        if self.query_vector(slot) is None:
            return np.zeros(len(self.rows), dtype=np.float32)
        return self.index.has_emb[self.rows].astype(np.float32)


@dataclass
class ComplementarityParts:
    search: bool
    kind_in: F32 | None  # offered kinds against the requester's needs (None: it states none)
    has_lacks: bool
    kind_out: F32
    has_needs: npt.NDArray[np.bool_]
    bm25: F32 | None = None

    def subset(self, keep: npt.NDArray[np.int64]) -> ComplementarityParts:
        return ComplementarityParts(
            self.search,
            None if self.kind_in is None else self.kind_in[keep],
            self.has_lacks,
            self.kind_out[keep],
            self.has_needs[keep],
            None if self.bm25 is None else self.bm25[keep],
        )


def complementarity_parts(s: Scorer) -> ComplementarityParts:
    index, q = s.index, s.q
    r, emb = q.requester, q.embeddings
    kinds = index.vocab["kinds"].col
    if q.need_text is not None:
        bm25 = index.bm25.scores(q.need_text, index.size)[s.rows]
        unused = np.zeros(len(s.rows), dtype=np.float32)
        return ComplementarityParts(True, None, False, unused, unused.astype(np.bool_), bm25=bm25)
    # What the candidate gives that the requester lacks: principal (first-listed) needs weigh most.
    needs = [n for n in r.cooperation.needs if n.kind in kinds]
    want = np.zeros(len(kinds), dtype=np.float32)
    for n, w in zip(needs, order_weights(len(needs)), strict=True):
        want[kinds[n.kind]] = max(want[kinds[n.kind]], w)
    has_lacks = emb is not None and bool(np.any(emb[2]))
    kind_in = s.product("offer_kinds", want / want.sum()) if want.sum() > 0 else None
    # What the requester gives that the candidate lacks.
    offered = np.zeros(len(kinds), dtype=np.float32)
    for o in r.cooperation.offers:
        if o.kind in kinds:
            offered[kinds[o.kind]] = 1.0
    kind_out = s.product("need_kinds", offered)
    return ComplementarityParts(False, kind_in, has_lacks, kind_out, index.has_needs[s.rows])


def complementarity(p: ComplementarityParts, text_in: F32, text_out: F32) -> F32:
    """``text_in``: the candidate's offers against the requester's lacks; ``text_out``: the reverse."""
    if p.search:
        assert p.bm25 is not None
        return ((1 - SEARCH_BM25_SHARE) * text_in + SEARCH_BM25_SHARE * p.bm25).astype(np.float32)
    if p.kind_in is not None:
        given = KIND_SHARE * p.kind_in + (1 - KIND_SHARE) * text_in if p.has_lacks else p.kind_in
    else:
        given = text_in
    received = np.where(p.has_needs, KIND_SHARE * p.kind_out + (1 - KIND_SHARE) * text_out, text_out)
    received = np.maximum(received, REVERSE_FLOOR)
    # Harmonic mean; the floor keeps the denominator positive.
    return (2 * given * received / (given + received)).astype(np.float32, copy=False)


def objective_parts(s: Scorer) -> npt.NDArray[np.floating] | None:
    """Program areas and indicators (None for a free-text need: text only)."""
    index, r = s.index, s.q.requester
    if s.q.need_text is not None:
        return None
    v = index.vocab
    n = len(s.rows)
    # Program areas: full credit for the same code, half for another code of the same category. As
    # the category column is set whenever a program of it is, max(exact, ½ category) is
    # ½ category + ½ exact: one product per matrix instead of a pass per code.
    per_category = np.zeros(len(v["categories"]), dtype=np.float32)
    per_program = np.zeros(len(v["programs"]), dtype=np.float32)
    for code in r.purpose.program_areas:
        if code in v["categories"].col:  # a category code: any program in it counts fully
            per_category[v["categories"].col[code]] += 1.0
            continue
        cat = taxonomy().program_area_category(code)
        if cat in v["categories"].col:
            per_category[v["categories"].col[cat]] += 0.5
        if code in v["programs"].col:
            per_program[v["programs"].col[code]] += 0.5
    count = len(r.purpose.program_areas)
    if count:
        # Halves and units: every partial sum is exact, in any order.
        by_category: F32 = index.category_table(per_category)[index.category_bits[s.rows]]
        areas = (by_category + s.product("programs", per_program, exact_sums=True)) / count
    else:
        areas = np.zeros(n, dtype=np.float32)
    wanted = [v["indicators"].col[c] for c in r.purpose.social_indicators if c in v["indicators"].col]
    indicators = s.count_of("indicators", wanted) / len(wanted) if wanted else np.zeros(n)
    return 0.4 * areas + 0.2 * indicators


def objective_fit(base: npt.NDArray[np.floating] | None, text: F32) -> F32:
    if base is None:
        return text
    return (base + 0.4 * text).astype(np.float32)


def territory(s: Scorer) -> F32:
    index, q = s.index, s.q
    r = q.requester
    if q.target_places:
        targets = q.target_places
    else:
        targets = r.places() | r.wanted_places()
    subdivisions = {c for c in targets if "-" in c}
    countries = {c for c in targets if "-" not in c} | {c.split("-")[0] for c in subdivisions}
    at_sub = s.mask("places", subdivisions)
    at_country = s.mask("places", countries)
    value = np.where(at_sub, 1.0, np.where(at_country, 0.5, 0.0)).astype(np.float32)
    coords = r.where.coordinates
    if coords is not None and not q.target_places:
        km = haversine_km(coords.lat, coords.lon, index.lat[s.rows], index.lon[s.rows])
        near = np.nan_to_num(np.clip(1 - km / 300.0, 0, 1), nan=0.0)
        value = np.maximum(value, near.astype(np.float32))
    return value


def populations_methods(s: Scorer) -> F32:
    index, r = s.index, s.q.requester
    cols = [
        index.vocab["populations"].col[c]
        for c in r.purpose.target_populations
        if c in index.vocab["populations"].col
    ]
    pops = s.count_of("populations", cols) / len(cols) if cols else None
    methods_wanted = {norm_method(m) for m in r.purpose.working_methods}
    methods = None
    if methods_wanted:
        hits = np.zeros(len(s.rows), dtype=np.float32)
        for m in methods_wanted:
            hits += s.mask("methods", {m})
        methods = hits / len(methods_wanted)
    if pops is not None and methods is not None:
        return (0.7 * pops + 0.3 * methods).astype(np.float32)
    if pops is not None:
        return pops.astype(np.float32)
    if methods is not None:
        return methods.astype(np.float32)
    return np.zeros(len(s.rows), dtype=np.float32)


def language(s: Scorer) -> F32:
    langs = s.q.requester.where.languages
    if not langs:
        return np.zeros(len(s.rows), dtype=np.float32)
    return s.mask("languages", langs).astype(np.float32)


def sector_diversity(s: Scorer) -> F32:
    present = [SECTORS.index(c) for c in s.q.coalition_sectors]
    if not present:
        return np.zeros(len(s.rows), dtype=np.float32)
    missing = np.ones(len(SECTORS), dtype=np.float32)
    missing[present] = 0.0
    result: F32 = missing[s.index.sector[s.rows]]
    return result


def legitimacy_fit(s: Scorer) -> F32:
    index = s.index
    cols = [
        index.vocab["legitimacy"].col[c]
        for c in s.q.requester.cooperation.legitimacy_sought
        if c in index.vocab["legitimacy"].col
    ]
    if not cols:
        return np.zeros(len(s.rows), dtype=np.float32)
    return (s.count_of("lend", cols) / len(cols)).astype(np.float32)


def trust(s: Scorer) -> F32:
    index, rows = s.index, s.rows
    conf = index.band_conf[rows]
    band = index.band_score[rows] * conf + 0.5 * (1 - conf)  # unknown or unverified: neutral
    # Partnership is symmetric: the candidates sharing a partner with the requester are the partners
    # of the requester's partners (no pass over the candidates).
    mine: set[str] = set()
    for org in s.q.requester_ids:
        mine |= index.partners.get(org, set())
    if not mine:  # no partners: adding 0.2 × 0 would change no value
        plain: F32 = (0.5 * band + 0.3 * index.track[rows]).astype(np.float32)
        return plain
    shared_rows = np.zeros(index.size, dtype=np.float32)
    for partner in mine:
        for org in index.partners.get(partner, ()):
            row = index.row_of.get(org)
            if row is not None:
                shared_rows[row] = 1.0
    shared = shared_rows[rows]
    result: F32 = (0.5 * band + 0.3 * index.track[rows] + 0.2 * shared).astype(np.float32)
    return result


CandidateQuery = RankQuery
# Features that read no text: computed once over every candidate.
PLAIN_FEATURES = {
    "territory": territory,
    "populations_methods": populations_methods,
    "language": language,
    "sector_diversity": sector_diversity,
    "legitimacy_fit": legitimacy_fit,
    "trust": trust,
}
TEXT_FEATURES = ("complementarity", "objective_fit")
BOUND_SLACK = 1e-5  # float32 rounding in the bounds: keep rows this close to the threshold


STAGE_MIN_KEPT = 1_000


def candidate_stage(
    index: CandidateIndex, q: RankQuery, rows: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """Beyond ``exact_limit`` candidates, score only those likely to reach the top: an offer of a kind
    the requester needs (2 points, complementarity weighs most) plus a shared place or program
    category (1 point each; free text: a BM25 hit counts 2), keeping those with 3 points or more —
    or 2 when that leaves fewer than ``STAGE_MIN_KEPT``. Recall against exact scoring: ``bench/``."""
    r = q.requester
    # Points over every row (int8, masks added as 0/1 views), read for the candidates once.
    points = np.zeros(index.size, dtype=np.int8)
    two = np.int8(2)
    kinds = index.vocab["kinds"].col
    wanted = [kinds[need.kind] for need in r.cooperation.needs if need.kind in kinds]
    if wanted:
        points += index.any_of("offer_kinds", wanted).view(np.int8) * two
    places = q.target_places or (r.places() | r.wanted_places())
    subdivisions = {p for p in places if "-" in p}
    points += index.rows_with("places", subdivisions or places).view(np.int8)
    cats = index.vocab["categories"].col
    wanted_cats = [
        cats[c] for c in {taxonomy().program_area_category(a) for a in r.purpose.program_areas} if c in cats
    ]
    if wanted_cats:
        pick = np.uint8(sum(1 << c for c in wanted_cats))
        points += ((index.category_bits[: index.size] & pick) != 0).view(np.int8)
    if q.need_text is not None:
        points += (index.bm25.scores(q.need_text, index.size) > 0).view(np.int8) * two
    hits = points[rows]
    kept = rows[hits >= 3]
    return kept if len(kept) >= STAGE_MIN_KEPT else rows[hits >= 2]


def coalition_sectors_of(profiles: list[Profile]) -> set[str]:
    return {SECTOR_OF_ACTOR.get(p.identity.actor_type, "civil") for p in profiles}


def _unit(values: F32) -> F32:
    return np.clip(values, 0.0, 1.0).astype(np.float32, copy=False)


class ScoreBounds:
    """A row's score as a function of its three text similarities, for bounding it: the features
    that read no text summed once (``base``), complementarity as ``given = a + b·text_in`` and
    ``received = max(c + d·text_out, floor)`` (free text: ``a + b·text_in``), objective fit as
    ``obj + 0.4·text``. Every piece is monotone in its similarity, so similarities at their lowest
    and highest give a lower and an upper bound (equal to the score, up to float32 rounding far
    below ``BOUND_SLACK``, where all three are known)."""

    def __init__(
        self,
        base: F32,
        comp: ComplementarityParts | None,
        obj: npt.NDArray[np.floating] | None,
        w: dict[str, float],
        *,
        _parts: tuple[F32 | None, float, F32 | None, F32 | None, npt.NDArray[np.floating] | None]
        | None = None,
    ):
        self.base = base
        self.wc, self.wo = np.float32(w["complementarity"]), np.float32(w["objective_fit"])
        self.w = w
        self.search = comp is not None and comp.search
        self.has_comp = comp is not None
        if _parts is not None:
            self.a, self.b, self.c, self.d, self.obj = _parts
            return
        self.obj = obj
        self.a = self.c = self.d = None
        self.b = 0.0
        if comp is None:
            return
        if comp.search:
            assert comp.bm25 is not None
            self.a, self.b = (SEARCH_BM25_SHARE * comp.bm25).astype(np.float32), 1 - SEARCH_BM25_SHARE
            return
        if comp.kind_in is None:
            self.a, self.b = np.zeros(len(base), dtype=np.float32), 1.0
        elif comp.has_lacks:
            self.a, self.b = (KIND_SHARE * comp.kind_in).astype(np.float32), 1 - KIND_SHARE
        else:
            self.a, self.b = comp.kind_in.astype(np.float32), 0.0
        self.c = np.where(comp.has_needs, KIND_SHARE * comp.kind_out, 0.0).astype(np.float32)
        self.d = np.where(comp.has_needs, 1 - KIND_SHARE, 1.0).astype(np.float32)

    def subset(self, keep: npt.NDArray[np.int64]) -> ScoreBounds:
        def pick(v: npt.NDArray[np.floating] | None) -> npt.NDArray[np.floating] | None:
            return None if v is None else v[keep]

        parts = (pick(self.a), self.b, pick(self.c), pick(self.d), pick(self.obj))
        out = ScoreBounds(self.base[keep], None, None, self.w, _parts=parts)
        out.search, out.has_comp = self.search, self.has_comp
        return out

    def score(self, texts: list[F32 | float]) -> F32:
        out = self.base.copy()
        if self.has_comp and self.wc > 0:
            assert self.a is not None
            given = self.a + self.b * texts[1] if self.b else self.a
            if self.search:
                out += self.wc * given
            else:
                assert self.c is not None and self.d is not None
                received = np.maximum(self.c + self.d * texts[2], REVERSE_FLOOR)
                out += self.wc * (2 * given * received / (given + received))
        if self.wo > 0:
            text = np.float32(0.4) * texts[0] if self.obj is not None else texts[0]
            out += self.wo * (self.obj + text if self.obj is not None else text)
        return out


def rank(index: CandidateIndex, q: RankQuery, weights: dict[str, float], depth: int | None = None) -> Ranked:
    """The best candidates left by the filters, in order: all of them, or (``depth``) only as many
    as the page and the diversity window need; ``total`` counts every candidate."""
    rows = np.flatnonzero(candidate_mask(index, q)).astype(np.int64)
    if len(rows) > index.exact_limit:
        rows = candidate_stage(index, q, rows)
    total = len(rows)
    wanted = total if depth is None else min(total, max(depth, DIVERSITY_TOP if q.diversity else 0))
    s = Scorer(index, rows, q)
    w = {name: weights.get(name, 0.0) for name in FEATURES}
    plain = {
        name: _unit(fn(s)) if w[name] > 0 else np.zeros(total, dtype=np.float32)
        for name, fn in PLAIN_FEATURES.items()
    }
    comp = complementarity_parts(s) if w["complementarity"] > 0 else None
    obj = objective_parts(s) if w["objective_fit"] > 0 else None
    # Slots whose similarity counts: a query vector, and a feature of positive weight reading it.
    slots = [
        slot
        for slot, feature in ((0, "objective_fit"), (1, "complementarity"), (2, "complementarity"))
        if w[feature] > 0 and s.query_vector(slot) is not None
    ]
    # Text similarities known so far (exact, over the current rows); the rest bounded.
    known: dict[int, F32] = {}
    pending = list(slots)
    # Positions of the current rows among the first ones: the plain features and the parts are
    # picked for the survivors once, at the end, not at every narrowing.
    pos = np.arange(total)
    if pending and 0 < wanted < total:
        base = np.zeros(total, dtype=np.float32)
        for name, column in plain.items():
            base += np.float32(w[name]) * column
        bounds = ScoreBounds(base, comp, obj, w)
        # The highest each counted slot's similarity can be (1 where embedded, 0 where not).
        ceiling = {slot: s.text_bound(slot) for slot in pending}
        while pending and 0 < wanted < len(s.rows):
            n = len(s.rows)
            lows: list[F32 | float] = [known.get(slot, 0.0) for slot in range(3)]
            highs: list[F32 | float] = [
                known[slot] if slot in known else ceiling.get(slot, 0.0) for slot in range(3)
            ]
            low, high = bounds.score(lows), bounds.score(highs)
            threshold = np.partition(low, n - wanted)[n - wanted]  # the wanted-th best low bound
            keep = np.flatnonzero(high >= threshold - BOUND_SLACK)
            if len(keep) < n:
                s.subset(keep)
                pos = pos[keep]
                bounds = bounds.subset(keep)
                known = {slot: column[keep] for slot, column in known.items()}
                ceiling = {slot: column[keep] for slot, column in ceiling.items()}
                high = high[keep]
                lows = [known.get(slot, 0.0) for slot in range(3)]
                highs = [known[slot] if slot in known else ceiling.get(slot, 0.0) for slot in range(3)]
            if len(pending) > 1 and not known:
                # Slots in the order of the uncertainty they leave on the rows kept (decided once).
                total_high = float(high.sum())
                gaps = {}
                for slot in pending:
                    tighter = [lows[i] if i == slot else highs[i] for i in range(3)]
                    gaps[slot] = total_high - float(bounds.score(tighter).sum())
                pending.sort(key=lambda k: -gaps[k])
            slot = pending.pop(0)
            known[slot] = s.text(slot)
        if len(pos) < total:
            plain = {name: column[pos] for name, column in plain.items()}
            comp = comp.subset(pos) if comp is not None else None
            obj = obj[pos] if obj is not None else None
    n = len(s.rows)
    texts = [
        known[slot] if slot in known else s.text(slot) if slot in slots else np.zeros(n, dtype=np.float32)
        for slot in range(3)
    ]
    values: dict[str, F32] = {}
    scores = np.zeros(n, dtype=np.float32)
    for name in FEATURES:
        if w[name] <= 0:
            values[name] = np.zeros(n, dtype=np.float32)
            continue
        if name == "complementarity":
            assert comp is not None
            values[name] = _unit(complementarity(comp, texts[1], texts[2]))
        elif name == "objective_fit":
            values[name] = _unit(objective_fit(obj, texts[0]))
        else:
            values[name] = plain[name]
        scores += np.float32(w[name]) * values[name]
    order = top_order(scores, index.tiebreak[s.rows], wanted)
    if q.diversity and len(order) > 1:
        order = mmr_order(index, s.rows, scores, order, top=DIVERSITY_TOP)
    return Ranked(
        rows=s.rows[order], values={k: v[order] for k, v in values.items()}, scores=scores[order], total=total
    )


def top_order(scores: F32, tiebreak: npt.NDArray[np.float64], k: int) -> npt.NDArray[np.int64]:
    """The ``k`` best positions by score descending, then tie-break (the organization id's hash), so
    pages do not shuffle between calls and every worker orders ties alike."""
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    if k < len(scores):
        kth = np.partition(scores, len(scores) - k)[len(scores) - k]
        head = np.flatnonzero(scores >= kth)  # ties at the k-th score all compete on the tie-break
    else:
        head = np.arange(len(scores))
    order = head[np.lexsort((tiebreak[head], -scores[head]))]
    return order[:k].astype(np.int64)

"""The in-memory candidate index: one row per organization, features as dense numpy columns.

Rows are updated in place when an event changes a profile, a rating or an alliance; arrays grow by
doubling. Small vocabularies (cooperation kinds, program areas, indicator families, populations,
legitimacy types) are dense 0/1 columns; open vocabularies (places, languages, working methods) are
inverted lists (code → rows), so a requester's codes select the matching rows without a scan.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from tejido_common.taxonomy import taxonomy
from tejido_matching.candidates.models import AllianceRecord, Candidate
from tejido_matching.kit.profiles import NEVER_PROPOSED_ACTORS, SECTOR_OF_ACTOR, Profile, read_profile
from tejido_matching.ranking.facts import Facts, facts_of
from tejido_matching.ranking.geo import norm_method
from tejido_matching.text.lexical import Bm25Index
from tejido_matching.text.profile_texts import DIM, SLOTS, profile_texts

F32 = npt.NDArray[np.float32]
BAND_SCORE = {"low": 1.0, "medium": 0.7, "significant": 0.35, "high": 0.0}
SECTORS = ("civil", "government", "business", "funder", "academia")
# The small 0/1 (or weighted) matrices also kept as postings (column → rows), so a request's few
# columns touch only the rows that have them instead of a pass over every row.
POSTED = ("offer_kinds", "need_kinds", "programs", "categories", "indicators", "populations", "lend")
# Alliances from this stage on count as track record.
TRACK_STAGES = frozenset({"negotiation", "trial", "commitments", "established", "concluded"})


def order_weights(count: int) -> F32:
    """Needs listed first are the principal ones: weight 1, 1/2, 1/3 … by position."""
    return (1.0 / np.arange(1, count + 1)).astype(np.float32)


@dataclass
class Vocab:
    codes: tuple[str, ...]
    col: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        self.col = {c: i for i, c in enumerate(self.codes)}

    def __len__(self) -> int:
        return len(self.codes)


def vocabularies() -> dict[str, Vocab]:
    tax = taxonomy()
    return {
        "kinds": Vocab(tax.cooperation_kinds),
        "programs": Vocab(tuple(tax.programs)),
        "categories": Vocab(tuple(tax.program_categories)),
        "indicators": Vocab(tax.social_indicators),
        "populations": Vocab(tax.target_populations),
        "legitimacy": Vocab(tax.legitimacy_types),
    }


def lendable_legitimacy(profile: Profile, alliances: int) -> set[str]:
    """What legitimacy this organization can lend a partner (see taxonomy/legitimacy.json)."""
    sector = SECTOR_OF_ACTOR.get(profile.identity.actor_type, "civil")
    offers = {o.kind for o in profile.cooperation.offers}
    lend: set[str] = set()
    if sector == "business" or "market_access" in offers:
        lend.add("market")
    if alliances > 0 or profile.cooperation.prior_cooperation:
        lend.add("relational")
    if profile.capacity.recognition or "community_presence" in offers:
        lend.add("social")
    if sector == "funder" or "funding" in offers:
        lend.add("investment")
    if (
        profile.identity.actor_type == "network"
        or profile.capacity.network_memberships
        or ("contacts_and_networks" in offers)
    ):
        lend.add("alliance")
    return lend


class CandidateIndex:
    def __init__(self, capacity: int = 1024):
        self.vocab = vocabularies()
        assert len(self.vocab["categories"]) <= 8, "category_bits holds one byte"
        self.size = 0
        self.capacity = 0
        self.ids: list[str] = []
        self.row_of: dict[str, int] = {}
        self.profiles: list[Profile | None] = []
        self.records: list[Candidate | None] = []
        self.bands: list[str | None] = []
        self.places: list[frozenset[str]] = []
        self.facts: list[Facts | None] = []  # what explanations read, built once per profile change
        self.reasons: list[list[str]] = []  # why due diligence blocks it (empty: not blocked)
        self.country_ids: dict[str, int] = {}
        self.inverted: dict[str, dict[str, set[int]]] = {
            "places": defaultdict(set),
            "languages": defaultdict(set),
            "methods": defaultdict(set),
            "actor_types": defaultdict(set),
        }
        self.bm25 = Bm25Index()
        self._arrays: dict[tuple[str, str], npt.NDArray[np.int64]] = {}
        # Masks of the codes held by many rows (``spa``, a country), kept like ``_arrays``.
        self._masks: dict[tuple[str, str], npt.NDArray[np.bool_]] = {}
        self.postings: dict[str, list[set[int]]] = {}  # matrix name → column → rows with a value
        self._posting_arrays: dict[tuple[str, int], tuple[npt.NDArray[np.int64], F32]] = {}
        self.alliances: dict[str, AllianceRecord] = {}
        self.partners: dict[str, set[str]] = defaultdict(set)
        self.track_count: dict[str, int] = defaultdict(int)
        self.changes = 0  # bumped on every change: lets callers see the model moved
        # Above this many candidates after the filters, a candidate stage narrows them before scoring.
        self.exact_limit = 100_000
        self._grow(capacity)
        for name in POSTED:
            self.postings[name] = [set() for _ in range(getattr(self, name).shape[1])]

    # -- storage -------------------------------------------------------------------------------
    def _grow(self, capacity: int) -> None:
        def grow(old: np.ndarray | None, shape: tuple[int, ...], dtype: type, fill: float = 0) -> np.ndarray:
            new: np.ndarray = np.full(shape, fill, dtype=dtype)
            if old is not None:
                new[: old.shape[0]] = old
            return new

        v = self.vocab
        first = self.capacity == 0
        g = (lambda name: None) if first else (lambda name: getattr(self, name))
        self.rankable = grow(g("rankable"), (capacity,), np.bool_)
        self.willing = grow(g("willing"), (capacity,), np.bool_)
        self.blocked = grow(g("blocked"), (capacity,), np.bool_)
        self.band_score = grow(g("band_score"), (capacity,), np.float32, 0.5)
        self.band_conf = grow(g("band_conf"), (capacity,), np.float32)
        self.sector = grow(g("sector"), (capacity,), np.int8)
        self.offer_kinds = grow(g("offer_kinds"), (capacity, len(v["kinds"])), np.float32)
        self.need_kinds = grow(g("need_kinds"), (capacity, len(v["kinds"])), np.float32)
        self.has_needs = grow(g("has_needs"), (capacity,), np.bool_)
        self.programs = grow(g("programs"), (capacity, len(v["programs"])), np.float32)
        self.categories = grow(g("categories"), (capacity, len(v["categories"])), np.float32)
        # The same categories as bits of one byte (five categories): a request's category weights
        # become a 32-entry table read once per row.
        self.category_bits = grow(g("category_bits"), (capacity,), np.uint8)
        self.indicators = grow(g("indicators"), (capacity, len(v["indicators"])), np.float32)
        self.populations = grow(g("populations"), (capacity, len(v["populations"])), np.float32)
        self.lend = grow(g("lend"), (capacity, len(v["legitimacy"])), np.float32)
        self.lat = grow(g("lat"), (capacity,), np.float32, np.nan)
        self.lon = grow(g("lon"), (capacity,), np.float32, np.nan)
        # One contiguous matrix per text slot: a query is one matrix-vector product over all rows.
        old_vectors: list[F32] = [] if first else self.slot_vectors
        self.slot_vectors: list[F32] = [
            grow(old_vectors[s] if old_vectors else None, (capacity, DIM), np.float32)
            for s in range(len(SLOTS))
        ]
        self.has_emb = grow(g("has_emb"), (capacity,), np.bool_)
        self.track = grow(g("track"), (capacity,), np.float32)
        # Tie-break on equal scores from the organization id, so every worker orders ties alike
        # whatever order its rows were loaded in.
        self.tiebreak = grow(g("tiebreak"), (capacity,), np.float64)
        # Its first country code (-1: none), for the diversity re-rank's "same country".
        self.country = grow(g("country"), (capacity,), np.int32, -1)
        self.capacity = capacity

    def _row(self, organization_id: str) -> int:
        row = self.row_of.get(organization_id)
        if row is not None:
            return row
        if self.size == self.capacity:
            self._grow(self.capacity * 2)
        row = self.size
        self.size += 1
        self.ids.append(organization_id)
        self.row_of[organization_id] = row
        digest = hashlib.blake2b(organization_id.encode(), digest_size=8).digest()
        self.tiebreak[row] = int.from_bytes(digest, "big") / 2**64
        self.profiles.append(None)
        self.records.append(None)
        self.bands.append(None)
        self.places.append(frozenset())
        self.facts.append(None)
        self.reasons.append([])
        return row

    # -- updates -------------------------------------------------------------------------------
    def upsert(self, record: Candidate, embeddings: F32 | None = None) -> int:
        """Take a candidate's new state (profile, rating, flags); embeddings if already known."""
        row = self._row(record.organization_id)
        self.records[row] = record
        self.changes += 1
        self.bands[row] = record.band
        self.band_score[row] = BAND_SCORE.get(record.band or "", 0.5)
        self.band_conf[row] = record.band_confidence or 0.0
        self.reasons[row] = blocked_reasons(record)
        self.blocked[row] = bool(self.reasons[row])
        old = self.profiles[row]
        if record.profile is None:
            self.rankable[row] = False
        elif old is None or old.version != record.version:  # a rating or flag leaves the profile as is
            self._set_profile(row, read_profile(record.profile))
        if embeddings is not None:
            self.set_embeddings(record.organization_id, embeddings)
        return row

    def _set_profile(self, row: int, p: Profile) -> None:
        old = self.profiles[row]
        if old is not None:
            self._unindex(row, old)
        before = self._posted_columns(row, POSTED)
        self.profiles[row] = p
        v = self.vocab
        self.rankable[row] = p.status == "active" and p.identity.actor_type not in NEVER_PROPOSED_ACTORS
        self.willing[row] = p.cooperation.willing_to_cooperate is not False
        self.sector[row] = SECTORS.index(SECTOR_OF_ACTOR.get(p.identity.actor_type, "civil"))
        for matrix in (self.offer_kinds, self.need_kinds, self.programs, self.categories):
            matrix[row] = 0
        for matrix in (self.indicators, self.populations):
            matrix[row] = 0
        for o in p.cooperation.offers:
            if o.kind in v["kinds"].col:
                self.offer_kinds[row, v["kinds"].col[o.kind]] = 1.0
        needs = [n for n in p.cooperation.needs if n.kind in v["kinds"].col]
        for n, w in zip(needs, order_weights(len(needs)), strict=True):
            col = v["kinds"].col[n.kind]
            self.need_kinds[row, col] = max(self.need_kinds[row, col], w)
        total = self.need_kinds[row].sum()
        if total > 0:
            self.need_kinds[row] /= total
        self.has_needs[row] = total > 0
        for code in p.purpose.program_areas:
            cat = taxonomy().program_area_category(code)
            if code in v["programs"].col:
                self.programs[row, v["programs"].col[code]] = 1.0
            if cat in v["categories"].col:
                self.categories[row, v["categories"].col[cat]] = 1.0
        self.category_bits[row] = sum(1 << int(c) for c in np.flatnonzero(self.categories[row]))
        for code in p.purpose.social_indicators:
            if code in v["indicators"].col:
                self.indicators[row, v["indicators"].col[code]] = 1.0
        for code in p.purpose.target_populations:
            if code in v["populations"].col:
                self.populations[row, v["populations"].col[code]] = 1.0
        coords = p.where.coordinates
        self.lat[row] = coords.lat if coords else np.nan
        self.lon[row] = coords.lon if coords else np.nan
        places = frozenset(p.places())
        self.places[row] = places
        countries = sorted(c for c in places if "-" not in c)
        self.country[row] = (
            self.country_ids.setdefault(countries[0], len(self.country_ids)) if countries else -1
        )
        self.facts[row] = facts_of(p)
        for code in places:
            self._index_code("places", code, row)
        for code in p.where.languages:
            self._index_code("languages", code, row)
        for m in p.purpose.working_methods:
            self._index_code("methods", norm_method(m), row)
        self._index_code("actor_types", p.identity.actor_type, row)
        self._set_lend(row, repost=False)
        self._repost(row, before)
        texts = profile_texts(p)
        self.bm25.set_doc(row, f"{p.name}. {texts.purpose}. {texts.gives}")
        record = self.records[row]
        if record is None or record.embedded_hash != texts.digest():
            self.has_emb[row] = False

    def _unindex(self, row: int, p: Profile) -> None:
        for code in self.places[row]:
            self._index_code("places", code, row, add=False)
        for code in p.where.languages:
            self._index_code("languages", code, row, add=False)
        for m in p.purpose.working_methods:
            self._index_code("methods", norm_method(m), row, add=False)
        self._index_code("actor_types", p.identity.actor_type, row, add=False)

    def _set_lend(self, row: int, repost: bool = True) -> None:
        p = self.profiles[row]
        if p is None:
            return
        before = self._posted_columns(row, ("lend",)) if repost else {}
        self.lend[row] = 0
        for code in lendable_legitimacy(p, self.track_count.get(self.ids[row], 0)):
            self.lend[row, self.vocab["legitimacy"].col[code]] = 1.0
        if repost:
            self._repost(row, before)

    def _posted_columns(self, row: int, names: tuple[str, ...]) -> dict[str, npt.NDArray[np.int64]]:
        return {name: np.flatnonzero(getattr(self, name)[row]) for name in names}

    def _repost(self, row: int, before: dict[str, npt.NDArray[np.int64]]) -> None:
        """Move ``row`` in the postings of the matrices in ``before`` (their columns set before the
        row changed); a column whose rows or values may have changed drops its cached arrays."""
        for name, old in before.items():
            columns = self.postings[name]
            for col in old.tolist():
                columns[col].discard(row)
                self._posting_arrays.pop((name, col), None)
            for col in np.flatnonzero(getattr(self, name)[row]).tolist():
                columns[col].add(row)
                self._posting_arrays.pop((name, col), None)

    def set_embeddings(self, organization_id: str, vectors: F32) -> None:
        row = self.row_of.get(organization_id)
        if row is None:
            return
        matrix = vectors.reshape(len(SLOTS), DIM)
        for slot in range(len(SLOTS)):
            self.slot_vectors[slot][row] = matrix[slot]
        self.has_emb[row] = True
        self.changes += 1

    def set_alliance(self, record: AllianceRecord) -> None:
        old = self.alliances.get(record.alliance_id)
        self.alliances[record.alliance_id] = record
        touched = {p["organization_id"] for p in record.parties}
        if old is not None:
            touched |= {p["organization_id"] for p in old.parties}
        self._rebuild_relations(touched)
        self.changes += 1

    def _rebuild_relations(self, organizations: set[str]) -> None:
        for org in organizations:
            self.partners[org] = set()
            self.track_count[org] = 0
        for alliance in self.alliances.values():
            members = {p["organization_id"] for p in alliance.parties}
            for org in members & organizations:
                self.partners[org] |= members - {org}
                if alliance.stage in TRACK_STAGES:
                    self.track_count[org] += 1
        for org in organizations:
            row = self.row_of.get(org)
            if row is not None:
                self.track[row] = min(1.0, self.track_count[org] / 3)
                self._set_lend(row)

    # -- lookups -------------------------------------------------------------------------------
    def _index_code(self, kind: str, code: str, row: int, add: bool = True) -> None:
        if add:
            self.inverted[kind][code].add(row)
        else:
            self.inverted[kind][code].discard(row)
        self._arrays.pop((kind, code), None)
        self._masks.pop((kind, code), None)

    def _rows_array(self, kind: str, code: str) -> npt.NDArray[np.int64] | None:
        """The rows of one code as an array, kept until the code's rows change (``spa`` holds
        nearly every row: rebuilding it per request would cost more than the scoring)."""
        key = (kind, code)
        cached = self._arrays.get(key)
        if cached is None:
            rows = self.inverted[kind].get(code)
            if not rows:
                return None
            cached = np.fromiter(rows, dtype=np.int64, count=len(rows))
            self._arrays[key] = cached
        return cached

    def posting(self, name: str, col: int) -> tuple[npt.NDArray[np.int64], F32]:
        """The rows with a value in one column of a posted matrix, and those values."""
        key = (name, col)
        cached = self._posting_arrays.get(key)
        if cached is None:
            rows_set = self.postings[name][col]
            rows = np.fromiter(rows_set, dtype=np.int64, count=len(rows_set))
            cached = (rows, getattr(self, name)[rows, col])
            self._posting_arrays[key] = cached
        return cached

    def category_table(self, weights: F32) -> F32:
        """Per value of ``category_bits``, the sum of the categories' ``weights`` (halves and units:
        exact in any order, so equal to ``categories @ weights``)."""
        bits = (np.arange(1 << len(weights))[:, None] >> np.arange(len(weights))) & 1
        table: F32 = bits.astype(np.float32) @ weights
        return table

    def any_of(self, name: str, cols: list[int]) -> npt.NDArray[np.bool_]:
        """Rows with a value in any of ``cols`` of a posted matrix (over every row)."""
        mask = np.zeros(self.size, dtype=np.bool_)
        for col in set(cols):
            mask[self.posting(name, col)[0]] = True
        return mask

    def product(self, name: str, vector: F32, exact_sums: bool = False) -> F32:
        """``matrix[:size] @ vector`` for a posted matrix, from the postings of the vector's nonzero
        columns only, and exactly the float32 result BLAS gives: each product is exact (one side
        is 0/1) and a sum of at most two terms is rounded once whatever the order; rows with three
        or more terms take BLAS's own dot product — unless ``exact_sums`` says every partial sum is
        exact (counts, halves), so no order can change it."""
        matrix = getattr(self, name)
        out = np.zeros(self.size, dtype=np.float32)
        cols = np.flatnonzero(vector).tolist()
        terms = None if exact_sums or len(cols) < 3 else np.zeros(self.size, dtype=np.int8)
        for col in cols:
            rows, values = self.posting(name, col)
            out[rows] += values * vector[col]
            if terms is not None:
                terms[rows] += 1
        if terms is not None:
            many = np.flatnonzero(terms >= 3)
            if len(many):
                out[many] = np.take(matrix, many, axis=0) @ vector
        return out

    def rows_with(self, kind: str, codes: set[str] | list[str]) -> npt.NDArray[np.bool_]:
        mask = np.zeros(self.size, dtype=np.bool_)
        for code in codes:
            rows = self._rows_array(kind, code)
            if rows is None:
                continue
            if len(rows) * 16 < self.size:
                mask[rows] = True
                continue
            # Setting most rows one by one costs more than OR-ing a kept mask.
            cached = self._masks.get((kind, code))
            if cached is None or len(cached) != self.size:  # rows added since: built again
                cached = np.zeros(self.size, dtype=np.bool_)
                cached[rows] = True
                self._masks[(kind, code)] = cached
            mask |= cached
        return mask

    def profile_of(self, organization_id: str) -> Profile | None:
        row = self.row_of.get(organization_id)
        return self.profiles[row] if row is not None else None

    def embeddings_of(self, organization_id: str) -> F32 | None:
        row = self.row_of.get(organization_id)
        if row is None or not self.has_emb[row]:
            return None
        return np.stack([self.slot_vectors[s][row] for s in range(len(SLOTS))])

    def vectors(self, slot: int) -> F32:
        """Every row's vector of one text slot (a view: no copy)."""
        return self.slot_vectors[slot][: self.size]


def is_blocked(record: Candidate) -> bool:
    return bool(blocked_reasons(record))


def blocked_reasons(record: Candidate) -> list[str]:
    """Why due diligence blocks this organization from matching (empty: not blocked)."""
    reasons = []
    if record.band == "high":
        reasons.append("high_risk")
    if record.rating_red_flag:
        reasons.append("red_flag")
    if record.flag_blocking:
        reasons.append("blocking_flag")
    return reasons

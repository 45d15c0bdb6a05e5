"""Fuzzy screening of one name against watch-list entries, following the rules users expect:

* case, accents, punctuation and word order never matter; transliteration variants are equal;
* organizations: legal forms and generic words carry no weight; every distinctive word must find a
  counterpart (one extra word is tolerated when at least two match); an organization listed under
  exactly one country is not a hit for a query naming another country;
* people: the shorter name must be covered (a missing middle name or second surname still hits), but
  sharing only given names is not a hit; initials match their word; country never rules a hit out;
* a *low-quality* alias (UN list) hits only when the normalized names are equal.

:class:`ListIndex` finds candidates through an inverted index of words (fuzzy word lookup within the
same first letter and a compatible length), then scores them with :func:`score_name`, the same scorer a
pairwise scan would use.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from math import ceil, floor

from rapidfuzz import fuzz, process

from tejido_duediligence.screening.normalize import GIVEN_NAMES, tokens_for

# Hits score at least this (0–100) unless configured otherwise: low enough that one transposed pair
# of letters in a one-word name (87.5) is still found; reviewers adjudicate every hit anyway.
DEFAULT_THRESHOLD = 85.0
TOKEN_MIN = 80.0  # two words count as the same word from this similarity (0–100)
INITIAL_SIMILARITY = 90.0
PERSON_MISSING_WORD_PENALTY = 3.0
ORGANIZATION_EXTRA_WORD_PENALTY = 10.0


@dataclass(frozen=True)
class NameVariant:
    text: str
    quality: str = "primary"  # primary | good | low
    given: frozenset[str] = frozenset()  # words known to be given names (the UN list's FIRST_NAME)


@dataclass
class Entry:
    ref: str
    list_id: str
    version_id: str
    kind: str  # person | organization
    name: str
    names: list[NameVariant]
    countries: list[str] = field(default_factory=list)  # ISO 3166-1 alpha-2


@dataclass(frozen=True)
class TokenMatch:
    query: str
    listed: str
    similarity: float


@dataclass
class Hit:
    entry: Entry
    score: float
    variant: NameVariant
    tokens: list[TokenMatch]
    query: str
    country_match: str | None = None

    def matched_fields(self) -> list[dict[str, object]]:
        fields: list[dict[str, object]] = [
            {
                "field": "name" if self.variant.quality == "primary" else "alias",
                "quality": self.variant.quality,
                "query": self.query,
                "listed": self.variant.text,
                "words": [
                    {"query": t.query, "listed": t.listed, "similarity": round(t.similarity, 1)}
                    for t in self.tokens
                ],
            }
        ]
        if self.country_match:
            fields.append({"field": "country", "query": self.country_match, "listed": self.entry.countries})
        return fields


def token_similarity(a: str, b: str) -> float:
    if a == b:
        return 100.0
    if len(a) == 1 or len(b) == 1:
        short, long_ = (a, b) if len(a) == 1 else (b, a)
        return INITIAL_SIMILARITY if long_.startswith(short) else 0.0
    if min(len(a), len(b)) <= 3:
        return 0.0  # short words differ by one letter too easily ("ali" / "ale")
    return float(fuzz.ratio(a, b, score_cutoff=TOKEN_MIN))


def align(query: Sequence[str], listed: Sequence[str]) -> tuple[list[TokenMatch], list[str], list[str]]:
    """Pair words greedily, most similar first; returns the pairs and the unpaired words of each side."""
    candidates = sorted(
        (
            (sim, i, j)
            for i, q in enumerate(query)
            for j, e in enumerate(listed)
            if (sim := token_similarity(q, e)) >= TOKEN_MIN
        ),
        key=lambda c: (-c[0], c[1], c[2]),
    )
    used_q: set[int] = set()
    used_e: set[int] = set()
    pairs: list[TokenMatch] = []
    for sim, i, j in candidates:
        if i in used_q or j in used_e:
            continue
        used_q.add(i)
        used_e.add(j)
        pairs.append(TokenMatch(query[i], listed[j], sim))
    return (
        pairs,
        [q for i, q in enumerate(query) if i not in used_q],
        [e for j, e in enumerate(listed) if j not in used_e],
    )


def _mean(pairs: Sequence[TokenMatch]) -> float:
    return sum(p.similarity for p in pairs) / len(pairs)


def score_person(
    query: Sequence[str], listed: Sequence[str], given: frozenset[str]
) -> tuple[float, list[TokenMatch]]:
    pairs, extra_q, extra_e = align(query, listed)
    if not pairs or (extra_q and extra_e):
        return 0.0, pairs  # each side has words the other lacks (e.g. another surname)
    words = [p for p in pairs if len(p.query) > 1 and len(p.listed) > 1]
    if len(words) < 2 and not (len(query) == len(listed) == 1 and words and words[0].similarity == 100):
        return 0.0, pairs  # one shared word (and initials) never identifies a person
    if (extra_q or extra_e) and all(p.listed in given or p.listed in GIVEN_NAMES for p in words):
        return 0.0, pairs  # only given names in common, and a surname on one side only
    return _mean(pairs) - PERSON_MISSING_WORD_PENALTY * (len(extra_q) + len(extra_e)), pairs


def score_organization(query: Sequence[str], listed: Sequence[str]) -> tuple[float, list[TokenMatch]]:
    if not query or not listed:
        return 0.0, []  # nothing distinctive: generic words and legal forms alone are never a hit
    pairs, extra_q, extra_e = align(query, listed)
    extra = len(extra_q) + len(extra_e)
    if not pairs or (extra_q and extra_e) or (extra and (len(pairs) < 2 or extra > 1)):
        return 0.0, pairs
    return _mean(pairs) - ORGANIZATION_EXTRA_WORD_PENALTY * extra, pairs


def score_name(
    kind: str, query: Sequence[str], variant: NameVariant, listed: Sequence[str]
) -> tuple[float, list[TokenMatch]]:
    if variant.quality == "low":
        # A low-quality alias is too vague to match loosely: only the same normalized name counts.
        same = bool(query) and sorted(query) == sorted(listed)
        return (100.0, [TokenMatch(t, t, 100.0) for t in query]) if same else (0.0, [])
    if kind == "person":
        return score_person(query, listed, variant.given)
    return score_organization(query, listed)


def country_rules_out(kind: str, entry: Entry, country: str | None) -> bool:
    """An organization listed under exactly one country is not the one a query from another names."""
    return (
        kind == "organization"
        and bool(country)
        and len(entry.countries) == 1
        and entry.countries[0] != country
    )


def best_hit(
    kind: str,
    name: str,
    tokens: Sequence[str],
    country: str | None,
    entry: Entry,
    variants: Iterable[tuple[NameVariant, Sequence[str]]],
    threshold: float,
) -> Hit | None:
    if entry.kind != kind or country_rules_out(kind, entry, country):
        return None
    best: Hit | None = None
    for variant, listed in variants:
        score, pairs = score_name(kind, tokens, variant, listed)
        if score >= threshold and (best is None or score > best.score):
            best = Hit(entry, round(score, 1), variant, pairs, name)
    if best is not None and kind == "organization" and country and country in entry.countries:
        best.country_match = country
    return best


class ListIndex:
    """Every name of every entry of the current list versions, indexed by word."""

    def __init__(self, entries: Iterable[Entry]):
        self.entries: list[Entry] = []
        self.variants: list[list[tuple[NameVariant, tuple[str, ...]]]] = []
        self.postings: dict[tuple[str, str], set[int]] = defaultdict(set)
        vocab: dict[tuple[str, str, int], set[str]] = defaultdict(set)
        for entry in entries:
            index = len(self.entries)
            self.entries.append(entry)
            names: list[tuple[NameVariant, tuple[str, ...]]] = []
            for variant in entry.names:
                listed = tuple(tokens_for(variant.text, entry.kind))
                names.append((variant, listed))
                for token in listed:
                    if len(token) > 1:
                        self.postings[(entry.kind, token)].add(index)
                        vocab[(entry.kind, token[0], len(token))].add(token)
            self.variants.append(names)
        self.vocab: dict[tuple[str, str, int], list[str]] = {k: sorted(v) for k, v in vocab.items()}
        self._near: dict[tuple[str, str], tuple[str, ...]] = {}

    def __len__(self) -> int:
        return len(self.entries)

    def near(self, kind: str, token: str) -> tuple[str, ...]:
        """Listed words similar enough to ``token`` (same first letter; lengths a ratio ≥ 80 allows)."""
        key = (kind, token)
        found = self._near.get(key)
        if found is None:
            words: list[str] = []
            if len(token) <= 3:  # short words must be equal (see token_similarity)
                words = [token] if token in self.vocab.get((kind, token[0], len(token)), ()) else []
            else:
                # ratio = 2·common / (la + lb) ≥ 0.8 bounds the other length to [⅔·la, 1.5·la].
                for length in range(max(4, ceil(len(token) * 2 / 3)), floor(len(token) * 1.5) + 1):
                    bucket = self.vocab.get((kind, token[0], length))
                    if bucket:
                        matches = process.extract(
                            token, bucket, scorer=fuzz.ratio, score_cutoff=TOKEN_MIN, limit=None
                        )
                        words.extend(m[0] for m in matches)
            found = self._near[key] = tuple(words)
        return found

    def screen(self, name: str, kind: str, country: str | None, threshold: float) -> list[Hit]:
        tokens = tokens_for(name, kind)
        words = sorted({t for t in tokens if len(t) > 1})
        # How many of the query's words an entry shares (through any of its names): a hit needs
        # enough of them (see needed_words), so most candidates are dropped before scoring.
        shared: dict[int, int] = defaultdict(int)
        for token in words:
            found: set[int] = set()
            for word in self.near(kind, token):
                found |= self.postings[(kind, word)]
            for index in found:
                shared[index] += 1
        needed = needed_words(kind, len(words))
        hits = []
        for index, count in shared.items():
            if count < needed:
                continue
            hit = best_hit(kind, name, tokens, country, self.entries[index], self.variants[index], threshold)
            if hit is not None:
                hits.append(hit)
        return sorted(hits, key=lambda h: (-h.score, h.entry.list_id, h.entry.ref))


def needed_words(kind: str, words: int) -> int:
    """The fewest query words a listed name must share for any rule above to make it a hit.
    Organizations: every word but one, and both when there are two; people: two words (one for a
    one-word name)."""
    if kind == "person":
        return min(2, words)
    return words if words <= 2 else words - 1


def screen_pairwise(
    entries: Sequence[Entry], name: str, kind: str, country: str | None, threshold: float
) -> list[Hit]:
    """The naive baseline: every entry, every name, normalized and scored on the spot."""
    tokens = tokens_for(name, kind)
    hits = []
    for entry in entries:
        variants = [(v, tokens_for(v.text, entry.kind)) for v in entry.names]
        hit = best_hit(kind, name, tokens, country, entry, variants, threshold)
        if hit is not None:
            hits.append(hit)
    return sorted(hits, key=lambda h: (-h.score, h.entry.list_id, h.entry.ref))

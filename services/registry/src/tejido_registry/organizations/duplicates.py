"""Likely-duplicate detection: the same identifier, or a fuzzy match of any name or alias of two
organizations in the same country (accent-, case-, apostrophe- and word-order-insensitive).

Two names match when their normalized, word-sorted forms have a rapidfuzz ratio above the threshold
AND every word of the shorter name has a close counterpart in the longer one. Candidates are found
through an index of distinctive words (generic words such as "fundación" or "asociación" are not
indexed), so checking a name costs what its rare words cost, not the size of the country.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from tejido_registry.kit.text import STOPWORDS, name_key
from tejido_registry.organizations.repository import OrganizationRepository
from tejido_registry.organizations.schemas import LikelyDuplicate

TOKEN_SIMILARITY = 80.0
# Words so common in organization names (Spanish and English) that they say nothing about identity.
GENERIC_WORDS = STOPWORDS | frozenset(
    """
    ac a c sc iap abp ong ongs osc asociacion asociaciones association fundacion foundation
    organizacion organizaciones organization grupo group red network centro center centre instituto
    institute consejo council comite committee comision sociedad society civil nacional national
    internacional international social desarrollo development comunitaria comunitario community
    cooperativa cooperative union federacion federation secretaria ministerio ministry programa
    program proyecto project servicios services pro mexico mexicana mexicano
    """.split()
)


def words_agree(a: str, b: str) -> bool:
    """Every word of the shorter name has a close counterpart in the other (numbers and short words
    must be equal), so "Beta Asociación 4" is not taken for "Zeta Asociación 4" despite a high ratio."""
    short, long_ = sorted((a.split(), b.split()), key=len)
    for word in short:
        if len(word) < 4 or word.isdigit():
            if word not in long_:
                return False
        elif not any(fuzz.ratio(word, other) >= TOKEN_SIMILARITY for other in long_):
            return False
    return True


def name_keys(names: Iterable[str]) -> dict[str, str]:
    """Normalized key → the first spelling that produced it."""
    keys: dict[str, str] = {}
    for name in names:
        key = name_key(name)
        if key and key not in keys:
            keys[key] = name
    return keys


def _distinctive(key: str) -> list[str]:
    return [w for w in key.split() if w not in GENERIC_WORDS]


@dataclass
class _CountryNames:
    keys: list[str] = field(default_factory=list)
    owners: list[tuple[str, str]] = field(default_factory=list)  # (organization id, original spelling)
    exact: dict[str, str] = field(default_factory=dict)
    postings: dict[str, list[int]] = field(default_factory=dict)
    # distinctive words by first letter: spelling variants keep their first letter far more often than
    # not, and this keeps the fuzzy word lookup small as the country grows
    vocabulary: dict[str, list[str]] = field(default_factory=dict)
    generic_only: list[int] = field(default_factory=list)  # names made of generic words only
    # word → (how much of its first letter's vocabulary was compared, the close words found there):
    # the vocabulary only grows, so a word is only ever compared with the words added since
    similar: dict[str, tuple[int, list[str]]] = field(default_factory=dict)

    def add(self, key: str, org_id: str, name: str) -> None:
        idx = len(self.keys)
        self.keys.append(key)
        self.owners.append((org_id, name))
        self.exact.setdefault(key, org_id)
        words = _distinctive(key)
        if not words:
            self.generic_only.append(idx)
        for word in set(words):
            if word not in self.postings:
                self.postings[word] = []
                self.vocabulary.setdefault(word[0], []).append(word)
            self.postings[word].append(idx)

    def candidates(self, key: str) -> Iterable[int]:
        words = set(_distinctive(key))
        if not words:
            return range(len(self.keys))  # a generic-only name can only be checked against everything
        # Block on the rarer words only: a word shared by many names of the country (say "pueblo") is
        # as uninformative as a generic one; keep at least the rarest word.
        frequent = max(100, len(self.keys) // 20)
        ranked = sorted(words, key=lambda w: len(self.postings.get(w, ())))
        blocking = [w for w in ranked if len(self.postings.get(w, ())) <= frequent] or ranked[:1]
        found: set[int] = set(self.generic_only)
        for word in blocking:
            if len(word) < 4 or word.isdigit():
                found.update(self.postings.get(word, ()))
                continue
            for similar in self.similar_words(word):
                found.update(self.postings[similar])
        return found

    def similar_words(self, word: str) -> list[str]:
        """The known distinctive words close to ``word`` (same first letter). Remembered per word:
        comparing a word with its whole letter's vocabulary for every name checked cost more than
        anything else in duplicate detection, and more as the vocabulary grew."""
        bucket = self.vocabulary.get(word[0], [])
        seen, close = self.similar.get(word, (0, []))
        if seen < len(bucket):
            close = close + [
                other
                for other, _, _ in process.extract(
                    word, bucket[seen:], scorer=fuzz.ratio, score_cutoff=TOKEN_SIMILARITY, limit=None
                )
            ]
            self.similar[word] = (len(bucket), close)
        return close


class DuplicateIndex:
    """Names of one country's organizations, loaded once and kept current (bulk imports reuse it)."""

    def __init__(self, threshold: float):
        self.threshold = threshold
        self._countries: dict[str, _CountryNames] = {}

    def clear(self) -> None:
        """Forget every loaded country (after a rolled-back batch, the names it added are gone)."""
        self._countries = {}

    def _load(self, repo: OrganizationRepository, country: str) -> _CountryNames:
        if country not in self._countries:
            names = _CountryNames()
            for norm, org_id, name in repo.names_in_country(country):
                names.add(norm, org_id, name)
            self._countries[country] = names
        return self._countries[country]

    def find(
        self,
        repo: OrganizationRepository,
        country: str,
        names: Iterable[str],
        exclude_id: str | None = None,
    ) -> list[LikelyDuplicate]:
        index = self._load(repo, country)
        best: dict[str, LikelyDuplicate] = {}
        for key, original in name_keys(names).items():
            # In registration order; the ratios are computed in one call (the candidates grow with
            # the country, and a Python loop of one ratio each cost as much as the ratios).
            candidates = sorted(index.candidates(key))
            close = process.extract(
                key,
                [index.keys[idx] for idx in candidates],
                scorer=fuzz.ratio,
                score_cutoff=self.threshold,
                limit=None,
            )
            for _, score, position in sorted(close, key=lambda match: match[2]):
                idx = candidates[position]
                candidate = index.keys[idx]
                if not score or not words_agree(key, candidate):
                    continue
                org_id, matched = index.owners[idx]
                if org_id == exclude_id or (org_id in best and best[org_id].score >= score):
                    continue
                best[org_id] = LikelyDuplicate(
                    id=org_id,
                    legal_name="",
                    matched_name=matched,
                    score=round(score, 1),
                    reason=f"name {original!r} is like {matched!r} in the same country",
                )
        found = sorted(best.values(), key=lambda d: -d.score)
        names_by_id = repo.legal_names(d.id for d in found)
        for dup in found:
            dup.legal_name = names_by_id.get(dup.id, "")
        return found

    def exact(self, repo: OrganizationRepository, country: str, name: str) -> str | None:
        """The organization whose name or alias normalizes exactly like ``name`` in that country."""
        return self._load(repo, country).exact.get(name_key(name))

    def add(self, country: str, org_id: str, names: dict[str, str]) -> None:
        if country in self._countries:
            for key, name in names.items():
                self._countries[country].add(key, org_id, name)

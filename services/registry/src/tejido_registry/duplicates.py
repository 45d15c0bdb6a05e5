"""Likely-duplicate detection: the same identifier, or a fuzzy match of any name or alias of two
organizations in the same country (accent-, case-, apostrophe- and word-order-insensitive)."""

from __future__ import annotations

from collections.abc import Iterable

from rapidfuzz import fuzz, process

from tejido_registry.repository import OrganizationRepository
from tejido_registry.schemas import LikelyDuplicate
from tejido_registry.text import name_key

TOKEN_SIMILARITY = 80.0


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


class DuplicateIndex:
    """Names of one country's organizations, loaded once and kept current (bulk imports reuse it)."""

    def __init__(self, threshold: float):
        self.threshold = threshold
        self._countries: dict[str, tuple[list[str], list[tuple[str, str]]]] = {}

    def _load(self, repo: OrganizationRepository, country: str) -> tuple[list[str], list[tuple[str, str]]]:
        if country not in self._countries:
            rows = repo.names_in_country(country)
            self._countries[country] = ([r.norm for r in rows], [(r.organization_id, r.name) for r in rows])
        return self._countries[country]

    def find(
        self,
        repo: OrganizationRepository,
        country: str,
        names: Iterable[str],
        exclude_id: str | None = None,
    ) -> list[LikelyDuplicate]:
        keys, owners = self._load(repo, country)
        best: dict[str, LikelyDuplicate] = {}
        for key, original in name_keys(names).items():
            for _, score, idx in process.extract(
                key, keys, scorer=fuzz.ratio, score_cutoff=self.threshold, limit=None
            ):
                org_id, matched = owners[idx]
                if not words_agree(key, keys[idx]):
                    continue
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
        keys, owners = self._load(repo, country)
        key = name_key(name)
        for i, candidate in enumerate(keys):
            if candidate == key:
                return owners[i][0]
        return None

    def add(self, country: str, org_id: str, names: dict[str, str]) -> None:
        if country in self._countries:
            keys, owners = self._countries[country]
            for key, name in names.items():
                keys.append(key)
                owners.append((org_id, name))

"""Every screening rule, case by case (pure): the labelled hard hits and hard non-hits."""

from __future__ import annotations

import pytest

from tejido_duediligence.screening.cases import CASES, Case
from tejido_duediligence.screening.matcher import DEFAULT_THRESHOLD, ListIndex, screen_pairwise
from tejido_duediligence.screening.normalize import fold, organization_tokens, person_tokens

THRESHOLD = DEFAULT_THRESHOLD


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{'hit' if c.hit else 'miss'}: {c.rule}")
def test_rule(case: Case) -> None:
    hits = ListIndex([case.entry()]).screen(case.query, case.kind, case.country, THRESHOLD)
    assert bool(hits) is case.hit, [(h.score, h.tokens) for h in hits]
    if hits:
        assert hits[0].score >= THRESHOLD
        assert hits[0].matched_fields()[0]["listed"] == case.listed
    # The index finds exactly what a scan of every entry finds.
    scan = screen_pairwise([case.entry()], case.query, case.kind, case.country, THRESHOLD)
    assert [(h.entry.ref, h.score) for h in scan] == [(h.entry.ref, h.score) for h in hits]


def test_grameen_is_found_with_its_score_and_matched_words() -> None:
    case = CASES[0]
    assert (case.query, case.listed) == ("Grameen de la Frontera", "GRAMEEN DE LA FRONTERA A.C.")
    [hit] = ListIndex([case.entry()]).screen(case.query, case.kind, "MX", THRESHOLD)
    assert hit.score == 100.0
    fields = hit.matched_fields()
    assert [(w["query"], w["listed"]) for w in fields[0]["words"]] == [
        ("grameen", "grameen"),
        ("frontera", "frontera"),
    ]  # type: ignore[index]
    assert fields[1] == {"field": "country", "query": "MX", "listed": ["MX"]}


def test_normalization() -> None:
    assert fold("  GRAMEEN de la Frontera, A.C. ") == "grameen de la frontera ac"
    assert organization_tokens("Servicios Integrales S.A. de C.V.") == ["integrales"]
    assert organization_tokens("Fundación Desarrollo Comunitario A. C.") == []
    assert person_tokens("Mohammed Yousef Al-Rashid") == ["muhammad", "yusuf", "rashid"]
    assert person_tokens("Aleksandr Dostoevskiy") == person_tokens("Alexander Dostoevsky")


def test_threshold_is_tunable() -> None:
    index = ListIndex([c.entry(str(i)) for i, c in enumerate(CASES) if c.rule == "typo"])
    assert index.screen("Grammen de la Frontera", "organization", None, 85.0)
    assert not index.screen("Grammen de la Frontera", "organization", None, 99.0)


def test_index_and_pairwise_agree_on_a_mixed_list() -> None:
    entries = [c.entry(f"E{i}") for i, c in enumerate(CASES)]
    index = ListIndex(entries)
    for case in CASES:
        found = index.screen(case.query, case.kind, case.country, THRESHOLD)
        scan = screen_pairwise(entries, case.query, case.kind, case.country, THRESHOLD)
        assert [(h.entry.ref, h.score) for h in found] == [(h.entry.ref, h.score) for h in scan], case.rule

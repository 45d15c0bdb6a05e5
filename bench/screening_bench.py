"""Screening throughput and quality: screen N organization names against an M-entry watch list with the
service's indexed matcher, compare with a naive pairwise scan (every entry, every name, normalized and
scored per pair) measured in the same run on a sample, and report precision/recall on the labelled
hard cases (``tejido_duediligence.screening.cases``) and on near-duplicates planted in the generated names.

Pure in-process (no HTTP, no database): this measures the matching itself."""

from __future__ import annotations

import random
import time
from typing import Any

from bench.harness import log
from tejido_duediligence.screening.cases import CASES
from tejido_duediligence.screening.matcher import (
    DEFAULT_THRESHOLD,
    Entry,
    ListIndex,
    NameVariant,
    screen_pairwise,
)

__all__ = ["DEFAULT_THRESHOLD", "print_screening", "run_screening"]

COUNTRIES = ["MX", "GT", "HN", "SV", "NI", "CR", "PA", "CO", "EC", "PE", "BO", "CL"]
SYLLABLES = (
    "ba be bi bo bu ca ce ci co cu da de di do du fa fe fi fo ga go gu la le li lo lu ma me mi mo mu "
    "na ne ni no nu pa pe pi po pu ra re ri ro ru sa se si so su ta te ti to tu va ve vi za zo zu xo xi "
    "tla tzi chi cha que qui gua hue yo ya"
).split()
GENERIC = (
    "Fundación Asociación Red Centro Grupo Desarrollo Comunitario Servicios Cooperativa Instituto".split()
)
LEGAL = ["A.C.", "S.A. de C.V.", "S.C.", "I.A.P.", "LLC", "S.A.", "Ltda.", ""]
GIVEN = "Juan María José Ana Luis Carmen Muhammad Yusuf Aleksandr Olga Pedro Rosa".split()


def word(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize()


def org_name(rng: random.Random) -> str:
    distinctive = [word(rng) for _ in range(rng.randint(1, 3))]
    parts = [rng.choice(GENERIC), *distinctive] if rng.random() < 0.7 else distinctive
    if rng.random() < 0.3:
        parts.insert(1, "de la")
    return " ".join([*parts, rng.choice(LEGAL)]).strip()


def person_name(rng: random.Random) -> str:
    return f"{rng.choice(GIVEN)} {word(rng)} {word(rng)}"


def variation(rng: random.Random, name: str) -> str:
    """A near-duplicate a screener must still find: reordered, retyped, other legal form and case."""
    words = [w for w in name.split() if w not in LEGAL and w not in GENERIC and w not in ("de", "la")]
    rng.shuffle(words)
    if words and len(words[0]) > 6 and rng.random() < 0.5:
        w = words[0]
        i = rng.randrange(1, len(w) - 1)
        words[0] = w[:i] + w[i + 1] + w[i] + w[i + 2 :]  # swap two letters
    return " ".join([rng.choice(GENERIC), *words, rng.choice(LEGAL)]).upper()


def build_list(rng: random.Random, entries: int) -> list[Entry]:
    out = []
    for i in range(entries):
        if i % 4 == 3:
            name = person_name(rng)
            out.append(
                Entry(f"P{i}", "bench", "v1", "person", name, [NameVariant(name)], [rng.choice(COUNTRIES)])
            )
        else:
            name = org_name(rng)
            aliases = [NameVariant(org_name(rng), "good")] if rng.random() < 0.2 else []
            countries = [rng.choice(COUNTRIES)] if rng.random() < 0.8 else []
            out.append(
                Entry(f"E{i}", "bench", "v1", "organization", name, [NameVariant(name), *aliases], countries)
            )
    return out


def run_screening(
    *, names: int, entries: int, baseline_names: int, threshold: float, seed: int
) -> dict[str, Any]:
    rng = random.Random(seed)
    started = time.perf_counter()
    listed = build_list(rng, entries)
    orgs = [e for e in listed if e.kind == "organization"]
    planted: dict[int, str] = {}
    queries: list[tuple[str, str | None]] = []
    for i in range(names):
        if rng.random() < 0.02:  # 2% of the names are near-duplicates of listed organizations
            target = rng.choice(orgs)
            planted[i] = target.ref
            country = target.countries[0] if target.countries else None
            queries.append((variation(rng, target.name), country))
        else:
            queries.append((org_name(rng), rng.choice(COUNTRIES)))
    log(f"screening: {entries:,} entries, {names:,} names ({len(planted)} planted near-duplicates)")

    t0 = time.perf_counter()
    index = ListIndex(listed)
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    results = [index.screen(q, "organization", c, threshold) for q, c in queries]
    indexed_s = time.perf_counter() - t0
    indexed_rate = names / indexed_s

    sample = list(range(min(baseline_names, names)))
    t0 = time.perf_counter()
    baseline = [
        screen_pairwise(listed, queries[i][0], "organization", queries[i][1], threshold) for i in sample
    ]
    baseline_s = time.perf_counter() - t0
    baseline_rate = len(sample) / baseline_s
    agree = sum(
        [(h.entry.ref, h.score) for h in baseline[k]] == [(h.entry.ref, h.score) for h in results[i]]
        for k, i in enumerate(sample)
    )

    found = sum(1 for i, ref in planted.items() if any(h.entry.ref == ref for h in results[i]))
    other_hits = sum(1 for i, hits in enumerate(results) if i not in planted and hits)
    tp = fp = fn = tn = 0
    for case in CASES:
        hit = bool(ListIndex([case.entry()]).screen(case.query, case.kind, case.country, threshold))
        tp += hit and case.hit
        fp += hit and not case.hit
        fn += (not hit) and case.hit
        tn += (not hit) and not case.hit
    total_s = time.perf_counter() - started
    return {
        "names": names,
        "entries": entries,
        "threshold": threshold,
        "index_build_s": round(build_s, 2),
        "indexed_s": round(indexed_s, 2),
        "indexed_names_per_s": round(indexed_rate, 1),
        "baseline_sample": len(sample),
        "baseline_s": round(baseline_s, 2),
        "baseline_names_per_s": round(baseline_rate, 2),
        "speedup": round(indexed_rate / baseline_rate, 1),
        "baseline_agreement": f"{agree}/{len(sample)}",
        "planted": len(planted),
        "planted_found": found,
        "unplanted_names_with_hits": other_hits,
        "cases": {"tp": tp, "fp": fp, "fn": fn, "tn": tn},
        "precision": round(tp / (tp + fp), 3) if tp + fp else None,
        "recall": round(tp / (tp + fn), 3) if tp + fn else None,
        "total_s": round(total_s, 1),
    }


def print_screening(r: dict[str, Any]) -> None:
    print(
        f"\nScreening {r['names']:,} organization names against {r['entries']:,} entries "
        f"(threshold {r['threshold']})\n"
        f"  indexed matcher: {r['indexed_names_per_s']:,} names/s ({r['indexed_s']} s, index built in "
        f"{r['index_build_s']} s)\n"
        f"  naive pairwise baseline: {r['baseline_names_per_s']} names/s (sample of {r['baseline_sample']}, "
        f"{r['baseline_s']} s); same hits on {r['baseline_agreement']}\n"
        f"  speed-up: {r['speedup']}× (target ≥ 20×); total {r['total_s']} s (target ≤ 60 s)\n"
        f"  planted near-duplicates found: {r['planted_found']}/{r['planted']}; other names with hits: "
        f"{r['unplanted_names_with_hits']}\n"
        f"  labelled hard cases: precision {r['precision']}, recall {r['recall']} ({r['cases']})"
    )

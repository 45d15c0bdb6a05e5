"""Evidence and a one-line reason per feature, in Spanish or English, for the returned page only."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from tejido_matching.ranking.facts import Facts, facts_of
from tejido_matching.ranking.geo import haversine_km

if TYPE_CHECKING:
    from tejido_matching.ranking.index import CandidateIndex
    from tejido_matching.ranking.scoring import RankQuery

Lang = Literal["es", "en"]

REASONS: dict[str, dict[Lang, str]] = {
    "complementarity": {
        "en": "Offers {given} of what you need; you offer {received} of what it needs",
        "es": "Ofrece {given} de lo que necesitas; tú ofreces {received} de lo que necesita",
    },
    "objective_fit": {
        "en": "Shared program areas {areas}; mission similarity {text}",
        "es": "Áreas de programa en común {areas}; similitud de misión {text}",
    },
    "territory": {"en": "Works in {places}{distance}", "es": "Trabaja en {places}{distance}"},
    "populations_methods": {
        "en": "Serves {populations}; methods in common {methods}",
        "es": "Atiende a {populations}; métodos en común {methods}",
    },
    "language": {"en": "Languages in common: {languages}", "es": "Idiomas en común: {languages}"},
    "sector_diversity": {
        "en": "Adds the {sector} sector to a coalition of {present}",
        "es": "Suma el sector {sector} a una coalición de {present}",
    },
    "legitimacy_fit": {
        "en": "Can lend the legitimacy you seek: {types}",
        "es": "Puede aportar la legitimidad que buscas: {types}",
    },
    "trust": {
        "en": "Due-diligence band {band}; {alliances} earlier alliances; shared partners {shared}",
        "es": "Riesgo de debida diligencia {band}; {alliances} alianzas previas; socios en común {shared}",
    },
}
NONE: dict[Lang, str] = {"en": "none", "es": "ninguno"}
SEARCH_REASON: dict[Lang, str] = {
    "en": "Its offers and mission match the need (text similarity {score})",
    "es": "Sus ofertas y misión responden a la necesidad (similitud de texto {score})",
}


def _list(values: list[str] | set[str] | frozenset[str], lang: Lang) -> str:
    return ", ".join(sorted(values)) if values else NONE[lang]


def _pairs(giver: Facts, taker: Facts, direction: str) -> list[dict[str, Any]]:
    pairs = []
    for n in taker.needs:
        match = giver.first_offer.get(n.kind)
        if match is not None:
            pairs.append(
                {
                    "direction": direction,
                    "kind": n.kind,
                    "need": n.description,
                    "offer": match.description,
                }
            )
    return pairs


class Explainer:
    """Evidence for the items of one page: the requester's side is prepared once per request."""

    def __init__(self, index: CandidateIndex, q: RankQuery, lang: Lang):
        self.index, self.q, self.lang = index, q, lang
        r = q.requester
        self.r = facts_of(r)
        self.targets = q.target_places or (self.r.places | self.r.wanted_places)
        self.coalition = _list(q.coalition_sectors, lang)
        self.coalition_sorted = sorted(q.coalition_sectors)
        self.sought = r.cooperation.legitimacy_sought
        legitimacy = index.vocab["legitimacy"].col
        self.sought_cols = [(t, legitimacy[t]) for t in self.sought if t in legitimacy]
        self.reason = {feature: texts[lang] for feature, texts in REASONS.items()}
        self.mine: set[str] = set()
        for rid in q.requester_ids:
            self.mine |= index.partners.get(rid, set())

    def explain(self, row: int, values: dict[str, float]) -> dict[str, dict[str, Any]]:
        index, q, lang, r = self.index, self.q, self.lang, self.r
        c = index.facts[row]
        assert c is not None
        out: dict[str, dict[str, Any]] = {}
        if q.need_text is not None:
            out["complementarity"] = {
                "reason": SEARCH_REASON[lang].format(score=f"{values['complementarity']:.2f}"),
                "need": q.need_text,
                "offers": [dict(o) for o in c.offers],
            }
        else:
            given = _pairs(c, r, "candidate_offers")
            received = _pairs(r, c, "requester_offers")
            out["complementarity"] = {
                "reason": self.reason["complementarity"].format(
                    given=_list({p["kind"] for p in given}, lang),
                    received=_list({p["kind"] for p in received}, lang),
                ),
                "pairs": given + received,
            }
        shared_areas = sorted(r.areas & c.areas)
        text = 0.0
        if q.embeddings is not None and index.has_emb[row]:
            text = float(np.dot(index.slot_vectors[0][row], q.embeddings[0]))
        out["objective_fit"] = {
            "reason": self.reason["objective_fit"].format(
                areas=_list(shared_areas, lang), text=f"{text:.2f}"
            ),
            "shared_program_areas": shared_areas,
            "shared_categories": sorted(r.categories & c.categories),
            "shared_social_indicators": sorted(r.indicators & c.indicators),
            "text_cosine": round(text, 4),
        }
        places = sorted(self.targets & c.places)
        distance = None
        if r.coordinates is not None and c.coordinates is not None:
            km = haversine_km(
                r.coordinates[0],
                r.coordinates[1],
                np.array([c.coordinates[0]], dtype=np.float32),
                np.array([c.coordinates[1]], dtype=np.float32),
            )
            distance = round(float(km[0]), 1)
        out["territory"] = {
            "reason": self.reason["territory"].format(
                places=_list(places, lang), distance=f" ({distance} km)" if distance is not None else ""
            ),
            "shared_places": places,
            "distance_km": distance,
        }
        pops = sorted(r.populations & c.populations)
        methods = sorted(r.methods & c.methods)
        out["populations_methods"] = {
            "reason": self.reason["populations_methods"].format(
                populations=_list(pops, lang), methods=_list(methods, lang)
            ),
            "shared_populations": pops,
            "shared_methods": methods,
        }
        langs = sorted(r.languages & c.languages)
        out["language"] = {
            "reason": self.reason["language"].format(languages=_list(langs, lang)),
            "shared_languages": langs,
        }
        out["sector_diversity"] = {
            "reason": self.reason["sector_diversity"].format(sector=c.sector, present=self.coalition),
            "candidate_sector": c.sector,
            "coalition_sectors": list(self.coalition_sorted),
        }
        types = []
        if self.sought_cols:
            lend = index.lend[row]
            types = [t for t, col in self.sought_cols if lend[col] > 0]
        out["legitimacy_fit"] = {
            "reason": self.reason["legitimacy_fit"].format(types=_list(types, lang)),
            "sought": list(self.sought),
            "lendable": types,
        }
        org = index.ids[row]
        shared = sorted(index.partners.get(org, set()) & self.mine)
        band = index.bands[row]
        alliances = index.track_count.get(org, 0)
        out["trust"] = {
            "reason": self.reason["trust"].format(
                band=band or NONE[lang], alliances=alliances, shared=len(shared)
            ),
            "band": band,
            "band_confidence": float(index.band_conf[row]) if band else None,
            "earlier_alliances": alliances,
            "shared_partners": shared,
        }
        return out

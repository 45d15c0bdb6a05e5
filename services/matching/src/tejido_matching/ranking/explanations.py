"""Evidence and a one-line reason per feature, in Spanish or English, for the returned page only."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from tejido_common.taxonomy import taxonomy
from tejido_matching.kit.profiles import SECTOR_OF_ACTOR, CooperationItem, Profile
from tejido_matching.ranking.index import CandidateIndex, haversine_km, norm_method
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


def _list(values: list[str] | set[str], lang: Lang) -> str:
    return ", ".join(sorted(values)) if values else NONE[lang]


def _pairs(giver: Profile, taker: Profile, direction: str) -> list[dict[str, Any]]:
    pairs = []
    offers: dict[str, CooperationItem] = {}
    for o in giver.cooperation.offers:
        offers.setdefault(o.kind, o)
    for n in taker.cooperation.needs:
        match = offers.get(n.kind)
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


def explain(
    index: CandidateIndex, row: int, values: dict[str, float], q: RankQuery, lang: Lang
) -> dict[str, dict[str, Any]]:
    c = index.profiles[row]
    assert c is not None
    r = q.requester
    out: dict[str, dict[str, Any]] = {}
    if q.need_text is not None:
        out["complementarity"] = {
            "reason": SEARCH_REASON[lang].format(score=f"{values['complementarity']:.2f}"),
            "need": q.need_text,
            "offers": [{"kind": o.kind, "description": o.description} for o in c.cooperation.offers],
        }
    else:
        given = _pairs(c, r, "candidate_offers")
        received = _pairs(r, c, "requester_offers")
        out["complementarity"] = {
            "reason": REASONS["complementarity"][lang].format(
                given=_list({p["kind"] for p in given}, lang),
                received=_list({p["kind"] for p in received}, lang),
            ),
            "pairs": given + received,
        }
    tax = taxonomy()
    shared_areas = sorted(set(r.purpose.program_areas) & set(c.purpose.program_areas))
    shared_cats = sorted(
        {tax.program_area_category(a) for a in r.purpose.program_areas}
        & {tax.program_area_category(a) for a in c.purpose.program_areas} - {None}
    )  # type: ignore[type-var]
    text = 0.0
    if q.embeddings is not None and index.has_emb[row]:
        text = float(np.dot(index.vectors(0)[row], q.embeddings[0]))
    out["objective_fit"] = {
        "reason": REASONS["objective_fit"][lang].format(areas=_list(shared_areas, lang), text=f"{text:.2f}"),
        "shared_program_areas": shared_areas,
        "shared_categories": shared_cats,
        "shared_social_indicators": sorted(
            set(r.purpose.social_indicators) & set(c.purpose.social_indicators)
        ),
        "text_cosine": round(text, 4),
    }
    targets = q.target_places or (r.places() | r.wanted_places())
    places = sorted(targets & c.places())
    distance = None
    rc, cc = r.where.coordinates, c.where.coordinates
    if rc is not None and cc is not None:
        km = haversine_km(
            rc.lat, rc.lon, np.array([cc.lat], dtype=np.float32), np.array([cc.lon], dtype=np.float32)
        )
        distance = round(float(km[0]), 1)
    out["territory"] = {
        "reason": REASONS["territory"][lang].format(
            places=_list(places, lang), distance=f" ({distance} km)" if distance is not None else ""
        ),
        "shared_places": places,
        "distance_km": distance,
    }
    pops = sorted(set(r.purpose.target_populations) & set(c.purpose.target_populations))
    methods = sorted(
        {norm_method(m) for m in r.purpose.working_methods}
        & {norm_method(m) for m in c.purpose.working_methods}
    )
    out["populations_methods"] = {
        "reason": REASONS["populations_methods"][lang].format(
            populations=_list(pops, lang), methods=_list(methods, lang)
        ),
        "shared_populations": pops,
        "shared_methods": methods,
    }
    langs = sorted(set(r.where.languages) & set(c.where.languages))
    out["language"] = {
        "reason": REASONS["language"][lang].format(languages=_list(langs, lang)),
        "shared_languages": langs,
    }
    sector = SECTOR_OF_ACTOR.get(c.identity.actor_type, "civil")
    out["sector_diversity"] = {
        "reason": REASONS["sector_diversity"][lang].format(
            sector=sector, present=_list(q.coalition_sectors, lang)
        ),
        "candidate_sector": sector,
        "coalition_sectors": sorted(q.coalition_sectors),
    }
    lend_cols = index.lend[row]
    types = [
        t
        for t in r.cooperation.legitimacy_sought
        if t in index.vocab["legitimacy"].col and lend_cols[index.vocab["legitimacy"].col[t]] > 0
    ]
    out["legitimacy_fit"] = {
        "reason": REASONS["legitimacy_fit"][lang].format(types=_list(types, lang)),
        "sought": r.cooperation.legitimacy_sought,
        "lendable": types,
    }
    org = index.ids[row]
    mine: set[str] = set()
    for rid in q.requester_ids:
        mine |= index.partners.get(rid, set())
    shared = sorted(index.partners.get(org, set()) & mine)
    band = index.bands[row]
    out["trust"] = {
        "reason": REASONS["trust"][lang].format(
            band=band or NONE[lang], alliances=index.track_count.get(org, 0), shared=len(shared)
        ),
        "band": band,
        "band_confidence": float(index.band_conf[row]) if band else None,
        "earlier_alliances": index.track_count.get(org, 0),
        "shared_partners": shared,
    }
    return out

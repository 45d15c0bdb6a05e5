"""Deterministic, realistic organization data for the benchmarks (CSV rows as the import takes them).

Everything comes from one seeded :class:`random.Random`, so the same seed always yields the same rows
in the same order. Organizations are spread over twelve Latin-American countries with real ISO 3166-2
subdivisions, weighted actor types, taxonomy codes of the project, Spanish (sometimes indigenous or
English) languages and a one-sentence mission.

Names matter: the registry rejects a likely duplicate (fuzzy name match in the same country). A name
is a generic prefix ("Fundación", "Red", "Cooperativa", …) plus two or three *distinctive* invented
words drawn from a vocabulary whose words are pairwise dissimilar (rapidfuzz ratio < 80, also against
every fixed word used in names), and no *pair* of distinctive words is ever used by two organizations.
So of any two names, the shorter always has a word with no close counterpart in the other, which the
registry's duplicate rule (every word of the shorter name must be close to a word of the other) never
takes for the same organization: a generated data set imports with 0 failed rows.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pycountry
from rapidfuzz import fuzz, process
from unidecode import unidecode

from tejido_common.taxonomy import taxonomy

DEFAULT_SEED = 20_240_611
IDENTIFIER_SCHEME = "XX-BENCH"
WORD_SIMILARITY_LIMIT = 80.0  # the registry's TOKEN_SIMILARITY: words this close count as the same word

# The CSV columns the generator fills (all of them are columns of tejido_registry.organizations.bulk.tabular).
HEADER = [
    "status",
    "legal_name",
    "aliases",
    "acronym",
    "identifiers",
    "actor_type",
    "cso_subtype",
    "government_level",
    "legal_form",
    "founding_year",
    "country",
    "subdivisions",
    "municipalities",
    "areas_of_operation",
    "scope",
    "languages",
    "mission",
    "program_areas",
    "social_indicators",
    "target_populations",
    "staff",
    "volunteers",
    "annual_budget_amount",
    "annual_budget_currency",
    "funding_mix",
    "offers",
    "needs",
    "willing_to_cooperate",
]


@dataclass(frozen=True)
class CountryProfile:
    code: str
    weight: int  # relative share of the organizations
    currency: str
    indigenous: tuple[str, ...]  # ISO 639-3 codes spoken there
    company_suffix: str


COUNTRIES = (
    CountryProfile("MX", 24, "MXN", ("nhe", "yua", "tzo", "tzh", "zap", "mix", "maz", "tar"), "S.A. de C.V."),
    CountryProfile("CO", 13, "COP", ("guc", "pbb"), "S.A.S."),
    CountryProfile("PE", 10, "PEN", ("quy", "quz", "ayr", "shp", "cni"), "S.A.C."),
    CountryProfile("AR", 10, "ARS", ("qus", "tob", "arn"), "S.R.L."),
    CountryProfile("GT", 8, "GTQ", ("quc", "kek", "mam", "cak"), "S.A."),
    CountryProfile("CL", 7, "CLP", ("arn",), "SpA"),
    CountryProfile("EC", 7, "USD", ("qug", "jiv"), "Cía. Ltda."),
    CountryProfile("BO", 6, "BOB", ("ayr", "quh", "gui"), "S.R.L."),
    CountryProfile("HN", 4, "HNL", ("miq", "cab"), "S. de R.L."),
    CountryProfile("PY", 4, "PYG", ("gug",), "S.A."),
    CountryProfile("SV", 3, "USD", ("ppl",), "S.A. de C.V."),
    CountryProfile("NI", 3, "NIO", ("miq", "cab"), "S.A."),
)

ACTOR_TYPES = {  # actor type → weight
    "cso": 60,
    "government": 10,
    "private_company": 5,
    "academia": 5,
    "corporate_foundation": 3,
    "private_foundation": 3,
    "cooperative": 3,
    "community_authority": 2,
    "network": 2,
    "faith_based": 2,
    "public_company": 1,
    "international_organization": 1,
    "donor_agency": 1,
    "media": 1,
    "individuals_group": 1,
    "informal": 1,
}
CSO_SUBTYPES = {
    "ngo": 34,
    "community_organization": 15,
    "grassroots_association": 12,
    "environmental_group": 8,
    "womens_rights_organization": 8,
    "research_center": 5,
    "cooperative": 5,
    "network_of_csos": 5,
    "trade_union": 4,
    "observatory": 3,
}
GOVERNMENT_LEVELS = {
    "municipality": 45,
    "state_or_region": 22,
    "province": 10,
    "national": 12,
    "ejido_or_community": 10,
    "supranational": 1,
}
POPULATIONS = {
    "general_community": 14,
    "women": 12,
    "children": 10,
    "youth": 10,
    "families": 9,
    "indigenous_peoples": 8,
    "peasants_and_rural_producers": 7,
    "elderly": 5,
    "people_with_disabilities": 4,
    "migrants": 4,
    "micro_entrepreneurs": 4,
    "high_risk_children": 3,
    "indigenous_women": 3,
    "pregnant_women_and_children_under_5": 3,
    "men": 2,
    "prosumers": 1,
}

# Name prefixes by actor type; "{w}" is the distinctive part (two or three invented words).
NAME_TEMPLATES: dict[str, tuple[str, ...]] = {
    "cso": (
        "Fundación {w}",
        "Asociación {w}",
        "Asociación Civil {w}",
        "Red {w}",
        "Colectivo {w}",
        "Centro {w}",
        "Grupo {w}",
        "Instituto {w}",
        "Comité {w}",
        "Organización {w}",
        "Unión de Mujeres {w}",
        "Centro de Estudios {w}",
        "{w} Foundation",
        "{w} Community Network",
    ),
    "government": (
        "Municipalidad de {w}",
        "Gobierno Municipal de {w}",
        "Secretaría de Bienestar {w}",
        "Consejo Regional {w}",
        "Alcaldía {w}",
    ),
    "private_company": ("{w} {suffix}", "Grupo Empresarial {w}", "Comercializadora {w}"),
    "public_company": ("Empresa Pública {w}", "Servicios Públicos {w}"),
    "academia": ("Universidad {w}", "Instituto Tecnológico {w}", "Escuela Normal {w}", "{w} University"),
    "corporate_foundation": ("Fundación Empresarial {w}", "Fundación {w}"),
    "private_foundation": ("Fundación Familia {w}", "Fundación {w}"),
    "cooperative": ("Cooperativa {w}", "Cooperativa Agropecuaria {w}", "Cooperativa de Ahorro {w}"),
    "community_authority": ("Comunidad Indígena {w}", "Ejido {w}", "Cabildo {w}"),
    "network": ("Red {w}", "Alianza {w}", "Coordinadora {w}"),
    "faith_based": ("Pastoral Social {w}", "Cáritas {w}", "Misión {w}"),
    "international_organization": ("Programa Regional {w}", "{w} International"),
    "donor_agency": ("Agencia de Cooperación {w}", "Fondo {w}"),
    "media": ("Radio Comunitaria {w}", "Colectivo de Comunicación {w}"),
    "individuals_group": ("Grupo {w}", "Vecinos de {w}"),
    "informal": ("Colectivo {w}", "Brigada {w}"),
}
# Every fixed word that may appear in a name: vocabulary words must be far from all of them.
FIXED_NAME_WORDS = sorted(
    {
        word
        for templates in NAME_TEMPLATES.values()
        for template in templates
        for word in unidecode(template.replace("{w}", " ").replace("{suffix}", " ")).lower().split()
    }
    | {w for c in COUNTRIES for w in unidecode(c.company_suffix).lower().replace(".", " ").split()}
)

LEGAL_FORMS = {
    "cso": ("Asociación Civil", "Fundación", "Organización No Gubernamental", "Sociedad Civil"),
    "cooperative": ("Sociedad Cooperativa",),
    "private_company": ("Sociedad Anónima", "Sociedad por Acciones Simplificada"),
}

GOALS = {  # program category → (Spanish, English) goals
    "HE": (
        ("fortalecer la economía familiar", "strengthen household economies"),
        ("impulsar el emprendimiento productivo", "support productive enterprises"),
        ("mejorar la seguridad alimentaria", "improve food security"),
    ),
    "ED": (
        ("mejorar la educación básica", "improve basic education"),
        ("promover la alfabetización", "promote literacy"),
        ("ampliar la formación técnica", "expand technical training"),
    ),
    "HL": (
        ("promover la salud física y emocional", "promote physical and emotional health"),
        ("combatir la desnutrición infantil", "fight child malnutrition"),
        ("mejorar la salud materna", "improve maternal health"),
    ),
    "HO": (
        ("impulsar la vivienda digna", "promote decent housing"),
        ("garantizar el acceso al agua potable", "secure access to drinking water"),
        ("mejorar las viviendas rurales", "improve rural homes"),
    ),
    "EN": (
        ("fomentar el cuidado del medio ambiente", "foster care for the environment"),
        ("conservar los bosques y las cuencas", "conserve forests and watersheds"),
        ("reducir y reciclar los residuos", "reduce and recycle waste"),
    ),
}
POPULATION_PHRASES = {
    "general_community": ("la comunidad", "the community"),
    "women": ("las mujeres", "women"),
    "children": ("niñas y niños", "children"),
    "youth": ("las juventudes", "young people"),
    "families": ("las familias", "families"),
    "indigenous_peoples": ("los pueblos indígenas", "indigenous peoples"),
    "peasants_and_rural_producers": ("las familias campesinas", "smallholder farmers"),
    "elderly": ("las personas mayores", "older people"),
    "people_with_disabilities": ("las personas con discapacidad", "people with disabilities"),
    "migrants": ("las personas migrantes", "migrants"),
    "micro_entrepreneurs": ("las y los microempresarios", "micro-entrepreneurs"),
    "high_risk_children": ("la niñez en situación de riesgo", "children at risk"),
    "indigenous_women": ("las mujeres indígenas", "indigenous women"),
    "pregnant_women_and_children_under_5": (
        "las madres gestantes y la primera infancia",
        "mothers and infants",
    ),
    "men": ("los hombres", "men"),
    "prosumers": ("las y los prosumidores", "prosumers"),
}
# Words of the missions, to search for a frequent word (many organizations match).
FREQUENT_WORDS = ("salud", "mujeres", "familias", "educacion", "comunidad", "vivienda")

ONSETS = (
    "b", "c", "ch", "d", "g", "h", "hu", "j", "l", "m", "n", "p", "qu", "r", "s", "t", "tl", "tz",
    "x", "y", "z", "br", "pr", "tr", "cl", "gu", "ñ", "ll", "v", "f",
)  # fmt: skip
VOWELS = ("a", "e", "i", "o", "u", "a", "e", "i", "o", "a")
CODAS = ("", "", "", "", "", "n", "l", "r", "s")
ACCENTS = {"a": "á", "e": "é", "i": "í", "o": "ó", "u": "ú"}


def _cumulative(weights: list[float]) -> list[float]:
    total, out = 0.0, []
    for w in weights:
        total += w
        out.append(total)
    return out


def _weighted(weights: dict[str, int]) -> tuple[list[str], list[float]]:
    """Population and cumulative weights, for ``rng.choices(population, cum_weights=...)``."""
    return list(weights), _cumulative([float(w) for w in weights.values()])


def build_vocabulary(rng: random.Random, size: int) -> list[str]:
    """``size`` invented lower-case ASCII words of 5–9 letters, pairwise (and against every fixed word
    of the name templates) below the registry's word-similarity threshold."""
    accepted: list[str] = []
    taken = set(FIXED_NAME_WORDS)
    attempts = 0
    while len(accepted) < size:
        attempts += 1
        if attempts > size * 50:
            raise RuntimeError(f"could only build {len(accepted)} dissimilar words out of {size}")
        syllables = rng.choice((2, 3, 3))
        word = "".join(
            ("" if i == 0 and rng.random() < 0.15 else rng.choice(ONSETS))
            + rng.choice(VOWELS)
            + (rng.choice(CODAS) if i else "")
            for i in range(syllables)
        )
        word = unidecode(word)  # ñ → n: the vocabulary is kept in normalized (ASCII) form
        if not 5 <= len(word) <= 9 or word in taken:
            continue
        if process.extractOne(word, FIXED_NAME_WORDS, scorer=fuzz.ratio, score_cutoff=WORD_SIMILARITY_LIMIT):
            continue
        if process.extractOne(word, accepted, scorer=fuzz.ratio, score_cutoff=WORD_SIMILARITY_LIMIT):
            continue
        accepted.append(word)
        taken.add(word)
    return accepted


def _display(word: str, rng: random.Random) -> str:
    """Capitalized, now and then with an accent (normalizes back to the same ASCII word)."""
    if rng.random() < 0.2:
        vowels = [i for i, ch in enumerate(word) if ch in ACCENTS]
        if vowels:
            i = rng.choice(vowels)
            word = word[:i] + ACCENTS[word[i]] + word[i + 1 :]
    return word.capitalize()


@dataclass(frozen=True)
class Hint:
    """What the search benchmark needs to know about a generated organization to query for it."""

    number: int
    country: str
    actor_type: str
    subdivisions: tuple[str, ...]
    program_areas: tuple[str, ...]
    populations: tuple[str, ...]
    languages: tuple[str, ...]
    words: tuple[str, ...]  # the distinctive words of its name (normalized)
    identifier: str


@dataclass
class GeneratedOrg:
    row: dict[str, str]
    hint: Hint


@dataclass
class OrgGenerator:
    """Organizations one after the other; ``start`` is the first identifier number."""

    seed: int = DEFAULT_SEED
    vocabulary_size: int = 4000
    start: int = 1
    rng: random.Random = field(init=False)
    vocabulary: list[str] = field(init=False)
    _used_pairs: set[tuple[int, int]] = field(init=False, default_factory=set)
    _next: int = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.vocabulary = build_vocabulary(random.Random(self.seed + 1), self.vocabulary_size)
        self._next = self.start
        tax = taxonomy()
        self._countries = list(COUNTRIES)
        self._country_weights = _cumulative([float(c.weight) for c in COUNTRIES])
        self._subdivisions: dict[str, tuple[list[str], list[float], dict[str, str]]] = {}
        for country in COUNTRIES:
            subs = sorted(
                (s for s in pycountry.subdivisions.get(country_code=country.code) if s.parent_code is None),
                key=lambda s: s.code,
            )
            codes = [s.code for s in subs]
            order = list(range(len(codes)))
            random.Random(f"{self.seed}-{country.code}").shuffle(order)
            # a few subdivisions (capitals, big states) hold more organizations than the others
            weights = [1.0 / (1 + rank) ** 0.7 for rank in order]
            self._subdivisions[country.code] = (codes, _cumulative(weights), {s.code: s.name for s in subs})
        self._languages = {
            c.code: tuple(code for code in c.indigenous if pycountry.languages.get(alpha_3=code))
            for c in COUNTRIES
        }
        self._programs = list(tax.programs)
        self._categories = list(tax.program_categories)
        self._indicators = list(tax.social_indicators)
        self._kinds = list(tax.cooperation_kinds)
        self._funding = list(tax.funding_sources)
        self._actor_types = _weighted(ACTOR_TYPES)
        self._cso_subtypes = _weighted(CSO_SUBTYPES)
        self._levels = _weighted(GOVERNMENT_LEVELS)
        self._populations = _weighted(POPULATIONS)

    # -- names ----------------------------------------------------------------------------------
    def _distinctive_words(self, count: int) -> list[int]:
        """``count`` vocabulary indexes none of whose pairs was ever used by another organization."""
        rng, size = self.rng, len(self.vocabulary)
        for _ in range(1000):
            picked = rng.sample(range(size), count)
            pairs = [(min(a, b), max(a, b)) for i, a in enumerate(picked) for b in picked[i + 1 :]]
            if not any(p in self._used_pairs for p in pairs):
                self._used_pairs.update(pairs)
                return picked
        raise RuntimeError("vocabulary exhausted: raise vocabulary_size")

    def _name(self, actor_type: str, country: CountryProfile) -> tuple[str, list[str], str | None, str, bool]:
        """Legal name, its distinctive words (normalized), an alias (or None), an acronym and whether
        the name is English."""
        rng = self.rng
        indexes = self._distinctive_words(3 if rng.random() < 0.3 else 2)
        words = [self.vocabulary[i] for i in indexes]
        shown = [_display(w, rng) for w in words]
        template = rng.choice(NAME_TEMPLATES[actor_type])
        if len(shown) == 2 and rng.random() < 0.25 and not template.startswith("{w}"):
            core = f"{shown[0]} de {shown[1]}"
        else:
            core = " ".join(shown)
        name = template.format(w=core, suffix=country.company_suffix)
        alias = None
        if rng.random() < 0.2:
            alias = " ".join(shown)  # the distinctive part alone, as people say it
        initials = [w[0] for w in name.replace(".", " ").split() if w[0].isupper()]
        acronym = "".join(initials)[:6] if len(initials) >= 2 else ""
        english = template.endswith(("Foundation", "Network", "University", "International"))
        return name, words, alias, acronym, english

    # -- one organization -----------------------------------------------------------------------
    def next_org(self) -> GeneratedOrg:
        rng = self.rng
        number = self._next
        self._next += 1
        country = rng.choices(self._countries, cum_weights=self._country_weights)[0]
        actor_type = rng.choices(self._actor_types[0], cum_weights=self._actor_types[1])[0]
        name, words, alias, acronym, english = self._name(actor_type, country)

        codes, weights, sub_names = self._subdivisions[country.code]
        n_subs = 1 if rng.random() < 0.7 else rng.randint(2, 3)
        subdivisions: list[str] = []
        while len(subdivisions) < min(n_subs, len(codes)):
            code = rng.choices(codes, cum_weights=weights)[0]
            if code not in subdivisions:
                subdivisions.append(code)
        areas = []
        if rng.random() < 0.1:  # works across a border too
            other = rng.choice([c for c in COUNTRIES if c.code != country.code])
            other_codes, other_weights, _ = self._subdivisions[other.code]
            areas.append(f"{other.code}:{rng.choices(other_codes, cum_weights=other_weights)[0]}")

        languages = ["spa"]
        if rng.random() < 0.15 and self._languages[country.code]:
            languages.append(rng.choice(self._languages[country.code]))
        if english or rng.random() < 0.05:
            languages.append("eng")

        programs = rng.sample(self._programs, rng.choice((1, 1, 2, 2, 3)))
        if rng.random() < 0.1:
            programs.append(
                rng.choice([c for c in self._categories if not any(p.startswith(c) for p in programs)])
            )
        indicators = rng.sample(self._indicators, rng.choice((1, 1, 2)))
        populations: list[str] = []
        for _ in range(rng.choice((1, 2, 2, 3))):
            pop = rng.choices(self._populations[0], cum_weights=self._populations[1])[0]
            if pop not in populations:
                populations.append(pop)

        category = programs[0][:2]
        goal = rng.choice(GOALS[category])
        who = POPULATION_PHRASES[populations[0]]
        place = sub_names[subdivisions[0]]
        if english:
            mission = f"We work to {goal[1]} for {who[1]} in {place}."
        else:
            mission = f"Trabajamos para {goal[0]} de {who[0]} en {place}."

        cso_subtype = (
            rng.choices(self._cso_subtypes[0], cum_weights=self._cso_subtypes[1])[0]
            if actor_type == "cso"
            else ""
        )
        level = (
            rng.choices(self._levels[0], cum_weights=self._levels[1])[0] if actor_type == "government" else ""
        )
        identifiers = [f"{IDENTIFIER_SCHEME}:{number}"]
        if rng.random() < 0.3:
            identifiers.append(f"{country.code}-TAXID:{country.code}{number:09d}")
        budget = ""
        if rng.random() < 0.7:
            budget = f"{round(10 ** rng.uniform(4, 7.5), -2):.2f}"
        funding = ""
        if rng.random() < 0.3:
            sources = rng.sample(self._funding, rng.randint(1, 3))
            funding = "|".join(f"{s}:{rng.randint(5, 60)}" for s in sources)
        willing = rng.choices(("sí", "no", ""), (70, 10, 20))[0]
        legal_forms = LEGAL_FORMS.get(actor_type)
        row = {
            "status": "draft" if rng.random() < 0.03 else "",
            "legal_name": name,
            "aliases": alias or "",
            "acronym": acronym if rng.random() < 0.5 else "",
            "identifiers": "|".join(identifiers),
            "actor_type": actor_type,
            "cso_subtype": cso_subtype,
            "government_level": level,
            "legal_form": rng.choice(legal_forms) if legal_forms and rng.random() < 0.6 else "",
            "founding_year": str(int(2024 - rng.expovariate(1 / 15))) if rng.random() < 0.8 else "",
            "country": country.code,
            "subdivisions": "|".join(subdivisions),
            "municipalities": _display(rng.choice(self.vocabulary), rng) if rng.random() < 0.3 else "",
            "areas_of_operation": "|".join(areas),
            "scope": rng.choices(("local", "national", "international", ""), (55, 25, 5, 15))[0],
            "languages": "|".join(languages),
            "mission": mission,
            "program_areas": "|".join(programs),
            "social_indicators": "|".join(indicators),
            "target_populations": "|".join(populations),
            "staff": str(int(rng.expovariate(1 / 12))) if rng.random() < 0.6 else "",
            "volunteers": str(int(rng.expovariate(1 / 25))) if rng.random() < 0.5 else "",
            "annual_budget_amount": budget,
            "annual_budget_currency": country.currency if budget else "",
            "funding_mix": funding,
            "offers": "|".join(rng.sample(self._kinds, rng.choice((0, 1, 1, 2, 3)))),
            "needs": "|".join(rng.sample(self._kinds, rng.choice((0, 1, 2, 2, 3)))),
            "willing_to_cooperate": willing,
        }
        if row["founding_year"] and int(row["founding_year"]) < 1900:
            row["founding_year"] = "1900"
        hint = Hint(
            number=number,
            country=country.code,
            actor_type=actor_type,
            subdivisions=tuple(subdivisions),
            program_areas=tuple(programs),
            populations=tuple(populations),
            languages=tuple(languages),
            words=tuple(words),
            identifier=identifiers[0],
        )
        return GeneratedOrg(row, hint)

    def orgs(self, count: int) -> Iterator[GeneratedOrg]:
        for _ in range(count):
            yield self.next_org()


def write_csv(path: Path, orgs: Iterator[GeneratedOrg], keep_hint_every: int = 0) -> list[Hint]:
    """Write the rows as the import takes them (UTF-8, header first); returns every n-th hint."""
    hints: list[Hint] = []
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=HEADER)
        writer.writeheader()
        for i, org in enumerate(orgs):
            writer.writerow(org.row)
            if keep_hint_every and i % keep_hint_every == 0:
                hints.append(org.hint)
    return hints

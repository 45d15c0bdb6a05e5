"""A labelled set of hard screening cases written from the rules (used by tests and the benchmark's
precision/recall). Each case: a query, one listed entry, and whether it must be a hit."""

from __future__ import annotations

from dataclasses import dataclass, field

from tejido_duediligence.screening.matcher import Entry, NameVariant
from tejido_duediligence.screening.normalize import person_tokens


@dataclass(frozen=True)
class Case:
    rule: str
    query: str
    kind: str
    listed: str
    hit: bool
    country: str | None = None
    listed_countries: tuple[str, ...] = ()
    quality: str = "primary"
    given: str = ""  # the listed person's first name, as the UN list separates it
    aliases: tuple[str, ...] = field(default_factory=tuple)

    def entry(self, ref: str = "CASE") -> Entry:
        names = [NameVariant(self.listed, self.quality, frozenset(person_tokens(self.given)))]
        return Entry(ref, "cases", "v1", self.kind, self.listed, names, list(self.listed_countries))


ORG, PER = "organization", "person"
CASES: list[Case] = [
    # Organizations: hard hits.
    Case(
        "legal form ignored",
        "Grameen de la Frontera",
        ORG,
        "GRAMEEN DE LA FRONTERA A.C.",
        True,
        "MX",
        ("MX",),
    ),
    Case("case and accents", "corporación quimera del norte", ORG, "CORPORACION QUIMERA DEL NORTE", True),
    Case("word order", "Frontera Grameen", ORG, "Grameen de la Frontera", True),
    Case("punctuation", "Quimera-del-Norte, S.A. de C.V.", ORG, "Quimera del Norte SA de CV", True),
    Case("generic words ignored", "Fundación Zafirina Aurora", ORG, "Asociación Aurora Zafirina", True),
    Case("typo", "Grammen de la Frontera", ORG, "Grameen de la Frontera A.C.", True),
    Case(
        "transposed letters in a one-word name",
        "Peliosli I.A.P.",
        ORG,
        "Cooperativa de la Pelisoli S.A.",
        True,
    ),
    Case("legal form LLC / OOO", "Zarnitsa Logistik LLC", ORG, "OOO Zarnitsa Logistik", True),
    Case("S.C. and I.A.P.", "Centro Tonatiuh Xochitl I.A.P.", ORG, "Tonatiuh Xochitl S.C.", True),
    Case(
        "listed in several countries",
        "Aurora Zafirina",
        ORG,
        "Fundación Aurora Zafirina",
        True,
        "PA",
        ("CO", "PA"),
    ),
    Case("no country in the query", "Aurora Zafirina", ORG, "Aurora Zafirina", True, None, ("CO",)),
    Case("one extra distinctive word", "Grameen de la Frontera Norte", ORG, "Grameen de la Frontera", True),
    # Organizations: hard non-hits.
    Case(
        "only generic words shared",
        "Fundación Desarrollo Comunitario A.C.",
        ORG,
        "Asociación Desarrollo Comunitario",
        False,
    ),
    Case(
        "only generic words and legal forms",
        "Red Nacional de Servicios S.A. de C.V.",
        ORG,
        "Red Nacional S.C.",
        False,
    ),
    Case("one distinctive word differs", "Beta Asociación 4", ORG, "Zeta Asociación 4", False),
    Case(
        "one shared distinctive word of several",
        "Cooperativa La Frontera",
        ORG,
        "Grameen de la Frontera",
        False,
    ),
    Case(
        "listed under one other country",
        "Grameen de la Frontera",
        ORG,
        "GRAMEEN DE LA FRONTERA A.C.",
        False,
        "GT",
        ("MX",),
    ),
    Case("different distinctive words", "Quimera del Sur", ORG, "Quimera del Norte", False),
    Case("low-quality alias, not exact", "La Quimera Dorada", ORG, "La Quimera", False, quality="low"),
    # Organizations: low-quality alias exact.
    Case("low-quality alias, exact", "LA QUIMERA", ORG, "La Quimera", True, quality="low"),
    # People: hard hits.
    Case(
        "Muhammad/Mohammed, Yusuf/Yousef",
        "Muhammad Yusuf Qaradimi",
        PER,
        "MOHAMMED YOUSEF QARADIMI",
        True,
        given="MOHAMMED",
    ),
    Case(
        "Aleksandr/Alexander, -skiy/-sky",
        "Alexander Vostrikovsky",
        PER,
        "Aleksandr Vostrikovskiy",
        True,
        given="Aleksandr",
    ),
    Case(
        "missing middle name",
        "Aleksandr Vostrikovskiy",
        PER,
        "ALEKSANDR PETROVICH VOSTRIKOVSKIY",
        True,
        given="ALEKSANDR",
    ),
    Case("missing second surname", "Ximena Ortuño", PER, "Ximena Ortuño Belmontez", True, given="Ximena"),
    Case(
        "word order, surname first",
        "Quirogante Esparzúa, Baltasar",
        PER,
        "BALTASAR QUIROGANTE ESPARZUA",
        True,
        given="BALTASAR",
    ),
    Case(
        "particle and hyphen",
        "Mohamed Yousef al-Qaradimi",
        PER,
        "Muhammad Yusuf Qaradimi",
        True,
        given="Muhammad",
    ),
    Case("initial", "B. Quirogante Esparzúa", PER, "Baltasar Quirogante Esparzua", True, given="Baltasar"),
    Case(
        "person's country never rules out",
        "Ximena Ortuño Belmontez",
        PER,
        "Ximena Ortuno Belmontez",
        True,
        "ES",
        ("MX",),
    ),
    Case("typo in surname", "Ximena Ortuño Belmontes", PER, "Ximena Ortuño Belmontez", True, given="Ximena"),
    Case("same two given-name words and nothing else", "Muhammad Yusuf", PER, "Mohammed Yousef", True),
    # People: hard non-hits.
    Case("only given names shared", "Juan Carlos Pérez", PER, "Juan Carlos Gómez", False, given="Juan"),
    Case(
        "only given names, surname missing",
        "Muhammad Yusuf",
        PER,
        "MOHAMMED YOUSEF QARADIMI",
        False,
        given="MOHAMMED",
    ),
    Case("only given names, listed without surname", "Juan Carlos Quirogante", PER, "Juan Carlos", False),
    Case("surname alone", "Quirogante", PER, "Baltasar Quirogante Esparzua", False, given="Baltasar"),
    Case(
        "siblings: same surnames, other given name",
        "José Quirogante Esparzúa",
        PER,
        "Pedro Quirogante Esparzua",
        False,
    ),
    Case("different surnames", "Ximena Ortuño Belmontez", PER, "Ximena Ortiz Beltrán", False, given="Ximena"),
    Case("low-quality alias, not exact", "Abu Zorbeki", PER, "Abu Zorbek", False, quality="low"),
    Case("low-quality alias, exact", "Abu Zorbek", PER, "ABU ZORBEK", True, quality="low"),
]

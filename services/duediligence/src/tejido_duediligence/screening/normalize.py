"""Names reduced to comparable tokens: transliterated to ASCII, case, accents and punctuation dropped,
common transliteration variants mapped to one spelling, and the words that carry no weight set apart.

Word order never matters downstream (tokens are compared as sets)."""

from __future__ import annotations

import re
from functools import lru_cache

from unidecode import unidecode

# Dots and apostrophes join ("A.C." → "ac", "O'Neil" → "oneil"); anything else not alphanumeric splits.
_JOIN = re.compile(r"[.'`´’‘]")
_SPLIT = re.compile(r"[^a-z0-9]+")

# Legal forms (Latin America, Spain, US/UK, Russia/Ukraine, Germany, France, Brazil …), after folding.
LEGAL_FORMS = frozenset(
    """
    ac sc iap abp sa sas sapi sab srl rl sde cv sdrl scl scs spr
    llc inc incorporated ltd limited co corp corporation plc llp lp gmbh ag kg ev eg ug
    ooo zao oao pao ao tov sarl eurl sasu asbl ong ngo npo cic cio bv nv oy ab aps spa
    eireli ltda epp
    """.split()
)
# Words so common in organization names that sharing them says nothing (es, en, pt, fr).
GENERIC = frozenset(
    """
    fundacion fundacao foundation fondation asociacion associacao association asociaciones
    desarrollo development desenvolvimento developpement comunitario comunitaria comunitarios
    comunitarias community communities comunidad comunidades social sociales civil civiles
    centro center centre red network rede grupo group organizacion organization organisation
    organizaciones instituto institute sociedad society comite committee consejo council union
    cooperativa cooperative coop nacional national internacional international regional local
    proyecto project programa program programme servicios services servicio service ayuda aid
    accion action humanitaria humanitarian humanitario caridad charity solidaridad solidarity
    amigos friends pro para por apoyo support mision mission alianza alliance federacion federation
    colectivo collective movimiento movement iniciativa initiative agencia agency trust fund fondo
    corporacion compania company empresa empresas enterprises holding grupos
    """.split()
)
STOPWORDS = frozenset("de del la las el los lo y e the of and for en a al le du des et da do das dos".split())
# Particles in personal names ("Al-Rashid", "bin Laden", "de la Cruz") carry no identity.
PARTICLES = frozenset(
    "al el ul bin ibn bint ben abu de del la las los da das do dos di van von der den y e".split()
)

# Common transliteration variants → one spelling (Arabic, Russian/Ukrainian and others).
_VARIANT_GROUPS = [
    "muhammad mohammed mohammad mohamed muhammed mohamad muhamad mohammod mahomed muhamed mohd mukhammed "
    "mukhammad magomed",
    "yusuf yousef yusef yousif youssef yousuf yussuf yousof",
    "aleksandr alexander aleksander alexandr oleksandr alexandre aleksandar",
    "aleksei alexei alexey aleksey oleksiy oleksii",
    "ahmad ahmed akhmed ahmet",
    "abdul abdel abdal abdoul",
    "husayn hussein husain hussain husein hosein hossein",
    "hasan hassan",
    "umar omar",
    "usama osama",
    "ibrahim ebrahim",
    "khalid khaled",
    "mustafa mostafa moustafa",
    "said saeed sayed sayyid saied",
    "abdullah abdallah abdulla",
    "yuri yury yuriy iurii",
    "sergei sergey sergiy serhiy serguei",
    "dmitri dmitry dmitriy",
    "nikolai nikolay mykola",
    "andrei andrey andriy",
    "evgeny evgeniy yevgeny yevgeniy evgenii",
    "mikhail michail",
    "vladimir volodymyr",
    "aleksandra alexandra",
    "yekaterina ekaterina",
    "tatiana tatyana tetiana",
    "natalia natalya nataliya",
]
VARIANTS: dict[str, str] = {v: group.split()[0] for group in _VARIANT_GROUPS for v in group.split()}
_SKY = re.compile(r"(sk|ck|tsk|zk)(iy|yi|ii|ij|yj|yy|i|y)$")

# Given names common enough that sharing only them never identifies a person.
GIVEN_NAMES = frozenset(
    """
    juan jose luis carlos jorge pedro miguel francisco antonio manuel jesus javier rafael fernando ricardo
    roberto eduardo alberto sergio daniel david mario raul oscar hector arturo enrique alejandro andres
    diego pablo victor hugo ruben gabriel martin santiago sebastian mateo emilio ernesto gustavo ramon
    maria ana rosa carmen laura patricia guadalupe elena isabel sofia lucia teresa marta julia paula
    andrea claudia gloria silvia adriana veronica monica beatriz alejandra gabriela mariana fernanda
    john james robert michael william richard thomas charles joseph george paul mark peter
    mary elizabeth sarah jennifer linda susan anna
    muhammad yusuf ahmad abdul ali husayn hasan umar usama ibrahim khalid mustafa said abdullah
    mahmoud karim tariq hamza bilal amir nasir jamal salim rashid aziz abd
    aleksandr aleksei yuri sergei dmitri nikolai andrei evgeny mikhail vladimir ivan igor oleg pavel
    boris viktor anatoly olga irina svetlana aleksandra yekaterina tatiana natalia elena anna
    """.split()
)


def fold(text: str) -> str:
    """ASCII, lower case, joined initials and apostrophes, one space between words."""
    ascii_text = unidecode(text).lower()
    return " ".join(_SPLIT.split(_JOIN.sub("", ascii_text))).strip()


@lru_cache(maxsize=200_000)
def canonical(token: str) -> str:
    """One spelling for transliteration variants (Mohammed → muhammad, Dostoevskiy → dostoevsky)."""
    if token in VARIANTS:
        return VARIANTS[token]
    # Unidecode writes Cyrillic Ю/Я/Е at a word's start as iu/ia/ie (Юсуф → iusuf): read them as yu/ya/ye.
    if token[:2] in ("iu", "ia", "ie") and len(token) > 3:
        token = "y" + token[1:]
        if token in VARIANTS:
            return VARIANTS[token]
    if len(token) > 4:
        token = _SKY.sub(r"\1y", token)
    return token


def person_tokens(name: str) -> list[str]:
    return [canonical(t) for t in fold(name).split() if t not in PARTICLES]


def organization_tokens(name: str) -> list[str]:
    """The distinctive words of an organization name (legal forms, generic and function words dropped)."""
    # "S.A. de C.V." folds to "sa de cv": every part is a legal form or a function word. Single
    # letters ("A. C." spaced out) say nothing about which organization it is either.
    return [
        canonical(t)
        for t in fold(name).split()
        if len(t) > 1 and t not in STOPWORDS and t not in GENERIC and t not in LEGAL_FORMS
    ]


def tokens_for(name: str, kind: str) -> list[str]:
    return person_tokens(name) if kind == "person" else organization_tokens(name)

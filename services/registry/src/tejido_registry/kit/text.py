"""Name and text normalization for search and duplicate detection.

Names are spelled many ways ("J'Pas Joloviletik" / "J´pas Joloviletik", "Conciencia" / "CONCIENCIA"):
everything is compared accent-, case- and apostrophe-insensitively, and names word-order-insensitively.
"""

from __future__ import annotations

import re
from functools import lru_cache

from unidecode import unidecode

_APOSTROPHES = re.compile(r"['`´’‘ʼʻ]")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
# Words that carry no meaning for search (Spanish and English), kept short on purpose.
STOPWORDS = frozenset(
    """a al ante con de del el en entre la las lo los o para por se sin su sus un una y
    an and as at by for from in into is of on or the to with""".split()
)


@lru_cache(maxsize=200_000)
def _word(word: str) -> str:
    return _NON_ALNUM.sub(" ", unidecode(_APOSTROPHES.sub("", word)).lower()).strip()


@lru_cache(maxsize=65_536)
def normalize(text: str) -> str:
    """Lower-case ASCII words separated by single spaces; apostrophes vanish (J'Pas → jpas).

    Words repeat across names and missions far more than whole texts do, so they are cached one by one.
    """
    return " ".join(part for part in map(_word, text.split()) if part)


def name_key(name: str) -> str:
    """Word-order-insensitive key of a name: its normalized words, sorted."""
    return " ".join(sorted(normalize(name).split()))


def tokens(text: str) -> list[str]:
    return [t for t in normalize(text).split() if t not in STOPWORDS]


def search_terms(texts: list[str]) -> set[str]:
    """Distinct words worth indexing (at least two characters)."""
    return {t for text in texts for t in tokens(text) if len(t) >= 2}


def query_tokens(query: str) -> list[str]:
    words = tokens(query)
    return words or [t for t in normalize(query).split() if t]


def acronym_key(text: str) -> str:
    """An acronym as compared: normalized, without spaces or dots (``A.C.`` = ``ac``)."""
    return normalize(text).replace(" ", "")

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


@lru_cache(maxsize=65_536)
def normalize(text: str) -> str:
    """Lower-case ASCII words separated by single spaces; apostrophes vanish (J'Pas → jpas)."""
    ascii_text = unidecode(_APOSTROPHES.sub("", text)).lower()
    return _NON_ALNUM.sub(" ", _APOSTROPHES.sub("", ascii_text)).strip()


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

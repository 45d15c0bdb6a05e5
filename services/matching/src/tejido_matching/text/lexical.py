"""BM25 over stemmed Spanish and English words, for free-text needs (cheap, exact on rare words).

Our own small index instead of a library: it must take one profile's change at a time (the read
model changes per event) and score only the candidates left after the filters.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from functools import lru_cache

import numpy as np
import numpy.typing as npt
import snowballstemmer
from unidecode import unidecode

_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    "de la el en y a los las del un una para por con que se su sus al es lo como mas o the of and to in for "
    "on with by an is are our we it its from at as be this that".split()
)
_spanish = snowballstemmer.stemmer("spanish")
_english = snowballstemmer.stemmer("english")


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    # Both stemmers: a word is stemmed as Spanish then English, so "microcréditos" and
    # "microcredits" meet at "microcredit".
    return str(_english.stemWord(_spanish.stemWord(word)))


def tokens(text: str) -> list[str]:
    words = _WORD.findall(unidecode(text).lower())
    return [_stem(w) for w in words if w not in _STOP and len(w) > 1]


class Bm25Index:
    """Documents are rows; ``set_doc`` replaces a row's text."""

    def __init__(self, k1: float = 1.2, b: float = 0.75):
        self.k1, self.b = k1, b
        self.docs: dict[int, Counter[str]] = {}
        self.lengths: dict[int, int] = {}
        self.postings: dict[str, dict[int, int]] = {}
        self.total_length = 0

    def set_doc(self, row: int, text: str) -> None:
        self.remove(row)
        counts = Counter(tokens(text))
        self.docs[row] = counts
        self.lengths[row] = sum(counts.values())
        self.total_length += self.lengths[row]
        for term, tf in counts.items():
            self.postings.setdefault(term, {})[row] = tf

    def remove(self, row: int) -> None:
        old = self.docs.pop(row, None)
        if old is None:
            return
        self.total_length -= self.lengths.pop(row)
        for term in old:
            posting = self.postings.get(term)
            if posting is not None:
                posting.pop(row, None)
                if not posting:
                    del self.postings[term]

    def scores(self, query: str, size: int) -> npt.NDArray[np.float32]:
        """BM25 of every row (array of ``size``), divided by the best so it lies in [0, 1]."""
        out = np.zeros(size, dtype=np.float32)
        n = len(self.docs)
        if n == 0:
            return out
        avg = self.total_length / n or 1.0
        # Sorted, not set order (which follows each process's string hashing): the float32 sums come
        # out the same in every worker, so replicas answer the same search with the same scores.
        for term in sorted(set(tokens(query))):
            posting = self.postings.get(term)
            if not posting:
                continue
            idf = math.log(1 + (n - len(posting) + 0.5) / (len(posting) + 0.5))
            rows = np.fromiter(posting.keys(), dtype=np.int64, count=len(posting))
            tf = np.fromiter(posting.values(), dtype=np.float32, count=len(posting))
            lengths = np.fromiter((self.lengths[r] for r in posting), dtype=np.float32, count=len(posting))
            norm = tf * (self.k1 + 1) / (tf + self.k1 * (1 - self.b + self.b * lengths / avg))
            mask = rows < size
            np.add.at(out, rows[mask], (idf * norm)[mask])
        top = float(out.max())
        return out / top if top > 0 else out

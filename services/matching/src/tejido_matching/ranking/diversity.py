"""Maximal marginal relevance on the top of the list, so it is not ten near-copies."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from tejido_matching.ranking.index import CandidateIndex

LAMBDA = 0.75  # share of relevance against novelty


def similarity_matrix(index: CandidateIndex, rows: npt.NDArray[np.int64]) -> npt.NDArray[np.float32]:
    """How alike two candidates are: mission text, actor type, country, offered kinds."""
    emb = index.emb[rows, 0, :]
    text = np.clip(emb @ emb.T, 0, 1)
    sector = (index.sector[rows][:, None] == index.sector[rows][None, :]).astype(np.float32)
    kinds = index.offer_kinds[rows]
    norms = np.maximum(np.linalg.norm(kinds, axis=1), 1e-6)
    offers = (kinds @ kinds.T) / (norms[:, None] * norms[None, :])
    countries = [min(p for p in index.places[r] if "-" not in p) if index.places[r] else "" for r in rows]
    same_country = np.array([[a == b and a != "" for b in countries] for a in countries], dtype=np.float32)
    return (0.4 * text + 0.2 * sector + 0.2 * offers + 0.2 * same_country).astype(np.float32)


def mmr_order(
    index: CandidateIndex,
    rows: npt.NDArray[np.int64],
    scores: npt.NDArray[np.float32],
    order: npt.NDArray[np.int64],
    top: int,
) -> npt.NDArray[np.int64]:
    """Re-order the ``top`` best (``order`` indexes ``rows``); the rest keep their score order."""
    head = order[:top]
    if len(head) < 3:
        return order
    sim = similarity_matrix(index, rows[head])
    rel = scores[head] / max(float(scores[head].max()), 1e-6)
    chosen: list[int] = [0]
    left = list(range(1, len(head)))
    while left:
        best = max(left, key=lambda i: LAMBDA * rel[i] - (1 - LAMBDA) * max(sim[i, j] for j in chosen))
        chosen.append(best)
        left.remove(best)
    return np.concatenate([head[chosen], order[top:]])

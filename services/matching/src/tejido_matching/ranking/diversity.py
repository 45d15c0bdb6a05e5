"""Maximal marginal relevance on the top of the list, so it is not ten near-copies."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from tejido_matching.ranking.index import CandidateIndex

LAMBDA = 0.75  # share of relevance against novelty


def similarity_matrix(index: CandidateIndex, rows: npt.NDArray[np.int64]) -> npt.NDArray[np.float32]:
    """How alike two candidates are: mission text, actor type, country, offered kinds."""
    emb = index.vectors(0)[rows]
    text = np.clip(emb @ emb.T, 0, 1)
    sector = (index.sector[rows][:, None] == index.sector[rows][None, :]).astype(np.float32)
    kinds = index.offer_kinds[rows]
    norms = np.maximum(np.linalg.norm(kinds, axis=1), 1e-6)
    offers = (kinds @ kinds.T) / (norms[:, None] * norms[None, :])
    country = index.country[rows]
    same_country = ((country[:, None] == country[None, :]) & (country[:, None] >= 0)).astype(np.float32)
    similarity = 0.4 * text + 0.2 * sector + 0.2 * offers + 0.2 * same_country
    result: npt.NDArray[np.float32] = similarity.astype(np.float32)
    return result


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
    chosen = [0]
    closest = sim[0].copy()  # each candidate's highest similarity to those already chosen
    # LAMBDA·rel − (1 − LAMBDA)·closest in float32 as always, in preallocated arrays; those already
    # chosen get −inf added (adding 0 elsewhere changes no value).
    relevance = LAMBDA * rel
    novelty = np.float32(1 - LAMBDA)
    taken = np.zeros(len(head), dtype=np.float32)
    taken[0] = -np.inf
    gain = np.empty(len(head), dtype=np.float32)
    for _ in range(len(head) - 1):
        np.multiply(closest, novelty, out=gain)
        np.subtract(relevance, gain, out=gain)
        gain += taken
        best = int(gain.argmax())
        chosen.append(best)
        taken[best] = -np.inf
        np.maximum(closest, sim[best], out=closest)
    return np.concatenate([head[chosen], order[top:]])

"""Ranking: filters, features in [0, 1], weighted sum, explanations, diversity. Pure numpy: no
database, no broker; workers hold a :class:`~tejido_matching.ranking.index.CandidateIndex`."""

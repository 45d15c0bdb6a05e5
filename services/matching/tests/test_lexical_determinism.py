"""Every worker scores a free-text need the same: BM25's sums do not depend on the process's string
hashing (PYTHONHASHSEED), so replicas give the same search the same scores and order."""

from __future__ import annotations

import os
import subprocess
import sys

SCRIPT = """
import random
from tejido_matching.text.lexical import Bm25Index
words = [f"palabra{chr(97 + i)}{chr(97 + j)}" for i in range(6) for j in range(6)]
rng = random.Random(7)
index = Bm25Index()
for row in range(300):
    index.set_doc(row, " ".join(rng.choice(words) for _ in range(rng.randint(3, 40))))
need = " ".join(words[::2])
print(index.scores(need, 300).tobytes().hex())
"""


def scores_under(seed: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout.strip()


def test_scores_are_the_same_whatever_the_hash_seed() -> None:
    results = {scores_under(seed) for seed in ("0", "1", "2", "3", "4", "5")}
    assert len(results) == 1

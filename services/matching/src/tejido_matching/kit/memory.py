"""The read model out of the cyclic garbage collector's way.

A worker holds every candidate in memory: profiles, facts, BM25 postings — millions of objects
that live as long as the process. Python's full collections walk all of them: at 10,000
organizations one full collection paused a ranking for ~0.7 s (bench, 20261206T180318Z), at
100,000 several seconds. ``gc.freeze()`` moves the objects alive now to a permanent generation that
collections skip; reference counting still frees a replaced profile at once (the read model makes
no reference cycles)."""

from __future__ import annotations

import gc

# Events applied between two freezes: what catch-up and updates add after the restore.
FREEZE_EVERY = 2_000


def settle(collect: bool = True) -> None:
    """Freeze the objects alive now (after a collection: no garbage is frozen with them)."""
    if collect:
        gc.collect()
    gc.freeze()

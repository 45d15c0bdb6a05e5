"""Ally matching service."""

import os

# Ranking is small matrix-vector products: BLAS worker threads only spin against each other (and
# against other processes) on few cores. One thread measured ~4× faster here; set before numpy loads.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

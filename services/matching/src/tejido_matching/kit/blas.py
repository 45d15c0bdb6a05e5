"""How many threads numpy's BLAS (OpenBLAS) uses in this process.

A rank request is a few small matrix-vector products: OpenBLAS splits each over every core and its
threads spin while they wait, so on a shared 2-core machine one request burned 2.5–3× the CPU time
of a single-threaded product (measured, see README "Matching API"). Workers scale by processes, so
each uses one BLAS thread. There is no public numpy call for this; OpenBLAS exports one, reached here
with ctypes (``threadpoolctl`` does the same with more machinery).
"""

from __future__ import annotations

import ctypes
import glob
import os

import numpy as np

from tejido_common.logging import get_logger

log = get_logger(__name__)
# numpy's wheels bundle OpenBLAS with a prefixed, suffixed C API (scipy-openblas, 64-bit ints).
_SETTERS = ("scipy_openblas_set_num_threads64_", "openblas_set_num_threads64_", "openblas_set_num_threads")


def limit_blas_threads(threads: int) -> bool:
    """Ask OpenBLAS for ``threads`` threads (0 leaves its default). False when it cannot be found."""
    if threads <= 0:
        return False
    libs = os.path.join(os.path.dirname(os.path.dirname(np.__file__)), "numpy.libs")
    for path in sorted(glob.glob(os.path.join(libs, "*openblas*"))):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in _SETTERS:
            setter = getattr(lib, name, None)
            if setter is not None:
                setter(ctypes.c_int(threads))
                return True
    log.info("blas threads not set", reason="no OpenBLAS library found next to numpy")
    return False

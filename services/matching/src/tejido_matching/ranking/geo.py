"""Small helpers shared by the index, the features and the explanations."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]


def norm_method(text: str) -> str:
    return " ".join(text.lower().split())


def haversine_km(lat: float, lon: float, lats: F32, lons: F32) -> F32:
    r = 6371.0
    p1, p2 = math.radians(lat), np.radians(lats)
    dp = p2 - p1
    dl = np.radians(lons) - math.radians(lon)
    a = np.sin(dp / 2) ** 2 + math.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    result: F32 = (2 * r * np.arcsin(np.sqrt(np.clip(a, 0, 1)))).astype(np.float32)
    return result

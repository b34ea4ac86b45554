"""Pooled moments shared by every standardization in the package."""

from __future__ import annotations

import numpy as np


def pooled_moments(array: np.ndarray, min_scale: float = 1e-8) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of the last axis, pooled over all other axes.

    NaN entries (padding of sets and series) are ignored. A feature with zero
    spread (or no finite entry) gets scale 1 so that dividing by it is safe.

    Parameters
    ----------
    array : ndarray of shape (n, ..., d)
        Batch-first values.
    min_scale : float
        Scales below this are replaced by 1.

    Returns
    -------
    mean, scale : ndarray of shape (d,)
    """
    flat = np.asarray(array, dtype=np.float64).reshape(-1, array.shape[-1])
    finite = np.isfinite(flat)
    counts = finite.sum(axis=0)
    safe = np.where(finite, flat, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(counts > 0, safe.sum(axis=0) / np.maximum(counts, 1), 0.0)
        centred = np.where(finite, flat - mean, 0.0)
        var = (centred**2).sum(axis=0) / np.maximum(counts, 1)
    scale = np.sqrt(var)
    scale = np.where(scale < min_scale, 1.0, scale)
    return mean, scale

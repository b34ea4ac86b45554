"""The energy score, a proper scoring rule for multivariate posterior samples."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from sklearn_sbi.metrics._formatting import check_aggregation
from sklearn_sbi.metrics._validation import check_samples_and_truth

# Largest temporary (in float64 elements) built at once: 4M elements = 32 MiB.
_MAX_ELEMENTS = 2**22


def _mean_pairwise_distance(samples: np.ndarray, beta: float) -> np.ndarray:
    """``mean_{i != j} ||x_i - x_j||^beta`` per observation, in bounded memory.

    Distance blocks of shape (observations, rows, n_samples) are accumulated one
    parameter at a time, so no temporary holds more than ``_MAX_ELEMENTS`` values.
    """
    n_obs, n_samples, n_params = samples.shape
    rows = max(1, min(n_samples, _MAX_ELEMENTS // n_samples))
    obs_chunk = max(1, _MAX_ELEMENTS // (rows * n_samples))
    total = np.zeros(n_obs)
    for start in range(0, n_obs, obs_chunk):
        block = samples[start : start + obs_chunk]
        for row in range(0, n_samples, rows):
            squared = np.zeros((block.shape[0], min(rows, n_samples - row), n_samples))
            for k in range(n_params):
                diff = block[:, row : row + rows, None, k] - block[:, None, :, k]
                squared += np.multiply(diff, diff, out=diff)
            distance = np.sqrt(squared, out=squared)
            if beta != 1.0:
                distance **= beta
            total[start : start + obs_chunk] += distance.sum(axis=(1, 2))
    return total / (n_samples * (n_samples - 1))


def energy_score(
    samples: Any,
    y: Any,
    *,
    beta: float = 1.0,
    aggregation: Callable[..., np.ndarray] | None = None,
) -> np.ndarray | float:
    """Energy score of posterior samples at the true values (lower is better).

    ``ES(P, y) = E ||X - y||^beta - 1/2 E ||X - X'||^beta`` with ``X, X'``
    independent draws from the posterior ``P``. It is a strictly proper
    scoring rule for ``0 < beta < 2`` (Gneiting & Raftery, 2007): its
    expectation is smallest when ``P`` is the true posterior. Both
    expectations are estimated without bias from the draws (the second over
    all pairs ``i != j``). The score is joint over parameters, in y's units.

    Parameters
    ----------
    samples : array-like of shape (n_obs, n_samples, n_params) or DataFrame
        Posterior draws, at least 2 per observation.
    y : array-like of shape (n_obs, n_params), DataFrame or Series
        True parameter values.
    beta : float, default=1.0
        Exponent in (0, 2).
    aggregation : callable or None, default=None
        Reduction over observations such as ``np.mean``; None returns one
        score per observation.

    Returns
    -------
    ndarray of shape (n_obs,) or float
        The energy score of each observation, or their ``aggregation``.

    Notes
    -----
    The cost is ``O(n_obs * n_samples**2 * n_params)``; memory stays bounded
    whatever the sizes (two temporaries of at most 32 MiB each).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_sbi.metrics import energy_score
    >>> samples = np.array([[[0.0], [2.0]]])
    >>> energy_score(samples, [[0.0]])  # (0 + 2) / 2 - 2 / 2
    array([0.])
    """
    if not 0.0 < beta < 2.0:
        raise ValueError(f"`beta` must lie in (0, 2) for a proper score, got {beta!r}.")
    check_aggregation(aggregation)
    checked = check_samples_and_truth(samples, y)
    draws = checked.samples.astype(np.float64, copy=False)
    if draws.shape[1] < 2:
        raise ValueError("The energy score needs at least 2 posterior draws per observation.")
    to_truth = np.linalg.norm(draws - checked.truth[:, None, :], axis=2) ** beta
    scores = to_truth.mean(axis=1) - 0.5 * _mean_pairwise_distance(draws, beta)
    if aggregation is None:
        return scores
    return float(aggregation(scores))

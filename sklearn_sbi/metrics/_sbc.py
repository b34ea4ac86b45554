"""Simulation-based calibration (SBC): ranks of the truth among posterior draws.

For a calibrated posterior the rank of the true value among ``n_samples``
draws is uniform on ``{0, ..., n_samples}`` (Talts et al., 2018). This module
computes ranks, tests their uniformity and turns the departure into a verdict.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sklearn_sbi.metrics._validation import check_samples_and_truth


def count_below(samples: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Number of draws strictly below, and equal to, the truth; each (n_obs, n_params)."""
    expanded = truth[:, None, :]
    n_less = np.count_nonzero(samples < expanded, axis=1)
    n_equal = np.count_nonzero(samples == expanded, axis=1)
    return n_less, n_equal


def fractional_ranks(samples: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Mid-ranks of the truth scaled to (0, 1): ``(n_below + n_equal / 2 + 1/2) / (n_samples + 1)``.

    For a calibrated posterior these are (up to a discretisation of
    ``1 / (n_samples + 1)``) uniform on (0, 1). The truth counts as inside the
    central credible interval of level ``a`` when ``|rank - 1/2| <= a / 2``:
    between the empirical ``(1 - a) / 2`` and ``(1 + a) / 2`` quantiles of
    the draws, up to that discretisation.
    """
    n_less, n_equal = count_below(samples, truth)
    return (n_less + 0.5 * n_equal + 0.5) / (samples.shape[1] + 1)


def sbc_ranks(
    samples: Any,
    y: Any,
    *,
    param_names: Sequence[str] | None = None,
    random_state: int | np.random.Generator | None = 0,
) -> pd.DataFrame:
    """Rank of each true value among its posterior draws (simulation-based calibration).

    Parameters
    ----------
    samples : array-like of shape (n_obs, n_samples, n_params) or DataFrame
        Posterior draws, one set per observation (a tidy DataFrame indexed by
        (observation, draw) is reshaped).
    y : array-like of shape (n_obs, n_params), DataFrame or Series
        True parameter values that generated each observation.
    param_names : sequence of str, optional
        Parameter names; by default taken from DataFrame columns.
    random_state : int, Generator or None, default=0
        Breaks ties (draws equal to the truth, e.g. discrete parameters)
        uniformly at random; without ties the ranks do not depend on it.

    Returns
    -------
    DataFrame of shape (n_obs, n_params)
        Integer ranks in ``{0, ..., n_samples}``: the number of draws below
        the truth. Uniform when the posterior is calibrated.

    See Also
    --------
    calibration_error : Coverage error over credible levels, from the same ranks.
    sklearn_sbi.plotting.CalibrationECDFDisplay : Rank ECDF with simultaneous bands.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_sbi.metrics import sbc_ranks
    >>> samples = np.arange(10.0).reshape(1, 10, 1)
    >>> sbc_ranks(samples, [[3.5]]).to_numpy()
    array([[4]])
    """
    checked = check_samples_and_truth(samples, y, param_names=param_names)
    n_less, n_equal = count_below(checked.samples, checked.truth)
    if np.any(n_equal):
        rng = np.random.default_rng(random_state)
        n_less = n_less + np.floor(rng.uniform(size=n_equal.shape) * (n_equal + 1)).astype(int)
    return pd.DataFrame(n_less, index=checked.obs_index, columns=checked.param_names)


def default_n_bins(n_obs: int, n_samples: int) -> int:
    """Histogram bins for ranks: at most 20, at least 5 expected counts per bin."""
    return int(max(2, min(20, n_obs // 5, n_samples + 1)))


def rank_bin_probabilities(n_samples: int, n_bins: int) -> np.ndarray:
    """Exact probability of each rank bin under uniform ranks on ``{0..n_samples}``."""
    sizes = np.bincount(rank_bins(np.arange(n_samples + 1), n_samples, n_bins), minlength=n_bins)
    return sizes / (n_samples + 1)


def rank_bins(ranks: np.ndarray, n_samples: int, n_bins: int) -> np.ndarray:
    """Bin index of integer ranks in ``{0..n_samples}`` for ``n_bins`` near-equal bins."""
    return (np.asarray(ranks) * n_bins) // (n_samples + 1)


def rank_chi2_test(
    ranks: np.ndarray, n_samples: int, n_bins: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Pearson chi-square test of uniform ranks, per parameter.

    Parameters
    ----------
    ranks : ndarray of shape (n_obs, n_params)
        Integer SBC ranks in ``{0..n_samples}``.
    n_samples : int
        Number of posterior draws the ranks were computed from.
    n_bins : int, optional
        Number of rank bins; :func:`default_n_bins` by default.

    Returns
    -------
    statistic, pvalue : ndarray of shape (n_params,)
    """
    ranks = np.asarray(ranks)
    n_obs, n_params = ranks.shape
    n_bins = default_n_bins(n_obs, n_samples) if n_bins is None else n_bins
    expected = n_obs * rank_bin_probabilities(n_samples, n_bins)
    bins = rank_bins(ranks, n_samples, n_bins)
    offsets = bins + n_bins * np.arange(n_params)
    observed = np.bincount(offsets.ravel(), minlength=n_bins * n_params).reshape(n_params, n_bins)
    statistic = np.sum((observed - expected) ** 2 / expected, axis=1)
    pvalue = stats.chi2.sf(statistic, df=n_bins - 1)
    return statistic, pvalue


def sbc_verdict(fractional: np.ndarray, pvalue: np.ndarray, alpha: float) -> list[str]:
    """Classify each parameter from its fractional ranks and uniformity p-value.

    A parameter whose chi-square p-value is at least ``alpha`` is "well
    calibrated". Otherwise the larger of two standardised departures names
    the failure: the rank mean from 1/2 (standard error ``sqrt(1 / (12 n))``)
    means "biased"; the rank variance from 1/12 (standard error
    ``sqrt(1 / (180 n))``) means "under-dispersed" when too large (ranks pile
    up at both ends: the posterior is too narrow, over-confident) and
    "over-dispersed" when too small (ranks crowd the middle: too wide).
    """
    n_obs = fractional.shape[0]
    z_mean = (fractional.mean(axis=0) - 0.5) / np.sqrt(1.0 / (12.0 * n_obs))
    z_var = (fractional.var(axis=0) - 1.0 / 12.0) / np.sqrt(1.0 / (180.0 * n_obs))
    verdicts = []
    for p, zm, zv in zip(pvalue, z_mean, z_var, strict=True):
        if p >= alpha:
            verdicts.append("well calibrated")
        elif abs(zm) >= abs(zv):
            verdicts.append("biased")
        else:
            verdicts.append("under-dispersed" if zv > 0 else "over-dispersed")
    return verdicts

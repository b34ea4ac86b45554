"""Coverage of central credible intervals and the calibration error built on it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from sklearn_sbi.metrics._formatting import check_multioutput, per_parameter
from sklearn_sbi.metrics._sbc import fractional_ranks
from sklearn_sbi.metrics._validation import check_levels, check_samples_and_truth

DEFAULT_COVERAGE_LEVELS = (0.5, 0.8, 0.9, 0.95)


def default_calibration_levels() -> np.ndarray:
    """The credible levels :func:`calibration_error` averages over: 0.01, 0.02, ..., 0.99."""
    return np.linspace(0.01, 0.99, 99)


def coverage_from_ranks(fractional: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Fraction of observations whose truth lies in the central interval, per (level, parameter).

    Parameters
    ----------
    fractional : ndarray of shape (n_obs, n_params)
        Fractional ranks from :func:`~sklearn_sbi.metrics._sbc.fractional_ranks`.
    levels : ndarray of shape (n_levels,)
        Credible levels in (0, 1).

    Returns
    -------
    ndarray of shape (n_levels, n_params)
    """
    distance = np.abs(fractional - 0.5)
    return np.mean(distance[None, :, :] <= levels[:, None, None] / 2.0, axis=1)


def mean_coverage_error(covered: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Mean over levels of ``|coverage - level|``; ``covered`` is (n_levels, n_params)."""
    return np.mean(np.abs(covered - levels[:, None]), axis=0)


def coverage(
    samples: Any,
    y: Any,
    *,
    levels: float | ArrayLike = DEFAULT_COVERAGE_LEVELS,
    param_names: Sequence[str] | None = None,
    multioutput: str = "raw_values",
) -> pd.DataFrame | pd.Series | float:
    """Empirical coverage of central credible intervals.

    The central interval of level ``a`` runs from the ``(1 - a) / 2`` to the
    ``(1 + a) / 2`` empirical quantile of the draws (read off the fractional
    rank of the truth among the draws, so to within ``1 / (n_samples + 1)``). Its coverage is the
    fraction of observations whose true value it contains: ``a`` for a
    calibrated posterior, less when the posterior is over-confident or biased,
    more when it is too wide.

    Parameters
    ----------
    samples : array-like of shape (n_obs, n_samples, n_params) or DataFrame
        Posterior draws, one set per observation.
    y : array-like of shape (n_obs, n_params), DataFrame or Series
        True parameter values.
    levels : float or array-like of float, default=(0.5, 0.8, 0.9, 0.95)
        Credible levels, each in (0, 1).
    param_names : sequence of str, optional
        Parameter names; by default taken from DataFrame columns.
    multioutput : {"raw_values", "uniform_average"}, default="raw_values"
        Keep one value per parameter, or average over parameters.

    Returns
    -------
    DataFrame, Series or float
        For a sequence of levels: a DataFrame indexed by level with one
        column per parameter (a Series indexed by level when averaged). For a
        single float level: a Series indexed by parameter (a float when
        averaged).

    See Also
    --------
    calibration_error : Mean absolute coverage error over many levels.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_sbi.metrics import coverage
    >>> rng = np.random.default_rng(0)
    >>> truth = rng.normal(size=(2000, 1))
    >>> samples = rng.normal(size=(2000, 100, 1))  # exact posterior: the prior
    >>> covered = coverage(samples, truth, levels=0.9)
    >>> bool(abs(covered.iloc[0] - 0.9) < 0.03)
    True
    """
    check_multioutput(multioutput)
    checked = check_samples_and_truth(samples, y, param_names=param_names)
    level_array = check_levels(levels)
    covered = coverage_from_ranks(fractional_ranks(checked.samples, checked.truth), level_array)
    if np.ndim(levels) == 0:
        return per_parameter(covered[0], checked.param_names, "coverage", multioutput)
    index = pd.Index(level_array, name="level")
    if multioutput == "uniform_average":
        return pd.Series(covered.mean(axis=1), index=index, name="coverage")
    return pd.DataFrame(covered, index=index, columns=checked.param_names)


def calibration_error(
    samples: Any,
    y: Any,
    *,
    levels: ArrayLike | None = None,
    param_names: Sequence[str] | None = None,
    multioutput: str = "raw_values",
) -> pd.Series | float:
    """Mean absolute coverage error of central credible intervals over a grid of levels.

    For each level ``a`` the empirical coverage of the central ``a`` interval
    (see :func:`coverage`) is compared with ``a``; the error is the mean of
    ``|coverage(a) - a|`` over the levels. It is 0 for a calibrated posterior
    (up to Monte Carlo noise of order ``1 / sqrt(n_obs)``) and at most 0.5.

    Parameters
    ----------
    samples : array-like of shape (n_obs, n_samples, n_params) or DataFrame
        Posterior draws, one set per observation.
    y : array-like of shape (n_obs, n_params), DataFrame or Series
        True parameter values.
    levels : array-like of float, optional
        Credible levels in (0, 1); by default 0.01, 0.02, ..., 0.99.
    param_names : sequence of str, optional
        Parameter names; by default taken from DataFrame columns.
    multioutput : {"raw_values", "uniform_average"}, default="raw_values"
        Keep one value per parameter, or average over parameters.

    Returns
    -------
    Series or float
        One error per parameter (named ``"calibration_error"``), or their mean.

    See Also
    --------
    coverage : Coverage at given levels.
    sbc_ranks : The ranks the coverage is computed from.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_sbi.metrics import calibration_error
    >>> rng = np.random.default_rng(0)
    >>> truth = rng.normal(size=(2000, 1))
    >>> calibrated = rng.normal(size=(2000, 100, 1))
    >>> overconfident = calibrated / 3
    >>> bool(calibration_error(calibrated, truth).iloc[0] < 0.02)
    True
    >>> bool(calibration_error(overconfident, truth).iloc[0] > 0.2)
    True
    """
    level_array = default_calibration_levels() if levels is None else check_levels(levels)
    checked = check_samples_and_truth(samples, y, param_names=param_names)
    covered = coverage_from_ranks(fractional_ranks(checked.samples, checked.truth), level_array)
    error = mean_coverage_error(covered, level_array)
    return per_parameter(error, checked.param_names, "calibration_error", multioutput)

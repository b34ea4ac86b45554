"""Accuracy and sharpness of posteriors: NRMSE, contraction and z-scores."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from sklearn_sbi.metrics._formatting import per_observation, per_parameter
from sklearn_sbi.metrics._validation import check_samples_and_truth

_POINT_ESTIMATES = {"median": np.median, "mean": np.mean}
_NORMALIZERS = ("range", "std", None)


def point_estimates(samples: np.ndarray, point_estimate: str) -> np.ndarray:
    """Posterior ``"median"`` or ``"mean"`` of each observation: (n_obs, n_params)."""
    if point_estimate not in _POINT_ESTIMATES:
        raise ValueError(
            f"`point_estimate` must be one of {sorted(_POINT_ESTIMATES)}, got {point_estimate!r}."
        )
    return _POINT_ESTIMATES[point_estimate](samples, axis=1)


def normalized_rmse(
    samples: Any,
    y: Any,
    *,
    point_estimate: str = "median",
    normalize: str | None = "range",
    param_names: Sequence[str] | None = None,
    multioutput: str = "raw_values",
) -> pd.Series | float:
    """Root mean squared error of a posterior point estimate, normalised per parameter.

    Parameters
    ----------
    samples : array-like of shape (n_obs, n_samples, n_params) or DataFrame
        Posterior draws, one set per observation.
    y : array-like of shape (n_obs, n_params), DataFrame or Series
        True parameter values.
    point_estimate : {"median", "mean"}, default="median"
        Summary of each posterior compared with the truth.
    normalize : {"range", "std"} or None, default="range"
        Divide the RMSE by the range (max - min) or the standard deviation of
        the true values, or not at all (None, the RMSE in y's units).
    param_names : sequence of str, optional
        Parameter names; by default taken from DataFrame columns.
    multioutput : {"raw_values", "uniform_average"}, default="raw_values"
        Keep one value per parameter, or average over parameters.

    Returns
    -------
    Series or float
        One value per parameter (named ``"normalized_rmse"``), or their mean.
        0 for perfect recovery; with ``normalize="std"``, 1 is no better than
        predicting the mean of the true values.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_sbi.metrics import normalized_rmse
    >>> truth = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> samples = truth[:, None, :] + np.array([-0.5, 0.5, 0.5])[None, :, None]
    >>> float(normalized_rmse(samples, truth, normalize=None).iloc[0])
    0.5
    """
    if normalize not in _NORMALIZERS:
        raise ValueError(f"`normalize` must be one of {_NORMALIZERS}, got {normalize!r}.")
    checked = check_samples_and_truth(samples, y, param_names=param_names)
    truth = checked.truth
    error = point_estimates(checked.samples, point_estimate) - truth
    rmse = np.sqrt(np.mean(error**2, axis=0))
    if normalize == "range":
        scale = np.ptp(truth, axis=0)
    elif normalize == "std":
        scale = np.std(truth, axis=0)
    else:
        scale = np.ones_like(rmse)
    if np.any(scale == 0):
        raise ValueError(
            f"Cannot normalise by the {normalize} of `y`: it is 0 for some parameter "
            "(constant true values). Use `normalize=None`."
        )
    return per_parameter(rmse / scale, checked.param_names, "normalized_rmse", multioutput)


def posterior_contraction(
    samples: Any,
    y: Any = None,
    *,
    prior_variance: float | ArrayLike | None = None,
    param_names: Sequence[str] | None = None,
    aggregation: Callable[..., np.ndarray] | None = np.mean,
    multioutput: str = "raw_values",
) -> pd.Series | pd.DataFrame | float:
    """Posterior contraction ``1 - posterior variance / prior variance``.

    Near 1 when the data pin a parameter down, near 0 when the posterior is
    as wide as the prior (negative when it is wider).

    Parameters
    ----------
    samples : array-like of shape (n_obs, n_samples, n_params) or DataFrame
        Posterior draws, one set per observation.
    y : array-like of shape (n_obs, n_params), DataFrame or Series, optional
        True parameter values drawn from the prior; their variance stands in
        for the prior variance when ``prior_variance`` is None.
    prior_variance : float or array-like of shape (n_params,), optional
        Prior variance of each parameter. Default: the variance of ``y``.
    param_names : sequence of str, optional
        Parameter names; by default taken from DataFrame columns.
    aggregation : callable or None, default=np.mean
        Reduction over observations (called with ``axis=0``); None returns
        one value per observation.
    multioutput : {"raw_values", "uniform_average"}, default="raw_values"
        Keep one value per parameter, or average over parameters.

    Returns
    -------
    Series, DataFrame or float
        One value per parameter (named ``"posterior_contraction"``), their
        mean, or with ``aggregation=None`` a DataFrame (n_obs, n_params).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_sbi.metrics import posterior_contraction
    >>> samples = np.random.default_rng(0).normal(scale=0.5, size=(10, 4000, 1))
    >>> round(float(posterior_contraction(samples, prior_variance=1.0).iloc[0]), 2)
    0.75
    """
    checked = check_samples_and_truth(
        samples, y, param_names=param_names, allow_missing_truth=prior_variance is not None
    )
    n_params = checked.samples.shape[2]
    if prior_variance is None:
        if checked.truth.shape[0] < 2:
            raise ValueError(
                "The variance of `y` needs at least 2 observations; pass `prior_variance`."
            )
        variance = np.var(checked.truth, axis=0, ddof=1)
    else:
        variance = np.broadcast_to(np.asarray(prior_variance, dtype=np.float64), (n_params,))
    if np.any(variance <= 0):
        raise ValueError(f"The prior variance must be positive, got {np.asarray(variance)}.")
    posterior_variance = np.var(checked.samples, axis=1, ddof=1)
    contraction = 1.0 - posterior_variance / variance
    return per_observation(
        contraction,
        checked.param_names,
        checked.obs_index,
        "posterior_contraction",
        aggregation,
        multioutput,
    )


def posterior_z_score(
    samples: Any,
    y: Any,
    *,
    param_names: Sequence[str] | None = None,
    aggregation: Callable[..., np.ndarray] | None = np.mean,
    multioutput: str = "raw_values",
) -> pd.Series | pd.DataFrame | float:
    """Posterior z-score ``(posterior mean - truth) / posterior standard deviation``.

    For a calibrated Gaussian posterior the z-scores are standard normal
    across observations: mean 0 (a nonzero mean signals bias) and standard
    deviation 1 (larger signals over-confidence).

    Parameters
    ----------
    samples : array-like of shape (n_obs, n_samples, n_params) or DataFrame
        Posterior draws, one set per observation.
    y : array-like of shape (n_obs, n_params), DataFrame or Series
        True parameter values.
    param_names : sequence of str, optional
        Parameter names; by default taken from DataFrame columns.
    aggregation : callable or None, default=np.mean
        Reduction over observations (called with ``axis=0``); None returns
        one z-score per observation.
    multioutput : {"raw_values", "uniform_average"}, default="raw_values"
        Keep one value per parameter, or average over parameters.

    Returns
    -------
    Series, DataFrame or float
        One value per parameter (named ``"posterior_z_score"``), their mean,
        or with ``aggregation=None`` a DataFrame (n_obs, n_params). Infinite
        where all draws of an observation are equal.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_sbi.metrics import posterior_z_score
    >>> samples = np.array([[[1.0], [3.0]]])  # mean 2, sd sqrt(2)
    >>> round(float(posterior_z_score(samples, [[0.0]]).iloc[0]), 3)
    1.414
    """
    checked = check_samples_and_truth(samples, y, param_names=param_names)
    mean = np.mean(checked.samples, axis=1)
    std = np.std(checked.samples, axis=1, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        z_score = (mean - checked.truth) / std
    return per_observation(
        z_score,
        checked.param_names,
        checked.obs_index,
        "posterior_z_score",
        aggregation,
        multioutput,
    )

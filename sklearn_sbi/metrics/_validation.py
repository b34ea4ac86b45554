"""Input checks shared by every diagnostics metric.

Posterior samples are ``(n_obs, n_samples, n_params)``, true values are
``(n_obs, n_params)``. Both may be pandas objects; parameter names travel
with them (see :func:`check_samples_and_truth`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline


class PosteriorCheck(NamedTuple):
    """Validated posterior samples, true values and their labels."""

    samples: np.ndarray
    """Posterior draws, float array of shape (n_obs, n_samples, n_params)."""
    truth: np.ndarray | None
    """True values, float array of shape (n_obs, n_params), or None."""
    param_names: list[str]
    """One name per parameter."""
    obs_index: pd.Index
    """One label per observation (the index of a DataFrame ``y``, else a RangeIndex)."""


def final_estimator(estimator: Any) -> Any:
    """The posterior at the end of a pipeline, or ``estimator`` itself."""
    return estimator[-1] if isinstance(estimator, Pipeline) else estimator


def estimator_param_names(estimator: Any) -> list[str] | None:
    """The fitted ``param_names_`` of an estimator (or pipeline), None when it has none."""
    names = getattr(final_estimator(estimator), "param_names_", None)
    return None if names is None else [str(n) for n in names]


def default_param_names(n_params: int) -> list[str]:
    """Names used when neither the inputs nor ``param_names`` carry any: ``theta[i]``."""
    return [f"theta[{i}]" for i in range(n_params)]


def _as_float_array(values: Any, name: str) -> np.ndarray:
    array = np.asarray(values)
    if array.dtype == object or not (
        np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.bool_)
    ):
        raise TypeError(f"`{name}` must be numeric, got dtype {array.dtype}.")
    if not np.issubdtype(array.dtype, np.floating):
        array = array.astype(np.float64)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"`{name}` contains NaN or infinite values; drop or impute them first.")
    return array


def _samples_from_frame(frame: pd.DataFrame) -> np.ndarray:
    """Reshape a tidy (observation, draw) frame into (n_obs, n_samples, n_params)."""
    if frame.index.nlevels != 2:
        raise ValueError(
            "A DataFrame of posterior samples needs a two-level (observation, draw) index, "
            "as returned by `estimator.sample(X, as_frame=True)`; got "
            f"{frame.index.nlevels} level(s)."
        )
    codes, _ = pd.factorize(frame.index.get_level_values(0))
    counts = np.bincount(codes)
    if np.any(counts != counts[0]):
        raise ValueError(
            "Every observation needs the same number of posterior draws; got between "
            f"{counts.min()} and {counts.max()}."
        )
    order = np.argsort(codes, kind="stable")
    values = frame.to_numpy()[order]
    return values.reshape(len(counts), counts[0], frame.shape[1])


def check_samples(
    samples: Any, *, param_names: Sequence[str] | None = None, name: str = "samples"
) -> tuple[np.ndarray, list[str] | None]:
    """Validate posterior samples alone.

    Parameters
    ----------
    samples : array-like of shape (n_obs, n_samples, n_params) or DataFrame
        Posterior draws. A DataFrame must be tidy, indexed by (observation,
        draw), one column per parameter.
    param_names : sequence of str, optional
        Names that override the DataFrame's columns.
    name : str, default="samples"
        Argument name used in error messages.

    Returns
    -------
    samples : ndarray of shape (n_obs, n_samples, n_params)
    names : list of str or None
        ``param_names`` or the DataFrame's columns; None when unknown.
    """
    names = None
    if isinstance(samples, pd.DataFrame):
        names = [str(c) for c in samples.columns]
        samples = _samples_from_frame(samples)
    array = _as_float_array(samples, name)
    if array.ndim != 3:
        raise ValueError(
            f"`{name}` must have shape (n_obs, n_samples, n_params), got {array.shape}. "
            f"For one parameter use `{name}[..., None]`; for one observation use `{name}[None]`."
        )
    if array.shape[0] == 0 or array.shape[1] == 0 or array.shape[2] == 0:
        raise ValueError(f"`{name}` is empty: shape {array.shape}.")
    if param_names is not None:
        names = check_param_names(param_names, array.shape[2])
    return array, names


def check_param_names(param_names: Sequence[str], n_params: int) -> list[str]:
    """Validate ``param_names``: one string per parameter."""
    if isinstance(param_names, str):
        raise TypeError("`param_names` must be a sequence of strings, not a single string.")
    names = [str(n) for n in param_names]
    if len(names) != n_params:
        raise ValueError(
            f"`param_names` has {len(names)} names but there are {n_params} parameters."
        )
    return names


def check_samples_and_truth(
    samples: Any,
    y: Any,
    *,
    param_names: Sequence[str] | None = None,
    allow_missing_truth: bool = False,
) -> PosteriorCheck:
    """Validate posterior samples against true parameter values.

    Parameter names come from, in order of precedence: ``param_names``, the
    columns of a DataFrame ``y`` (or the name of a Series ``y``), the columns
    of a DataFrame ``samples``, else ``theta[0], theta[1], ...``.

    Parameters
    ----------
    samples : array-like of shape (n_obs, n_samples, n_params) or DataFrame
        Posterior draws; see :func:`check_samples`.
    y : array-like of shape (n_obs, n_params) or (n_obs,), DataFrame or Series
        True parameter values, one row per observation. A 1-D ``y`` is
        accepted for a single parameter.
    param_names : sequence of str, optional
        Parameter names that override those carried by the inputs.
    allow_missing_truth : bool, default=False
        Accept ``y=None`` (then ``truth`` is None).

    Returns
    -------
    PosteriorCheck
        Float arrays ``samples`` and ``truth``, ``param_names`` and ``obs_index``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from sklearn_sbi.metrics._validation import check_samples_and_truth
    >>> y = pd.DataFrame({"mu": [0.0, 1.0]})
    >>> checked = check_samples_and_truth(np.zeros((2, 5, 1)), y)
    >>> checked.samples.shape, checked.param_names
    ((2, 5, 1), ['mu'])
    """
    array, sample_names = check_samples(samples)
    n_obs, _, n_params = array.shape
    obs_index = pd.RangeIndex(n_obs)
    truth_names = None
    truth = None
    if y is None:
        if not allow_missing_truth:
            raise ValueError("`y` (the true parameter values) is required.")
    else:
        if isinstance(y, pd.DataFrame):
            truth_names = [str(c) for c in y.columns]
            obs_index = y.index
        elif isinstance(y, pd.Series):
            truth_names = None if y.name is None else [str(y.name)]
            obs_index = y.index
        truth = _as_float_array(y, "y")
        if truth.ndim == 1 and n_params == 1:
            truth = truth[:, None]
        if truth.shape != (n_obs, n_params):
            raise ValueError(
                f"`y` must have shape (n_obs, n_params) = ({n_obs}, {n_params}) to match "
                f"`samples` of shape {array.shape}; got {truth.shape}."
            )
    if sample_names is not None and truth_names is not None and sample_names != truth_names:
        raise ValueError(
            f"Parameter names differ between `samples` ({sample_names}) and `y` ({truth_names})."
        )
    if param_names is not None:
        names = check_param_names(param_names, n_params)
    else:
        names = truth_names or sample_names or default_param_names(n_params)
    return PosteriorCheck(array, truth, names, obs_index)


def check_levels(levels: Any, name: str = "levels") -> np.ndarray:
    """Validate credible levels: a 1-D float array with values in (0, 1)."""
    array = np.atleast_1d(np.asarray(levels, dtype=np.float64))
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"`{name}` must be a float or a 1-D sequence of floats, got {levels!r}.")
    if np.any((array <= 0) | (array >= 1)):
        raise ValueError(f"`{name}` must lie strictly between 0 and 1, got {array.tolist()}.")
    return array

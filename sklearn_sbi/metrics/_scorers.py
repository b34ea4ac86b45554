"""Scorers for model selection: ``GridSearchCV(scoring=log_prob_scorer)``.

Each scorer is a callable ``scorer(estimator, X, y) -> float`` where higher is
better, which is all scikit-learn asks of a ``scoring`` argument. Sampling
scorers take keyword options; bind them with :func:`functools.partial`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sklearn_sbi.metrics._calibration import calibration_error
from sklearn_sbi.metrics._energy import energy_score


def log_prob_scorer(estimator: Any, X: Any, y: Any) -> float:
    """Mean log posterior density of the true values (higher is better).

    Parameters
    ----------
    estimator : fitted posterior estimator
        Anything with ``log_prob(X, y)`` returning one value per observation.
    X : array-like, DataFrame or Simulations
        Observations.
    y : array-like of shape (n_obs, n_params) or DataFrame
        True parameter values.

    Returns
    -------
    float
        ``mean(estimator.log_prob(X, y))``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_sbi.metrics import log_prob_scorer
    >>> class Flat:
    ...     def log_prob(self, X, y):
    ...         return np.full(len(X), -1.5)
    >>> log_prob_scorer(Flat(), np.zeros((3, 1)), np.zeros((3, 1)))
    -1.5
    """
    return float(np.mean(estimator.log_prob(X, y)))


def energy_scorer(
    estimator: Any,
    X: Any,
    y: Any,
    *,
    n_samples: int = 100,
    beta: float = 1.0,
    random_state: int | None = 0,
) -> float:
    """Negative mean energy score of posterior draws (higher is better).

    Works for every network, density or not: it only calls
    ``estimator.sample``. The score is in y's units, so compare it only
    between models fitted to the same parameters.

    Parameters
    ----------
    estimator : fitted posterior estimator
        Anything with ``sample(X, n_samples, random_state=...)`` returning
        ``(n_obs, n_samples, n_params)`` draws.
    X : array-like, DataFrame or Simulations
        Observations.
    y : array-like of shape (n_obs, n_params) or DataFrame
        True parameter values.
    n_samples : int, default=100
        Posterior draws per observation.
    beta : float, default=1.0
        Energy score exponent in (0, 2).
    random_state : int or None, default=0
        Seed passed to ``estimator.sample``, so that candidates are compared
        on the same random numbers.

    Returns
    -------
    float
        ``-energy_score(samples, y, aggregation=np.mean)``.

    See Also
    --------
    energy_score : The per-observation score.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_sbi.metrics import energy_scorer
    >>> class PointMass:
    ...     def sample(self, X, n_samples, random_state=None):
    ...         return np.zeros((len(X), n_samples, 1))
    >>> energy_scorer(PointMass(), np.zeros((2, 1)), [[1.0], [-1.0]])
    -1.0
    """
    samples = estimator.sample(X, n_samples=n_samples, random_state=random_state)
    return -energy_score(samples, y, beta=beta, aggregation=np.mean)


def calibration_scorer(
    estimator: Any,
    X: Any,
    y: Any,
    *,
    n_samples: int = 100,
    random_state: int | None = 0,
) -> float:
    """Negative calibration error averaged over parameters (higher is better, at most 0).

    Parameters
    ----------
    estimator : fitted posterior estimator
        Anything with ``sample(X, n_samples, random_state=...)``.
    X : array-like, DataFrame or Simulations
        Observations.
    y : array-like of shape (n_obs, n_params) or DataFrame
        True parameter values.
    n_samples : int, default=100
        Posterior draws per observation.
    random_state : int or None, default=0
        Seed passed to ``estimator.sample``.

    Returns
    -------
    float
        ``-calibration_error(samples, y, multioutput="uniform_average")``.

    See Also
    --------
    calibration_error : Per-parameter calibration error.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_sbi.metrics import calibration_scorer
    >>> class PointMass:
    ...     def sample(self, X, n_samples, random_state=None):
    ...         return np.zeros((len(X), n_samples, 1))
    >>> y = np.linspace(-1, 1, 10)[:, None]  # never covered by a point mass
    >>> calibration_scorer(PointMass(), np.zeros((10, 1)), y)
    -0.5
    """
    samples = estimator.sample(X, n_samples=n_samples, random_state=random_state)
    return -calibration_error(samples, y, multioutput="uniform_average")

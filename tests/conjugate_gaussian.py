"""A conjugate Gaussian model whose exact posterior is known, for diagnostics tests.

theta ~ N(0, PRIOR_SD^2 I) and x = theta + NOISE_SD * eps, so the posterior of
theta given x is N(SHRINKAGE * x, POSTERIOR_SD^2 I) with
SHRINKAGE = PRIOR_SD^2 / (PRIOR_SD^2 + NOISE_SD^2).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.base import BaseEstimator

PRIOR_SD = 1.0
NOISE_SD = 0.5
SHRINKAGE = PRIOR_SD**2 / (PRIOR_SD**2 + NOISE_SD**2)
POSTERIOR_SD = float(np.sqrt(SHRINKAGE) * NOISE_SD)
PARAM_NAMES = ["mu", "nu"]


def simulate(n: int, seed: int = 0) -> tuple[np.ndarray, pd.DataFrame]:
    """``n`` simulations: data X of shape (n, 2) and parameters y as a DataFrame."""
    rng = np.random.default_rng(seed)
    theta = rng.normal(scale=PRIOR_SD, size=(n, len(PARAM_NAMES)))
    x = theta + rng.normal(scale=NOISE_SD, size=theta.shape)
    return x, pd.DataFrame(theta, columns=PARAM_NAMES)


class ConjugatePosterior(BaseEstimator):
    """Samples the exact posterior, or a distorted one.

    ``scale`` multiplies the posterior standard deviation (1/3: over-confident,
    3: too wide); ``shift`` moves the mean by that many posterior standard
    deviations (biased). ``fit`` only records parameter names and a fake loss
    history, so the class works inside ``GridSearchCV``.
    """

    def __init__(self, scale: float = 1.0, shift: float = 0.0) -> None:
        self.scale = scale
        self.shift = shift

    def fit(self, X, y):
        self.param_names_ = list(PARAM_NAMES)
        self.loss_curve_ = list(1.0 / np.arange(1, 21))
        self.validation_scores_ = list(1.1 / np.arange(1, 21) + 0.05)
        return self

    def _moments(self, X) -> tuple[np.ndarray, float]:
        sd = POSTERIOR_SD * self.scale
        return SHRINKAGE * np.asarray(X, dtype=float) + self.shift * POSTERIOR_SD, sd

    def sample(self, X, n_samples=1000, *, random_state=None) -> np.ndarray:
        mean, sd = self._moments(X)
        rng = np.random.default_rng(random_state)
        noise = rng.normal(size=(mean.shape[0], n_samples, mean.shape[1]))
        return mean[:, None, :] + sd * noise

    def log_prob(self, X, y) -> np.ndarray:
        mean, sd = self._moments(X)
        return stats.norm.logpdf(np.asarray(y, dtype=float), mean, sd).sum(axis=1)


def fitted(scale: float = 1.0, shift: float = 0.0) -> ConjugatePosterior:
    """A ready-to-sample :class:`ConjugatePosterior`."""
    x, y = simulate(2)
    return ConjugatePosterior(scale=scale, shift=shift).fit(x, y)

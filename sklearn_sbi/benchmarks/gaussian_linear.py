"""The ``gaussian_linear`` task: a 10-D Gaussian mean with a conjugate posterior."""

from __future__ import annotations

import numpy as np

from sklearn_sbi.benchmarks._task import Task


class GaussianLinear(Task):
    """Infer the mean of a 10-D Gaussian from one draw (sbibm's ``gaussian_linear``).

    Prior ``theta ~ N(0, 0.1 I)``; data ``x ~ N(theta, 0.1 I)`` (0.1 is the
    variance). The posterior is Gaussian, ``N(x / 2, 0.05 I)``, and sampled
    exactly.

    Examples
    --------
    >>> from sklearn_sbi.benchmarks import GaussianLinear
    >>> task = GaussianLinear()
    >>> X, y = task.simulate(3, random_state=0)
    >>> X.shape, y.shape
    ((3, 10), (3, 10))
    """

    name = "gaussian_linear"
    n_params = 10
    n_features = 10
    prior_variance = 0.1
    noise_variance = 0.1

    def _sample_prior(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return rng.normal(0.0, np.sqrt(self.prior_variance), size=(n, self.n_params))

    def _simulate_data(self, theta: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return theta + rng.normal(0.0, np.sqrt(self.noise_variance), size=theta.shape)

    def _sample_reference_posterior(
        self, x: np.ndarray, n_samples: int, rng: np.random.Generator
    ) -> np.ndarray:
        # Isotropic conjugate update: precisions add, the mean is precision-weighted.
        variance = 1.0 / (1.0 / self.prior_variance + 1.0 / self.noise_variance)
        mean = variance * x / self.noise_variance
        return mean + rng.normal(0.0, np.sqrt(variance), size=(n_samples, self.n_params))

"""The ``gaussian_mixture`` task: a broad and a narrow Gaussian sharing one mean."""

from __future__ import annotations

import numpy as np

from sklearn_sbi.benchmarks._task import Task, rejection_sample, sample_uniform_box


class GaussianMixture(Task):
    """Infer the common mean of a two-component mixture (sbibm's ``gaussian_mixture``).

    Prior ``theta ~ U(-10, 10)^2``; data ``x ~ 0.5 N(theta, I) + 0.5 N(theta, 0.01 I)``
    (one component per simulation). As a function of ``theta`` the likelihood is
    the same mixture centred on ``x``, so the exact posterior is that mixture
    truncated to the prior box, sampled by rejection.

    Examples
    --------
    >>> from sklearn_sbi.benchmarks import GaussianMixture
    >>> X, y = GaussianMixture().simulate(4, random_state=0)
    >>> X.shape, y.shape
    ((4, 2), (4, 2))
    """

    name = "gaussian_mixture"
    n_params = 2
    n_features = 2
    prior_bound = 10.0
    component_scales = (1.0, 0.1)

    def _sample_prior(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return sample_uniform_box(n, self.prior_bound, self.n_params, rng)

    def _sample_mixture(self, centres: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One draw of the equal-weight mixture around each row of ``centres``."""
        scales = rng.choice(self.component_scales, size=(len(centres), 1))
        return centres + scales * rng.normal(size=centres.shape)

    def _simulate_data(self, theta: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return self._sample_mixture(theta, rng)

    def _sample_reference_posterior(
        self, x: np.ndarray, n_samples: int, rng: np.random.Generator
    ) -> np.ndarray:
        def propose(m: int, rng: np.random.Generator) -> np.ndarray:
            theta = self._sample_mixture(np.broadcast_to(x, (m, self.n_params)), rng)
            return theta[(np.abs(theta) <= self.prior_bound).all(axis=1)]

        return rejection_sample(propose, n_samples, rng)

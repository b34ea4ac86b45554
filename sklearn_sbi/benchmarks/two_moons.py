"""The ``two_moons`` task: a bimodal, crescent-shaped posterior in 2-D."""

from __future__ import annotations

import numpy as np

from sklearn_sbi.benchmarks._task import Task, rejection_sample, sample_uniform_box


class TwoMoons(Task):
    """The two-moons problem of the sbibm benchmark and the two-moons walkthrough.

    Prior ``theta ~ U(-1, 1)^2``. Noise ``alpha ~ U(-pi/2, pi/2)``,
    ``r ~ N(0.1, 0.01^2)`` gives the point ``p = (r cos(alpha) + 0.25, r sin(alpha))``
    and the data are

    ``x = p + (-|theta_0 + theta_1| / sqrt(2), (theta_1 - theta_0) / sqrt(2))``.

    The map ``theta -> (-|z_0|, z_1)`` is a rotation followed by a fold, so each
    of its two branches has unit Jacobian. The exact posterior is therefore the
    push-forward of fresh noise ``p`` through the inverse map, ``|z_0| = p_0 - x_0``
    and ``z_1 = x_1 - p_1``, with the sign of ``z_0`` (the branch) a fair coin;
    draws with ``p_0 < x_0`` (no ``theta`` can produce them) or outside the
    prior are rejected.

    Examples
    --------
    >>> from sklearn_sbi.benchmarks import TwoMoons
    >>> task = TwoMoons()
    >>> task.reference_posterior([0.0, 0.0], n_samples=5, random_state=0).shape
    (5, 2)
    """

    name = "two_moons"
    n_params = 2
    n_features = 2
    prior_bound = 1.0
    offset = 0.25
    radius_mean = 0.1
    radius_sd = 0.01

    def _sample_prior(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return sample_uniform_box(n, self.prior_bound, self.n_params, rng)

    def _sample_noise_point(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Draw ``p = (r cos(alpha) + offset, r sin(alpha))``, shape ``(n, 2)``."""
        alpha = rng.uniform(-np.pi / 2, np.pi / 2, size=n)
        radius = rng.normal(self.radius_mean, self.radius_sd, size=n)
        return np.stack([radius * np.cos(alpha) + self.offset, radius * np.sin(alpha)], axis=1)

    def _simulate_data(self, theta: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        z0 = (theta[:, 0] + theta[:, 1]) / np.sqrt(2)
        z1 = (theta[:, 1] - theta[:, 0]) / np.sqrt(2)
        return self._sample_noise_point(len(theta), rng) + np.stack([-np.abs(z0), z1], axis=1)

    def _sample_reference_posterior(
        self, x: np.ndarray, n_samples: int, rng: np.random.Generator
    ) -> np.ndarray:
        def propose(m: int, rng: np.random.Generator) -> np.ndarray:
            p = self._sample_noise_point(m, rng)
            abs_z0 = p[:, 0] - x[0]
            z0 = np.where(rng.random(m) < 0.5, abs_z0, -abs_z0)
            z1 = x[1] - p[:, 1]
            # Invert the rotation: theta_0 = (z0 - z1) / sqrt(2), theta_1 = (z0 + z1) / sqrt(2).
            theta = np.stack([z0 - z1, z0 + z1], axis=1) / np.sqrt(2)
            feasible = (abs_z0 >= 0) & (np.abs(theta) <= self.prior_bound).all(axis=1)
            return theta[feasible]

        return rejection_sample(propose, n_samples, rng)

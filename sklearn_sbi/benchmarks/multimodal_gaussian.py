"""The ``multimodal_gaussian`` task: one Gaussian seen through a set and a time series."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from sklearn_sbi.benchmarks._task import Data, Task
from sklearn_sbi.networks.summary import (
    MLP,
    FusionEncoder,
    SetTransformer,
    TimeSeriesTransformer,
)
from sklearn_sbi.preprocessing import Difference
from sklearn_sbi.simulations import Simulations


class MultimodalGaussian(Task):
    """Mean and spread of a 2-D Gaussian from two experiments (the multimodal walkthrough).

    Prior ``mu ~ N(0, I_2)``, ``sigma ~ Gamma(shape=5, scale=0.1)``.
    Experiment A: ``observables_a``, 5 iid draws ``N(mu, sigma^2 I_2)`` (a set,
    shape ``(5, 2)``). Experiment B: ``observables_b``, the cumulative sum of
    20 such draws (a series, shape ``(20, 2)``) with time stamps ``time_b``
    (``linspace(0, 1, 20)``, shape ``(20, 1)``). Parameters are
    ``["mu[0]", "mu[1]", "sigma"]``; the data are a :class:`~sklearn_sbi.Simulations`.

    Exact posterior: differencing experiment B recovers its iid draws, so the
    data are 25 iid draws. Given ``sigma``, ``mu`` is conjugate normal
    (``N(S / (sigma^2 + n), sigma^2 / (sigma^2 + n) I)`` with ``S`` the sum of the
    ``n`` draws); integrating ``mu`` out gives ``sigma``'s 1-D marginal
    posterior in closed form up to a constant. It is evaluated on a fine grid
    around its mass, sampled by inverse CDF, and ``mu | sigma`` drawn exactly.

    Examples
    --------
    >>> from sklearn_sbi.benchmarks import MultimodalGaussian
    >>> X, y = MultimodalGaussian().simulate(3, random_state=0)
    >>> X["observables_a"].shape, X["observables_b"].shape, y.shape
    ((3, 5, 2), (3, 20, 2), (3, 3))
    """

    name = "multimodal_gaussian"
    n_params = 3
    n_exchangeable = 5
    n_time_series = 20
    sigma_shape = 5.0
    sigma_scale = 0.1
    grid_size = 20_001

    @property
    def param_names(self) -> list[str]:
        """``["mu[0]", "mu[1]", "sigma"]``."""
        return ["mu[0]", "mu[1]", "sigma"]

    @property
    def support(self) -> tuple[list[float], float]:
        """``mu`` is unbounded, ``sigma > 0`` (its gamma prior)."""
        return [-np.inf, -np.inf, 0.0], np.inf

    def _sample_prior(self, n: int, rng: np.random.Generator) -> np.ndarray:
        mu = rng.normal(size=(n, 2))
        sigma = rng.gamma(self.sigma_shape, self.sigma_scale, size=(n, 1))
        return np.concatenate([mu, sigma], axis=1)

    def _simulate_data(self, theta: np.ndarray, rng: np.random.Generator) -> Simulations:
        mu, sigma = theta[:, :2], theta[:, 2]
        return Simulations(
            **self._experiment_a(mu, sigma, rng), **self._experiment_b(mu, sigma, rng)
        )

    def _experiment_a(
        self, mu: np.ndarray, sigma: np.ndarray, rng: np.random.Generator
    ) -> dict[str, np.ndarray]:
        noise = rng.normal(size=(len(mu), self.n_exchangeable, 2))
        return {"observables_a": mu[:, None] + sigma.reshape(-1, 1, 1) * noise}

    def _experiment_b(
        self, mu: np.ndarray, sigma: np.ndarray, rng: np.random.Generator
    ) -> dict[str, np.ndarray]:
        noise = rng.normal(size=(len(mu), self.n_time_series, 2))
        steps = mu[:, None] + sigma.reshape(-1, 1, 1) * noise
        time = np.linspace(0.0, 1.0, self.n_time_series)[None, :, None]
        return {
            "observables_b": np.cumsum(steps, axis=1),
            "time_b": np.broadcast_to(time, (len(mu), self.n_time_series, 1)).copy(),
        }

    def _simulator_functions(self) -> list[Callable[..., dict[str, np.ndarray]]]:
        def prior(batch_size: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
            theta = self._sample_prior(batch_size, rng)
            return {"mu": theta[:, :2], "sigma": theta[:, 2:]}

        def likelihood_a(
            mu: np.ndarray, sigma: np.ndarray, rng: np.random.Generator
        ) -> dict[str, np.ndarray]:
            return self._experiment_a(mu, sigma, rng)

        def likelihood_b(
            mu: np.ndarray, sigma: np.ndarray, rng: np.random.Generator
        ) -> dict[str, np.ndarray]:
            return self._experiment_b(mu, sigma, rng)

        return [prior, likelihood_a, likelihood_b]

    def make_adapter(self) -> list[Difference]:
        """Difference experiment B's cumulative sum into its increments.

        Standardized, the raw sum is dominated by its drift ``20 mu``; its
        increments carry ``sigma`` at their own scale. Without this step the
        time-series encoders learned nothing about ``sigma`` from B (C2ST 0.758
        instead of 0.562 on 3 observations, 10,000 simulations).
        """
        return [Difference("observables_b")]

    def make_summary_net(self) -> FusionEncoder:
        """The walkthrough's fusion: set transformer on A, time-series transformer on B, MLP head.

        Each encoder has ``summary_dim=6``; the head ``MLP(widths=(128, 128),
        output_dim=6)`` fuses them.
        """
        return FusionEncoder(
            encoders=[
                ("a", SetTransformer(summary_dim=6), "observables_a"),
                (
                    "b",
                    TimeSeriesTransformer(summary_dim=6, time_axis=-1),
                    ["observables_b", "time_b"],
                ),
            ],
            head=MLP(widths=(128, 128), output_dim=6),
        )

    def _check_observation(self, x: Data) -> np.ndarray:
        """Return the iid draws ``(n, 2)`` behind one observation (B differenced)."""
        if not isinstance(x, (Simulations, Mapping)):
            raise TypeError(
                f"{self.name}: x must be a Simulations of one observation (e.g. X_obs[i]), "
                f"got {type(x).__name__}."
            )
        fields = {}
        for name in ("observables_a", "observables_b"):
            if name not in x:
                raise ValueError(f"{self.name}: x lacks the field {name!r}.")
            value = np.asarray(x[name], dtype=np.float64)
            if value.ndim != 3 or value.shape[0] != 1 or value.shape[2] != 2:
                raise ValueError(
                    f"{self.name}: x[{name!r}] must have shape (1, length, 2) for one "
                    f"observation, got {value.shape}; pass X_obs[i], not all observations."
                )
            fields[name] = value[0]
        increments = np.diff(fields["observables_b"], axis=0, prepend=0.0)
        return np.concatenate([fields["observables_a"], increments])

    def _sample_reference_posterior(
        self, x: np.ndarray, n_samples: int, rng: np.random.Generator
    ) -> np.ndarray:
        n = len(x)
        total, squares = x.sum(axis=0), (x**2).sum(axis=0)

        def log_density(sigma: np.ndarray) -> np.ndarray:
            return self._sigma_log_posterior(sigma, n, total, squares)

        grid = self._sigma_grid(log_density)
        values = log_density(grid)
        density = np.exp(values - values.max())
        # Trapezoidal CDF on the grid, inverted by linear interpolation.
        areas = 0.5 * (density[1:] + density[:-1]) * np.diff(grid)
        cdf = np.concatenate([[0.0], np.cumsum(areas)])
        sigma = np.interp(rng.random(n_samples) * cdf[-1], cdf, grid)
        variance = sigma**2
        mean = total / (variance[:, None] + n)
        sd = np.sqrt(variance / (variance + n))
        mu = mean + sd[:, None] * rng.normal(size=(n_samples, 2))
        return np.column_stack([mu, sigma])

    def _sigma_log_posterior(
        self, sigma: np.ndarray, n: int, total: np.ndarray, squares: np.ndarray
    ) -> np.ndarray:
        """Unnormalized log p(sigma | draws), ``mu`` integrated out (both coordinates)."""
        variance = sigma[:, None] ** 2
        log_marginal = (
            -(n - 1) * np.log(sigma[:, None])
            - 0.5 * np.log(variance + n)
            - 0.5 * (squares - total**2 / (variance + n)) / variance
        ).sum(axis=1)
        log_prior = (self.sigma_shape - 1) * np.log(sigma) - sigma / self.sigma_scale
        return log_marginal + log_prior

    def _sigma_grid(self, log_density: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        """A fine grid of ``sigma`` covering all but a negligible part of the posterior mass."""
        coarse = np.exp(np.linspace(np.log(1e-4), np.log(1e2), 4_001))
        values = log_density(coarse)
        relevant = np.flatnonzero(values > values.max() - 40.0)
        low = coarse[max(relevant[0] - 1, 0)]
        high = coarse[min(relevant[-1] + 1, len(coarse) - 1)]
        return np.linspace(low, high, self.grid_size)

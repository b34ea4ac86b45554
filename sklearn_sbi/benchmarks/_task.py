"""The shared base of benchmark tasks: prior, simulator, observations, reference posterior."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from functools import cached_property
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike

from sklearn_sbi.simulations import Simulations
from sklearn_sbi.simulators import Simulator, make_simulator

RandomState = int | np.random.Generator | np.random.SeedSequence | None
Data = np.ndarray | Simulations

#: Seed of observation ``i`` (counted from 1) is ``OBSERVATION_SEED_OFFSET + i``.
OBSERVATION_SEED_OFFSET = 1_000_000


class Task(ABC):
    """A simulation-based inference problem with an exact (or verified) posterior.

    Subclasses define the prior (:meth:`_sample_prior`), the forward model
    (:meth:`_simulate_data`) and the reference posterior
    (:meth:`_sample_reference_posterior`), all vectorized over a batch.

    Attributes
    ----------
    name : str
        Task name, e.g. ``"two_moons"``.
    n_params : int
        Number of parameters.
    n_features : int
        Number of data features of flat tasks (one observation is a vector).
    param_names : list of str
        Flat parameter column names, e.g. ``["theta[0]", "theta[1]"]``.
    n_observations : int
        Number of fixed observations in :attr:`observations` (10).
    prior_bound : float or None
        Half-width ``b`` of a uniform prior box ``[-b, b]^d`` (gives
        :attr:`support`); None for other priors.

    Examples
    --------
    >>> from sklearn_sbi.benchmarks import get_task
    >>> task = get_task("gaussian_mixture")
    >>> X_obs, y_obs = task.observations
    >>> task.reference_posterior(X_obs[0], n_samples=3, random_state=0).shape
    (3, 2)
    """

    name: ClassVar[str]
    n_params: ClassVar[int]
    n_features: ClassVar[int]
    n_observations: ClassVar[int] = 10
    prior_bound: ClassVar[float | None] = None
    """Half-width of a uniform prior box ``[-b, b]^d``; None for other priors."""

    @property
    def param_names(self) -> list[str]:
        """Flat parameter column names, ``theta[0]``, ``theta[1]``, ..."""
        return [f"theta[{i}]" for i in range(self.n_params)]

    @property
    def support(self) -> tuple[Any, Any] | None:
        """The prior's support box ``(low, high)``, or None where it is all of R^d.

        :meth:`make_estimator` passes it to the estimator, which then rejects
        posterior draws outside it (``AmortizedPosterior(support=...)``).
        """
        return None if self.prior_bound is None else (-self.prior_bound, self.prior_bound)

    @abstractmethod
    def _sample_prior(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Draw ``(n, n_params)`` parameters from the prior."""

    @abstractmethod
    def _simulate_data(self, theta: np.ndarray, rng: np.random.Generator) -> Data:
        """Simulate one data set per row of ``theta``."""

    @abstractmethod
    def _sample_reference_posterior(
        self, x: Data, n_samples: int, rng: np.random.Generator
    ) -> np.ndarray:
        """Draw ``(n_samples, n_params)`` from the posterior given one observation ``x``."""

    # -- public API ----------------------------------------------------------
    def prior_sample(self, n: int, random_state: RandomState = None) -> np.ndarray:
        """Draw parameters from the prior.

        Parameters
        ----------
        n : int
            Number of draws.
        random_state : int, numpy Generator or None
            Seed or generator.

        Returns
        -------
        ndarray of shape (n, n_params)
        """
        return self._sample_prior(_check_count(n, "n"), np.random.default_rng(random_state))

    def simulate(self, n: int, random_state: RandomState = None) -> tuple[Data, np.ndarray]:
        """Simulate ``n`` (data, parameter) pairs from the joint distribution.

        Parameters
        ----------
        n : int
            Number of simulations.
        random_state : int, numpy Generator or None
            Seed or generator; the same seed gives the same simulations.

        Returns
        -------
        X : ndarray of shape (n, n_features) or Simulations
            Simulated data (a :class:`~sklearn_sbi.Simulations` of data fields
            for tasks with set or time-series data).
        y : ndarray of shape (n, n_params)
            The parameters that generated each row of ``X``.
        """
        rng = np.random.default_rng(random_state)
        theta = self._sample_prior(_check_count(n, "n"), rng)
        return self._simulate_data(theta, rng), theta

    def simulate_data(self, theta: ArrayLike, random_state: RandomState = None) -> Data:
        """Simulate one data set for each parameter vector (the likelihood alone).

        Parameters
        ----------
        theta : array-like of shape (n, n_params)
            Parameters.
        random_state : int, numpy Generator or None
            Seed or generator.

        Returns
        -------
        ndarray of shape (n, n_features) or Simulations
        """
        theta = np.asarray(theta, dtype=np.float64)
        if theta.ndim != 2 or theta.shape[1] != self.n_params:
            raise ValueError(
                f"{self.name}: theta must have shape (n, {self.n_params}), got {theta.shape}."
            )
        return self._simulate_data(theta, np.random.default_rng(random_state))

    @cached_property
    def observations(self) -> tuple[Data, np.ndarray]:
        """The task's fixed observations and the parameters that generated them.

        Observation ``i`` (``i = 1, ..., n_observations``) is simulated with
        seed ``1_000_000 + i``, so the set never changes.

        Returns
        -------
        X_obs : ndarray of shape (n_observations, n_features) or Simulations
        y_obs : ndarray of shape (n_observations, n_params)
        """
        rows = [
            self.simulate(1, random_state=OBSERVATION_SEED_OFFSET + i)
            for i in range(1, self.n_observations + 1)
        ]
        return _stack([x for x, _ in rows]), np.concatenate([theta for _, theta in rows])

    def reference_posterior(
        self, x: Data, n_samples: int = 10_000, random_state: RandomState = None
    ) -> np.ndarray:
        """Draw from the exact (or verified reference) posterior given one observation.

        Parameters
        ----------
        x : ndarray of shape (n_features,) or (1, n_features), or Simulations of length 1
            One observation, e.g. ``X_obs[i]`` of :attr:`observations`.
        n_samples : int, default=10_000
            Number of posterior draws.
        random_state : int, numpy Generator or None
            Seed or generator.

        Returns
        -------
        ndarray of shape (n_samples, n_params)
        """
        return self._sample_reference_posterior(
            self._check_observation(x),
            _check_count(n_samples, "n_samples"),
            np.random.default_rng(random_state),
        )

    @property
    def simulator(self) -> Simulator:
        """The task as a :class:`~sklearn_sbi.simulators.Simulator` (prior then likelihood)."""
        return make_simulator(self._simulator_functions(), batched=True)

    def make_summary_net(self) -> Any:
        """A summary network suited to the task's data, or None for flat data."""
        return None

    def make_adapter(self) -> list[Any]:
        """Pre-processing steps suited to the task's data (none by default)."""
        return []

    def make_estimator(self, inference_net: Any = "flow_matching", **params: Any) -> Any:
        """The benchmarks' estimator: ``inference_net`` with the task's adapter and summaries.

        The estimator's ``support`` is the prior's (:attr:`support`) unless
        ``params`` sets it.

        Parameters
        ----------
        inference_net : str or InferenceNetwork, default="flow_matching"
        **params
            Other :class:`~sklearn_sbi.AmortizedPosterior` parameters.

        Returns
        -------
        AmortizedPosterior or PosteriorPipeline
            A pipeline when :meth:`make_adapter` has steps.
        """
        from sklearn_sbi.pipeline import make_posterior_pipeline
        from sklearn_sbi.posterior import AmortizedPosterior

        params.setdefault("support", self.support)
        estimator = AmortizedPosterior(
            inference_net=inference_net, summary_net=self.make_summary_net(), **params
        )
        steps = self.make_adapter()
        return make_posterior_pipeline(*steps, estimator) if steps else estimator

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    # -- helpers for subclasses ----------------------------------------------
    def _simulator_functions(self) -> list[Callable[..., dict[str, np.ndarray]]]:
        """Batched prior and likelihood functions for :func:`make_simulator`."""

        def prior(batch_size: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
            return {"theta": self._sample_prior(batch_size, rng)}

        def likelihood(theta: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
            return {"x": self._simulate_data(theta, rng)}

        return [prior, likelihood]

    def _check_observation(self, x: Data) -> Data:
        """Return one flat observation as a 1-D float array of the task's data size."""
        array = np.asarray(x, dtype=np.float64)
        if array.ndim == 2 and array.shape[0] == 1:
            array = array[0]
        if array.shape != (self.n_features,):
            raise ValueError(
                f"{self.name}: x must be one observation of shape ({self.n_features},) or "
                f"(1, {self.n_features}), got {np.shape(x)}; pass X_obs[i], not all "
                "observations."
            )
        return array


def sample_uniform_box(n: int, bound: float, dim: int, rng: np.random.Generator) -> np.ndarray:
    """Draw ``(n, dim)`` points uniformly from the box ``[-bound, bound]^dim``."""
    return rng.uniform(-bound, bound, size=(n, dim))


def rejection_sample(
    propose: Callable[[int, np.random.Generator], np.ndarray],
    n_samples: int,
    rng: np.random.Generator,
    *,
    min_rate: float = 1e-5,
) -> np.ndarray:
    """Collect ``n_samples`` accepted proposals, batch by batch.

    ``propose(m, rng)`` makes ``m`` proposals and returns the accepted ones
    (rows of an array). Batch sizes follow the observed acceptance rate; after
    10 million proposals an acceptance rate below ``min_rate`` raises a
    RuntimeError (the observation is practically impossible under the model).
    """
    accepted: list[np.ndarray] = []
    n_accepted = n_proposed = 0
    while n_accepted < n_samples:
        if n_proposed >= 10**7 and n_accepted < min_rate * n_proposed:
            raise RuntimeError(
                f"Rejection sampling accepted {n_accepted} of {n_proposed} proposals; the "
                "observation is (nearly) impossible under the model."
            )
        rate = max(n_accepted, 1) / n_proposed if n_proposed else 1.0
        batch = int(np.clip(1.1 * (n_samples - n_accepted) / rate, 1_000, 10**7))
        draws = propose(batch, rng)
        accepted.append(draws)
        n_accepted += len(draws)
        n_proposed += batch
    return np.concatenate(accepted)[:n_samples]


def _check_count(n: Any, name: str) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"{name} must be a positive integer, got {n!r}.")
    return int(n)


def _stack(parts: list[Data]) -> Data:
    """Concatenate arrays or Simulations along the simulation axis."""
    if isinstance(parts[0], Simulations):
        return Simulations({k: np.concatenate([p[k] for p in parts]) for k in parts[0].keys()})
    return np.concatenate(parts)

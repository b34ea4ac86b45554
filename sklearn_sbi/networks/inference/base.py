"""The contract every inference network follows.

An inference network comes in two parts:

* a *spec* (:class:`InferenceNetwork`), a scikit-learn ``BaseEstimator`` that
  holds hyperparameters only, so ``clone``, ``get_params`` and
  ``GridSearchCV(param_grid={"inference_net__widths": ...})`` work; and
* a torch *module* (:class:`InferenceModule`) that the spec builds at fit time
  for a known parameter and condition size.

The module works in standardized parameter space: the estimator handles
units, target transforms and their Jacobians.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import ClassVar

import torch
from sklearn.base import BaseEstimator
from torch import nn


def standard_normal_log_prob(z: torch.Tensor) -> torch.Tensor:
    """Log density ``(B,)`` of ``z (B, d)`` under the standard normal distribution."""
    return -0.5 * (z**2).sum(dim=1) - 0.5 * z.shape[1] * math.log(2 * math.pi)


class InferenceModule(nn.Module, ABC):
    """A conditional generative model of ``theta`` given a context vector.

    Subclasses implement :meth:`loss` and :meth:`sample`, and
    :meth:`log_prob` when ``has_log_prob`` is true. Sampling is a
    deterministic map of standard normal noise supplied by the caller, which
    is what makes samples reproducible and independent of chunk sizes.

    Examples
    --------
    Every built-in network's module follows this contract:

    >>> import torch
    >>> from sklearn_sbi.networks import CouplingFlow
    >>> module = CouplingFlow(depth=1, widths=(8,)).build(n_params=2, n_conditions=3)
    >>> context = torch.zeros(4, 3)
    >>> draws = module.sample(context, torch.randn(4, module.noise_size))
    >>> draws.shape, module.log_prob(draws, context).shape, module.loss(draws, context).ndim
    (torch.Size([4, 2]), torch.Size([4]), 0)
    """

    has_log_prob: ClassVar[bool] = True
    supports_early_stopping: ClassVar[bool] = True
    """False when the loss changes meaning during training (a curriculum), so a
    validation loss of one epoch cannot be compared with another's; the
    estimator then trains for all its epochs."""

    def __init__(self, n_params: int, n_conditions: int) -> None:
        super().__init__()
        self.n_params = n_params
        self.n_conditions = n_conditions

    @property
    def needs_pretraining(self) -> bool:
        """Whether a part of the module is still to be fitted alone first.

        An offline fit with a validation split then fits that part by
        :meth:`pretraining_loss`, stopping early on its held-out value,
        calls :meth:`freeze_pretrained`, and only then trains the whole
        module by :meth:`loss`. False for every module but a whitened one.
        """
        return False

    def pretraining_loss(self, theta: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        """Scalar loss of the part fitted first (see :attr:`needs_pretraining`)."""
        raise NotImplementedError(f"{type(self).__name__} has no part to fit first.")

    def freeze_pretrained(self) -> None:
        """Fix the weights of the part fitted first for the rest of training."""
        raise NotImplementedError(f"{type(self).__name__} has no part to fit first.")

    @property
    def noise_size(self) -> int:
        """Number of standard normal values one draw consumes."""
        return self.n_params

    @abstractmethod
    def loss(
        self,
        theta: torch.Tensor,
        context: torch.Tensor,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Training loss (a scalar) for a batch ``theta (B, d)``, ``context (B, c)``.

        ``generator`` fixes the loss's own randomness (noise, times); the
        validation loss uses one seeded the same way every epoch.
        """

    @abstractmethod
    def sample(self, context: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """Map ``noise (B, noise_size)`` to draws ``(B, d)`` given ``context (B, c)``."""

    def log_prob(self, theta: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        """Log density ``(B,)`` of ``theta (B, d)`` given ``context (B, c)``."""
        raise NotImplementedError(
            f"{type(self).__name__} has no tractable density; use a flow matching or "
            "coupling flow network for log_prob."
        )


class InferenceNetwork(BaseEstimator, ABC):
    """Hyperparameter-only spec of an inference network.

    Subclasses define ``__init__`` with keyword hyperparameters (stored as
    is) and :meth:`build`.

    Examples
    --------
    A conditional diagonal Gaussian, the smallest useful inference network:

    >>> import math
    >>> import numpy as np
    >>> import torch
    >>> from torch import nn
    >>> from sklearn_sbi import AmortizedPosterior
    >>> from sklearn_sbi.networks.inference import InferenceModule, InferenceNetwork
    >>> class GaussianModule(InferenceModule):
    ...     def __init__(self, n_params, n_conditions, width):
    ...         super().__init__(n_params, n_conditions)
    ...         self.net = nn.Sequential(
    ...             nn.Linear(n_conditions, width), nn.SiLU(), nn.Linear(width, 2 * n_params)
    ...         )
    ...     def log_prob(self, theta, context):
    ...         mean, log_sd = self.net(context).chunk(2, dim=-1)
    ...         z = (theta - mean) * torch.exp(-log_sd)
    ...         return (-0.5 * z**2 - log_sd - 0.5 * math.log(2 * math.pi)).sum(-1)
    ...     def loss(self, theta, context, generator=None):
    ...         return -self.log_prob(theta, context).mean()
    ...     def sample(self, context, noise):
    ...         mean, log_sd = self.net(context).chunk(2, dim=-1)
    ...         return mean + torch.exp(log_sd) * noise
    >>> class Gaussian(InferenceNetwork):
    ...     def __init__(self, width=32):
    ...         self.width = width
    ...     def build(self, n_params, n_conditions, *, total_steps=None):
    ...         return GaussianModule(n_params, n_conditions, self.width)
    >>> rng = np.random.default_rng(0)
    >>> theta = rng.normal(size=(200, 2))
    >>> x = theta + 0.5 * rng.normal(size=(200, 2))
    >>> est = AmortizedPosterior(inference_net=Gaussian(width=16), max_epochs=2, random_state=0)
    >>> est.fit(x, theta).sample(x[:3], n_samples=4, random_state=0).shape
    (3, 4, 2)
    >>> est.get_params()["inference_net__width"]
    16
    """

    has_log_prob: ClassVar[bool] = True

    @abstractmethod
    def build(
        self, n_params: int, n_conditions: int, *, total_steps: int | None = None
    ) -> InferenceModule:
        """Build the torch module for ``n_params`` targets and ``n_conditions`` conditions.

        ``total_steps`` is the planned number of optimizer steps of the fit,
        for networks whose training follows a schedule.
        """

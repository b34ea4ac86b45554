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

from abc import ABC, abstractmethod
from typing import ClassVar

import torch
from sklearn.base import BaseEstimator
from torch import nn


class InferenceModule(nn.Module, ABC):
    """A conditional generative model of ``theta`` given a context vector.

    Subclasses implement :meth:`loss` and :meth:`sample`, and
    :meth:`log_prob` when ``has_log_prob`` is true. Sampling is a
    deterministic map of standard normal noise supplied by the caller, which
    is what makes samples reproducible and independent of chunk sizes.
    """

    has_log_prob: ClassVar[bool] = True

    def __init__(self, n_params: int, n_conditions: int) -> None:
        super().__init__()
        self.n_params = n_params
        self.n_conditions = n_conditions

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

"""Conditional whitening: a learned Gaussian posterior in front of a generative network.

The wrapped network models ``u = (theta - m(c)) / s(c)`` instead of
``theta``, where ``N(m(c), diag(s(c))^2)`` is a Gaussian fitted to the
posterior by maximum likelihood alongside it. Posteriors much narrower than
the prior reach the wrapped network at unit scale, so it only has to learn the
non-Gaussian remainder (crescents, modes, skew).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import torch
from torch import nn

from sklearn_sbi.networks.inference.base import InferenceModule
from sklearn_sbi.networks.layers import MLP

#: Bound on the log scale (scales between e^-7 and e^7 standardized units).
_MAX_LOG_SCALE = 7.0


class ConditionalGaussian(nn.Module):
    """``N(mean(c), diag(scale(c))^2)``; starts as the standard normal for every context.

    The covariance is diagonal on purpose: a full Cholesky factor (45 extra
    outputs in 10-D) made the whitening noisier and gaussian_linear worse
    (C2ST 0.583 vs 0.535 diagonal, 0.522 without whitening).
    """

    def __init__(self, n_params: int, n_conditions: int, widths: tuple[int, ...]) -> None:
        super().__init__()
        self.net = MLP(n_conditions, 2 * n_params, widths, residual=True, zero_init_output=True)

    def forward(self, context: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and log scale, each ``(B, d)``."""
        mean, log_scale = self.net(context).chunk(2, dim=-1)
        return mean, _MAX_LOG_SCALE * torch.tanh(log_scale / _MAX_LOG_SCALE)


class WhitenedModule(InferenceModule):
    """An inference module applied to conditionally whitened parameters.

    Training adds the Gaussian's negative log likelihood to the wrapped
    module's loss; the wrapped module sees the whitened parameters with the
    Gaussian held fixed (no gradient through ``m`` and ``s`` from its loss),
    so the two objectives do not pull against each other. Densities carry the
    Jacobian ``-sum(log s)``.

    The summed loss is not comparable from one epoch to the next (the wrapped
    network's coordinates move with the Gaussian), so early stopping does not
    apply: on gaussian_mixture, multimodal_gaussian and two_moons its best
    validation epoch came early (34 of 100 on multimodal_gaussian) while the
    posterior kept improving (C2ST 0.635 when stopped there, 0.596 after 100
    epochs).

    Parameters
    ----------
    inner : InferenceModule
        The generative network of the whitened parameters.
    widths : tuple of int
        Hidden widths of the network giving the Gaussian's mean and scale.
    """

    def __init__(self, inner: InferenceModule, widths: tuple[int, ...]) -> None:
        super().__init__(inner.n_params, inner.n_conditions)
        self.inner = inner
        self.gaussian = ConditionalGaussian(inner.n_params, inner.n_conditions, widths)
        # Instance attributes shadow the class-level flags.
        self.has_log_prob = inner.has_log_prob
        self.supports_early_stopping = False

    @property
    def noise_size(self) -> int:
        return self.inner.noise_size

    def _whiten(
        self, theta: torch.Tensor, context: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Whitened parameters ``u`` and the log scales, each ``(B, d)``."""
        mean, log_scale = self.gaussian(context)
        return (theta - mean) * torch.exp(-log_scale), log_scale

    def loss(
        self,
        theta: torch.Tensor,
        context: torch.Tensor,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        u, log_scale = self._whiten(theta, context)
        negative_log_likelihood = (
            0.5 * (u**2).sum(dim=1) + log_scale.sum(dim=1)
        ).mean() + 0.5 * self.n_params * math.log(2 * math.pi)
        return self.inner.loss(u.detach(), context, generator) + negative_log_likelihood

    def sample(self, context: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        mean, log_scale = self.gaussian(context)
        return mean + torch.exp(log_scale) * self.inner.sample(context, noise)

    def log_prob(self, theta: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        u, log_scale = self._whiten(theta, context)
        return self.inner.log_prob(u, context) - log_scale.sum(dim=1)


def whiten_if_requested(
    module: InferenceModule, widths: Sequence[int] | None, owner: str
) -> InferenceModule:
    """``module`` behind a :class:`WhitenedModule` of hidden ``widths``, or as is for None."""
    if widths is None:
        return module
    widths = tuple(widths)
    if not all(isinstance(w, numbers.Integral) and w >= 1 for w in widths):
        raise ValueError(
            f"{owner}: whitening_widths must be None or a sequence of positive integers, "
            f"got {widths!r}."
        )
    return WhitenedModule(module, widths)

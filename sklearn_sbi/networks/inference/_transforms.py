"""Elementwise invertible transforms whose parameters a coupling conditioner predicts.

Each transform maps ``x (B, m)`` with parameters ``(B, m, params_per_dim)``
to ``y (B, m)`` and returns the log absolute Jacobian determinant ``(B,)``.
All-zero parameters give the identity, so a zero-initialised conditioner
starts the flow at the identity.
"""

from __future__ import annotations

import torch
from torch import nn
from zuko.transforms import MonotonicRQSTransform


class AffineTransform(nn.Module):
    """``y = x * exp(s) + shift`` with the log-scale soft-clamped to ``(-clamp, clamp)``.

    Parameters
    ----------
    clamp : float
        Bound of the log-scale: ``s = clamp * tanh(raw / clamp)``.
    """

    params_per_dim = 2

    def __init__(self, clamp: float) -> None:
        super().__init__()
        self.clamp = clamp

    def _shift_and_log_scale(self, params: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        shift, raw = params.unbind(dim=-1)
        return shift, self.clamp * torch.tanh(raw / self.clamp)

    def forward(self, x: torch.Tensor, params: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        shift, log_scale = self._shift_and_log_scale(params)
        return x * torch.exp(log_scale) + shift, log_scale.sum(dim=-1)

    def inverse(self, y: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
        shift, log_scale = self._shift_and_log_scale(params)
        return (y - shift) * torch.exp(-log_scale)


class SplineTransform(nn.Module):
    """Monotonic rational-quadratic spline on ``[-tail_bound, tail_bound]``, identity outside.

    Uses :class:`zuko.transforms.MonotonicRQSTransform` (Durkan et al., 2019):
    ``bins`` unconstrained widths and heights and ``bins - 1`` inner knot
    derivatives per dimension; the boundary derivatives are 1, so the linear
    tails join the spline smoothly.

    Parameters
    ----------
    bins : int
        Number of spline segments.
    tail_bound : float
        Half-width of the interval the spline acts on.
    """

    def __init__(self, bins: int, tail_bound: float) -> None:
        super().__init__()
        self.bins = bins
        self.tail_bound = tail_bound

    @property
    def params_per_dim(self) -> int:
        return 3 * self.bins - 1

    def _spline(self, params: torch.Tensor) -> MonotonicRQSTransform:
        widths, heights, derivatives = params.split([self.bins, self.bins, self.bins - 1], dim=-1)
        return MonotonicRQSTransform(widths, heights, derivatives, bound=self.tail_bound)

    def forward(self, x: torch.Tensor, params: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        y, log_det = self._spline(params).call_and_ladj(x)
        return y, log_det.sum(dim=-1)

    def inverse(self, y: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
        return self._spline(params).inv(y)

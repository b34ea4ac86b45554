"""Activation normalization (Kingma & Dhariwal, 2018) for normalizing flows."""

from __future__ import annotations

import torch
from torch import nn


class ActNorm(nn.Module):
    """Elementwise affine map ``y = x * exp(log_scale) + shift``.

    The first forward pass in training mode sets ``log_scale`` and ``shift``
    so that that batch comes out with zero mean and unit variance per
    dimension; until then the map is the identity.
    """

    def __init__(self, n_params: int) -> None:
        super().__init__()
        self.log_scale = nn.Parameter(torch.zeros(n_params))
        self.shift = nn.Parameter(torch.zeros(n_params))
        self.register_buffer("initialized", torch.tensor(False))

    @torch.no_grad()
    def _initialize(self, x: torch.Tensor) -> None:
        mean = x.mean(dim=0)
        std = x.std(dim=0) if x.shape[0] > 1 else torch.ones_like(mean)
        self.log_scale.copy_(-torch.log(std.clamp_min(1e-6)))
        self.shift.copy_(-mean * torch.exp(self.log_scale))
        self.initialized.fill_(True)

    def forward(self, x: torch.Tensor, context: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.training and not bool(self.initialized):
            self._initialize(x)
        log_det = self.log_scale.sum().expand(x.shape[0])
        return x * torch.exp(self.log_scale) + self.shift, log_det

    def inverse(self, y: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        return (y - self.shift) * torch.exp(-self.log_scale)

"""Fixed permutations of the parameter axis between coupling blocks."""

from __future__ import annotations

import torch
from torch import nn


class Permutation(nn.Module):
    """Reorder the last axis by a fixed permutation (volume preserving).

    Parameters
    ----------
    order : Tensor
        A permutation of ``range(d)``; kept as a buffer so it is saved with the weights.
    """

    def __init__(self, order: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("order", order.long())
        self.register_buffer("inverse_order", torch.argsort(order).long())

    @classmethod
    def random(cls, n_params: int) -> Permutation:
        """A permutation drawn from the global torch generator."""
        return cls(torch.randperm(n_params))

    @classmethod
    def reverse(cls, n_params: int) -> Permutation:
        """Reverse the order, which swaps the two coupling halves."""
        return cls(torch.arange(n_params - 1, -1, -1))

    def forward(self, x: torch.Tensor, context: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return x[:, self.order], x.new_zeros(x.shape[0])

    def inverse(self, y: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        return y[:, self.inverse_order]

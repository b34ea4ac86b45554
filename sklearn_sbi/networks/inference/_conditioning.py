"""How a state network (velocity, consistency function) reads its time and context."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from sklearn_sbi.networks.layers import MLP, ConditionedMLP

CONDITIONINGS = ("film", "concat")


def check_conditioning(conditioning: str, owner: str) -> None:
    """Raise a clear error for an unknown ``conditioning``."""
    if conditioning not in CONDITIONINGS:
        raise ValueError(
            f"{owner}: conditioning must be one of {CONDITIONINGS}, got {conditioning!r}."
        )


class ConcatenatedMLP(nn.Module):
    """A residual MLP of ``[state, condition]``: the condition only enters at the input."""

    def __init__(self, mlp: MLP) -> None:
        super().__init__()
        self.mlp = mlp

    def forward(self, state: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        return self.mlp(torch.cat([state, condition], dim=-1))


def conditioned_network(
    conditioning: str,
    state_dim: int,
    condition_dim: int,
    out_dim: int,
    widths: Sequence[int],
    *,
    activation: str,
    dropout: float,
    zero_init_output: bool = False,
) -> nn.Module:
    """``net(state, condition)``: a FiLM-modulated MLP (``"film"``) or a concatenating one."""
    check_conditioning(conditioning, "conditioned_network")
    if conditioning == "film":
        return ConditionedMLP(
            state_dim,
            condition_dim,
            out_dim,
            widths,
            activation=activation,
            dropout=dropout,
            zero_init_output=zero_init_output,
        )
    return ConcatenatedMLP(
        MLP(
            state_dim + condition_dim,
            out_dim,
            widths,
            activation=activation,
            dropout=dropout,
            residual=True,
            zero_init_output=zero_init_output,
        )
    )

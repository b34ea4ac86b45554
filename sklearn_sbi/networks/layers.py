"""Shared torch building blocks: MLPs (plain and condition-modulated) and time embeddings."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import torch
from torch import nn

_ACTIVATIONS: dict[str, type[nn.Module]] = {
    "silu": nn.SiLU,
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "tanh": nn.Tanh,
    "elu": nn.ELU,
}


def make_activation(name: str) -> nn.Module:
    """Return a fresh activation module from its name (``"silu"``, ``"relu"``, ...)."""
    try:
        return _ACTIVATIONS[name]()
    except KeyError:
        raise ValueError(
            f"Unknown activation {name!r}; choose one of {sorted(_ACTIVATIONS)}."
        ) from None


class ResidualBlock(nn.Module):
    """``x + Dropout(act(Linear(x)))``: one hidden layer with a skip connection.

    Used by :class:`MLP` when consecutive widths are equal, so deep MLPs keep a
    clean gradient path at the cost of one layer each.
    """

    def __init__(self, width: int, activation: str, dropout: float) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(width, width), make_activation(activation), nn.Dropout(dropout)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class MLP(nn.Module):
    """A multilayer perceptron ``in_dim -> widths... -> out_dim``.

    Parameters
    ----------
    in_dim, out_dim : int
        Input and output sizes.
    widths : sequence of int
        Hidden widths.
    activation : str
        Hidden activation.
    dropout : float
        Dropout rate after each hidden activation.
    residual : bool
        Add a skip connection around each hidden layer whose input and output
        widths are equal.
    zero_init_output : bool
        Start the output layer at zero, so the network starts as the constant 0
        (useful for velocity fields and coupling parameters).
    """

    def __init__(
        self,
        in_dim: int,
        out_dim: int,
        widths: Sequence[int] = (256, 256),
        *,
        activation: str = "silu",
        dropout: float = 0.0,
        residual: bool = False,
        zero_init_output: bool = False,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        previous = in_dim
        for width in widths:
            if residual and width == previous:
                layers.append(ResidualBlock(width, activation, dropout))
            else:
                layers += [nn.Linear(previous, width), make_activation(activation)]
                if dropout > 0:
                    layers.append(nn.Dropout(dropout))
            previous = width
        output = nn.Linear(previous, out_dim)
        if zero_init_output:
            nn.init.zeros_(output.weight)
            nn.init.zeros_(output.bias)
        layers.append(output)
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class FiLMLayer(nn.Module):
    """``act(Linear(h) * (1 + gamma(e)) + beta(e))``, plus ``h`` when widths match.

    The condition embedding ``e`` scales and shifts the layer's pre-activation
    (feature-wise linear modulation). ``gamma`` and ``beta`` start at zero, so
    the layer starts as a plain (residual) MLP layer.
    """

    def __init__(
        self, in_width: int, width: int, cond_width: int, activation: str, dropout: float
    ) -> None:
        super().__init__()
        self.linear = nn.Linear(in_width, width)
        self.modulation = nn.Linear(cond_width, 2 * width)
        nn.init.zeros_(self.modulation.weight)
        nn.init.zeros_(self.modulation.bias)
        self.act = make_activation(activation)
        self.dropout = nn.Dropout(dropout)
        self.residual = in_width == width

    def forward(self, h: torch.Tensor, embedding: torch.Tensor) -> torch.Tensor:
        gamma, beta = self.modulation(embedding).chunk(2, dim=-1)
        out = self.dropout(self.act(self.linear(h) * (1.0 + gamma) + beta))
        return h + out if self.residual else out


class ConditionedMLP(nn.Module):
    """An MLP of ``(x, condition)`` whose hidden layers the condition also modulates (FiLM).

    The first layer reads ``[x, condition]``, as a plain MLP on the
    concatenation would; every later hidden layer is a :class:`FiLMLayer`
    driven by a learned embedding of the condition (one linear layer and the
    activation, ``condition_width`` units). With the modulations at zero (their
    initialization) it computes exactly ``MLP(in_dim + cond_dim, out_dim, widths,
    residual=True)``.

    Parameters
    ----------
    in_dim, cond_dim, out_dim : int
        Sizes of the modulated input, the condition and the output.
    widths : sequence of int
        Hidden widths (at least one).
    condition_width : int
        Size of the condition embedding.
    activation : str
        Hidden activation.
    dropout : float
        Dropout after each hidden activation.
    zero_init_output : bool
        Start the output layer at zero.
    """

    def __init__(
        self,
        in_dim: int,
        cond_dim: int,
        out_dim: int,
        widths: Sequence[int],
        *,
        condition_width: int = 64,
        activation: str = "silu",
        dropout: float = 0.0,
        zero_init_output: bool = False,
    ) -> None:
        super().__init__()
        widths = list(widths)
        if not widths:
            raise ValueError("ConditionedMLP needs at least one hidden width.")
        self.first = nn.Sequential(
            nn.Linear(in_dim + cond_dim, widths[0]),
            make_activation(activation),
            nn.Dropout(dropout),
        )
        self.embed = nn.Sequential(
            nn.Linear(cond_dim, condition_width), make_activation(activation)
        )
        self.layers = nn.ModuleList(
            FiLMLayer(previous, width, condition_width, activation, dropout)
            for previous, width in itertools.pairwise(widths)
        )
        self.output = nn.Linear(widths[-1], out_dim)
        if zero_init_output:
            nn.init.zeros_(self.output.weight)
            nn.init.zeros_(self.output.bias)

    def forward(self, x: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        h = self.first(torch.cat([x, condition], dim=-1))
        embedding = self.embed(condition)
        for layer in self.layers:
            h = layer(h, embedding)
        return self.output(h)


class FourierTimeEmbedding(nn.Module):
    """Embed a scalar time ``t`` in ``[0, 1]`` as ``[t, sin(2 pi f t), cos(2 pi f t)]``.

    The frequencies ``f`` are fixed, log-spaced from 1 to ``max_frequency``.
    """

    def __init__(self, dim: int = 32, max_frequency: float = 8.0) -> None:
        super().__init__()
        if dim < 2 or dim % 2:
            raise ValueError(f"time embedding dim must be an even number >= 2, got {dim}.")
        half = dim // 2
        frequencies = torch.exp(torch.linspace(0.0, math.log(max_frequency), half))
        self.register_buffer("frequencies", 2 * math.pi * frequencies, persistent=False)
        self.dim = dim + 1

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        angles = t * self.frequencies
        return torch.cat([t, torch.sin(angles), torch.cos(angles)], dim=-1)

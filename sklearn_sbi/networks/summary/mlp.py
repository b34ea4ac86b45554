"""MLP encoder for flat (vector) inputs; also the usual FusionEncoder head."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import torch
from torch import nn

from sklearn_sbi.networks.layers import MLP as MLPBlock
from sklearn_sbi.networks.summary.base import SummaryNetwork, check_int


class FlatMLPModule(nn.Module):
    """An MLP over ``x (B, F)``; rejects sets and series with a clear error."""

    def __init__(self, block: MLPBlock) -> None:
        super().__init__()
        self.block = block

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        if x.ndim != 2:
            raise ValueError(
                f"MLP encodes flat inputs (batch, n_features); got shape {tuple(x.shape)}. "
                "Use DeepSet/SetTransformer for sets or TimeSeriesTransformer/"
                "TimeSeriesNetwork for time series."
            )
        return self.block(x)


class MLP(SummaryNetwork):
    """Multilayer perceptron encoder for flat inputs ``(n_features,)`` per simulation.

    Sets and time series are rejected (with a message naming the encoders
    that fit them) rather than flattened: flattening would tie the network to
    one length and break the NaN padding mask. As the ``head`` of a
    :class:`FusionEncoder` it maps the concatenated summaries to the final
    summary.

    Parameters
    ----------
    widths : sequence of int, default=(64, 64)
        Hidden widths.
    output_dim : int, default=16
        Size of the output vector.
    activation : str, default="silu"
        Hidden activation.
    dropout : float, default=0.0
        Dropout after each hidden activation.

    Examples
    --------
    >>> import torch
    >>> from sklearn_sbi.networks.summary import MLP
    >>> encoder = MLP(widths=(8,), output_dim=3).build_fields({"stats": (4,)})
    >>> encoder({"stats": torch.randn(2, 4)}).shape
    torch.Size([2, 3])
    """

    input_rank: ClassVar[int] = 1
    # The output size is a hyperparameter here; this plain class attribute
    # replaces the base-class property so that it can be set.
    output_dim: int = 16

    def __init__(
        self,
        widths: Sequence[int] = (64, 64),
        output_dim: int = 16,
        *,
        activation: str = "silu",
        dropout: float = 0.0,
    ) -> None:
        self.widths = widths
        self.output_dim = output_dim
        self.activation = activation
        self.dropout = dropout

    def build(self, input_dim: int) -> FlatMLPModule:
        owner = type(self).__name__
        check_int(self.output_dim, "output_dim", owner)
        for width in self.widths:
            check_int(width, "each of widths", owner)
        block = MLPBlock(
            input_dim,
            self.output_dim,
            tuple(self.widths),
            activation=self.activation,
            dropout=self.dropout,
        )
        return FlatMLPModule(block)

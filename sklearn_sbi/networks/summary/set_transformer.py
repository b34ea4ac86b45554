"""Set Transformer: attention over the elements of a set, pooled by attention."""

from __future__ import annotations

import torch
from torch import nn

from sklearn_sbi.networks.summary._attention import (
    InducedSelfAttentionBlock,
    PoolingByAttention,
    SelfAttentionBlock,
)
from sklearn_sbi.networks.summary.base import SummaryNetwork, check_int


class SetTransformerModule(nn.Module):
    """Embed each element, apply attention blocks, pool by attention, project."""

    def __init__(
        self,
        input_dim: int,
        summary_dim: int,
        embed_dim: int,
        num_heads: int,
        num_inducing_points: int | None,
        num_seeds: int,
        num_layers: int,
        dropout: float,
    ) -> None:
        super().__init__()
        self.embed = nn.Linear(input_dim, embed_dim)
        if num_inducing_points is None:
            blocks = [SelfAttentionBlock(embed_dim, num_heads, dropout) for _ in range(num_layers)]
        else:
            blocks = [
                InducedSelfAttentionBlock(embed_dim, num_heads, num_inducing_points, dropout)
                for _ in range(num_layers)
            ]
        self.blocks = nn.ModuleList(blocks)
        self.pool = PoolingByAttention(embed_dim, num_heads, num_seeds, dropout)
        self.project = nn.Linear(num_seeds * embed_dim, summary_dim)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        hidden = self.embed(x)
        for block in self.blocks:
            hidden = block(hidden, mask)
        return self.project(self.pool(hidden, mask))


class SetTransformer(SummaryNetwork):
    """Permutation-invariant encoder of sets built from attention blocks.

    Each element is embedded, ``num_layers`` self-attention blocks (SAB) or,
    with ``num_inducing_points``, induced self-attention blocks (ISAB, linear
    in the set size) let elements interact, and ``num_seeds`` learned seeds
    pool the set by multihead attention (PMA). Padded elements (NaN rows)
    are masked out of every attention, so sets of different sizes can share
    a batch.

    Parameters
    ----------
    summary_dim : int, default=16
        Size of the summary vector.
    embed_dim : int, default=32
        Width of the element embeddings; a multiple of ``num_heads``.
    num_heads : int, default=4
        Attention heads.
    num_inducing_points : int or None, default=None
        None for full self-attention (SAB); an int for induced self-attention
        (ISAB) through that many learned points.
    num_seeds : int, default=1
        Learned seeds of the pooling attention; their outputs are concatenated.
    num_layers : int, default=2
        Attention blocks before pooling.
    dropout : float, default=0.0
        Dropout in the attention weights and feed-forward layers.

    Examples
    --------
    >>> import torch
    >>> from sklearn_sbi.networks.summary import SetTransformer
    >>> spec = SetTransformer(summary_dim=4, embed_dim=8, num_heads=2)
    >>> encoder = spec.build_fields({"draws": (5, 2)})
    >>> encoder({"draws": torch.randn(3, 5, 2)}).shape
    torch.Size([3, 4])
    """

    def __init__(
        self,
        summary_dim: int = 16,
        *,
        embed_dim: int = 32,
        num_heads: int = 4,
        num_inducing_points: int | None = None,
        num_seeds: int = 1,
        num_layers: int = 2,
        dropout: float = 0.0,
    ) -> None:
        self.summary_dim = summary_dim
        self.embed_dim = embed_dim
        self.num_heads = num_heads
        self.num_inducing_points = num_inducing_points
        self.num_seeds = num_seeds
        self.num_layers = num_layers
        self.dropout = dropout

    def build(self, input_dim: int) -> SetTransformerModule:
        owner = type(self).__name__
        for name in ("summary_dim", "embed_dim", "num_heads", "num_seeds", "num_layers"):
            check_int(getattr(self, name), name, owner)
        if self.num_inducing_points is not None:
            check_int(self.num_inducing_points, "num_inducing_points", owner)
        return SetTransformerModule(
            input_dim,
            self.summary_dim,
            self.embed_dim,
            self.num_heads,
            self.num_inducing_points,
            self.num_seeds,
            self.num_layers,
            self.dropout,
        )

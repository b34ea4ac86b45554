"""Masked attention blocks for set and sequence encoders.

Following the Set Transformer (Lee et al., 2019): a multihead attention block
``MAB(X, Y)`` lets queries ``X`` attend to keys ``Y``; self-attention is
``MAB(X, X)``; induced self-attention routes it through a few learned
inducing points; pooling by multihead attention (PMA) lets learned seed
vectors attend to the set. Blocks use the pre-norm layout. Padded keys
(``key_mask`` False) get exactly zero attention weight, so padding never
changes a valid position's output.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from sklearn_sbi.networks.layers import make_activation

#: Added to the attention scores of padded keys. Finite, so a fully padded
#: set yields finite (uninformative) outputs instead of NaN.
_MASKED_SCORE = -1e9


class MultiheadAttention(nn.Module):
    """Scaled dot-product attention of ``queries (B, M, E)`` to ``keys (B, N, E)``."""

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0) -> None:
        super().__init__()
        if embed_dim % num_heads:
            raise ValueError(
                f"embed_dim ({embed_dim}) must be divisible by num_heads ({num_heads})."
            )
        self.num_heads = num_heads
        self.dropout = dropout
        self.query = nn.Linear(embed_dim, embed_dim)
        self.key_value = nn.Linear(embed_dim, 2 * embed_dim)
        self.output = nn.Linear(embed_dim, embed_dim)

    def _split_heads(self, x: torch.Tensor) -> torch.Tensor:
        batch, length, width = x.shape
        return x.view(batch, length, self.num_heads, width // self.num_heads).transpose(1, 2)

    def forward(
        self, queries: torch.Tensor, keys: torch.Tensor, key_mask: torch.Tensor | None
    ) -> torch.Tensor:
        q = self._split_heads(self.query(queries))
        k, v = (self._split_heads(part) for part in self.key_value(keys).chunk(2, dim=-1))
        bias = None
        if key_mask is not None:
            bias = torch.zeros(key_mask.shape, dtype=q.dtype, device=q.device)
            bias = bias.masked_fill(~key_mask, _MASKED_SCORE)[:, None, None, :]
        attended = F.scaled_dot_product_attention(
            q, k, v, attn_mask=bias, dropout_p=self.dropout if self.training else 0.0
        )
        batch, _, length, _ = attended.shape
        return self.output(attended.transpose(1, 2).reshape(batch, length, -1))


class AttentionBlock(nn.Module):
    """``H = X + MHA(LN(X), LN(Y))``; ``out = H + FF(LN(H))`` (the MAB of the Set Transformer)."""

    def __init__(
        self, embed_dim: int, num_heads: int, dropout: float = 0.0, activation: str = "gelu"
    ) -> None:
        super().__init__()
        self.norm_queries = nn.LayerNorm(embed_dim)
        self.norm_keys = nn.LayerNorm(embed_dim)
        self.attention = MultiheadAttention(embed_dim, num_heads, dropout)
        self.norm_hidden = nn.LayerNorm(embed_dim)
        self.feedforward = nn.Sequential(
            nn.Linear(embed_dim, 2 * embed_dim),
            make_activation(activation),
            nn.Dropout(dropout),
            nn.Linear(2 * embed_dim, embed_dim),
        )

    def forward(
        self, queries: torch.Tensor, keys: torch.Tensor, key_mask: torch.Tensor | None
    ) -> torch.Tensor:
        hidden = queries + self.attention(
            self.norm_queries(queries), self.norm_keys(keys), key_mask
        )
        return hidden + self.feedforward(self.norm_hidden(hidden))


class SelfAttentionBlock(AttentionBlock):
    """Self-attention over a set or sequence ``x (B, N, E)`` (the SAB)."""

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:  # type: ignore[override]
        return super().forward(x, x, mask)


class InducedSelfAttentionBlock(nn.Module):
    """Self-attention through ``num_inducing_points`` learned points (the ISAB).

    Costs ``O(N m)`` instead of ``O(N^2)`` for a set of ``N`` elements.
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        num_inducing_points: int,
        dropout: float = 0.0,
        activation: str = "gelu",
    ) -> None:
        super().__init__()
        self.inducing_points = nn.Parameter(torch.randn(num_inducing_points, embed_dim) * 0.1)
        self.summarize = AttentionBlock(embed_dim, num_heads, dropout, activation)
        self.broadcast = AttentionBlock(embed_dim, num_heads, dropout, activation)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        points = self.inducing_points.expand(x.shape[0], -1, -1)
        induced = self.summarize(points, x, mask)
        return self.broadcast(x, induced, None)


class PoolingByAttention(nn.Module):
    """``num_seeds`` learned seeds attend to the set; returns ``(B, num_seeds * E)`` (the PMA)."""

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        num_seeds: int = 1,
        dropout: float = 0.0,
        activation: str = "gelu",
    ) -> None:
        super().__init__()
        self.seeds = nn.Parameter(torch.randn(num_seeds, embed_dim) * 0.1)
        self.block = AttentionBlock(embed_dim, num_heads, dropout, activation)
        self.norm = nn.LayerNorm(embed_dim)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        seeds = self.seeds.expand(x.shape[0], -1, -1)
        return self.norm(self.block(seeds, x, mask)).flatten(start_dim=1)

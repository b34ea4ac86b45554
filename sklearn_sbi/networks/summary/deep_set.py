"""Deep Sets: permutation-equivariant layers followed by a symmetric pooling."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from sklearn_sbi.networks.layers import MLP as MLPBlock
from sklearn_sbi.networks.layers import make_activation
from sklearn_sbi.networks.summary.base import SummaryNetwork, check_int


def masked_sum(x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Sum of ``x (B, N, F)`` over the valid elements."""
    return x.sum(dim=1) if mask is None else (x * mask[..., None]).sum(dim=1)


def masked_mean(x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Mean of ``x (B, N, F)`` over the valid elements (0 for an empty set)."""
    if mask is None:
        return x.mean(dim=1)
    count = mask.sum(dim=1, keepdim=True).clamp(min=1).to(x.dtype)
    return masked_sum(x, mask) / count


def masked_max(x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Maximum of ``x (B, N, F)`` over the valid elements (0 for an empty set)."""
    if mask is None:
        return x.amax(dim=1)
    lowest = torch.finfo(x.dtype).min
    largest = x.masked_fill(~mask[..., None], lowest).amax(dim=1)
    return largest.masked_fill(~mask.any(dim=1, keepdim=True), 0.0)


#: Floor on a set's per-feature variance before its log is taken (standardized units).
_VARIANCE_FLOOR = 1e-8


def moments_of_sets(
    x: torch.Tensor, mask: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-set, per-feature mean and log standard deviation of ``x (B, N, F)``, each ``(B, F)``."""
    mean = masked_mean(x, mask)
    variance = masked_mean((x - mean[:, None]) ** 2, mask)
    return mean, 0.5 * torch.log(variance + _VARIANCE_FLOOR)


_POOLINGS: dict[str, Callable[[torch.Tensor, torch.Tensor | None], torch.Tensor]] = {
    "mean": masked_mean,
    "sum": masked_sum,
    "max": masked_max,
}


class EquivariantLayer(nn.Module):
    """``h + act(W h_i + U mean_j h_j)``: each element sees itself and the set mean."""

    def __init__(self, width: int, activation: str, dropout: float) -> None:
        super().__init__()
        self.element = nn.Linear(width, width)
        self.context = nn.Linear(width, width, bias=False)
        self.act = make_activation(activation)
        self.dropout = nn.Dropout(dropout)

    def forward(self, h: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        context = self.context(masked_mean(h, mask))[:, None, :]
        return h + self.dropout(self.act(self.element(h) + context))


class DeepSetModule(nn.Module):
    """Embed elements, apply equivariant layers, pool, and map the pooled vector.

    With ``set_moments``, each set is first standardized by its own mean and
    standard deviation, and those moments are appended to the readout.
    """

    def __init__(
        self,
        input_dim: int,
        summary_dim: int,
        hidden_dim: int,
        num_equivariant_layers: int,
        pooling: Sequence[str],
        activation: str,
        dropout: float,
        set_moments: bool = False,
    ) -> None:
        super().__init__()
        self.set_moments = set_moments
        self.embed = nn.Sequential(nn.Linear(input_dim, hidden_dim), make_activation(activation))
        self.layers = nn.ModuleList(
            EquivariantLayer(hidden_dim, activation, dropout) for _ in range(num_equivariant_layers)
        )
        self.pooling = list(pooling)
        self.readout = MLPBlock(
            len(self.pooling) * hidden_dim,
            summary_dim - 2 * input_dim if set_moments else summary_dim,
            (hidden_dim,),
            activation=activation,
            dropout=dropout,
        )

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        if self.set_moments:
            mean, log_sd = moments_of_sets(x, mask)
            x = (x - mean[:, None]) * torch.exp(-log_sd)[:, None]
        hidden = self.embed(x)
        for layer in self.layers:
            hidden = layer(hidden, mask)
        pooled = torch.cat([_POOLINGS[name](hidden, mask) for name in self.pooling], dim=-1)
        summary = self.readout(pooled)
        if self.set_moments:
            summary = torch.cat([summary, mean, log_sd], dim=-1)
        return summary


class DeepSet(SummaryNetwork):
    """Permutation-invariant encoder of sets (Zaheer et al., 2017).

    Elements are embedded one by one, ``num_equivariant_layers`` layers let
    each element see the mean of the set, then a symmetric pooling (mean, sum
    or max over the elements, several concatenated if a list is given) and a
    small MLP produce the summary. Padded elements (NaN rows) are excluded
    from every pooling, so sets of different sizes can share a batch.

    Parameters
    ----------
    summary_dim : int, default=16
        Size of the summary vector.
    hidden_dim : int, default=64
        Width of the element features.
    num_equivariant_layers : int, default=2
        Permutation-equivariant layers before pooling.
    pooling : {"mean", "sum", "max"} or list of them, default="mean"
        Pooling over the elements; a list concatenates several.
    activation : str, default="silu"
        Hidden activation.
    dropout : float, default=0.0
        Dropout after hidden activations.
    set_moments : bool, default=False
        Standardize each set by its own per-feature mean and standard
        deviation before the element network, and append those moments (the
        mean and the log standard deviation, ``2 * n_features`` values) to the
        learned summary, which keeps ``summary_dim`` values in all. The
        learned part then sees each set's shape at unit scale, however
        tightly the set is spread, and the moments reach the inference network
        exactly. On slcp (4 draws that can spread 100 times less than the data
        overall) it lowered C2ST from 0.864 to 0.818 (10,000 simulations,
        screening). Needs ``summary_dim > 2 * n_features``.

    Examples
    --------
    >>> import torch
    >>> from sklearn_sbi.networks.summary import DeepSet
    >>> encoder = DeepSet(summary_dim=4, hidden_dim=8).build_fields({"draws": (5, 2)})
    >>> encoder({"draws": torch.randn(3, 5, 2)}).shape
    torch.Size([3, 4])
    """

    def __init__(
        self,
        summary_dim: int = 16,
        *,
        hidden_dim: int = 64,
        num_equivariant_layers: int = 2,
        pooling: str | Sequence[str] = "mean",
        activation: str = "silu",
        dropout: float = 0.0,
        set_moments: bool = False,
    ) -> None:
        self.summary_dim = summary_dim
        self.hidden_dim = hidden_dim
        self.num_equivariant_layers = num_equivariant_layers
        self.pooling = pooling
        self.activation = activation
        self.dropout = dropout
        self.set_moments = set_moments

    def build(self, input_dim: int) -> DeepSetModule:
        owner = type(self).__name__
        check_int(self.summary_dim, "summary_dim", owner)
        check_int(self.hidden_dim, "hidden_dim", owner)
        check_int(self.num_equivariant_layers, "num_equivariant_layers", owner, minimum=0)
        pooling = [self.pooling] if isinstance(self.pooling, str) else list(self.pooling)
        unknown = [name for name in pooling if name not in _POOLINGS]
        if not pooling or unknown:
            raise ValueError(
                f"{owner}: pooling must be one of {sorted(_POOLINGS)} or a non-empty list of "
                f"them, got {self.pooling!r}."
            )
        if self.set_moments and self.summary_dim <= 2 * input_dim:
            raise ValueError(
                f"{owner}: with set_moments=True, summary_dim must exceed 2 x the "
                f"{input_dim} features per element (their means and log standard "
                f"deviations are part of the summary), got summary_dim={self.summary_dim}."
            )
        return DeepSetModule(
            input_dim,
            self.summary_dim,
            self.hidden_dim,
            self.num_equivariant_layers,
            pooling,
            self.activation,
            self.dropout,
            bool(self.set_moments),
        )

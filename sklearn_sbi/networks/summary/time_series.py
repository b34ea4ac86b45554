"""Time-series encoders: a transformer with a learned time embedding, and conv + RNN."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from sklearn_sbi.networks.layers import make_activation
from sklearn_sbi.networks.summary._attention import PoolingByAttention, SelfAttentionBlock
from sklearn_sbi.networks.summary.base import SummaryNetwork, check_int


class LearnedTimeEmbedding(nn.Module):
    """Embed a time ``t (..., 1)`` as ``[a t + b, sin(w t + c)]`` with learned ``a, b, w, c``.

    The Time2Vec form (Kazemi et al., 2019): one linear trend plus learned
    periodic features, defined for any time or index value.
    """

    def __init__(self, embed_dim: int) -> None:
        super().__init__()
        self.trend = nn.Linear(1, 1)
        self.periodic = nn.Linear(1, embed_dim - 1)

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.trend(t), torch.sin(self.periodic(t))], dim=-1)


class TimeSeriesTransformerModule(nn.Module):
    """Project features, add the time embedding, self-attend, pool by attention."""

    def __init__(
        self,
        input_dim: int,
        summary_dim: int,
        time_axis: int | None,
        embed_dim: int,
        num_heads: int,
        num_layers: int,
        dropout: float,
    ) -> None:
        super().__init__()
        self.time_axis = None if time_axis is None else time_axis % input_dim
        n_features = input_dim - (self.time_axis is not None)
        self.embed = nn.Linear(n_features, embed_dim)
        self.time_embedding = LearnedTimeEmbedding(embed_dim)
        self.blocks = nn.ModuleList(
            SelfAttentionBlock(embed_dim, num_heads, dropout) for _ in range(num_layers)
        )
        self.pool = PoolingByAttention(embed_dim, num_heads, 1, dropout)
        self.project = nn.Linear(embed_dim, summary_dim)

    def _split_time(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.time_axis is None:
            index = torch.arange(x.shape[1], dtype=x.dtype, device=x.device)
            return x, index[None, :, None].expand(x.shape[0], -1, -1)
        k = self.time_axis
        features = torch.cat([x[..., :k], x[..., k + 1 :]], dim=-1)
        return features, x[..., k : k + 1]

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        features, t = self._split_time(x)
        hidden = self.embed(features) + self.time_embedding(t)
        for block in self.blocks:
            hidden = block(hidden, mask)
        return self.project(self.pool(hidden, mask))


class TimeSeriesTransformer(SummaryNetwork):
    """Transformer encoder of time series with a learned time embedding.

    Each time step's features are projected and a learned (Time2Vec) embedding
    of its time is added: with ``time_axis=None`` the time is the step index
    (a learned positional embedding); with ``time_axis=k`` (typically ``-1``)
    feature ``k`` is the time stamp, embedded instead of used as a plain
    feature, so irregularly sampled series work. Self-attention blocks
    follow, and one learned seed pools the series by attention. Padded steps
    (NaN rows) are masked out; pad series at the end so the step indices of
    the valid steps do not move.

    Parameters
    ----------
    summary_dim : int, default=16
        Size of the summary vector.
    time_axis : int or None, default=None
        Feature holding the time stamp (``-1``: the last one), or None to use
        the step index.
    embed_dim : int, default=32
        Width of the step embeddings; a multiple of ``num_heads``.
    num_heads : int, default=4
        Attention heads.
    num_layers : int, default=2
        Self-attention blocks.
    dropout : float, default=0.0
        Dropout in the attention weights and feed-forward layers.

    Examples
    --------
    >>> import torch
    >>> from sklearn_sbi.networks.summary import TimeSeriesTransformer
    >>> spec = TimeSeriesTransformer(summary_dim=4, time_axis=-1, embed_dim=8, num_heads=2)
    >>> encoder = spec.build_fields({"values": (20, 2), "time": (20, 1)}, ["values", "time"])
    >>> encoder({"values": torch.randn(3, 20, 2), "time": torch.rand(3, 20, 1)}).shape
    torch.Size([3, 4])
    """

    def __init__(
        self,
        summary_dim: int = 16,
        *,
        time_axis: int | None = None,
        embed_dim: int = 32,
        num_heads: int = 4,
        num_layers: int = 2,
        dropout: float = 0.0,
    ) -> None:
        self.summary_dim = summary_dim
        self.time_axis = time_axis
        self.embed_dim = embed_dim
        self.num_heads = num_heads
        self.num_layers = num_layers
        self.dropout = dropout

    def build(self, input_dim: int) -> TimeSeriesTransformerModule:
        owner = type(self).__name__
        for name in ("summary_dim", "num_heads", "num_layers"):
            check_int(getattr(self, name), name, owner)
        check_int(self.embed_dim, "embed_dim", owner, minimum=2)
        if self.time_axis is not None:
            valid = isinstance(self.time_axis, int) and -input_dim <= self.time_axis < input_dim
            if not valid or input_dim < 2:
                raise ValueError(
                    f"{owner}: time_axis={self.time_axis!r} must be None or the index of the "
                    f"time-stamp feature among {input_dim} input features, with at least one "
                    "other feature."
                )
        return TimeSeriesTransformerModule(
            input_dim,
            self.summary_dim,
            self.time_axis,
            self.embed_dim,
            self.num_heads,
            self.num_layers,
            self.dropout,
        )


class TimeSeriesNetworkModule(nn.Module):
    """1-D convolutions over time, then a recurrent layer read at each series' last step."""

    def __init__(
        self,
        input_dim: int,
        summary_dim: int,
        conv_channels: Sequence[int],
        kernel_size: int,
        recurrent: str,
        hidden_dim: int,
        num_recurrent_layers: int,
        activation: str,
        dropout: float,
    ) -> None:
        super().__init__()
        convs, previous = [], input_dim
        for channels in conv_channels:
            convs.append(nn.Conv1d(previous, channels, kernel_size, padding=kernel_size // 2))
            previous = channels
        self.convs = nn.ModuleList(convs)
        self.act = make_activation(activation)
        rnn = nn.GRU if recurrent == "gru" else nn.LSTM
        self.rnn = rnn(
            previous,
            hidden_dim,
            num_layers=num_recurrent_layers,
            batch_first=True,
            dropout=dropout if num_recurrent_layers > 1 else 0.0,
        )
        self.project = nn.Linear(hidden_dim, summary_dim)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        steps = torch.arange(x.shape[1], device=x.device)
        if mask is None:
            last = torch.full((x.shape[0],), x.shape[1] - 1, device=x.device)
        else:
            lengths = mask.sum(dim=1)
            if not torch.equal(mask, steps[None, :] < lengths[:, None]):
                raise ValueError(
                    "TimeSeriesNetwork needs padding (NaN steps) at the end of each series "
                    "only; found NaN before a valid step. Use TimeSeriesTransformer for gaps."
                )
            last = (lengths - 1).clamp(min=0)
            keep = mask[:, None, :].to(x.dtype)
        hidden = x.transpose(1, 2)
        for conv in self.convs:
            # Zeroing padded steps makes them look like the convolution's own
            # zero padding, so valid steps see what an unpadded series gives.
            hidden = self.act(conv(hidden))
            if mask is not None:
                hidden = hidden * keep
        outputs, _ = self.rnn(hidden.transpose(1, 2))
        return self.project(outputs[torch.arange(x.shape[0], device=x.device), last])


class TimeSeriesNetwork(SummaryNetwork):
    """Convolutional-recurrent encoder of time series.

    1-D convolutions (odd ``kernel_size``, same length) extract local
    patterns; a GRU or LSTM reads the result and its state at each series'
    last valid step is projected to the summary. Series padded at the end
    with NaN steps give exactly the summary of the unpadded series: padded
    steps are zeroed between convolutions and the recurrent state is read
    before them.

    Parameters
    ----------
    summary_dim : int, default=16
        Size of the summary vector.
    conv_channels : sequence of int, default=(32,)
        Output channels of each convolution; empty for none.
    kernel_size : int, default=3
        Odd convolution width.
    recurrent : {"gru", "lstm"}, default="gru"
        Recurrent layer type.
    hidden_dim : int, default=32
        Recurrent state size.
    num_recurrent_layers : int, default=1
        Stacked recurrent layers.
    activation : str, default="silu"
        Activation after each convolution.
    dropout : float, default=0.0
        Dropout between stacked recurrent layers.

    Examples
    --------
    >>> import torch
    >>> from sklearn_sbi.networks.summary import TimeSeriesNetwork
    >>> encoder = TimeSeriesNetwork(summary_dim=4, hidden_dim=8).build_fields({"x": (20, 3)})
    >>> encoder({"x": torch.randn(3, 20, 3)}).shape
    torch.Size([3, 4])
    """

    def __init__(
        self,
        summary_dim: int = 16,
        *,
        conv_channels: Sequence[int] = (32,),
        kernel_size: int = 3,
        recurrent: str = "gru",
        hidden_dim: int = 32,
        num_recurrent_layers: int = 1,
        activation: str = "silu",
        dropout: float = 0.0,
    ) -> None:
        self.summary_dim = summary_dim
        self.conv_channels = conv_channels
        self.kernel_size = kernel_size
        self.recurrent = recurrent
        self.hidden_dim = hidden_dim
        self.num_recurrent_layers = num_recurrent_layers
        self.activation = activation
        self.dropout = dropout

    def build(self, input_dim: int) -> TimeSeriesNetworkModule:
        owner = type(self).__name__
        for name in ("summary_dim", "hidden_dim", "num_recurrent_layers", "kernel_size"):
            check_int(getattr(self, name), name, owner)
        for channels in self.conv_channels:
            check_int(channels, "each of conv_channels", owner)
        if self.kernel_size % 2 == 0:
            raise ValueError(f"{owner}: kernel_size must be odd, got {self.kernel_size}.")
        if self.recurrent not in ("gru", "lstm"):
            raise ValueError(f"{owner}: recurrent must be 'gru' or 'lstm', got {self.recurrent!r}.")
        return TimeSeriesNetworkModule(
            input_dim,
            self.summary_dim,
            tuple(self.conv_channels),
            self.kernel_size,
            self.recurrent,
            self.hidden_dim,
            self.num_recurrent_layers,
            self.activation,
            self.dropout,
        )

"""The torch side of ``AmortizedPosterior``: its network, devices, randomness, validation loss."""

from __future__ import annotations

import copy
import numbers
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

import numpy as np
import torch
from sklearn.base import clone
from sklearn.utils import check_random_state
from torch import nn

from sklearn_sbi.networks.inference import (
    ConsistencyModel,
    CouplingFlow,
    FlowMatching,
    InferenceModule,
    InferenceNetwork,
)

NAMED_NETWORKS: dict[str, Callable[[], InferenceNetwork]] = {
    "flow_matching": FlowMatching,
    "consistency": ConsistencyModel,
    "affine_coupling": partial(CouplingFlow, transform="affine"),
    "spline_coupling": partial(CouplingFlow, transform="spline"),
}


def resolve_inference_network(spec: str | InferenceNetwork) -> InferenceNetwork:
    """Return an unfitted inference-network spec from a name or a spec."""
    if isinstance(spec, str):
        try:
            return NAMED_NETWORKS[spec]()
        except KeyError:
            raise ValueError(
                f"Unknown inference_net {spec!r}; choose one of {sorted(NAMED_NETWORKS)} or "
                "pass a spec such as sklearn_sbi.networks.FlowMatching(...)."
            ) from None
    if isinstance(spec, InferenceNetwork):
        return clone(spec)
    raise TypeError(
        f"inference_net must be a name or an InferenceNetwork spec, got {type(spec).__name__}."
    )


def generator_from(random_state: Any) -> np.random.Generator:
    """A numpy Generator from an int, None, a RandomState or a Generator."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None or isinstance(random_state, numbers.Integral):
        return np.random.default_rng(random_state)
    return np.random.default_rng(check_random_state(random_state).randint(2**32, dtype=np.uint64))


def resolve_device(device: str | torch.device) -> torch.device:
    """``"auto"`` is CUDA when available, else the CPU."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def to_cpu(value: Any) -> Any:
    """Deep copy of ``value`` with every tensor and module on the CPU."""
    if isinstance(value, nn.Module):
        return copy.deepcopy(value).cpu()
    if isinstance(value, torch.Tensor):
        return value.detach().cpu()
    if isinstance(value, Mapping):
        return {key: to_cpu(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(to_cpu(item) for item in value)
    return value


_VALIDATION_ROWS = 8192
"""Noise draws per validation loss (rows are repeated up to this many)."""
_MAX_VALIDATION_REPEATS = 16
CHUNK_ROWS = 4096
"""Rows pushed through a network at once when evaluating (not training) it."""


def in_chunks(function: Callable[[slice], torch.Tensor], n_rows: int) -> torch.Tensor:
    """``function(rows)`` over consecutive slices of ``CHUNK_ROWS`` rows, concatenated, no grad."""
    with torch.no_grad():
        return torch.cat(
            [function(slice(start, start + CHUNK_ROWS)) for start in range(0, n_rows, CHUNK_ROWS)]
        )


def validation_loss_function(
    batch_loss: Callable[[torch.Tensor, Mapping[str, torch.Tensor], torch.Generator], torch.Tensor],
    theta: torch.Tensor,
    batch: Mapping[str, torch.Tensor],
    *,
    seed: int,
    stochastic: bool = True,
) -> Callable[[], float]:
    """Validation loss with the same noise every epoch.

    ``batch_loss(theta, batch, generator)`` is a Monte Carlo estimate when
    ``stochastic``: the rows are then repeated until about
    ``_VALIDATION_ROWS`` noise draws make epoch-to-epoch changes visible, and
    a generator seeded identically each call fixes those draws.
    """
    n = theta.shape[0]
    repeats = min(_MAX_VALIDATION_REPEATS, max(1, _VALIDATION_ROWS // n)) if stochastic else 1
    rows = torch.arange(n, device=theta.device).repeat(repeats)

    def loss() -> float:
        generator = torch.Generator(device=theta.device).manual_seed(seed)
        total = 0.0
        for index in rows.split(CHUNK_ROWS):
            part = {k: v[index] for k, v in batch.items()}
            total += float(batch_loss(theta[index], part, generator)) * len(index)
        return total / len(rows)

    return loss


class PosteriorNetwork(nn.Module):
    """Summary network (optional) + inference network, trained jointly.

    ``context(batch)`` concatenates the summary of the fields the summary
    network reads with the flat fields passed straight through.
    """

    def __init__(
        self,
        inference: InferenceModule,
        summary: nn.Module | None,
        passthrough: list[str],
        total_steps: int,
    ) -> None:
        super().__init__()
        self.inference = inference
        self.summary = summary
        self.passthrough = list(passthrough)
        self.total_steps = total_steps

    def context(self, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        parts = [] if self.summary is None else [self.summary(batch)]
        parts += [batch[name] for name in self.passthrough]
        return parts[0] if len(parts) == 1 else torch.cat(parts, dim=-1)

    def loss(
        self,
        theta: torch.Tensor,
        batch: Mapping[str, torch.Tensor],
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        return self.inference.loss(theta, self.context(batch), generator)

    def pretraining_loss(
        self, theta: torch.Tensor, batch: Mapping[str, torch.Tensor]
    ) -> torch.Tensor:
        """The inference network's pretraining loss (it draws no random numbers)."""
        return self.inference.pretraining_loss(theta, self.context(batch))

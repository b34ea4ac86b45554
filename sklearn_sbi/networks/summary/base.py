"""The contract every summary network (encoder) follows.

A summary network is a hyperparameter-only spec (:class:`SummaryNetwork`, a
scikit-learn ``BaseEstimator``) that builds a torch module at fit time. The
estimator talks to it through :meth:`SummaryNetwork.build_fields`, which
returns a :class:`FieldsEncoder`: a module that reads named fields from a
batch (``dict[str, Tensor]``) and returns one summary vector per simulation.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence

import torch
from sklearn.base import BaseEstimator
from torch import nn


def padding_mask(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Split NaN padding from a set or series ``x (B, N, F)``.

    Returns ``x`` with NaN replaced by 0 and a mask ``(B, N)`` that is True at
    the valid (non-padded) positions, or None when nothing is padded. Flat
    inputs ``(B, F)`` are returned unchanged with no mask.
    """
    if x.ndim < 3:
        return x, None
    missing = torch.isnan(x).any(dim=-1)
    if not bool(missing.any()):
        return x, None
    return torch.nan_to_num(x, nan=0.0), ~missing


class FieldsEncoder(nn.Module):
    """Reads ``fields`` from a batch, concatenates them on the last axis and encodes them.

    Parameters
    ----------
    encoder : nn.Module
        Called as ``encoder(x, mask)`` with ``x (B, ..., F)`` and ``mask``
        ``(B, N)`` (True = valid) or None; returns ``(B, output_dim)``.
    fields : sequence of str
        The fields it reads, concatenated in this order.
    output_dim : int
        Size of the summary vector.
    """

    def __init__(self, encoder: nn.Module, fields: Sequence[str], output_dim: int) -> None:
        super().__init__()
        self.encoder = encoder
        self.fields = list(fields)
        self.output_dim = output_dim

    @property
    def fields_read(self) -> list[str]:
        """Names of the fields this module consumes."""
        return list(self.fields)

    def forward(self, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        parts = [batch[name] for name in self.fields]
        x = parts[0] if len(parts) == 1 else torch.cat(parts, dim=-1)
        x, mask = padding_mask(x)
        return self.encoder(x, mask)


def default_fields(field_shapes: Mapping[str, tuple[int, ...]]) -> list[str]:
    """Fields a stand-alone encoder reads: the set/time-series fields, else all fields."""
    structured = [name for name, shape in field_shapes.items() if len(shape) > 1]
    return structured or list(field_shapes)


def concatenated_input_dim(
    field_shapes: Mapping[str, tuple[int, ...]], fields: Sequence[str]
) -> int:
    """Last-axis size of ``fields`` concatenated; their other axes must agree."""
    unknown = [name for name in fields if name not in field_shapes]
    if unknown:
        raise ValueError(
            f"Summary network asks for unknown fields {unknown}; known fields are "
            f"{sorted(field_shapes)}."
        )
    leading = {tuple(field_shapes[name][:-1]) for name in fields}
    if len(leading) > 1:
        shapes = {name: field_shapes[name] for name in fields}
        raise ValueError(
            f"Fields {list(fields)} cannot be concatenated on the last axis: their shapes "
            f"(per simulation) differ before it: {shapes}."
        )
    return sum(field_shapes[name][-1] for name in fields)


class SummaryNetwork(BaseEstimator, ABC):
    """Hyperparameter-only spec of an encoder mapping one input to a fixed-size vector.

    Subclasses define ``__init__`` with keyword hyperparameters (stored as
    is) and :meth:`build`.
    """

    @abstractmethod
    def build(self, input_dim: int) -> nn.Module:
        """Build ``module(x, mask) -> (B, summary_dim)`` for inputs with ``input_dim`` features.

        ``x`` is ``(B, N, input_dim)`` for sets and series (``(B, input_dim)``
        for flat inputs) and ``mask`` is ``(B, N)``, True at valid positions,
        or None.
        """

    @property
    @abstractmethod
    def output_dim(self) -> int:
        """Size of the summary vector."""

    def build_fields(
        self,
        field_shapes: Mapping[str, tuple[int, ...]],
        fields: Sequence[str] | None = None,
    ) -> FieldsEncoder:
        """Build a :class:`FieldsEncoder` over ``fields`` (default: :func:`default_fields`).

        ``field_shapes`` maps each field of X to its per-simulation shape.
        """
        fields = default_fields(field_shapes) if fields is None else list(fields)
        input_dim = concatenated_input_dim(field_shapes, fields)
        return FieldsEncoder(self.build(input_dim), fields, self.output_dim)
